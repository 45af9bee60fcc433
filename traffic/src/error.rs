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
        "store at {} has format version {found}; this venomqa reads versions {oldest} to {expected}",
        .dir.display()
    )]
    Version {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// The version the store says it has.
        found: u32,
        /// The newest version this venomqa reads ([`FORMAT_VERSION`](crate::FORMAT_VERSION)).
        expected: u32,
        /// The oldest version this venomqa reads.
        oldest: u32,
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
        "unknown session rule `{rule}`; use header:NAME, cookie:NAME, cookie:* (the session cookie) or client, \
         or a comma-separated list of them tried in order (e.g. header:x-session,client)"
    )]
    SessionRule {
        /// The rule as given.
        rule: String,
    },

    /// The file system holding the store is mounted read-only, or the
    /// user may not write to the store's directory: sled cannot open it.
    #[error(
        "store at {dir} cannot be opened: {reason}. sled, the database inside a store, \
         writes even to read (its lock, and a snapshot on every open), so it cannot read a \
         store in place there: copy it somewhere writable (`cp -a {dir} /tmp/venomqa-store`) \
         and pass `--store /tmp/venomqa-store`",
        dir = .dir.display()
    )]
    ReadOnly {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// Which of the two it is (`it is on a read-only file system`).
        reason: String,
    },

    /// Too little free space to open the store safely.
    #[error(
        "the disk holding the store at {dir} has {free} free and opening the store needs \
         about {needed}: sled writes a snapshot on every open, and one cut short by a full \
         disk would leave the store unopenable. Free some space on that disk and try again",
        dir = .dir.display(),
        free = human_bytes(*.free),
        needed = human_bytes(*.needed)
    )]
    NoRoomToOpen {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// Bytes free on its file system.
        free: u64,
        /// Bytes the open may write.
        needed: u64,
    },

    /// The store's disk is too full to write more (an import stops here
    /// rather than let sled meet a full disk, which it cannot recover from).
    #[error(
        "the disk holding the store at {dir} has {free} free and writing on needs {needed} free \
         (venomqa keeps a margin so that sled never meets a full disk); free some space on \
         that disk, or move the store to a disk with room and pass `--store` with its new place",
        dir = .dir.display(),
        free = human_bytes(*.free),
        needed = human_bytes(*.needed)
    )]
    LowSpace {
        /// The store's directory, as it was given.
        dir: PathBuf,
        /// Bytes free on its file system.
        free: u64,
        /// Bytes the writer wanted free before writing.
        needed: u64,
    },

    /// A write failed because the store's disk is full.
    #[error(
        "the disk holding the store at {} is full; free some space on it, or move the store \
         to a disk with room and pass `--store` with its new place",
        .dir.display()
    )]
    DiskFull {
        /// The store's directory, as it was given.
        dir: PathBuf,
    },

    /// sled's own configuration file is missing or damaged.
    #[error(
        "the store's sled configuration file {path} {problem}; sled would replace a missing \
         one without a word and may misread a garbled one, so venomqa stops here. Restore the \
         file from a backup of the store, or copy \
         `conf` from any store this venomqa made (every one has the same: sled's defaults), \
         e.g. one made by `venomqa sample generate --store /tmp/s --exchanges 1`",
        path = .path.display()
    )]
    Conf {
        /// The `conf` file.
        path: PathBuf,
        /// What is wrong with it (`is missing`).
        problem: String,
    },

    /// A snapshot an interrupted open left behind, which sled would try to
    /// read, and which could not be removed.
    #[error(
        "{path} is an incomplete snapshot left by an open that was cut short (a full disk?); \
         sled cannot open the store while it is there, and removing it failed ({source}): \
         delete it by hand (it holds nothing the store needs)",
        path = .path.display()
    )]
    BrokenSnapshot {
        /// The `snap.*.generating` file.
        path: PathBuf,
        /// Why removing it failed.
        source: std::io::Error,
    },

    /// A write to the store failed earlier in this process (or did not
    /// finish in time); sled cannot write it again until it is reopened.
    #[error(
        "the store at {} failed earlier in this run (see the log above) and is not written \
         again until it is reopened",
        .dir.display()
    )]
    Failed {
        /// The store's directory, as it was given.
        dir: PathBuf,
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

/// Whether an I/O error says the disk (or the user's quota) is full.
/// sled re-wraps some errors as a custom error of the same kind, so besides
/// the OS code the kind is compared (taken from the code, because
/// `ErrorKind::StorageFull` cannot be named before Rust 1.83).
pub(crate) fn is_disk_full(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC).kind();
        matches!(error.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) || error.kind() == full
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// `3.2 MiB`: a size for people.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Classifies a sled error: its failed directory lock becomes [`Error::InUse`].
    /// Classifies a sled error: its failed directory lock becomes
    /// [`Error::InUse`], a full disk [`Error::DiskFull`].
    pub(crate) fn sled(dir: &Path, source: sled::Error) -> Error {
        if is_lock_held(&source) {
            return Error::InUse { dir: dir.to_path_buf() };
        }
        if matches!(&source, sled::Error::Io(io) if is_disk_full(io)) {
            return Error::DiskFull { dir: dir.to_path_buf() };
        }
        Error::Sled { dir: dir.to_path_buf(), source }
    }

    pub(crate) fn io(dir: &Path, source: std::io::Error) -> Error {
        if is_disk_full(&source) {
            return Error::DiskFull { dir: dir.to_path_buf() };
        }
        Error::Io { dir: dir.to_path_buf(), source }
    }

    /// Whether the file system (or sled's I/O) failed: after such an
    /// error sled may not write again.
    pub(crate) fn is_io(&self) -> bool {
        matches!(
            self,
            Error::DiskFull { .. }
                | Error::Io { .. }
                | Error::Sled { source: sled::Error::Io(_), .. }
        )
    }

    pub(crate) fn corrupt(dir: &Path, what: impl Into<String>) -> Error {
        Error::Corrupt { dir: dir.to_path_buf(), what: what.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(4 * 1024 * 1024), "4.0 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    #[cfg(unix)]
    fn a_full_disk_is_named_as_such_whichever_way_sled_reports_it() {
        let dir = Path::new("/s");
        let enospc = || std::io::Error::from_raw_os_error(28);
        assert!(matches!(Error::io(dir, enospc()), Error::DiskFull { .. }));
        assert!(matches!(Error::sled(dir, sled::Error::Io(enospc())), Error::DiskFull { .. }));
        let wrapped = std::io::Error::new(enospc().kind(), format!("{:?}", enospc()));
        assert!(matches!(Error::sled(dir, sled::Error::Io(wrapped)), Error::DiskFull { .. }));
    }
}
