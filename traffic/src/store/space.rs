//! Room on the store's disk, checked before sled is asked to write.
//!
//! Opening a store writes (sled writes a snapshot of its page table on
//! every open, readers included); [`room_to_open`] says how much that needs.

use std::io;
use std::path::Path;

/// sled's log segment (its default, which venomqa keeps).
const SEGMENT_BYTES: u64 = 512 * 1024;

/// What an open may write besides the snapshot: sled zeroes the rest of
/// the log segment it recovered to (up to a segment; the file grows by that
/// much on a fresh store), and `conf` and the lock are small.
const OPEN_SLACK: u64 = SEGMENT_BYTES + 64 * 1024;

/// Bytes free for an unprivileged user on the file system holding `dir`;
/// `None` where the platform cannot say (the checks are then skipped).
pub(crate) fn free_bytes(dir: &Path) -> io::Result<Option<u64>> {
    imp::free_bytes(dir)
}

/// Whether the file system holding `dir` is mounted read-only.
pub(crate) fn is_read_only_fs(dir: &Path) -> io::Result<bool> {
    imp::is_read_only_fs(dir)
}

/// What opening the store at `dir` may write: sled's next snapshot, about
/// the size of its last one (the largest `snap.*` file, counted twice to be
/// safe), and the tail of a log segment ([`OPEN_SLACK`]).
pub(crate) fn room_to_open(dir: &Path) -> u64 {
    let largest_snapshot = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("snap."))
        .filter_map(|entry| entry.metadata().ok())
        .map(|meta| meta.len())
        .max()
        .unwrap_or(0);
    2 * largest_snapshot + OPEN_SLACK
}

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    fn statvfs(dir: &Path) -> io::Result<libc::statvfs> {
        let path = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
        // SAFETY: `path` is a valid C string and `stats` a writable
        // statvfs that the call fills in; it is read only on success.
        unsafe {
            let mut stats: libc::statvfs = std::mem::zeroed();
            if libc::statvfs(path.as_ptr(), &mut stats) == 0 {
                Ok(stats)
            } else {
                Err(io::Error::last_os_error())
            }
        }
    }

    pub fn free_bytes(dir: &Path) -> io::Result<Option<u64>> {
        let stats = statvfs(dir)?;
        // `f_bavail`: the blocks an unprivileged user may still use.
        #[allow(clippy::unnecessary_cast)] // the field types differ by platform
        Ok(Some((stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64)))
    }

    pub fn is_read_only_fs(dir: &Path) -> io::Result<bool> {
        #[allow(clippy::unnecessary_cast)]
        Ok(statvfs(dir)?.f_flag as u64 & libc::ST_RDONLY as u64 != 0)
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io;
    use std::path::Path;

    pub fn free_bytes(_dir: &Path) -> io::Result<Option<u64>> {
        Ok(None)
    }

    pub fn is_read_only_fs(_dir: &Path) -> io::Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_space_of_a_real_directory_is_known() {
        let dir = tempfile::tempdir().unwrap();
        if cfg!(unix) {
            assert!(free_bytes(dir.path()).unwrap().is_some());
            assert!(!is_read_only_fs(dir.path()).unwrap());
        }
    }
}
