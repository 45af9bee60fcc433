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
//! Layout, one sled tree a concern (format version 2):
//! - `blocks`: exchanges in blocks, a block a run of exchanges with
//!   increasing ids (at most [`BLOCK_MAX_EXCHANGES`], closed once past
//!   [`BLOCK_TARGET_BYTES`]; one large exchange is a block of its own),
//!   keyed by its first id (big-endian u64); the value holds the
//!   postcard-encoded [`Exchange`]s and a directory of their ids (see
//!   `block.rs`). Blocks never overlap: a block's last id is below the next
//!   block's key, so blocks in key order are exchanges in id order;
//! - `session_index`: session key bytes, `0x00`, first id (big-endian) →
//!   the ids (u64 LE each, increasing) of that session's exchanges in one
//!   group of blocks (see [`GROUP_EXCHANGES`]); a session's entries never
//!   overlap, so its ids come out of them in order;
//! - `session_state`: base session key → last seen (u64 BE) and generation
//!   (u32 BE), so that a new recording continues sessions and idle gaps;
//! - `meta`: `format_version` (u32 BE), `redaction_key` (32 random bytes made
//!   at creation), `exchange_count` and `session_count` (u64 BE), and
//!   `dirty_from` (u64 BE): the first block not certainly indexed, while
//!   a group's index entries are not written (0 while an import among
//!   stored ids rewrites blocks: the next open then rebuilds the index).
//!
//! One sled value per block rather than per exchange makes writing several
//! times cheaper: sled's cost is per insert (a log reservation, a copy of
//! the node, epoch garbage). For the same reason the session index gets
//! one entry per session and group of blocks: the writer holds a group's
//! entries back for up to [`GROUP_MILLIS`] ms or [`GROUP_EXCHANGES`]
//! exchanges, readers in the process see them meanwhile, and a hard kill
//! leaves the marker that has the next open index the group again. The
//! writer uses plain inserts rather than `sled::Batch`es where nothing
//! needs writing together: sled writes its log buffer out before and after
//! every batch. `cargo bench -p venomqa-traffic --bench store` measures it.
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::block::Block;
use crate::error::is_lock_held;
use crate::{Error, Exchange, ExchangeId, Redactor, Result, SessionKey};

/// The on-disk format this code reads and writes: 2 keeps exchanges in
/// blocks (1 kept one sled value per exchange).
pub const FORMAT_VERSION: u32 = 2;

/// Most exchanges in one block.
pub const BLOCK_MAX_EXCHANGES: usize = 256;

/// A block is closed once its records pass this many bytes.
pub const BLOCK_TARGET_BYTES: usize = 64 * 1024;

/// At most this many exchanges are in a group of the session index.
pub const GROUP_EXCHANGES: usize = 8192;

/// A group of the session index is written at least this often (ms)
/// while a recording runs, and when the writer is idle.
pub const GROUP_MILLIS: u64 = 1000;

/// How often sled flushes on its own: the most a hard kill can lose.
pub const FLUSH_EVERY_MS: u64 = 500;

/// How long an open waits for sled's lock before reporting the store in use.
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// sled's page cache; its 1 GiB default is too greedy next to a proxy.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

pub(crate) const TREE_BLOCKS: &str = "blocks";
pub(crate) const TREE_INDEX: &str = "session_index";
pub(crate) const TREE_SESSION_STATE: &str = "session_state";
pub(crate) const TREE_META: &str = "meta";
pub(crate) const META_VERSION: &[u8] = b"format_version";
pub(crate) const META_KEY: &[u8] = b"redaction_key";
pub(crate) const META_EXCHANGES: &[u8] = b"exchange_count";
pub(crate) const META_SESSIONS: &[u8] = b"session_count";
pub(crate) const META_DIRTY: &[u8] = b"dirty_from";

