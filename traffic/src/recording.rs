//! Recording: the one writer that owns a store while traffic is captured.
//!
//! ```no_run
//! use venomqa_traffic::{RecordOptions, Store};
//! # fn main() -> venomqa_traffic::Result<()> {
//! let store = Store::open("./venomqa-store")?;
//! let recording = store.record(RecordOptions::default())?;
//! let sender = recording.sender(); // hand clones to the proxy's connections
//! # drop(sender);
//! // ... traffic flows; `sender.capture(exchange)` never blocks ...
//! let summary = recording.finish()?; // drains the queue, writes, flushes
//! println!("{} exchanges in {} sessions", summary.exchanges_written, summary.sessions_touched);
//! # Ok(()) }
//! ```
//!
//! The writer is one plain thread, not a task: sled's calls block, and one
//! writer makes id assignment and the sessionizer's state single-threaded.
//! It takes up to [`BATCH_MAX`] queued exchanges at a time (waiting a few
//! milliseconds for more when only a few are queued) and, per exchange,
//! assigns the session, redacts, assigns the id and encodes into one
//! buffer; then it writes the batch as blocks (see `Store`), session state
//! and counters. Session index entries are gathered over a group of
//! batches (a second, or [`GROUP_EXCHANGES`]) and written as one entry per
//! session: `dirty_from` marks the group's first block before it is
//! written and is cleared once the group's entries are, so a hard kill
//! leaves the marker and the next open indexes the group. Meanwhile the
//! held entries are in the store's memory, where `session_exchanges` reads
//! them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::block::{encode_into, BlockBuilder};
use crate::session::KeyState;
use crate::store::{
    decode_u64, encode_ids, index_key, BLOCK_MAX_EXCHANGES, BLOCK_TARGET_BYTES, GROUP_EXCHANGES,
    GROUP_MILLIS, META_DIRTY, META_EXCHANGES, META_SESSIONS,
};
use crate::{
    capture_channel, CaptureReceiver, CaptureSender, Error, Exchange, ExchangeId, Received,
    Redactor, Result, SessionKey, SessionRules, Store, DEFAULT_CAPTURE_QUEUE, DEFAULT_IDLE_GAP,
};

/// Most exchanges written in one sled batch: large enough to amortise a
/// batch, small enough that a batch never holds much memory.
pub const BATCH_MAX: usize = 512;

/// How long the idle writer waits before looking at the stop flag again; it
/// bounds how long `finish` waits on a quiet channel.
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// The writer keeps its encoding buffers between batches up to this size.
const KEEP_BYTES: usize = 4 * 1024 * 1024;

/// How long the writer lets a batch that is not full gather more exchanges
/// before writing it. Each batch has a fixed cost (a wake-up, a few sled
/// writes), so batches of a handful cost several times more per exchange
/// than full ones; this makes them bigger at the price of a few
/// milliseconds more that a hard kill can lose (with the flush interval of
/// `FLUSH_EVERY_MS` this is small).
const GATHER: Duration = Duration::from_millis(3);

/// How a recording groups and protects what it writes.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// How exchanges are grouped into sessions (`--session-by`).
    pub session_rules: SessionRules,
    /// Quiet time after which a key starts a new session (`--idle-gap`).
    pub idle_gap: Duration,
    /// Replace secrets by pseudonyms before writing (off: `--keep-secrets`).
    pub redact: bool,
    /// Exchanges that may wait for the writer before captures are dropped.
    pub queue: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            session_rules: SessionRules::default(),
            idle_gap: DEFAULT_IDLE_GAP,
            redact: true,
            queue: DEFAULT_CAPTURE_QUEUE,
        }
    }
}

/// What a finished recording did, for the summary `record` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordSummary {
    /// Exchanges this recording added to the store.
    pub exchanges_written: u64,
    /// Distinct sessions that received at least one exchange.
    pub sessions_touched: u64,
    /// Captures refused because the queue was full or the writer had stopped.
    pub captures_dropped: u64,
}

