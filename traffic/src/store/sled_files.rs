//! sled's own files in a store directory, checked before sled opens it,
//! for two cases where sled (0.34) would do the wrong thing on its own.
//!
//! `conf` says how sled laid out its log (segment size, compression,
//! version): `segment_size`, `use_compression` and `version` lines, then a
//! CRC-32 (little-endian) of them. sled writes a new one, without a word,
//! when it is missing or 8 bytes or shorter, and only warns when its
//! checksum does not match. A store whose `db` holds data and whose `conf`
//! is missing or garbled is damaged, so it is refused with an error naming
//! the file.
//!
//! `snap.<lsn>.generating` is the snapshot of sled's page table being
//! written (`pagecache/snapshot.rs`, `write_snapshot`): sled writes it on
//! every open, syncs it and renames it to `snap.<lsn>`, and removes older
//! snapshots only after that rename. But when it looks for the snapshot to
//! start from, it takes the last `snap.*` file in name order *including* a
//! leftover `.generating` one, and fails with "Read corrupted data at file
//! offset None" when that file is incomplete (a full disk cut its write
//! short), on every open from then on. An incomplete one holds nothing sled
//! has not also kept elsewhere (the previous snapshot and the log it was
//! made from are still there; it is what a crash just before the write
//! began would have left), so it is removed. A complete one (its checksum
//! matches: the process died between the sync and the rename) is a valid
//! snapshot that sled reads, and is left alone.
//!
//! Both checks run under sled's own lock on `db` (an exclusive `flock`), so
//! a snapshot another process is writing right now is never touched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::LOCK_WAIT;
use crate::{Error, Result};

/// A snapshot ends with its length (8 bytes) and a CRC-32 (4 bytes).
const SNAPSHOT_TRAILER: usize = 12;

/// A `conf` file sled reads ends with a CRC-32 after more than 4 bytes.
const CONF_MIN_LEN: usize = 9;

/// Refuses a store whose `db` holds data but whose `conf` is missing or
/// garbled. A `conf` that is short while `db` is empty is a store whose
/// creation was cut short: sled writes it again, which is right.
pub(super) fn check_conf(dir: &Path) -> Result<()> {
    let path = dir.join("conf");
    let has_data = fs::metadata(dir.join("db")).map(|m| m.len() > 0).unwrap_or(false);
    let bad = |problem: String| Err(Error::Conf { path: path.clone(), problem });
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return if has_data { bad("is missing".into()) } else { Ok(()) };
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    if bytes.len() < CONF_MIN_LEN {
        return if has_data {
            bad(format!("is cut short ({} bytes; it holds about 60)", bytes.len()))
        } else {
            Ok(())
        };
    }
    let (text, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(text).to_le_bytes() != crc {
        return bad("is garbled (its checksum does not match its content)".into());
    }
    let Ok(text) = std::str::from_utf8(text) else {
        return bad("is garbled (it is not text)".into());
    };
    for key in ["segment_size: ", "use_compression: ", "version: "] {
        if !text.lines().any(|line| line.starts_with(key)) {
            return bad(format!("is garbled (it has no `{}` line)", key.trim_end_matches(": ")));
        }
    }
    Ok(())
}

/// Removes the incomplete `snap.*.generating` files an open cut short left
/// behind (see the module's doc); returns the ones removed.
pub(super) fn remove_broken_snapshots(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("snap.") && name.ends_with(".generating")) {
            continue;
        }
        let path = entry.path();
        let bytes = fs::read(&path).map_err(|e| Error::io(dir, e))?;
        if is_complete_snapshot(&bytes) {
            continue;
        }
        fs::remove_file(&path)
            .map_err(|source| Error::BrokenSnapshot { path: path.clone(), source })?;
        tracing::warn!(
            "removed {}: an incomplete snapshot ({} bytes) that an open of the store cut short \
             (a full disk?) had left; sled could not have opened the store with it",
            path.display(),
            bytes.len()
        );
        removed.push(path);
    }
    Ok(removed)
}

/// Whether `bytes` are a whole snapshot as sled writes it: its content,
/// its length (u64) and a CRC-32 (little-endian) of the content.
fn is_complete_snapshot(bytes: &[u8]) -> bool {
    if bytes.len() <= SNAPSHOT_TRAILER {
        return false;
    }
    let (content, trailer) = bytes.split_at(bytes.len() - SNAPSHOT_TRAILER);
    crc32fast::hash(content).to_le_bytes() == trailer[8..]
}