/// An open traffic store; cheap to clone, usable from many threads.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub db: sled::Db,
    pub blocks: sled::Tree,
    pub index: sled::Tree,
    pub session_state: sled::Tree,
    pub meta: sled::Tree,
    pub redaction_key: [u8; 32],
    /// Set while a `Recording` owns the writer, so there is only one.
    pub recording: AtomicBool,
    /// Session index entries the writer holds back (see `GROUP_EXCHANGES`):
    /// session → ids, every one in a block already written.
    pub held: Mutex<HashMap<String, Vec<ExchangeId>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

/// One session as `venomqa sessions` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The session, as `show` and `export --session` take it.
    pub key: SessionKey,
    /// How many exchanges it holds.
    pub exchanges: u64,
    /// `started_at` (unix ns) of its first exchange.
    pub first: u64,
    /// `started_at` (unix ns) of its last exchange.
    pub last: u64,
    /// Distinct `METHOD /path` (no query), sorted.
    pub endpoints: Vec<String>,
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
        let sled_err = |e| Error::sled(dir, e);
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
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(e) if is_lock_held(&e) && started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(e) => return Err(sled_err(e)),
            }
        };
        let meta = db.open_tree(TREE_META).map_err(sled_err)?;
        let version = match meta.get(META_VERSION).map_err(sled_err)? {
            Some(v) => decode_u32(&v).ok_or_else(|| Error::corrupt(dir, "format version"))?,
            // A fresh sled directory (or one whose creation was cut short
            // before anything was recorded) becomes a store.
            None if create && holds_nothing(&db).map_err(sled_err)? => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                let mut batch = sled::Batch::default();
                batch.insert(META_VERSION, &FORMAT_VERSION.to_be_bytes());
                batch.insert(META_KEY, &key);
                batch.insert(META_EXCHANGES, &0u64.to_be_bytes());
                batch.insert(META_SESSIONS, &0u64.to_be_bytes());
                meta.apply_batch(batch).map_err(sled_err)?;
                db.flush().map_err(sled_err)?;
                FORMAT_VERSION
            }
            None => return Err(Error::NotAStore { dir: dir.to_path_buf() }),
        };
        if version != FORMAT_VERSION {
            return Err(Error::Version {
                dir: dir.to_path_buf(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        // Opened only now: opening a tree creates it, and a store of another
        // version is left as it was.
        let blocks = db.open_tree(TREE_BLOCKS).map_err(sled_err)?;
        let redaction_key = meta
            .get(META_KEY)
            .map_err(sled_err)?
            .and_then(|k| <[u8; 32]>::try_from(k.as_ref()).ok())
            .ok_or_else(|| Error::corrupt(dir, "redaction key"))?;
        let store = Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                blocks,
                index: db.open_tree(TREE_INDEX).map_err(sled_err)?,
                session_state: db.open_tree(TREE_SESSION_STATE).map_err(sled_err)?,
                meta,
                db,
                redaction_key,
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
    pub(crate) fn recover(&self) -> Result<()> {
        let Some(from) = self.meta_u64(META_DIRTY)? else { return Ok(()) };
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
        self.inner.index.clear().map_err(|e| self.sled_err(e))?;
        self.index_blocks(0, GROUP_EXCHANGES)?;
        self.recount()
    }

    /// Indexes the blocks keyed from `from` on in groups of about `group`
    /// exchanges, reading the session of each record from its head.
    fn index_blocks(&self, from: ExchangeId, group: usize) -> Result<()> {
        let mut ids: HashMap<String, Vec<ExchangeId>> = HashMap::new();
        let mut in_group = 0;
        for item in self.inner.blocks.range(from.to_be_bytes()..) {
            let (key, value) = item.map_err(|e| self.sled_err(e))?;
            let key = decode_u64(&key).ok_or_else(|| self.corrupt("block key"))?;
            let block = self.parse_block(key, &value)?;
            for i in 0..block.len() {
                let session = self.head(block, i)?.session;
                match ids.get_mut(session) {
                    Some(list) => list.push(block.id(i)),
                    None => {
                        ids.insert(session.to_string(), vec![block.id(i)]);
                    }
                }
            }
            in_group += block.len();
            if in_group >= group {
                self.write_index_group(&std::mem::take(&mut ids))?;
                in_group = 0;
            }
        }
        self.write_index_group(&ids)
    }

    /// Writes one group's index entries: per session, its ids (increasing)
    /// keyed by the first.
    pub(crate) fn write_index_group(&self, ids: &HashMap<String, Vec<ExchangeId>>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (session, ids) in ids {
            if let Some(&first) = ids.first() {
                batch.insert(index_key(session, first), encode_ids(ids.iter().copied()));
            }
        }
        self.inner.index.apply_batch(batch).map_err(|e| self.sled_err(e))
    }

    /// The entries the writer holds back, for readers (poisoning ignored:
    /// the map is only ever added to or cleared).
    pub(crate) fn held(&self) -> MutexGuard<'_, HashMap<String, Vec<ExchangeId>>> {
        self.inner.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts exchanges and sessions from the index and stores the counts.
    fn recount(&self) -> Result<()> {
        let mut exchanges = 0u64;
        let mut sessions = 0u64;
        let mut previous: Option<Vec<u8>> = None;
        for item in self.inner.index.iter() {
            let (key, ids) = item.map_err(|e| self.sled_err(e))?;
            let session =
                session_of_index_key(&key).ok_or_else(|| self.corrupt("session index key"))?;
            if previous.as_deref() != Some(session) {
                sessions += 1;
                previous = Some(session.to_vec());
            }
            exchanges += (ids.len() / 8) as u64;
        }
        let mut batch = sled::Batch::default();
        batch.insert(META_EXCHANGES, &exchanges.to_be_bytes());
        batch.insert(META_SESSIONS, &sessions.to_be_bytes());
        batch.remove(META_DIRTY);
        self.inner.meta.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        self.flush()
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The redactor keyed for this store, so callers can compare a known
    /// secret (a test user's password) with what was recorded.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(&self.inner.redaction_key)
    }

    /// Every exchange in id (= time) order, read lazily.
    pub fn exchanges(&self) -> Exchanges {
        self.exchanges_in(0..=ExchangeId::MAX)
    }

    /// The exchanges whose ids lie in `range`, in id order.
    pub fn exchanges_in(&self, range: RangeInclusive<ExchangeId>) -> Exchanges {
        let (start, end) = range.into_inner();
        // The block holding `start` is keyed at or before it.
        let from = match self.block_at(start) {
            Ok(Some((key, _))) => key,
            Ok(None) => start,
            Err(e) => return Exchanges::failed(self.clone(), e),
        };
        let blocks =
            (start <= end).then(|| self.inner.blocks.range(from.to_be_bytes()..=end.to_be_bytes()));
        Exchanges {
            blocks,
            front: Cursor::default(),
            back: Cursor::default(),
            start,
            end,
            failed: None,
            store: self.clone(),
        }
    }

    /// The exchanges of one session, in id order.
    pub fn session_exchanges(&self, session: &SessionKey) -> SessionExchanges {
        // Taken before the tree is read: entries the writer moves to the
        // tree meanwhile are then read twice at worst, and skipped.
        let held = self.held().get(session.as_str()).cloned().unwrap_or_default();
        let mut prefix = session.as_str().as_bytes().to_vec();
        prefix.push(0);
        SessionExchanges {
            entries: Some(self.inner.index.scan_prefix(prefix)),
            held: Some(held),
            ids: Vec::new(),
            next: 0,
            last: None,
            block: None,
            store: self.clone(),
        }
    }

    /// One exchange by id.
    pub fn get(&self, id: ExchangeId) -> Result<Option<Exchange>> {
        let Some((key, value)) = self.block_at(id)? else { return Ok(None) };
        let block = self.parse_block(key, &value)?;
        match block.find(id) {
            Some(i) => self.decode_at(block, i).map(Some),
            None => Ok(None),
        }
    }

    /// Whether an exchange with this id is stored.
    pub(crate) fn contains(&self, id: ExchangeId) -> Result<bool> {
        let Some((key, value)) = self.block_at(id)? else { return Ok(false) };
        Ok(self.parse_block(key, &value)?.find(id).is_some())
    }

    /// The block that holds `id` if any does: the last one keyed at or
    /// before it.
    pub(crate) fn block_at(&self, id: ExchangeId) -> Result<Option<(ExchangeId, sled::IVec)>> {
        match self.inner.blocks.range(..=id.to_be_bytes()).next_back() {
            Some(Ok((key, value))) => {
                let key = decode_u64(&key).ok_or_else(|| self.corrupt("block key"))?;
                Ok(Some((key, value)))
            }
            Some(Err(e)) => Err(self.sled_err(e)),
            None => Ok(None),
        }
    }

    /// The highest id stored (0 for an empty store).
    pub(crate) fn last_id(&self) -> Result<ExchangeId> {
        match self.inner.blocks.last().map_err(|e| self.sled_err(e))? {
            Some((key, value)) => {
                let key = decode_u64(&key).ok_or_else(|| self.corrupt("block key"))?;
                Ok(self.parse_block(key, &value)?.last_id())
            }
            None => Ok(0),
        }
    }

    /// One summary a session, ordered by first exchange. Reads every
    /// exchange once but keeps only the summaries in memory; decodes only
    /// the head of each record (not headers and bodies).
    pub fn sessions(&self) -> Result<Vec<SessionSummary>> {
        struct Acc {
            exchanges: u64,
            first: u64,
            last: u64,
            endpoints: BTreeSet<String>,
        }
        let mut sessions: BTreeMap<String, Acc> = BTreeMap::new();
        let mut endpoint = String::new();
        for item in self.inner.blocks.iter() {
            let (key, value) = item.map_err(|e| self.sled_err(e))?;
            let key = decode_u64(&key).ok_or_else(|| self.corrupt("block key"))?;
            let block = self.parse_block(key, &value)?;
            for i in 0..block.len() {
                let head = self.head(block, i)?;
                endpoint.clear();
                endpoint.push_str(head.method);
                endpoint.push(' ');
                endpoint.push_str(path_of(head.url));
                if !sessions.contains_key(head.session) {
                    let acc = Acc {
                        exchanges: 0,
                        first: head.started_at,
                        last: head.started_at,
                        endpoints: BTreeSet::new(),
                    };
                    sessions.insert(head.session.to_string(), acc);
                }
                let Some(acc) = sessions.get_mut(head.session) else { continue };
                acc.exchanges += 1;
                acc.first = acc.first.min(head.started_at);
                acc.last = acc.last.max(head.started_at);
                if !acc.endpoints.contains(&endpoint) {
                    acc.endpoints.insert(endpoint.clone());
                }
            }
        }
        let mut out: Vec<SessionSummary> = sessions
            .into_iter()
            .map(|(key, acc)| SessionSummary {
                key: SessionKey(key),
                exchanges: acc.exchanges,
                first: acc.first,
                last: acc.last,
                endpoints: acc.endpoints.into_iter().collect(),
            })
            .collect();
        out.sort_by(|a, b| (a.first, &a.key).cmp(&(b.first, &b.key)));
        Ok(out)
    }

    /// Counts kept up to date by the writer, and the size on disk.
    pub fn stats(&self) -> Result<Stats> {
        Ok(Stats {
            exchanges: self.meta_u64(META_EXCHANGES)?.unwrap_or(0),
            sessions: self.meta_u64(META_SESSIONS)?.unwrap_or(0),
            bytes_on_disk: self.inner.db.size_on_disk().map_err(|e| self.sled_err(e))?,
        })
    }

    /// Writes everything to disk now rather than at sled's next timer tick.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush().map(|_| ()).map_err(|e| self.sled_err(e))
    }

    pub(crate) fn meta_u64(&self, key: &[u8]) -> Result<Option<u64>> {
        match self.inner.meta.get(key).map_err(|e| self.sled_err(e))? {
            Some(v) => {
                decode_u64(&v).map(Some).ok_or_else(|| self.corrupt(String::from_utf8_lossy(key)))
            }
            None => Ok(None),
        }
    }

    pub(crate) fn parse_block<'a>(&self, key: ExchangeId, value: &'a [u8]) -> Result<Block<'a>> {
        Block::parse(value).ok_or_else(|| self.corrupt(format!("block {key}")))
    }

    fn record_bytes<'a>(&self, block: Block<'a>, i: usize) -> Result<&'a [u8]> {
        block
            .record(i)
            .ok_or_else(|| self.corrupt(format!("directory of block {}", block.first_id())))
    }

    /// The head of record `i` of `block`, borrowed from it.
    pub(crate) fn head<'a>(&self, block: Block<'a>, i: usize) -> Result<ExchangeHead<'a>> {
        let bytes = self.record_bytes(block, i)?;
        postcard::take_from_bytes(bytes)
            .map(|(head, _)| head)
            .map_err(|e| self.corrupt(format!("exchange {}: {e}", block.id(i))))
    }

    /// Decodes record `i` of `block`, checking that it is the exchange the
    /// directory names.
    pub(crate) fn decode_at(&self, block: Block<'_>, i: usize) -> Result<Exchange> {
        let id = block.id(i);
        let exchange: Exchange = postcard::from_bytes(self.record_bytes(block, i)?)
            .map_err(|e| self.corrupt(format!("exchange {id}: {e}")))?;
        if exchange.id != id {
            return Err(self.corrupt(format!(
                "block {} names {id} but holds {}",
                block.first_id(),
                exchange.id
            )));
        }
        Ok(exchange)
    }

    pub(crate) fn sled_err(&self, e: sled::Error) -> Error {
        Error::sled(&self.inner.dir, e)
    }

    pub(crate) fn corrupt(&self, what: impl Into<String>) -> Error {
        Error::corrupt(&self.inner.dir, what)
    }
}