/// A running writer; dropping it without `finish` also stops and flushes,
/// but swallows errors (they are logged).
pub struct Recording {
    store: Store,
    sender: CaptureSender,
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    writer: Option<JoinHandle<Result<u64>>>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").field("store", &self.store.dir()).finish_non_exhaustive()
    }
}

impl Store {
    /// Starts the writer; only one recording of a store runs at a time.
    pub fn record(&self, options: RecordOptions) -> Result<Recording> {
        if self.inner.recording.swap(true, Ordering::AcqRel) {
            return Err(Error::AlreadyRecording { dir: self.dir().to_path_buf() });
        }
        let started = self.start_writer(options);
        if started.is_err() {
            self.inner.recording.store(false, Ordering::Release);
        }
        started
    }

    fn start_writer(&self, options: RecordOptions) -> Result<Recording> {
        let queue = options.queue.max(1);
        let (sender, rx) = capture_channel(queue);
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        // A writer of this store that failed earlier may have left a group
        // unindexed (and held): index it as an open would.
        self.recover()?;
        self.held().clear();
        let last_id = self.last_id()?;
        let writer = Writer {
            store: self.clone(),
            rx,
            queue,
            // Half the queue at most, so that the wait cannot fill it.
            gather_below: BATCH_MAX.min(queue / 2),
            stop: stop.clone(),
            written: written.clone(),
            rules: options.session_rules,
            gap_ns: u64::try_from(options.idle_gap.as_nanos()).unwrap_or(u64::MAX),
            redactor: options.redact.then(|| self.redactor()),
            last_id,
            key_states: HashMap::new(),
            dirty_states: HashSet::new(),
            records: Vec::new(),
            pending: Vec::with_capacity(BATCH_MAX),
            builder: BlockBuilder::default(),
            group_from: None,
            group_started: Instant::now(),
            group_count: 0,
            known_sessions: HashSet::new(),
            touched: HashSet::new(),
            exchange_count: self.meta_u64(META_EXCHANGES)?.unwrap_or(0),
            session_count: self.meta_u64(META_SESSIONS)?.unwrap_or(0),
        };
        let handle = std::thread::Builder::new()
            .name("venomqa-store-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| Error::io(self.dir(), e))?;
        Ok(Recording { store: self.clone(), sender, stop, written, writer: Some(handle) })
    }
}

impl Recording {
    /// A handle for one capturing connection or task.
    pub fn sender(&self) -> CaptureSender {
        self.sender.clone()
    }

    /// Exchanges written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Captures dropped so far.
    pub fn dropped(&self) -> u64 {
        self.sender.dropped()
    }

    /// Stops the writer once it has written everything already queued, then
    /// flushes the store. Captures sent after this are dropped and counted.
    pub fn finish(mut self) -> Result<RecordSummary> {
        let sessions_touched = self.stop_writer()?;
        Ok(RecordSummary {
            exchanges_written: self.written(),
            sessions_touched,
            captures_dropped: self.sender.dropped(),
        })
    }

