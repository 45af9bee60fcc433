//! A store that cannot be written (on a read-only mount, or in a directory
//! the user may not write) is read from a private copy: sled 0.34 writes
//! even to read (a lock, a snapshot on every open), so it cannot open the
//! original. The copy goes in the temporary directory (`TMPDIR`), private
//! like a store, and is removed when the store is dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::permissions;
use crate::Result;

/// A copy of a store made to read it; removed on drop.
#[derive(Debug)]
pub(super) struct ReadCopy {
    path: PathBuf,
}

impl ReadCopy {
    /// Copies the store at `original` into a new private directory.
    pub fn make(original: &Path) -> Result<ReadCopy> {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let name =
            format!("venomqa-read-{}-{}", std::process::id(), MADE.fetch_add(1, Ordering::Relaxed));
        let copy = ReadCopy { path: std::env::temp_dir().join(name) };
        permissions::create_private_dir(&copy.path)?;
        copy_tree(original, &copy.path).map_err(|e| crate::Error::io(&copy.path, e))?;
        permissions::make_private(&copy.path, true)?;
        Ok(copy)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ReadCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Copies the files and directories under `from` into `to` (which exists).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
