//! Why a run could not be made, each with what a user can do about it. The
//! traffic store's and the learner's errors are kept whole (not as text), so
//! a caller can still tell "the store is in use" from "the store is
//! missing"; the `venomqa` binary maps each to its exit code.

use std::path::PathBuf;

use crate::setup::config::ConfigError;

/// Why a replay could not run (findings are not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong or incomplete.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration and the model do not fit together (an invariant on
    /// an unknown resource, no user for a recorded login, ...).
    #[error("{0}")]
    Setup(String),
    /// The model file could not be read or is not a model this venomqa
    /// reads; the cause is the error's `source()`.
    #[error("cannot read the model {}", path.display())]
    Model {
        /// The model file named by the configuration.
        path: PathBuf,
        /// Why: the file system's error or the learner's.
        source: ModelError,
    },
    /// The traffic store could not be opened or read (it names its directory).
    #[error(transparent)]
    Store(#[from] venomqa_traffic::Error),
    /// Nothing answers at the target.
    #[error("target {target} refused the connection; is it running? ({reason})")]
    Unreachable {
        /// The target's base URL.
        target: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// The target's TLS certificate was refused: every request would be.
    #[error("the target {target} could not be trusted: {problem}; {fix}")]
    UntrustedTarget {
        /// The target's base URL.
        target: String,
        /// What is wrong with its certificate, in words.
        problem: String,
        /// Which setting settles it (`[target] ca` or `insecure`).
        fix: String,
    },
    /// A configured user could not log in.
    #[error("user {user} could not log in: {action} answered {}{}", status.map_or("nothing".to_string(), |s| s.to_string()), if body.is_empty() { String::new() } else { format!(": {body}") })]
    Login {
        /// The configured user's name.
        user: String,
        /// The login action (`POST /login`).
        action: String,
        /// The answer's status; `None` when nothing answered.
        status: Option<u16>,
        /// The start of the answer's body.
        body: String,
    },
    /// Replayed unmutated, most calls answered otherwise than recorded (in
    /// status class or JSON-ness): the target is not the recorded API, or
    /// not in the state the recording started from.
    #[error("the target {target} does not answer like the recorded API: {differing} of {compared} calls replayed unmutated answered otherwise than recorded ({}); is the target the right service, and was it reset?", first.join("; "))]
    NotTheRecordedApi {
        /// The target's base URL.
        target: String,
        /// Calls compared.
        compared: usize,
        /// Calls whose answer differed.
        differing: usize,
        /// The first few, each `ACTION: recorded …, answered …`.
        first: Vec<String>,
    },
    /// An exploration hook (`[explore] checkpoint` or `rollback`) failed.
    #[error("the {which} hook failed ({how}): {message}")]
    Hook {
        /// `checkpoint` or `rollback`.
        which: &'static str,
        /// The request line or command, its `{name}` filled in.
        how: String,
        /// What went wrong.
        message: String,
    },
    /// The reset request or command failed.
    #[error("resetting the target failed ({how}): {message}")]
    Reset {
        /// The reset request line or command.
        how: String,
        /// What went wrong.
        message: String,
    },
}

/// Why the model file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// The file is not a model this venomqa reads (the learner says why).
    #[error(transparent)]
    Invalid(#[from] venomqa_learner::Error),
}