    fn stop_writer(&mut self) -> Result<u64> {
        self.stop.store(true, Ordering::Release);
        let Some(handle) = self.writer.take() else { return Ok(0) };
        handle.join().map_err(|_| Error::WriterPanicked { dir: self.store.dir().to_path_buf() })?
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Err(e) = self.stop_writer() {
            tracing::error!("recording stopped with an error: {e}");
        }
    }
}

/// Clears the store's "recording" flag however the writer ends.
struct RecordingFlag(Store);

impl Drop for RecordingFlag {
    fn drop(&mut self) {
        self.0.inner.recording.store(false, Ordering::Release);
    }
}

/// An exchange of the current batch, encoded at `records[start..end]`.
struct Pending {
    id: ExchangeId,
    session: String,
    start: usize,
    end: usize,
}

struct Writer {
    store: Store,
    rx: CaptureReceiver,
    queue: usize,
    /// A batch smaller than this waits [`GATHER`] for more.
    gather_below: usize,
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    rules: SessionRules,
    gap_ns: u64,
    redactor: Option<Redactor>,
    /// The highest id in the store: new ids are above it.
    last_id: u64,
    /// Cache of the `session_state` tree.
    key_states: HashMap<String, KeyState>,
    /// Base keys whose state the current batch changed.
    dirty_states: HashSet<String>,
    /// The current batch's records, encoded one after another.
    records: Vec<u8>,
    /// The current batch's exchanges, in arrival order.
    pending: Vec<Pending>,
    builder: BlockBuilder,
    /// The first block of the index group being gathered (the ids are in
    /// the store's `held` map until the group is written).
    group_from: Option<ExchangeId>,
    group_started: Instant,
    group_count: usize,
    /// Sessions known to have index entries (to count new ones).
    known_sessions: HashSet<String>,
    touched: HashSet<String>,
    exchange_count: u64,
    session_count: u64,
}

impl Writer {
    /// Loops until asked to stop (or every sender is gone), then drains what
    /// is queued and flushes. Returns the number of sessions touched.
    fn run(mut self) -> Result<u64> {
        let _flag = RecordingFlag(self.store.clone());
        let mut batch = Vec::with_capacity(BATCH_MAX);
        loop {
            match self.rx.recv_timeout(IDLE_WAIT) {
                Received::Exchange(exchange) => {
                    batch.push(exchange);
                    self.take_queued(&mut batch);
                    // Traffic that trickles in would make a batch (and a
                    // block) of every exchange; a short wait lets more
                    // gather first, for a fraction of the flush interval.
                    if batch.len() < self.gather_below && !self.stop.load(Ordering::Acquire) {
                        std::thread::sleep(GATHER);
                        self.take_queued(&mut batch);
                    }
                    self.write(&mut batch)?;
                    // Checked here too: under steady traffic there is no idle.
                    if self.stop.load(Ordering::Acquire) {
                        break;
                    }
                }
                Received::Idle if self.stop.load(Ordering::Acquire) => break,
                Received::Idle => self.write_group()?,
                Received::Closed => break,
            }
        }
        // What was queued when the stop came is at most a queue's worth;
        // stopping there keeps senders that go on sending from holding us.
        let mut left = self.queue;
        loop {
            while batch.len() < BATCH_MAX && left > 0 {
                match self.rx.try_recv() {
                    Some(exchange) => batch.push(exchange),
                    None => break,
                }
                left -= 1;
            }
            if batch.is_empty() {
                break;
            }
            self.write(&mut batch)?;
        }
        self.write_group()?;
        self.store.flush()?;
        Ok(self.touched.len() as u64)
    }

    /// Moves what is already queued into `batch`, up to [`BATCH_MAX`].
    fn take_queued(&self, batch: &mut Vec<Exchange>) {
        while batch.len() < BATCH_MAX {
            match self.rx.try_recv() {
                Some(exchange) => batch.push(exchange),
                None => break,
            }
        }
    }

