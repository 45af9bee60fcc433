//! The traffic store: recorded exchanges in a sled directory.
//!
//! ```no_run
//! use venomqa_traffic::Store;
//! # fn main() -> venomqa_traffic::Result<()> {
//! let store = Store::open_existing("./venomqa-store")?;
//! for session in store.sessions()? {
//!     println!("{} {} exchanges", session.key, session.exchanges);
//! }
//! for exchange in store.exchanges() {
//!     let exchange = exchange?;
//!     println!("{} {}", exchange.request.method, exchange.request.url);
//! }
//! # Ok(()) }
//! ```
//!
//! One idea a file: this one opens a store and repairs what a hard kill
//! left; `layout.rs` is the on-disk format (trees, keys, values) and the
//! only code that touches sled's trees; `block.rs` the block a value holds;
//! `read.rs` the iterators; `recording.rs` the public handle of a
//! recording and [`Store::append`]; `writer.rs` the thread that writes,
//! with `merge.rs` for imports whose ids fall among stored ones.
//!
//! sled locks the directory, so one process opens a store at a time; a second
//! opener gets [`Error::InUse`] (after waiting up to a second, because sled
//! lets go of its lock a moment after the last handle is dropped).
//!
//! Before sled opens a store, the checks it does not make itself run
//! (`preflight`): a read-only store is refused saying why (sled writes even
//! to read), so is a damaged `conf`, an incomplete snapshot an interrupted
//! open left is removed (`sled_files.rs`), and an open without room for
//! the snapshot it writes is refused (`space.rs`). A new store is private
//! to its owner (`permissions.rs`).
//!
//! Disk trouble: sled 0.34 cannot write again after a failed write, and
//! its flushes (the one in its `Drop` too) may then wait forever. So the
//! writer keeps sled off a full disk (`space.rs`), a store that saw an I/O
//! error is marked failed, and a failed store's sled handles are leaked
//! rather than dropped: exiting the process is then like a kill, which
//! sled recovers from (see Durability).
//!
//! Durability: sled writes to its log buffer as we go and writes and
//! flushes it every [`FLUSH_EVERY_MS`] ms (or when it fills);
//! [`Store::flush`] and `Recording::finish` flush at once. A hard kill
//! (SIGKILL, power loss) therefore loses at most the exchanges written in
//! the last flush interval (plus whatever was still queued for the writer,
//! which lets a small batch gather for 3 ms); sled recovers a consistent
//! prefix of the rest, and the open after it indexes what the index missed.

mod batch;
mod block;
mod flusher;
mod health;
mod layout;
mod merge;
mod options;
mod permissions;
mod preflight;
mod read;
mod read_copy;
mod recording;
mod sled_files;
mod space;
mod stored;
mod writer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::is_lock_held;
use crate::{Error, ExchangeId, Redactor, Result};
use layout::{Layout, GROUP_EXCHANGES};
use read_copy::ReadCopy;

pub use health::StoreTrouble;
pub use layout::{FORMAT_VERSION, OLDEST_FORMAT_VERSION};
pub use options::RecordOptions;
pub use read::{Exchanges, SessionExchanges, SessionSummary};
pub use recording::{RecordSummary, Recording, DEFAULT_FINISH_DEADLINE};
pub use space::{MIN_FREE_BYTES, RESUME_MARGIN};
pub use stored::StoredExchanges;

/// How often sled flushes on its own: the most a hard kill can lose.
pub const FLUSH_EVERY_MS: u64 = 500;

/// How long an open waits for sled's lock before reporting the store in use.
pub(super) const LOCK_WAIT: Duration = Duration::from_secs(1);

/// sled's page cache; its 1 GiB default is too greedy next to a proxy.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Session index entries the writer holds back (see `GROUP_EXCHANGES`):
/// session → ids, every one in a block already written.
type Held = HashMap<String, Vec<ExchangeId>>;

/// An open traffic store; cheap to clone, usable from many threads.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// Always there but in `drop`, which leaks it when the store failed.
    layout: Option<Layout>,
    /// The copy a read-only store is read from, removed after `layout`
    /// lets go of it.
    copy: Option<ReadCopy>,
    /// Set while a `Recording` owns the writer, so there is only one.
    recording: AtomicBool,
    held: Mutex<Held>,
}