/// The leading fields of an encoded [`Exchange`]. postcard writes a struct
/// as its fields one after another, so the head of a record decodes alone,
/// borrowing its strings; `head_decodes_like_the_whole_exchange` (tests)
/// keeps this in step with `Exchange`.
#[derive(Deserialize)]
pub(crate) struct ExchangeHead<'a> {
    #[allow(dead_code)]
    pub id: u64,
    pub session: &'a str,
    pub started_at: u64,
    #[allow(dead_code)]
    pub duration_ns: u64,
    #[allow(dead_code)]
    pub client: Option<&'a str>,
    pub method: &'a str,
    pub url: &'a str,
}

/// Entries `next..end` of one block, not read yet.
#[derive(Default)]
struct Cursor {
    block: Option<sled::IVec>,
    key: ExchangeId,
    next: usize,
    end: usize,
}

impl Cursor {
    /// The entries of a block read from the tree that lie in `start..=end`.
    fn new(store: &Store, key: &[u8], value: sled::IVec, start: u64, end: u64) -> Result<Cursor> {
        let key = decode_u64(key).ok_or_else(|| store.corrupt("block key"))?;
        let block = store.parse_block(key, &value)?;
        let next = block.lower_bound(start);
        let stop = end.checked_add(1).map_or(block.len(), |after| block.lower_bound(after));
        Ok(Cursor { key, next, end: stop.max(next), block: Some(value) })
    }

