//! Room on the store's disk, checked before sled is asked to write.
//!
//! sled 0.34 does not survive a full disk: a write that fails leaves its
//! log buffer half-claimed, after which every flush (and the flush in the
//! last handle's `Drop`) may wait forever, and the handle can never write
//! again. So the writer does not let sled reach the end of the disk: before
//! each batch it asks the file system (`statvfs`, a cheap system call) how
//! much is free and, below [`MIN_FREE_BYTES`] plus what the batch may take,
//! drops the batch (counted) instead of writing it. Writing resumes once
//! [`RESUME_MARGIN`] more than the minimum is free again, so a disk
//! hovering at the limit does not flip between the two on every batch.
//!
//! Opening a store writes too (sled writes a snapshot of its page table on
//! every open, readers included); [`room_to_open`] says how much that needs.

use std::io;
use std::path::Path;

/// Free space the writer always leaves on the store's disk. It covers what
/// sled holds in memory and writes later (up to one 512 KiB log segment),
/// a rewrite of a whole tree leaf (sled rewrites a leaf of up to 17 blocks
/// of about 64 KiB when it consolidates it), and the snapshot the next open
/// writes. Small next to any real disk.
pub const MIN_FREE_BYTES: u64 = 4 * 1024 * 1024;

/// How much more than [`MIN_FREE_BYTES`] must be free before a paused
/// writer writes again.
pub const RESUME_MARGIN: u64 = 1024 * 1024;

/// A batch may cost sled more than its encoded size (the value in the log
/// or a blob file, and the leaf that holds it rewritten): this many times.
const BATCH_COST: u64 = 3;

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

/// The writer's view of the disk: whether it may write a batch now.
#[derive(Debug)]
pub(super) struct SpaceGuard {
    /// Set while the writer drops batches for want of space.
    paused: bool,
}

/// What the guard says about one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Room {
    /// Write it.
    Enough,
    /// Do not write it: `free` bytes are left, the guard wants `wanted`.
    Short {
        /// Free bytes on the store's disk.
        free: u64,
        /// What writing this batch would have needed free.
        wanted: u64,
    },
}

impl SpaceGuard {
    pub fn new() -> SpaceGuard {
        SpaceGuard { paused: false }
    }

    /// Whether a batch of `bytes` encoded bytes may be written with `free`
    /// bytes free (`None`: the platform cannot say, so yes).
    pub fn room_for(&mut self, bytes: u64, free: Option<u64>) -> Room {
        let Some(free) = free else { return Room::Enough };
        let floor = if self.paused { MIN_FREE_BYTES + RESUME_MARGIN } else { MIN_FREE_BYTES };
        let wanted = floor.saturating_add(bytes.saturating_mul(BATCH_COST));
        self.paused = free < wanted;
        if self.paused {
            Room::Short { free, wanted }
        } else {
            Room::Enough
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }
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

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn the_guard_pauses_below_the_minimum_and_resumes_only_past_the_margin() {
        let mut guard = SpaceGuard::new();
        assert_eq!(guard.room_for(1000, Some(100 * MIB)), Room::Enough);
        assert!(matches!(guard.room_for(1000, Some(MIN_FREE_BYTES)), Room::Short { .. }));
        assert!(guard.paused());
        // Back above the minimum, but not by the margin: still paused.
        assert!(matches!(guard.room_for(1000, Some(MIN_FREE_BYTES + MIB / 2)), Room::Short { .. }));
        assert_eq!(guard.room_for(1000, Some(MIN_FREE_BYTES + RESUME_MARGIN + MIB)), Room::Enough);
        assert!(!guard.paused());
    }

    #[test]
    fn a_large_batch_needs_room_for_what_sled_may_write_for_it() {
        let mut guard = SpaceGuard::new();
        let free = MIN_FREE_BYTES + 10 * MIB;
        assert_eq!(guard.room_for(MIB, Some(free)), Room::Enough);
        let Room::Short { free: left, wanted } = guard.room_for(5 * MIB, Some(free)) else {
            panic!("a batch that would eat into the minimum is refused")
        };
        assert_eq!(left, free);
        assert_eq!(wanted, MIN_FREE_BYTES + 15 * MIB);
    }

    #[test]
    fn an_unknown_amount_of_free_space_never_pauses() {
        assert_eq!(SpaceGuard::new().room_for(u64::MAX, None), Room::Enough);
    }

    #[test]
    fn the_free_space_of_a_real_directory_is_known() {
        let dir = tempfile::tempdir().unwrap();
        if cfg!(unix) {
            assert!(free_bytes(dir.path()).unwrap().is_some());
            assert!(!is_read_only_fs(dir.path()).unwrap());
        }
    }
}