    /// Prepares and writes one batch, emptying `batch`.
    fn write(&mut self, batch: &mut Vec<Exchange>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let count = batch.len() as u64;
        let previous_last = self.last_id;
        self.records.clear();
        if self.records.capacity() > KEEP_BYTES {
            // A burst of large bodies must not stay allocated for the
            // whole recording.
            self.records.shrink_to(KEEP_BYTES);
        }
        self.pending.clear();
        for mut exchange in batch.drain(..) {
            if exchange.session.0.is_empty() {
                let base = self.rules.base_key(&exchange, self.redactor.as_ref());
                let state =
                    KeyState::advance(self.key_state(&base)?, exchange.started_at, self.gap_ns);
                exchange.session = SessionKey(state.key(&base));
                if !self.dirty_states.contains(&base) {
                    self.dirty_states.insert(base.clone());
                }
                self.key_states.insert(base, state);
            }
            if exchange.session.0.contains('\0') {
                // The index separates key from id with 0x00.
                exchange.session.0 = exchange.session.0.replace('\0', "\u{fffd}");
            }
            if let Some(redactor) = &self.redactor {
                redactor.redact_exchange(&mut exchange);
            }
            exchange.id = self.assign_id(&exchange)?;
            let start = self.records.len();
            encode_into(&exchange, &mut self.records).map_err(|e| {
                self.store.corrupt(format!("exchange {} could not be encoded: {e}", exchange.id))
            })?;
            let session = std::mem::take(&mut exchange.session.0);
            self.pending.push(Pending { id: exchange.id, session, start, end: self.records.len() });
        }
        let appends = self.pending[0].id > previous_last
            && self.pending.windows(2).all(|w| w[0].id < w[1].id);
        // Plain inserts where nothing needs them together: sled's
        // `apply_batch` writes out its log buffer before and after the
        // batch (a write and a hand-off to its I/O threads each time), which
        // cost as much as the inserts. sled recovers a prefix of what was
        // written, so a batch's blocks cut short are a smaller batch.
        let mut appended = Vec::new();
        let mut blocks = sled::Batch::default();
        let mut index = sled::Batch::default();
        if appends {
            appended = self.append_blocks()?;
        } else {
            // Its entries go among the stored ones: write the group first.
            self.write_group()?;
            self.merge_blocks(&mut blocks)?;
            self.merge_index(&mut index)?;
        }
        let mut new_sessions = 0;
        for i in 0..self.pending.len() {
            let session = &self.pending[i].session;
            if !self.touched.contains(session) {
                self.touched.insert(session.clone());
            }
            if !self.known_sessions.contains(session) {
                let session = session.clone();
                if self.is_new_session(&session)? {
                    new_sessions += 1;
                }
            }
        }
        let inner = self.store.inner.clone();
        let sled_err = |e| self.store.sled_err(e);
        if appends {
            if self.group_from.is_none() {
                // From here on, until the group is written, the blocks are
                // not (certainly) indexed.
                let from = self.pending[0].id;
                inner.meta.insert(META_DIRTY, &from.to_be_bytes()).map_err(sled_err)?;
                self.group_from = Some(from);
                self.group_started = Instant::now();
            }
            for (key, value) in appended {
                inner.blocks.insert(key, value).map_err(sled_err)?;
            }
            // Readers in this process find the new exchanges here.
            let mut held = self.store.held();
            for p in &self.pending {
                match held.get_mut(p.session.as_str()) {
                    Some(ids) => ids.push(p.id),
                    None => {
                        held.insert(p.session.clone(), vec![p.id]);
                    }
                }
            }
            drop(held);
            self.group_count += self.pending.len();
        } else {
            // 0: the next open rebuilds the whole index. A rewritten block
            // and the parts it was split into go together.
            inner.meta.insert(META_DIRTY, &0u64.to_be_bytes()).map_err(sled_err)?;
            inner.blocks.apply_batch(blocks).map_err(sled_err)?;
            inner.index.apply_batch(index).map_err(sled_err)?;
        }
        for base in self.dirty_states.drain() {
            if let Some(state) = self.key_states.get(&base) {
                inner.session_state.insert(base.as_bytes(), &state.encode()).map_err(sled_err)?;
            }
        }
        self.exchange_count += count;
        self.session_count += new_sessions;
        // Left behind by a kill, counters are recounted: they can only be
        // behind while a marker is set.
        let meta = &inner.meta;
        meta.insert(META_EXCHANGES, &self.exchange_count.to_be_bytes()).map_err(sled_err)?;
        meta.insert(META_SESSIONS, &self.session_count.to_be_bytes()).map_err(sled_err)?;
        if !appends {
            meta.remove(META_DIRTY).map_err(sled_err)?;
        }
        self.written.fetch_add(count, Ordering::Relaxed);
        if self.group_count >= GROUP_EXCHANGES
            || self.group_started.elapsed() >= Duration::from_millis(GROUP_MILLIS)
        {
            self.write_group()?;
        }
        Ok(())
    }