    fn is_empty(&self) -> bool {
        self.next >= self.end
    }

    fn take_front(&mut self, store: &Store) -> Option<Result<Exchange>> {
        if self.is_empty() {
            return None;
        }
        self.next += 1;
        Some(self.decode(store, self.next - 1))
    }

    fn take_back(&mut self, store: &Store) -> Option<Result<Exchange>> {
        if self.is_empty() {
            return None;
        }
        self.end -= 1;
        Some(self.decode(store, self.end))
    }

    fn decode(&self, store: &Store, i: usize) -> Result<Exchange> {
        let value = self.block.as_ref().expect("a cursor with entries has a block");
        store.decode_at(store.parse_block(self.key, value)?, i)
    }
}

/// Exchanges read lazily from a store, in id order (or reversed): one
/// block in memory at each end.
pub struct Exchanges {
    /// `None` once an error ended the iteration, or for an empty range.
    blocks: Option<sled::Iter>,
    front: Cursor,
    back: Cursor,
    start: ExchangeId,
    end: ExchangeId,
    /// An error found before the first block, reported once.
    failed: Option<Error>,
    store: Store,
}

impl Exchanges {
    fn failed(store: Store, error: Error) -> Exchanges {
        Exchanges {
            blocks: None,
            front: Cursor::default(),
            back: Cursor::default(),
            start: 0,
            end: 0,
            failed: Some(error),
            store,
        }
    }