impl Drop for Inner {
    /// Drops sled's handles, which flushes: unless the store failed, when
    /// that flush may wait forever (see the module's doc). Their memory
    /// and sled's threads then go with the process.
    fn drop(&mut self) {
        if let Some(layout) = self.layout.take() {
            if layout.failed() {
                tracing::debug!(dir = %layout.dir().display(), "leaving a failed store unflushed");
                std::mem::forget(layout);
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir()).finish_non_exhaustive()
    }
}

/// Sizes of a store, cheap to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Exchanges stored, from a counter (no scan).
    pub exchanges: u64,
    /// Distinct sessions, from a counter (no scan).
    pub sessions: u64,
    /// What sled occupies on disk, log and snapshots included.
    pub bytes_on_disk: u64,
}

impl Store {
    /// Opens the store at `dir`, creating it (and the directory) if
    /// missing; a new store is private to its owner (0700, files 0600).
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        let dir = dir.as_ref();
        let creating = !is_sled_dir(dir);
        if creating {
            if has_entries(dir)? {
                return Err(Error::ForeignDirectory { dir: dir.to_path_buf() });
            }
            permissions::create_private_dir(dir)?;
        } else {
            permissions::warn_if_shared(dir);
        }
        preflight::check(dir)?;
        let store = Store::open_sled(dir, true)?;
        // sled made its files with the umask's modes.
        if creating {
            permissions::make_private(dir, true)?;
        } else {
            permissions::keep_private(dir);
        }
        Ok(store)
    }

    /// Opens the store at `dir`, refusing to create one: for readers.
    pub fn open_existing(dir: impl AsRef<Path>) -> Result<Store> {
        let dir = dir.as_ref();
        if !is_sled_dir(dir) {
            return Err(Error::NotAStore { dir: dir.to_path_buf() });
        }
        permissions::warn_if_shared(dir);
        let opened = preflight::check(dir).and_then(|()| Store::open_sled(dir, false));
        let store = match opened {
            Err(Error::ReadOnly { reason, .. }) => return Store::open_copy(dir, &reason),
            opened => opened?,
        };
        // The snapshot sled wrote has the umask's mode.
        permissions::keep_private(dir);
        Ok(store)
    }

    /// Opens a private copy of the store at `dir`, which cannot be written
    /// (`why`); the copy goes when the store does.
    fn open_copy(dir: &Path, why: &str) -> Result<Store> {
        let copy = ReadCopy::make(dir).map_err(|e| Error::ReadOnly {
            dir: dir.to_path_buf(),
            reason: format!("{why}, and a copy to read could not be made: {e}"),
        })?;
        tracing::warn!(
            "the store at {} cannot be written ({why}): reading a copy of it in {}",
            dir.display(),
            copy.path().display()
        );
        preflight::check(copy.path())?;
        let mut store = Store::open_sled(copy.path(), false)?;
        let inner = Arc::get_mut(&mut store.inner).expect("a store just opened has one handle");
        inner.copy = Some(copy);
        Ok(store)
    }

    fn open_sled(dir: &Path, create: bool) -> Result<Store> {
        let db = match lock_sled(dir) {
            Ok(db) => db,
            Err(e) => {
                // An open cut short by a full disk may have left an
                // incomplete snapshot: the next open must not find it.
                if e.is_io() {
                    let _ = preflight::remove_broken_snapshots(dir);
                }
                return Err(e);
            }
        };
        let layout = Layout::open(db, dir, create)?;
        let store = Store {
            inner: Arc::new(Inner {
                layout: Some(layout),
                copy: None,
                recording: AtomicBool::new(false),
                held: Mutex::new(HashMap::new()),
            }),
        };
        store.recover()?;
        Ok(store)
    }

    /// Finishes what a hard kill cut short: the writer sets `dirty_from` to
    /// the first block of a group before writing it and clears it once the
    /// group's index entries are written, so a marker left behind means the
    /// blocks from that key on are not indexed (or not certainly). A marker
    /// of 0 says a batch rewrote blocks already indexed (an import of ids
    /// among older ones): then the whole index is rebuilt.
    fn recover(&self) -> Result<()> {
        let Some(from) = self.layout().dirty_from()? else { return Ok(()) };
        tracing::warn!(dir = %self.dir().display(), "store was not closed cleanly; repairing its session index");
        if from == 0 {
            return self.rebuild_index();
        }
        // One group, as the writer would have written it: if it did, the
        // same entries are written again.
        self.index_blocks(from, usize::MAX)?;
        self.recount()
    }

    /// Rebuilds the session index and the counters from the exchanges: the
    /// repair for a store whose index no longer matches (reads everything).
    pub fn rebuild_index(&self) -> Result<()> {
        self.layout().clear_index()?;
        self.index_blocks(0, GROUP_EXCHANGES)?;
        self.recount()
    }

    /// Indexes the blocks keyed from `from` on in groups of about `group`
    /// exchanges, reading the session of each record from its head.
    fn index_blocks(&self, from: ExchangeId, group: usize) -> Result<()> {
        let layout = self.layout();
        let mut ids: Held = HashMap::new();
        let mut in_group = 0;
        for item in layout.blocks_in(from, ExchangeId::MAX) {
            let (key, value) = layout.stored_block(item)?;
            let block = layout.parse_block(key, &value)?;
            for i in 0..block.len() {
                let session = layout.head(block, i)?.session;
                match ids.get_mut(session) {
                    Some(list) => list.push(block.id(i)),
                    None => {
                        ids.insert(session.to_string(), vec![block.id(i)]);
                    }
                }
            }
            in_group += block.len();
            if in_group >= group {
                layout.write_index_group(&std::mem::take(&mut ids))?;
                in_group = 0;
            }
        }
        layout.write_index_group(&ids)
    }

    /// Counts exchanges and sessions from the index and stores the counts.
    fn recount(&self) -> Result<()> {
        let mut exchanges = 0u64;
        let mut sessions = 0u64;
        let mut previous: Option<Vec<u8>> = None;
        for entry in self.layout().index_entries() {
            let entry = entry?;
            if previous.as_ref() != Some(&entry.session) {
                sessions += 1;
                previous = Some(entry.session);
            }
            exchanges += entry.ids.len() as u64;
        }
        self.layout().put_counts_clean(exchanges, sessions)?;
        self.flush()
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        self.layout().dir()
    }

    /// The redactor keyed for this store, so callers can compare a known
    /// secret (a test user's password) with what was recorded.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.layout().redaction_key())
    }

    /// Counts kept up to date by the writer, and the size on disk.
    pub fn stats(&self) -> Result<Stats> {
        let (exchanges, sessions) = self.layout().counts()?;
        Ok(Stats { exchanges, sessions, bytes_on_disk: self.layout().size_on_disk()? })
    }

    /// Writes everything to disk now rather than at sled's next timer tick.
    pub fn flush(&self) -> Result<()> {
        self.layout().flush()
    }

    fn layout(&self) -> &Layout {
        self.inner.layout.as_ref().expect("the layout is taken only when the store is dropped")
    }

    /// Whether the store saw a write fail (or a flush not finish in time):
    /// it is not written again in this process.
    pub fn failed(&self) -> bool {
        self.layout().failed()
    }

    /// The entries the writer holds back, for readers (poisoning ignored:
    /// the map is only ever added to or cleared).
    fn held(&self) -> MutexGuard<'_, Held> {
        self.inner.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the one writer's place; false if a recording holds it.
    fn claim_writer(&self) -> bool {
        !self.inner.recording.swap(true, Ordering::AcqRel)
    }

    /// Gives the writer's place back.
    fn release_writer(&self) {
        self.inner.recording.store(false, Ordering::Release);
    }
}

/// Opens the sled directory, waiting out a lock that sled is still
/// letting go of.
fn lock_sled(dir: &Path) -> Result<sled::Db> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        .flush_every_ms(Some(FLUSH_EVERY_MS));
    // sled releases its lock file asynchronously: for a moment after the
    // last handle of a store is dropped, reopening it (in this process
    // or right after another one exits) still finds it locked (sled
    // issues #1234, #1289). So wait a little before calling it in use.
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(e) if is_lock_held(&e) && started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(preflight::explain_open_error(dir, e)),
        }
    }
}

/// sled keeps its configuration in `conf` and its log in `db`.
fn is_sled_dir(dir: &Path) -> bool {
    dir.join("conf").is_file() || dir.join("db").is_file()
}

fn has_entries(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(dir, e)),
    }
}
