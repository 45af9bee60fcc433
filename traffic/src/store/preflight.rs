//! What is checked before sled opens a store, and what an open that failed
//! means, in words a user can act on. sled (0.34) writes even to read: it
//! takes a lock on `db` opened for writing, writes a snapshot on every
//! open, and writes `conf` when it finds none. So before it runs:
//!
//! - a store on a read-only file system, or one the user may not write, is
//!   refused saying which (sled's own error is a bare "Read-only file
//!   system" or "Permission denied");
//! - `conf` must be whole, and an incomplete snapshot an interrupted open
//!   left is removed (`sled_files.rs`);
//! - the disk must have room for the snapshot the open writes
//!   (`space.rs`), since one cut short would break every later open.

use std::path::Path;

use super::{permissions, sled_files, space};
use crate::{Error, Result};

/// The checks, in that order; a directory that does not exist yet (a store
/// about to be created) has nothing to check.
pub(super) fn check(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    check_writable(dir)?;
    sled_files::check_conf(dir)?;
    remove_broken_snapshots(dir)?;
    check_room(dir)
}

/// Removes incomplete snapshots under sled's lock (skipped while another
/// handle holds it).
pub(super) fn remove_broken_snapshots(dir: &Path) -> Result<()> {
    sled_files::with_sled_lock(dir, || sled_files::remove_broken_snapshots(dir)).map(|_| ())
}

fn check_writable(dir: &Path) -> Result<()> {
    let refuse = |reason: String| Err(Error::ReadOnly { dir: dir.to_path_buf(), reason });
    if space::is_read_only_fs(dir).map_err(|e| Error::io(dir, e))? {
        return refuse("it is on a read-only file system".into());
    }
    if !permissions::may_write(dir) {
        return refuse("you may not write to its directory".into());
    }
    let db = dir.join("db");
    if db.exists() && !permissions::may_write(&db) {
        return refuse(format!("you may not write to {}", db.display()));
    }
    Ok(())
}

fn check_room(dir: &Path) -> Result<()> {
    let Some(free) = space::free_bytes(dir).map_err(|e| Error::io(dir, e))? else {
        return Ok(());
    };
    let needed = space::room_to_open(dir);
    if free < needed {
        return Err(Error::NoRoomToOpen { dir: dir.to_path_buf(), free, needed });
    }
    Ok(())
}

/// sled's error on opening, in the terms of [`check_writable`] when the
/// file system refused a write the checks could not foresee.
pub(super) fn explain_open_error(dir: &Path, error: sled::Error) -> Error {
    if let sled::Error::Io(io) = &error {
        if permissions::is_write_refusal(io) {
            return Error::ReadOnly {
                dir: dir.to_path_buf(),
                reason: format!("sled was refused: {io}"),
            };
        }
    }
    Error::sled(dir, error)
}