    fn cursor(&self, item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Cursor> {
        let (key, value) = item.map_err(|e| self.store.sled_err(e))?;
        Cursor::new(&self.store, &key, value, self.start, self.end)
    }
}

impl Iterator for Exchanges {
    type Item = Result<Exchange>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        loop {
            if let Some(item) = self.front.take_front(&self.store) {
                return Some(item);
            }
            match self.blocks.as_mut()?.next() {
                Some(item) => match self.cursor(item) {
                    Ok(cursor) => self.front = cursor,
                    Err(e) => {
                        self.blocks = None;
                        return Some(Err(e));
                    }
                },
                // The blocks met: what is left is in the back's block.
                None => return self.back.take_front(&self.store),
            }
        }
    }
}

impl DoubleEndedIterator for Exchanges {
    fn next_back(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        loop {
            if let Some(item) = self.back.take_back(&self.store) {
                return Some(item);
            }
            match self.blocks.as_mut()?.next_back() {
                Some(item) => match self.cursor(item) {
                    Ok(cursor) => self.back = cursor,
                    Err(e) => {
                        self.blocks = None;
                        return Some(Err(e));
                    }
                },
                None => return self.front.take_back(&self.store),
            }
        }
    }
}

/// The exchanges of one session, read lazily through the session index
/// (then through the entries the writer still holds back): a block is read
/// for each run of the session's ids it holds, and only those are decoded.
pub struct SessionExchanges {
    /// `None` once read to the end, or after an error.
    entries: Option<sled::Iter>,
    /// Read after the entries.
    held: Option<Vec<ExchangeId>>,
    /// The ids of the current entry, `next` the one to read.
    ids: Vec<ExchangeId>,
    next: usize,
    /// The last id returned: ids only increase, so one seen again (an entry
    /// both held and written) is skipped.
    last: Option<ExchangeId>,
    /// The block read last, with its key.
    block: Option<(ExchangeId, sled::IVec)>,
    store: Store,
}

