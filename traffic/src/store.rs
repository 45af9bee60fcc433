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
//! Layout, one sled tree a concern (format version 1):
//! - `exchanges`: id (big-endian u64) → postcard-encoded [`Exchange`];
//! - `session_index`: session key bytes, `0x00`, id (big-endian) → empty;
//! - `session_state`: base session key → last seen (u64 BE) and generation
//!   (u32 BE), so that a new recording continues sessions and idle gaps;
//! - `meta`: `format_version` (u32 BE), `redaction_key` (32 random bytes made
//!   at creation), `exchange_count` and `session_count` (u64 BE), and
//!   `dirty_from` (u64 BE) while a batch is between its writes.
//!
//! sled locks the directory, so one process opens a store at a time; a second
//! opener gets [`Error::InUse`] (after waiting up to a second, because sled
//! lets go of its lock a moment after the last handle is dropped).
//!
//! Durability: sled writes to its log as we go and flushes it every
//! [`FLUSH_EVERY_MS`] ms; [`Store::flush`] and `Recording::finish` flush at
//! once. A hard kill (SIGKILL, power loss) therefore loses at most the
//! exchanges written in the last flush interval (plus whatever was still
//! queued for the writer); sled recovers a consistent prefix of the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::is_lock_held;
use crate::{Error, Exchange, ExchangeId, Redactor, Result, SessionKey};

/// The on-disk format this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// How often sled flushes on its own: the most a hard kill can lose.
pub const FLUSH_EVERY_MS: u64 = 500;

/// How long an open waits for sled's lock before reporting the store in use.
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// sled's page cache; its 1 GiB default is too greedy next to a proxy.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

