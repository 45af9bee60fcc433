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
//! Durability: sled writes to its log buffer as we go and writes and
//! flushes it every [`FLUSH_EVERY_MS`] ms (or when it fills);
//! [`Store::flush`] and `Recording::finish` flush at once. A hard kill
//! (SIGKILL, power loss) therefore loses at most the exchanges written in
//! the last flush interval (plus whatever was still queued for the writer,
//! which lets a small batch gather for 3 ms); sled recovers a consistent
//! prefix of the rest, and the open after it indexes what the index missed.

mod batch;
mod block;
mod layout;
mod merge;
mod options;
mod read;
mod recording;
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

pub use layout::FORMAT_VERSION;
pub use options::RecordOptions;
pub use read::{Exchanges, SessionExchanges, SessionSummary};
pub use recording::{RecordSummary, Recording};
pub use stored::StoredExchanges;

/// How often sled flushes on its own: the most a hard kill can lose.
pub const FLUSH_EVERY_MS: u64 = 500;

/// How long an open waits for sled's lock before reporting the store in use.
const LOCK_WAIT: Duration = Duration::from_secs(1);

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
    layout: Layout,
    /// Set while a `Recording` owns the writer, so there is only one.
    recording: AtomicBool,
    held: Mutex<Held>,
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
    /// Opens the store at `dir`, creating it (and the directory) if missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        let dir = dir.as_ref();
        if !is_sled_dir(dir) && has_entries(dir)? {
            return Err(Error::ForeignDirectory { dir: dir.to_path_buf() });
        }
        Store::open_sled(dir, true)
    }

    /// Opens the store at `dir`, refusing to create one: for readers.
    pub fn open_existing(dir: impl AsRef<Path>) -> Result<Store> {
        let dir = dir.as_ref();
        if !is_sled_dir(dir) {
            return Err(Error::NotAStore { dir: dir.to_path_buf() });
        }
        Store::open_sled(dir, false)
    }

    fn open_sled(dir: &Path, create: bool) -> Result<Store> {
        let layout = Layout::open(lock_sled(dir)?, dir, create)?;
        let store = Store {
            inner: Arc::new(Inner {
                layout,
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
        &self.inner.layout
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
            Err(e) => return Err(Error::sled(dir, e)),
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
