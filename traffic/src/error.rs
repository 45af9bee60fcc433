//! The one error type of the traffic crate.
//!
//! Every variant that concerns a store names its directory, so that a message
//! printed by the binary as it is tells the user which store and what to do.

use std::path::{Path, PathBuf};

/// What can go wrong with a traffic store, a recording or a session rule.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process (or another handle in this one) holds sled's lock.
    #[error(
        "store at {} is in use by another venomqa (is `venomqa record` still running?)",
        .dir.display()
    )]
    InUse {
        /// The store's directory, as it was given.
        dir: PathBuf,
    },

    /// Nothing, or something other than a venomqa store, is at `dir`.
    #[error(
        "no venomqa store at {}; record one with `venomqa record` or `venomqa import FILE.har`",
        .dir.display()
    )]
    NotAStore {
        /// The store's directory, as it was given.
        dir: PathBuf,
    },

    /// Creating a store here would mix its files with someone else's.
    #[error(
        "{} already holds files that are not a venomqa store; choose a new or empty directory for the store",
        .dir.display()
    )]
    ForeignDirectory {
        /// The store's directory, as it was given.
        dir: PathBuf,
    },

    /// Written by a venomqa whose on-disk format this one does not read.
    #[error(
        "store at {} has format version {found}; this venomqa reads version {expected}",
        .dir.display()
    )]
    Version {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// The version the store says it has.
        found: u32,
        /// The version this venomqa reads ([`FORMAT_VERSION`](crate::FORMAT_VERSION)).
        expected: u32,
    },

    /// A record could not be decoded: the store was damaged or hand-edited.
    #[error(
        "store at {} has a corrupt record ({what}); export what still reads with `venomqa export` and record again",
        .dir.display()
    )]
    Corrupt {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// What did not decode (`block 7`, `session index key`).
        what: String,
    },

    /// `Store::record` was called while a recording of the same store runs.
    #[error("store at {} is already being recorded into by this process", .dir.display())]
    AlreadyRecording {
        /// The store's directory, as it was given.
        dir: PathBuf,
    },

    /// The writer thread died without reporting why (a panic).
    #[error("the writer of the store at {} stopped unexpectedly; see the log above", .dir.display())]
    WriterPanicked {
        /// The store's directory, as it was given.
        dir: PathBuf,
    },

    /// A `--session-by` rule that does not parse.
    #[error(
        "unknown session rule `{rule}`; use header:NAME, cookie:NAME or client, \
         or a comma-separated list of them tried in order (e.g. header:x-session,client)"
    )]
    SessionRule {
        /// The rule as given.
        rule: String,
    },

    /// The file system refused something.
    #[error("I/O error on the store at {}: {source}", .dir.display())]
    Io {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },

    /// sled reported an error other than its directory lock.
    #[error("store at {}: {source}", .dir.display())]
    Sled {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// What sled said.
        source: sled::Error,
    },
}

/// Whether sled failed to take its directory lock. sled 0.34 reports it as
/// an `Io` error of kind `Other` whose message starts with "could not
/// acquire lock"; there is no dedicated variant to match on.
pub(crate) fn is_lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Classifies a sled error: its failed directory lock becomes [`Error::InUse`].
    pub(crate) fn sled(dir: &Path, source: sled::Error) -> Error {
        if is_lock_held(&source) {
            return Error::InUse { dir: dir.to_path_buf() };
        }
        Error::Sled { dir: dir.to_path_buf(), source }
    }

    pub(crate) fn io(dir: &Path, source: std::io::Error) -> Error {
        Error::Io { dir: dir.to_path_buf(), source }
    }

    pub(crate) fn corrupt(dir: &Path, what: impl Into<String>) -> Error {
        Error::Corrupt { dir: dir.to_path_buf(), what: what.into() }
    }
}