    /// Writes the index entries held back for the current group, then
    /// clears the marker: the blocks are indexed.
    fn write_group(&mut self) -> Result<()> {
        if self.group_from.is_none() {
            return Ok(());
        }
        // The writer alone adds to the map: what is copied is what is
        // cleared. Readers see the entries held until they are in the tree.
        let held = self.store.held().clone();
        self.store.write_index_group(&held)?;
        let inner = &self.store.inner;
        inner.meta.remove(META_DIRTY).map_err(|e| self.store.sled_err(e))?;
        self.store.held().clear();
        self.group_from = None;
        self.group_count = 0;
        Ok(())
    }

    /// The usual case: the batch's ids increase and follow every stored
    /// one, so its exchanges become new blocks after the last.
    fn append_blocks(&mut self) -> Result<Vec<([u8; 8], sled::IVec)>> {
        let mut blocks = Vec::new();
        let mut from = 0;
        while from < self.pending.len() {
            let mut to = from;
            while to < self.pending.len() {
                let p = &self.pending[to];
                self.builder.push_encoded(p.id, &self.records[p.start..p.end]).map_err(|_| {
                    self.store.corrupt(format!("exchange {} is too large to store", p.id))
                })?;
                to += 1;
                if self.builder.len() >= BLOCK_MAX_EXCHANGES
                    || self.builder.bytes() >= BLOCK_TARGET_BYTES
                {
                    break;
                }
            }
            blocks.push(self.builder.finish().expect("a block of at least one"));
            from = to;
        }
        Ok(blocks)
    }

    /// The rare case of an import whose ids fall among stored ones: each
    /// exchange joins the stored block whose id range holds it (the block
    /// is rewritten, split if it grows too large) or, in a gap between
    /// blocks, new blocks there; so blocks never overlap.
    fn merge_blocks(&mut self, blocks: &mut sled::Batch) -> Result<()> {
        self.pending.sort_by_key(|p| p.id);
        let store = self.store.clone();
        let sled_err = |e| store.sled_err(e);
        let mut from = 0;
        while from < self.pending.len() {
            let id = self.pending[from].id;
            let holder = match store.block_at(id)? {
                Some((key, value)) => {
                    let last = store.parse_block(key, &value)?.last_id();
                    (last >= id).then_some((key, value, last))
                }
                None => None,
            };
            // Every record that goes into the same place, old and new.
            let mut entries: Vec<(ExchangeId, &[u8])> = Vec::new();
            let to;
            let mut first_key = None;
            match &holder {
                Some((key, value, last)) => {
                    let block = store.parse_block(*key, value)?;
                    for i in 0..block.len() {
                        let record = block
                            .record(i)
                            .ok_or_else(|| store.corrupt(format!("directory of block {key}")))?;
                        entries.push((block.id(i), record));
                    }
                    to = from + self.pending[from..].partition_point(|p| p.id <= *last);
                    first_key = Some(*key);
                }
                None => {
                    let next = match store.inner.blocks.range((id + 1).to_be_bytes()..).next() {
                        Some(item) => decode_u64(&item.map_err(sled_err)?.0),
                        None => None,
                    };
                    to = from
                        + self.pending[from..]
                            .partition_point(|p| !matches!(next, Some(next) if p.id >= next));
                }
            }
            for p in &self.pending[from..to] {
                entries.push((p.id, &self.records[p.start..p.end]));
            }
            entries.sort_by_key(|&(id, _)| id);
            if entries.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(store.corrupt(format!("exchange id {id} assigned twice")));
            }
            let mut at = 0;
            while at < entries.len() {
                let start = at;
                while at < entries.len() {
                    let (id, record) = entries[at];
                    self.builder.push_encoded(id, record).map_err(|_| {
                        store.corrupt(format!("exchange {id} is too large to store"))
                    })?;
                    at += 1;
                    if self.builder.len() >= BLOCK_MAX_EXCHANGES
                        || self.builder.bytes() >= BLOCK_TARGET_BYTES
                    {
                        break;
                    }
                }
                let (key, value) = self.builder.finish().expect("a block of at least one");
                // The first part of a rewritten block keeps its key.
                debug_assert!(start > 0 || !matches!(first_key, Some(k) if k.to_be_bytes() != key));
                blocks.insert(&key, value);
            }
            from = to;
        }
        Ok(())
    }