impl SessionExchanges {
    /// Moves to the next index entry, or to the held ids after the last;
    /// false at the end of the session.
    fn next_entry(&mut self) -> Result<bool> {
        let item = match self.entries.as_mut().and_then(Iterator::next) {
            Some(item) => item,
            None => {
                self.entries = None;
                let Some(held) = self.held.take() else { return Ok(false) };
                self.ids = held;
                self.next = 0;
                return Ok(true);
            }
        };
        let (_, ids) = item.map_err(|e| self.store.sled_err(e))?;
        if ids.len() % 8 != 0 {
            return Err(self.store.corrupt("session index entry"));
        }
        self.ids.clear();
        self.ids
            .extend(ids.chunks_exact(8).map(|id| u64::from_le_bytes(id.try_into().expect("8"))));
        self.next = 0;
        Ok(true)
    }

    fn read(&mut self, id: ExchangeId) -> Result<Exchange> {
        let cached = match &self.block {
            Some((key, value)) => {
                let block = self.store.parse_block(*key, value)?;
                (block.last_id() >= id && *key <= id).then_some(())
            }
            None => None,
        };
        if cached.is_none() {
            self.block = self.store.block_at(id)?;
        }
        let missing = || self.store.corrupt(format!("session index names missing exchange {id}"));
        let Some((key, value)) = &self.block else { return Err(missing()) };
        let block = self.store.parse_block(*key, value)?;
        match block.find(id) {
            Some(i) => self.store.decode_at(block, i),
            None => Err(missing()),
        }
    }
}

