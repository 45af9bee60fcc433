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
//! It takes up to [`BATCH_MAX`] queued exchanges at a time and, per exchange,
//! assigns the session, redacts, assigns the id and encodes; then it writes
//! the batch as: `dirty_from` marker, exchanges, session index, session
//! state, counters (clearing the marker). A hard kill between those writes
//! leaves the marker, and the next open repairs the index (see `Store`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::session::KeyState;
use crate::store::{index_key, META_DIRTY, META_EXCHANGES, META_SESSIONS};
use crate::{
    capture_channel, CaptureReceiver, CaptureSender, Error, Exchange, Received, Redactor, Result,
    SessionKey, SessionRules, Store, DEFAULT_CAPTURE_QUEUE, DEFAULT_IDLE_GAP,
};

/// Most exchanges written in one sled batch: large enough to amortise a
/// batch, small enough that a batch never holds much memory.
pub const BATCH_MAX: usize = 512;

/// How long the idle writer waits before looking at the stop flag again; it
/// bounds how long `finish` waits on a quiet channel.
const IDLE_WAIT: Duration = Duration::from_millis(50);

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
        let last_id = match self.inner.exchanges.last().map_err(|e| self.sled_err(e))? {
            Some((key, _)) => {
                crate::store::decode_u64(&key).ok_or_else(|| self.corrupt("exchange id"))?
            }
            None => 0,
        };
        let writer = Writer {
            store: self.clone(),
            rx,
            queue,
            stop: stop.clone(),
            written: written.clone(),
            rules: options.session_rules,
            gap_ns: u64::try_from(options.idle_gap.as_nanos()).unwrap_or(u64::MAX),
            redactor: options.redact.then(|| self.redactor()),
            last_id,
            key_states: HashMap::new(),
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

struct Writer {
    store: Store,
    rx: CaptureReceiver,
    queue: usize,
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    rules: SessionRules,
    gap_ns: u64,
    redactor: Option<Redactor>,
    /// The highest id in the store: new ids are above it.
    last_id: u64,
    /// Cache of the `session_state` tree.
    key_states: HashMap<String, KeyState>,
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
                    while batch.len() < BATCH_MAX {
                        match self.rx.try_recv() {
                            Some(exchange) => batch.push(exchange),
                            None => break,
                        }
                    }
                    self.write(&mut batch)?;
                    // Checked here too: under steady traffic there is no idle.
                    if self.stop.load(Ordering::Acquire) {
                        break;
                    }
                }
                Received::Idle if self.stop.load(Ordering::Acquire) => break,
                Received::Idle => {}
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
        self.store.flush()?;
        Ok(self.touched.len() as u64)
    }

    /// Prepares and writes one batch, emptying `batch`.
    fn write(&mut self, batch: &mut Vec<Exchange>) -> Result<()> {
        let inner = self.store.inner.clone();
        let mut exchanges = sled::Batch::default();
        let mut index = sled::Batch::default();
        let mut states = sled::Batch::default();
        let mut ids = HashSet::with_capacity(batch.len());
        let mut first_id = u64::MAX;
        let mut new_sessions = 0;
        let count = batch.len() as u64;
        for mut exchange in batch.drain(..) {
            if exchange.session.0.is_empty() {
                let base = self.rules.base_key(&exchange, self.redactor.as_ref());
                let state =
                    KeyState::advance(self.key_state(&base)?, exchange.started_at, self.gap_ns);
                exchange.session = SessionKey(state.key(&base));
                states.insert(base.as_bytes(), &state.encode());
                self.key_states.insert(base, state);
            }
            if exchange.session.0.contains('\0') {
                // The index separates key from id with 0x00.
                exchange.session.0 = exchange.session.0.replace('\0', "\u{fffd}");
            }
            if let Some(redactor) = &self.redactor {
                redactor.redact_exchange(&mut exchange);
            }
            exchange.id = self.assign_id(&exchange, &mut ids)?;
            first_id = first_id.min(exchange.id);
            let bytes = postcard::to_stdvec(&exchange).map_err(|e| {
                self.store.corrupt(format!("exchange {} could not be encoded: {e}", exchange.id))
            })?;
            exchanges.insert(&exchange.id.to_be_bytes(), bytes);
            index.insert(index_key(exchange.session.as_str(), exchange.id), &[]);
            if self.is_new_session(exchange.session.as_str())? {
                new_sessions += 1;
            }
            if !self.touched.contains(exchange.session.as_str()) {
                self.touched.insert(exchange.session.0);
            }
        }
        if count == 0 {
            return Ok(());
        }
        let sled_err = |e| self.store.sled_err(e);
        inner.meta.insert(META_DIRTY, &first_id.to_be_bytes()).map_err(sled_err)?;
        inner.exchanges.apply_batch(exchanges).map_err(sled_err)?;
        inner.index.apply_batch(index).map_err(sled_err)?;
        inner.session_state.apply_batch(states).map_err(sled_err)?;
        self.exchange_count += count;
        self.session_count += new_sessions;
        let mut meta = sled::Batch::default();
        meta.insert(META_EXCHANGES, &self.exchange_count.to_be_bytes());
        meta.insert(META_SESSIONS, &self.session_count.to_be_bytes());
        meta.remove(META_DIRTY);
        inner.meta.apply_batch(meta).map_err(sled_err)?;
        self.written.fetch_add(count, Ordering::Relaxed);
        Ok(())
    }

    /// Keeps an id the exchange brings (an import) when it is still free;
    /// otherwise `max(started_at, last id + 1)`: unique and time-ordered.
    fn assign_id(&mut self, exchange: &Exchange, ids: &mut HashSet<u64>) -> Result<u64> {
        let wanted = exchange.id;
        let free = wanted != 0
            && !ids.contains(&wanted)
            && !self
                .store
                .inner
                .exchanges
                .contains_key(wanted.to_be_bytes())
                .map_err(|e| self.store.sled_err(e))?;
        let id =
            if free { wanted } else { exchange.started_at.max(self.last_id.saturating_add(1)) };
        self.last_id = self.last_id.max(id);
        ids.insert(id);
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