    /// Adds the ids of an import among stored ones to their sessions'
    /// index entries: each id joins the entry at or before it (so entries
    /// stay apart and in order), or starts one before the session's first.
    /// `pending` is in id order.
    fn merge_index(&self, index: &mut sled::Batch) -> Result<()> {
        let mut by_session: BTreeMap<&str, Vec<ExchangeId>> = BTreeMap::new();
        for p in &self.pending {
            by_session.entry(p.session.as_str()).or_default().push(p.id);
        }
        let sled_err = |e| self.store.sled_err(e);
        for (session, ids) in by_session {
            // The session's entries this batch changes: first id → ids.
            let mut changed: BTreeMap<ExchangeId, Vec<ExchangeId>> = BTreeMap::new();
            for id in ids {
                let stored = match self
                    .store
                    .inner
                    .index
                    .range(index_key(session, 0)..=index_key(session, id))
                    .next_back()
                {
                    Some(item) => {
                        let (key, value) = item.map_err(sled_err)?;
                        let first = decode_u64(&key[key.len() - 8..])
                            .ok_or_else(|| self.store.corrupt("session index key"))?;
                        Some((first, value))
                    }
                    None => None,
                };
                let held = changed.range(..=id).next_back().map(|(&first, _)| first);
                let entry = match (stored, held) {
                    (Some((first, value)), held) if !matches!(held, Some(h) if h >= first) => {
                        let ids = value
                            .chunks_exact(8)
                            .map(|b| u64::from_le_bytes(b.try_into().expect("8")))
                            .collect();
                        changed.insert(first, ids);
                        Some(first)
                    }
                    (_, held) => held,
                };
                match entry {
                    Some(first) => {
                        let ids = changed.get_mut(&first).expect("just found");
                        let at = ids.partition_point(|&other| other < id);
                        ids.insert(at, id);
                    }
                    None => {
                        changed.insert(id, vec![id]);
                    }
                }
            }
            for (first, ids) in changed {
                index.insert(index_key(session, first), encode_ids(ids.into_iter()));
            }
        }
        Ok(())
    }

    /// Keeps an id the exchange brings (an import) when it is still free;
    /// otherwise `max(started_at, last id + 1)`: unique and time-ordered.
    fn assign_id(&mut self, exchange: &Exchange) -> Result<u64> {
        let wanted = exchange.id;
        // Above every id stored or given out, an id is free.
        let free = wanted != 0
            && (wanted > self.last_id
                || (!self.pending.iter().any(|p| p.id == wanted)
                    && !self.store.contains(wanted)?));
        let id =
            if free { wanted } else { exchange.started_at.max(self.last_id.saturating_add(1)) };
        self.last_id = self.last_id.max(id);
        Ok(id)
    }

    fn key_state(&mut self, base: &str) -> Result<Option<KeyState>> {
        if let Some(state) = self.key_states.get(base) {
            return Ok(Some(*state));
        }
        let stored = self
            .store
            .inner
            .session_state
            .get(base.as_bytes())
            .map_err(|e| self.store.sled_err(e))?;
        Ok(stored.and_then(|bytes| KeyState::decode(&bytes)))
    }

    /// Whether `session` gets its first exchange now (for the counter).
    fn is_new_session(&mut self, session: &str) -> Result<bool> {
        if self.known_sessions.contains(session) {
            return Ok(false);
        }
        let mut prefix = session.as_bytes().to_vec();
        prefix.push(0);
        let exists = match self.store.inner.index.scan_prefix(prefix).next() {
            Some(Err(e)) => return Err(self.store.sled_err(e)),
            Some(Ok(_)) => true,
            None => false,
        };
        self.known_sessions.insert(session.to_string());
        Ok(!exists)
    }
}