impl Iterator for SessionExchanges {
    type Item = Result<Exchange>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            while self.next >= self.ids.len() {
                match self.next_entry() {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => {
                        // Report once, then end.
                        self.ids.clear();
                        self.entries = None;
                        self.held = None;
                        return Some(Err(e));
                    }
                }
            }
            let id = self.ids[self.next];
            self.next += 1;
            if self.last.is_some_and(|last| last >= id) {
                continue;
            }
            self.last = Some(id);
            return Some(self.read(id));
        }
    }
}

/// The path of a url without its query: the rule of `Request::path`, on a
/// borrowed url.
fn path_of(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(scheme_end) => {
            let after = &url[scheme_end + 3..];
            after.find('/').map_or("/", |slash| &after[slash..])
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// `session 0x00 id` — the key of a session index entry, by its first id.
pub(crate) fn index_key(session: &str, first: ExchangeId) -> Vec<u8> {
    let mut key = Vec::with_capacity(session.len() + 9);
    key.extend_from_slice(session.as_bytes());
    key.push(0);
    key.extend_from_slice(&first.to_be_bytes());
    key
}

/// The value of a session index entry: the ids, u64 LE each.
pub(crate) fn encode_ids(ids: impl Iterator<Item = ExchangeId>) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.size_hint().0 * 8);
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

fn session_of_index_key(key: &[u8]) -> Option<&[u8]> {
    key.len().checked_sub(9).filter(|&at| key[at] == 0).map(|at| &key[..at])
}

pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn decode_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Whether every tree of a sled directory is empty (nothing was recorded).
fn holds_nothing(db: &sled::Db) -> sled::Result<bool> {
    if !db.is_empty() {
        return Ok(false);
    }
    for name in db.tree_names() {
        if !db.open_tree(name)?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Headers, Request, Response};

    #[test]
    fn head_decodes_like_the_whole_exchange() {
        let exchange = Exchange {
            id: 1_704_067_200_000_000_007,
            session: SessionKey("x-session:s-1".into()),
            started_at: 1_704_067_200_000_000_000,
            duration_ns: 1234,
            client: Some("127.0.0.1:40000".into()),
            request: Request {
                method: "PATCH".into(),
                url: "/orders/7?x=1".into(),
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::complete("{}"),
            },
            response: Some(Response {
                status: 200,
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::default(),
            }),
            error: None,
        };
        let bytes = postcard::to_stdvec(&exchange).unwrap();
        let (head, _): (ExchangeHead<'_>, _) = postcard::take_from_bytes(&bytes).unwrap();
        assert_eq!(head.id, exchange.id);
        assert_eq!(head.session, exchange.session.as_str());
        assert_eq!(head.started_at, exchange.started_at);
        assert_eq!(head.duration_ns, exchange.duration_ns);
        assert_eq!(head.client, exchange.client.as_deref());
        assert_eq!(head.method, exchange.request.method);
        assert_eq!(head.url, exchange.request.url);
    }

    #[test]
    fn path_of_follows_request_path() {
        for url in ["/a/b?c#d", "http://h:1/x?y", "http://h", "/p#f", "relative"] {
            let request = Request {
                method: "GET".into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::default(),
            };
            assert_eq!(path_of(url), request.path(), "{url}");
        }
    }
}