pub(crate) const TREE_EXCHANGES: &str = "exchanges";
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
    pub exchanges: sled::Tree,
    pub index: sled::Tree,
    pub session_state: sled::Tree,
    pub meta: sled::Tree,
    pub redaction_key: [u8; 32],
    /// Set while a `Recording` owns the writer, so there is only one.
    pub recording: AtomicBool,
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
        let exchanges = db.open_tree(TREE_EXCHANGES).map_err(sled_err)?;
        let meta = db.open_tree(TREE_META).map_err(sled_err)?;
        let version = match meta.get(META_VERSION).map_err(sled_err)? {
            Some(v) => decode_u32(&v).ok_or_else(|| Error::corrupt(dir, "format version"))?,
            // A fresh sled directory (or one whose creation was cut short
            // before anything was recorded) becomes a store.
            None if create && exchanges.is_empty() => {
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
        let redaction_key = meta
            .get(META_KEY)
            .map_err(sled_err)?
            .and_then(|k| <[u8; 32]>::try_from(k.as_ref()).ok())
            .ok_or_else(|| Error::corrupt(dir, "redaction key"))?;
        let store = Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                exchanges,
                index: db.open_tree(TREE_INDEX).map_err(sled_err)?,
                session_state: db.open_tree(TREE_SESSION_STATE).map_err(sled_err)?,
                meta,
                db,
                redaction_key,
                recording: AtomicBool::new(false),
            }),
        };
        store.recover()?;
        Ok(store)
    }

    /// Finishes a batch cut short by a hard kill between its writes: the
    /// writer marks `dirty_from` before writing exchanges and clears it with
    /// the counters after the index, so a marker left behind means the index
    /// and counters may miss the exchanges from there on.
    fn recover(&self) -> Result<()> {
        let Some(from) = self.meta_u64(META_DIRTY)? else { return Ok(()) };
        tracing::warn!(dir = %self.dir().display(), "store was not closed cleanly; repairing its session index");
        for item in self.inner.exchanges.range(from.to_be_bytes()..) {
            let (key, value) = item.map_err(|e| self.sled_err(e))?;
            let id = decode_u64(&key).ok_or_else(|| self.corrupt("exchange id"))?;
            let exchange = self.decode(id, &value)?;
            self.inner
                .index
                .insert(index_key(exchange.session.as_str(), id), &[])
                .map_err(|e| self.sled_err(e))?;
        }
        self.recount()
    }

    /// Rebuilds the session index and the counters from the exchanges: the
    /// repair for a store whose index no longer matches (reads everything).
    pub fn rebuild_index(&self) -> Result<()> {
        self.inner.index.clear().map_err(|e| self.sled_err(e))?;
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for exchange in self.exchanges() {
            let exchange = exchange?;
            batch.insert(index_key(exchange.session.as_str(), exchange.id), &[]);
            pending += 1;
            if pending == 4096 {
                let full = std::mem::take(&mut batch);
                self.inner.index.apply_batch(full).map_err(|e| self.sled_err(e))?;
                pending = 0;
            }
        }
        self.inner.index.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        self.recount()
    }

    /// Counts exchanges and sessions from the trees and stores the counts.
    fn recount(&self) -> Result<()> {
        let exchanges = self.inner.exchanges.len() as u64;
        let mut sessions = 0u64;
        let mut previous: Option<Vec<u8>> = None;
        for key in self.inner.index.iter().keys() {
            let key = key.map_err(|e| self.sled_err(e))?;
            let session =
                session_of_index_key(&key).ok_or_else(|| self.corrupt("session index key"))?;
            if previous.as_deref() != Some(session) {
                sessions += 1;
                previous = Some(session.to_vec());
            }
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
        Exchanges { iter: self.inner.exchanges.iter(), store: self.clone() }
    }

    /// The exchanges whose ids lie in `range`, in id order.
    pub fn exchanges_in(&self, range: RangeInclusive<ExchangeId>) -> Exchanges {
        let (start, end) = range.into_inner();
        let iter = self.inner.exchanges.range(start.to_be_bytes()..=end.to_be_bytes());
        Exchanges { iter, store: self.clone() }
    }

    /// The exchanges of one session, in id order.
    pub fn session_exchanges(&self, session: &SessionKey) -> SessionExchanges {
        let mut prefix = session.as_str().as_bytes().to_vec();
        prefix.push(0);
        SessionExchanges { keys: self.inner.index.scan_prefix(prefix), store: self.clone() }
    }

    /// One exchange by id.
    pub fn get(&self, id: ExchangeId) -> Result<Option<Exchange>> {
        match self.inner.exchanges.get(id.to_be_bytes()).map_err(|e| self.sled_err(e))? {
            Some(bytes) => self.decode(id, &bytes).map(Some),
            None => Ok(None),
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
        for item in self.inner.exchanges.iter() {
            let (key, value) = item.map_err(|e| self.sled_err(e))?;
            let head: ExchangeHead<'_> =
                postcard::take_from_bytes(&value).map(|(head, _)| head).map_err(|e| {
                    self.corrupt(format!("exchange {}: {e}", decode_u64(&key).unwrap_or(0)))
                })?;
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

    pub(crate) fn decode(&self, id: ExchangeId, bytes: &[u8]) -> Result<Exchange> {
        postcard::from_bytes(bytes).map_err(|e| self.corrupt(format!("exchange {id}: {e}")))
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
struct ExchangeHead<'a> {
    #[allow(dead_code)]
    id: u64,
    session: &'a str,
    started_at: u64,
    #[allow(dead_code)]
    duration_ns: u64,
    #[allow(dead_code)]
    client: Option<&'a str>,
    method: &'a str,
    url: &'a str,
}

/// Exchanges read lazily from a store, in id order (or reversed).
pub struct Exchanges {
    iter: sled::Iter,
    store: Store,
}

impl Exchanges {
    fn decode_item(&self, item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Exchange> {
        let (key, value) = item.map_err(|e| self.store.sled_err(e))?;
        let id = decode_u64(&key).ok_or_else(|| self.store.corrupt("exchange id"))?;
        self.store.decode(id, &value)
    }
}

impl Iterator for Exchanges {
    type Item = Result<Exchange>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.iter.next()?;
        Some(self.decode_item(item))
    }
}

impl DoubleEndedIterator for Exchanges {
    fn next_back(&mut self) -> Option<Self::Item> {
        let item = self.iter.next_back()?;
        Some(self.decode_item(item))
    }
}

/// The exchanges of one session, read lazily through the session index.
pub struct SessionExchanges {
    keys: sled::Iter,
    store: Store,
}

impl Iterator for SessionExchanges {
    type Item = Result<Exchange>;

    fn next(&mut self) -> Option<Self::Item> {
        let key = match self.keys.next()? {
            Ok((key, _)) => key,
            Err(e) => return Some(Err(self.store.sled_err(e))),
        };
        let Some(id) = key.len().checked_sub(8).and_then(|at| decode_u64(&key[at..])) else {
            return Some(Err(self.store.corrupt("session index key")));
        };
        Some(match self.store.get(id) {
            Ok(Some(exchange)) => Ok(exchange),
            Ok(None) => {
                Err(self.store.corrupt(format!("session index names missing exchange {id}")))
            }
            Err(e) => Err(e),
        })
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

/// `session 0x00 id` — the session index key.
pub(crate) fn index_key(session: &str, id: ExchangeId) -> Vec<u8> {
    let mut key = Vec::with_capacity(session.len() + 9);
    key.extend_from_slice(session.as_bytes());
    key.push(0);
    key.extend_from_slice(&id.to_be_bytes());
    key
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