/// Runs `check` holding sled's lock on `dir/db`, the way sled takes it
/// (waiting, as an open does, for a lock sled is still letting go of); if
/// another handle holds it, `check` is skipped (that handle's open has
/// checked, and this open will be refused as in use). Without a `db` there
/// is nothing to lock and `check` runs.
pub(super) fn with_sled_lock<T>(
    dir: &Path,
    check: impl FnOnce() -> Result<T>,
) -> Result<Option<T>> {
    let file = match fs::File::open(dir.join("db")) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return check().map(Some),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    while !lock::try_exclusive(&file) {
        if started.elapsed() >= LOCK_WAIT {
            return Ok(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    // The lock goes with `file`, after the check.
    let checked = check();
    drop(file);
    checked.map(Some)
}

#[cfg(unix)]
mod lock {
    use std::os::unix::io::AsRawFd;

    /// `flock(LOCK_EX | LOCK_NB)`, as sled's `fs2::try_lock_exclusive`.
    pub fn try_exclusive(file: &std::fs::File) -> bool {
        // SAFETY: flock on a file descriptor `file` owns and keeps open.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
    }
}

#[cfg(not(unix))]
mod lock {
    /// Elsewhere the checks run unlocked.
    pub fn try_exclusive(_file: &std::fs::File) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `conf` as sled 0.34 writes it with its defaults.
    fn sled_conf() -> Vec<u8> {
        let mut bytes = b"segment_size: 524288\nuse_compression: false\nversion: 0.34\n".to_vec();
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    fn store_with(conf: Option<&[u8]>, db: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        if let Some(conf) = conf {
            fs::write(dir.path().join("conf"), conf).unwrap();
        }
        fs::write(dir.path().join("db"), db).unwrap();
        dir
    }

    fn problem(dir: &Path) -> String {
        match check_conf(dir) {
            Err(Error::Conf { problem, .. }) => problem,
            other => panic!("expected a conf error, got {other:?}"),
        }
    }

    #[test]
    fn a_conf_as_sled_writes_it_passes() {
        let dir = store_with(Some(&sled_conf()), b"data");
        check_conf(dir.path()).unwrap();
    }

    #[test]
    fn a_missing_short_or_garbled_conf_beside_data_is_named() {
        assert_eq!(problem(store_with(None, b"data").path()), "is missing");
        assert!(problem(store_with(Some(b""), b"data").path()).contains("cut short (0 bytes"));
        let mut flipped = sled_conf();
        flipped[3] ^= 0x20;
        assert!(problem(store_with(Some(&flipped), b"data").path()).contains("checksum"));
        let mut no_version = b"segment_size: 524288\nuse_compression: false\n".to_vec();
        no_version.extend_from_slice(&crc32fast::hash(&no_version).to_le_bytes());
        assert!(problem(store_with(Some(&no_version), b"data").path()).contains("`version`"));
    }

    #[test]
    fn a_store_whose_creation_was_cut_short_may_be_created_again() {
        check_conf(store_with(None, b"").path()).unwrap();
        check_conf(store_with(Some(b""), b"").path()).unwrap();
    }

    #[test]
    fn only_incomplete_generating_snapshots_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut whole = b"page table".to_vec();
        let crc = crc32fast::hash(&whole);
        whole.extend_from_slice(&(whole.len() as u64).to_le_bytes());
        whole.extend_from_slice(&crc.to_le_bytes());
        let path = |name: &str| dir.path().join(name);
        fs::write(path("snap.00000000000000A0"), &whole).unwrap();
        fs::write(path("snap.00000000000000B0.generating"), &whole).unwrap();
        fs::write(path("snap.00000000000000C0.generating"), b"").unwrap();
        fs::write(path("snap.00000000000000D0.generating"), &whole[..whole.len() - 1]).unwrap();

        let mut removed = remove_broken_snapshots(dir.path()).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            [path("snap.00000000000000C0.generating"), path("snap.00000000000000D0.generating")]
        );
        assert!(path("snap.00000000000000A0").exists(), "a finished snapshot stays");
        assert!(path("snap.00000000000000B0.generating").exists(), "a complete one stays");
    }
}
