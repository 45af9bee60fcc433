//! Who may read a store. A store holds recorded traffic and the key that
//! pseudonymises its secrets (with the key, a guessed password can be
//! checked against its pseudonym), so it is private to its owner: a new
//! store's directory is made 0700 and its files 0600 whatever the umask.
//!
//! sled creates its files (`db`, `conf`, snapshots, `blobs/` and a file
//! there per large value) with the process's umask, and cannot be told
//! otherwise. Inside a 0700 directory nobody else can reach them, but they
//! are set to 0600 anyway after every open for writing and at the end of a
//! recording, as long as the directory is private (a store someone opened
//! up on purpose is left as it is, with a warning).
//!
//! Opening a store whose directory lets others in warns once a process,
//! naming the directory and the `chmod` that fixes it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Error, Result};

/// Creates `dir` (and missing parents, with the usual modes) as a private
/// directory: mode 0700 whatever the umask.
pub(super) fn create_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(dir, e))?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io(dir, e)),
    }
    imp::set_mode(dir, 0o700).map_err(|e| Error::io(dir, e))
}

/// Makes `dir` 0700 and everything in it 0600 (directories 0700), when the
/// directory is private already or `force`; a store someone opened up on
/// purpose is left as it is (it was warned about).
pub(super) fn make_private(dir: &Path, force: bool) -> Result<()> {
    if !force && imp::shared_mode(dir).map_err(|e| Error::io(dir, e))?.is_some() {
        return Ok(());
    }
    imp::make_private(dir).map_err(|e| Error::io(dir, e))
}

/// [`make_private`] for a store that exists, if its directory is private:
/// the files sled made since are set 0600. A failure is only logged (the
/// directory still keeps others out).
pub(super) fn keep_private(dir: &Path) {
    if let Err(e) = make_private(dir, false) {
        tracing::warn!("could not make the files of the store at {} private: {e}", dir.display());
    }
}

/// Warns, once a process for each directory, when others may read the
/// store at `dir`.
pub(super) fn warn_if_shared(dir: &Path) {
    static WARNED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let Ok(Some(mode)) = imp::shared_mode(dir) else { return };
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if !warned.get_or_insert_with(HashSet::new).insert(key) {
        return;
    }
    tracing::warn!(
        "the store at {dir} can be read by other users (its directory is mode {mode:o}); it \
         holds the recorded traffic and the key that pseudonymises its secrets. Run \
         `chmod -R go-rwx {dir}`",
        dir = dir.display()
    );
}

/// Whether this process may write to `path` (as `access(2)` says, which
/// includes a read-only mount).
pub(super) fn may_write(path: &Path) -> bool {
    imp::may_write(path)
}

/// Whether an I/O error is the file system refusing to let us write
/// (a read-only mount, or permissions).
pub(super) fn is_write_refusal(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::PermissionDenied || imp::is_read_only_error(error)
}

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }

    pub fn may_write(path: &Path) -> bool {
        let Ok(path) = CString::new(path.as_os_str().as_bytes()) else { return false };
        // SAFETY: `path` is a valid C string for the duration of the call.
        unsafe { libc::access(path.as_ptr(), libc::W_OK) == 0 }
    }

    pub fn is_read_only_error(error: &io::Error) -> bool {
        error.raw_os_error() == Some(libc::EROFS)
            || error.kind() == io::Error::from_raw_os_error(libc::EROFS).kind()
    }

    /// The mode of `dir` when it lets group or others in at all.
    pub fn shared_mode(dir: &Path) -> io::Result<Option<u32>> {
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }

    /// `dir` 0700, its files 0600, its directories the same way down.
    /// Symbolic links are left alone (sled makes none).
    pub fn make_private(dir: &Path) -> io::Result<()> {
        set_mode(dir, 0o700)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                make_private(&path)?;
            } else if kind.is_file() {
                let mode = entry.metadata()?.permissions().mode() & 0o777;
                if mode != 0o600 {
                    set_mode(&path, 0o600)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io;
    use std::path::Path;

    pub fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    pub fn may_write(path: &Path) -> bool {
        std::fs::metadata(path).map(|m| !m.permissions().readonly()).unwrap_or(false)
    }

    pub fn is_read_only_error(_error: &io::Error) -> bool {
        false
    }

    pub fn shared_mode(_dir: &Path) -> io::Result<Option<u32>> {
        Ok(None)
    }

    pub fn make_private(_dir: &Path) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_private_directory_is_0700_and_its_files_0600() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("a/store");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::create_dir(dir.join("blobs")).unwrap();
        std::fs::write(dir.join("db"), b"").unwrap();
        std::fs::write(dir.join("blobs/7"), b"").unwrap();
        imp::set_mode(&dir.join("db"), 0o666).unwrap();
        imp::set_mode(&dir.join("blobs"), 0o755).unwrap();
        make_private(&dir, false).unwrap();
        assert_eq!(mode(&dir.join("db")), 0o600);
        assert_eq!(mode(&dir.join("blobs")), 0o700);
        assert_eq!(mode(&dir.join("blobs/7")), 0o600);
    }

    #[test]
    fn a_store_opened_up_on_purpose_is_left_open_unless_forced() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("store");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("db"), b"").unwrap();
        imp::set_mode(&dir, 0o750).unwrap();
        imp::set_mode(&dir.join("db"), 0o640).unwrap();
        make_private(&dir, false).unwrap();
        assert_eq!((mode(&dir), mode(&dir.join("db"))), (0o750, 0o640));
        make_private(&dir, true).unwrap();
        assert_eq!((mode(&dir), mode(&dir.join("db"))), (0o700, 0o600));
    }
}
