//! SQLite checkpoints: the target's database file copied out to a file of
//! the checkpoint's own, and copied back, each with SQLite's online backup
//! API in one step. The backup takes SQLite's locks, so the target may keep
//! the file open and serve meanwhile: a copy is never half a write, and the
//! target's connections see the restored pages on their next read (SQLite
//! notices another connection changed the file). A target that keeps the
//! state in memory as well must check for that (the sample shop asks
//! `PRAGMA data_version` on every request).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::failed;
use crate::error::Error;

/// How long a copy waits for the target's write lock before it gives up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The target's database file and the directory the saved copies live in
/// (removed, with them, when the exploration ends).
pub(crate) struct Files {
    live: PathBuf,
    saved: tempfile::TempDir,
    /// `sqlite:PATH`, for messages.
    how: String,
}

impl Files {
    /// Checks that `live` is a SQLite database the run may read and write;
    /// never creates one (a typo in the path would branch nothing).
    pub async fn open(live: &Path) -> Result<Files, Error> {
        let how = format!("sqlite:{}", live.display());
        let checked = live.to_path_buf();
        run_blocking(move || {
            let conn = open_existing(&checked, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
            conn.query_row("PRAGMA schema_version", [], |row| row.get::<_, i64>(0))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|message| failed("checkpoint", &how, message))?;
        let saved =
            tempfile::Builder::new().prefix("venomqa-checkpoints-").tempdir().map_err(|e| {
                failed("checkpoint", &how, format!("cannot make a directory for the copies: {e}"))
            })?;
        Ok(Files { live: live.to_path_buf(), saved, how })
    }

    /// Copies the live database to the checkpoint's file.
    pub async fn save(&self, name: &str) -> Result<(), Error> {
        let (live, copy) = (self.live.clone(), self.copy_of(name));
        run_blocking(move || {
            let source = open_existing(&live, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let mut target = Connection::open(&copy).map_err(|e| e.to_string())?;
            copy_all(&source, &mut target)
        })
        .await
        .map_err(|message| failed("checkpoint", &self.how, message))
    }

    /// Copies the checkpoint's file back over the live database.
    pub async fn restore(&self, name: &str) -> Result<(), Error> {
        let (live, copy) = (self.live.clone(), self.copy_of(name));
        if !copy.exists() {
            return Err(failed("rollback", &self.how, format!("no state was saved as `{name}`")));
        }
        run_blocking(move || {
            let source = open_existing(&copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let mut target = open_existing(&live, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
            copy_all(&source, &mut target)
        })
        .await
        .map_err(|message| failed("rollback", &self.how, message))
    }

    /// Removes the copies.
    pub fn close(self) {
        let dir = self.saved.path().to_path_buf();
        if let Err(e) = self.saved.close() {
            tracing::warn!("could not remove the SQLite checkpoints in {}: {e}", dir.display());
        }
    }

    fn copy_of(&self, name: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .collect();
        self.saved.path().join(format!("{safe}.db"))
    }
}

/// Opens a database file that must already exist.
fn open_existing(path: &Path, mode: OpenFlags) -> Result<Connection, String> {
    if !path.is_file() {
        return Err(format!("there is no database file at {}", path.display()));
    }
    let flags = mode | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| e.to_string())?;
    conn.busy_timeout(LOCK_WAIT).map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Copies every page of `source` into `target` in one backup step, waiting
/// (up to [`LOCK_WAIT`]) while another connection holds a lock.
fn copy_all(source: &Connection, target: &mut Connection) -> Result<(), String> {
    let backup = Backup::new(source, target).map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        match backup.step(-1).map_err(|e| e.to_string())? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            busy => {
                if started.elapsed() > LOCK_WAIT {
                    return Err(format!(
                        "the database stayed locked ({busy:?}) for {}s; is a long transaction open on it?",
                        LOCK_WAIT.as_secs()
                    ));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// Runs blocking SQLite work off the async threads.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work).await.map_err(|e| format!("the copy stopped: {e}"))?
}
