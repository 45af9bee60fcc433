//! The one error type of the learner: every way learning or reading a model
//! can fail, each with a message a user can act on.

/// Why a model could not be learned or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The traffic could not be read: the store is in use, is not a store,
    /// or holds a corrupt record. The traffic error is the cause, unchanged
    /// (it names the store), so callers can still match on it.
    #[error(transparent)]
    Traffic(#[from] venomqa_traffic::Error),

    /// The thread reading the store died without saying why (a panic).
    #[error("the thread reading the store panicked; see the log above")]
    ReaderPanicked,

    /// The input had no exchanges at all.
    #[error("no exchanges to learn from: the traffic is empty (record some first with `venomqa record`)")]
    Empty,

    /// Every exchange was an upstream error without a response.
    #[error(
        "all {total} exchanges are errors without a response ({kinds}): nothing to learn; \
         is the upstream reachable from the proxy?"
    )]
    OnlyErrors {
        /// How many exchanges there were.
        total: u64,
        /// The error kinds seen, with counts (`refused: 3, timeout: 1`).
        kinds: String,
    },

    /// Exchanges exist but every one of them was ignored as noise.
    #[error(
        "all {total} exchanges were ignored ({reasons}): nothing left to learn from; \
         check the --ignore rules"
    )]
    AllIgnored {
        /// How many exchanges there were.
        total: u64,
        /// The reasons with counts.
        reasons: String,
    },

    /// A model file that is not JSON, or hand-edited into broken JSON.
    #[error("the model file is not valid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },

    /// Valid JSON that is not a venomqa model at all.
    #[error("not a venomqa model: `format` is {found}, expected \"venomqa-model\"")]
    NotAModel {
        /// The `format` value found, as JSON (or `missing`).
        found: String,
    },

    /// A model written by another version of venomqa.
    #[error(
        "model version {found} is not supported: this venomqa reads model version {supported}; \
         re-learn the model with `venomqa learn`"
    )]
    UnsupportedVersion {
        /// The version in the file, as JSON (or `missing`).
        found: String,
        /// The one version this build reads.
        supported: u32,
    },

    /// A model of the right version whose content does not fit the format.
    #[error(
        "the model file does not match the model format at line {line}, column {column}: {message}"
    )]
    InvalidModel {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What did not fit.
        message: String,
    },
}
