//! The writer: the one thread that writes a store while it is recorded.
//!
//! It is a plain thread, not a task: sled's calls block, and one writer
//! makes id assignment and the sessionizer's state single-threaded. It
//! takes up to [`BATCH_MAX`] queued exchanges at a time (waiting a few
//! milliseconds for more when only a few are queued) and, per exchange,
//! assigns the session, redacts, assigns the id and encodes into one
//! buffer; then it writes the batch as blocks (see `layout.rs`), session
//! state and counters. Session index entries are gathered over a group of
//! batches (a second, or [`GROUP_EXCHANGES`]) and written as one entry per
//! session: `dirty_from` marks the group's first block before it is
//! written and is cleared once the group's entries are, so a hard kill
//! leaves the marker and the next open indexes the group. Meanwhile the
//! held entries are in the store's memory, where `session_exchanges` reads
//! them.
//!
//! Disk trouble (live recordings): before writing a batch the writer asks
//! the [`SpaceGuard`] whether the disk has room; without it the batch is
//! dropped and counted, and writing resumes once the disk has room again.
//! A write or flush that fails anyway ends writing for this run (sled
//! cannot write again without reopening): what arrives from then on is
//! dropped and counted. Each is said once in the log, with what to do.
//! Imports (`Store::append`) end with the error instead: nothing of theirs
//! may be dropped. A live recording's writer gives way to the traffic it
//! records while it keeps up (`give_way.rs`). Every [`GROUP_MILLIS`] (with
//! the index group) the writer has the store flushed on another thread
//! (`flusher.rs`), so that the recording knows how many exchanges are
//! confirmed on disk and can say how many may be lost if the end does not
//! come in time.
//!
//! The writer uses plain inserts rather than `sled::Batch`es where nothing
//! needs writing together: sled's `apply_batch` writes out its log buffer
//! before and after the batch (a write and a hand-off to its I/O threads
//! each time), which cost as much as the inserts. sled recovers a prefix
//! of what was written, so a batch's blocks cut short are a smaller batch.
//! `cargo bench -p venomqa-traffic --bench store` measures it.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::batch::{build_blocks, Encoded};
use super::block::BlockBuilder;
use super::flusher::Flusher;
use super::health::{Health, StoreTrouble};
use super::layout::{Layout, GROUP_EXCHANGES, GROUP_MILLIS};
use super::merge;
use super::options::RecordOptions;
use super::space::{self, Room, SpaceGuard, MIN_FREE_BYTES};
use super::Store;
use crate::capture::{CaptureReceiver, Received};
use crate::error::human_bytes;
use crate::session::KeyState;
use crate::{Error, Exchange, ExchangeId, Redactor, Result, SessionKey, SessionRules};

/// Most exchanges written in one sled batch: large enough to amortise a
/// batch, small enough that a batch never holds much memory.
const BATCH_MAX: usize = 512;

/// How long the idle writer waits before looking at the stop flag again; it
/// bounds how long `finish` waits on a quiet channel.
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// How long the writer lets a batch that is not full gather more exchanges
/// before writing it. Each batch has a fixed cost (a wake-up, a few sled
/// writes), so batches of a handful cost several times more per exchange
/// than full ones; this makes them bigger at the price of a few
/// milliseconds more that a hard kill can lose (with the flush interval of
/// `FLUSH_EVERY_MS` this is small).
const GATHER: Duration = Duration::from_millis(3);

/// Clears the store's "recording" flag however the writer ends.
struct RecordingFlag(Store);

impl Drop for RecordingFlag {
    fn drop(&mut self) {
        self.0.release_writer();
    }
}

pub(super) struct Writer {
    store: Store,
    rx: CaptureReceiver,
    queue: usize,
    /// A batch smaller than this waits [`GATHER`] for more.
    gather_below: usize,
    stop: Arc<AtomicBool>,
    health: Arc<Health>,
    /// A live recording drops and counts what the store cannot take; an
    /// import stops with the error.
    live: bool,
    guard: SpaceGuard,
    /// Captures dropped since the guard last paused writing.
    dropped_while_paused: u64,
    /// Whether the guard has paused writing before (the first time says
    /// more).
    paused_before: bool,
    /// Set when a write or flush failed: nothing is written from then on.
    failed: bool,
    flusher: Flusher,
    rules: SessionRules,
    gap_ns: u64,
    redactor: Option<Redactor>,
    /// The highest id in the store: new ids are above it.
    last_id: u64,
    /// Cache of the `session_state` tree.
    key_states: HashMap<String, KeyState>,
    /// Base keys whose state the current batch changed: logged with it.
    dirty_states: HashSet<String>,
    /// Base keys whose state the current index group changed: written to
    /// their own entries with the group, when the log is folded.
    group_states: HashSet<String>,
    /// The sequence number of the next batch's state log entry.
    state_log_seq: u64,
    batch: Encoded,
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
    /// A writer for `store`, taking exchanges from `rx`; `live` for a
    /// recording of live traffic (see the module's doc).
    pub fn new(
        store: &Store,
        rx: CaptureReceiver,
        queue: usize,
        options: &RecordOptions,
        stop: Arc<AtomicBool>,
        health: Arc<Health>,
        live: bool,
    ) -> Result<Writer> {
        let (exchange_count, session_count) = store.layout().counts()?;
        // States logged by a writer that was killed before folding them.
        store.layout().fold_key_state_log()?;
        Ok(Writer {
            store: store.clone(),
            rx,
            queue,
            // Half the queue at most, so that the wait cannot fill it.
            gather_below: BATCH_MAX.min(queue / 2),
            stop,
            live,
            guard: SpaceGuard::new(),
            dropped_while_paused: 0,
            paused_before: false,
            failed: false,
            flusher: Flusher::start(store, health.clone())?,
            health,
            rules: options.session_rules.clone(),
            gap_ns: u64::try_from(options.idle_gap.as_nanos()).unwrap_or(u64::MAX),
            redactor: options.redactor(store),
            last_id: store.layout().last_id()?,
            key_states: HashMap::new(),
            dirty_states: HashSet::new(),
            group_states: HashSet::new(),
            state_log_seq: 0,
            batch: Encoded::with_capacity(BATCH_MAX),
            builder: BlockBuilder::default(),
            group_from: None,
            group_started: Instant::now(),
            group_count: 0,
            known_sessions: HashSet::new(),
            touched: HashSet::new(),
            exchange_count,
            session_count,
        })
    }

    fn layout(&self) -> &Layout {
        self.store.layout()
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Loops until asked to stop (or every sender is gone), then drains what
    /// is queued and flushes. Returns the number of sessions touched; a live
    /// recording's trouble is in its [`Health`] instead of an error.
    pub fn run(mut self) -> Result<u64> {
        let _flag = RecordingFlag(self.store.clone());
        let mut batch = Vec::with_capacity(BATCH_MAX);
        if self.live {
            self.rx.start_giving_way();
        }
        loop {
            match self.rx.recv_timeout(IDLE_WAIT) {
                Received::Exchange(exchange) => {
                    batch.push(exchange);
                    self.take_queued(&mut batch);
                    // Traffic that trickles in would make a batch (and a
                    // block) of every exchange; a short wait lets more
                    // gather first, for a fraction of the flush interval.
                    if batch.len() < self.gather_below && !self.stopping() {
                        std::thread::sleep(GATHER);
                        self.take_queued(&mut batch);
                    }
                    self.write_or_drop(&mut batch)?;
                    self.rx.writer_took();
                    // Checked here too: under steady traffic there is no idle.
                    if self.stopping() {
                        break;
                    }
                }
                Received::Idle if self.stopping() => break,
                Received::Idle => {
                    self.rx.writer_took();
                    self.checkpoint_unless_failed()?;
                }
                Received::Closed => break,
            }
        }
        self.drain(&mut batch)?;
        if !(self.failed || self.store.failed()) {
            if let Err(e) = self.final_checkpoint() {
                self.fail(e, 0)?;
            }
        }
        self.discard_leftovers();
        Ok(self.touched.len() as u64)
    }

    /// Writes `batch` (emptying it) unless the store cannot take it; then
    /// the batch is dropped and counted (live) or the error returned.
    fn write_or_drop(&mut self, batch: &mut Vec<Exchange>) -> Result<()> {
        let count = batch.len() as u64;
        if count == 0 {
            return Ok(());
        }
        if self.failed || self.store.failed() {
            batch.clear();
            self.discard(count, true);
            return Ok(());
        }
        match self.write(batch) {
            Ok(()) => Ok(()),
            Err(e) => {
                batch.clear();
                self.fail(e, count)
            }
        }
    }

    /// Writes the index group and flushes, unless writing has failed; a
    /// failure here ends writing as a failed batch does.
    fn checkpoint_unless_failed(&mut self) -> Result<()> {
        if self.failed || self.store.failed() {
            return Ok(());
        }
        match self.checkpoint() {
            Ok(()) => Ok(()),
            Err(e) => self.fail(e, 0),
        }
    }

    /// Writes the index entries held back and, if anything was written
    /// since the last flush, asks the flusher for one (without waiting: see
    /// `flusher.rs`); an error a flush met is this checkpoint's.
    fn checkpoint(&mut self) -> Result<()> {
        self.write_group()?;
        if let Some(error) = self.flusher.take_error() {
            return Err(error);
        }
        let written = self.health.written();
        if written > self.health.confirmed() {
            self.flusher.request(written);
        }
        Ok(())
    }

    /// The last checkpoint, waiting for its flush: then everything written
    /// is confirmed (or the error says why not).
    fn final_checkpoint(&mut self) -> Result<()> {
        self.write_group()?;
        if let Some(error) = self.flusher.take_error() {
            return Err(error);
        }
        let written = self.health.written();
        self.store.flush()?;
        self.health.confirm(written);
        Ok(())
    }

    /// A write or flush failed: an import stops with the error; a live
    /// recording says so once, drops the `count` captures of the batch
    /// and, from then on, everything else (sled cannot write again).
    fn fail(&mut self, error: Error, count: u64) -> Result<()> {
        if !self.live {
            return Err(error);
        }
        self.discard(count, true);
        if self.failed {
            return Ok(());
        }
        self.failed = true;
        self.health.report(StoreTrouble::WriteFailed);
        let (what, what_to_do) = match error {
            Error::DiskFull { .. } => (
                "its disk is full".to_string(),
                "Free some space on that disk, or restart `venomqa record` with `--store` on a \
                 disk with room",
            ),
            other => (
                other.to_string(),
                "Check the disk, then restart `venomqa record` (or point `--store` at another disk)",
            ),
        };
        tracing::error!(
            "writing to the store at {} failed: {what}. No more captures are written in this run \
             (sled cannot write again without reopening the store): they are dropped and \
             counted, and traffic still flows. {what_to_do}",
            self.store.dir().display()
        );
        Ok(())
    }

    /// Counts `count` captures taken from the queue and not written as
    /// dropped; `by_store` when the store's disk is why.
    fn discard(&mut self, count: u64, by_store: bool) {
        self.rx.count_dropped(count);
        self.health.discard(count, by_store);
        if self.guard.paused() {
            self.dropped_while_paused += count;
        }
    }

    /// Counts what is still queued after the drain as dropped (at most a
    /// queue's worth: after the drain nothing should be left, as the
    /// senders are gone).
    fn discard_leftovers(&mut self) {
        let mut left = 0;
        while left < self.queue as u64 && self.rx.try_recv().is_some() {
            left += 1;
        }
        if left > 0 {
            self.discard(left, false);
        }
    }

    /// Asks the guard whether the encoded batch may be written now, saying
    /// so in the log when writing pauses or resumes. An import without room
    /// stops with an error; a live recording drops and counts the batch.
    fn room_for_batch(&mut self) -> Result<bool> {
        let dir = self.store.dir().to_path_buf();
        // A disk that cannot say how full it is is not stopped for that.
        let free = space::free_bytes(&dir).unwrap_or(None);
        let was_paused = self.guard.paused();
        let count = self.batch.pending.len() as u64;
        match self.guard.room_for(self.batch.bytes() as u64, free) {
            Room::Enough => {
                if was_paused {
                    tracing::warn!(
                        "the disk holding the store at {} has room again ({} free): capturing \
                         resumed; {} captures were dropped while it was full",
                        dir.display(),
                        human_bytes(free.unwrap_or(0)),
                        self.dropped_while_paused
                    );
                    self.dropped_while_paused = 0;
                }
                Ok(true)
            }
            Room::Short { free, wanted } if !self.live => {
                Err(Error::LowSpace { dir, free, needed: wanted })
            }
            Room::Short { free, .. } => {
                self.health.report(StoreTrouble::RanLow);
                if !was_paused {
                    self.dropped_while_paused = 0;
                    self.say_paused(&dir, free);
                }
                self.discard(count, true);
                Ok(false)
            }
        }
    }

    fn say_paused(&mut self, dir: &std::path::Path, free: u64) {
        if self.paused_before {
            tracing::warn!(
                "the disk holding the store at {} is nearly full again ({} free): captures are \
                 dropped (and counted) until space returns",
                dir.display(),
                human_bytes(free)
            );
            return;
        }
        self.paused_before = true;
        tracing::warn!(
            "the disk holding the store at {} is nearly full ({} free; venomqa keeps {} free so \
             that the store stays readable): captures are dropped (and counted) until space \
             returns, and traffic still flows. Free some space on that disk, or restart \
             `venomqa record` with `--store` on a disk with room",
            dir.display(),
            human_bytes(free),
            human_bytes(MIN_FREE_BYTES)
        );
    }

    /// Writes what was queued when the stop came: at most a queue's worth,
    /// so that senders that go on sending cannot hold the writer.
    fn drain(&mut self, batch: &mut Vec<Exchange>) -> Result<()> {
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
                return Ok(());
            }
            self.write_or_drop(batch)?;
        }
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

    /// Prepares and writes one batch, emptying `batch` (unless the disk
    /// has no room for it: see [`Writer::room_for_batch`]).
    fn write(&mut self, batch: &mut Vec<Exchange>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let count = batch.len() as u64;
        let previous_last = self.last_id;
        self.encode(batch)?;
        // Asked once the batch is encoded, when its size is known. The ids
        // and session states it advanced stay advanced: that is harmless
        // (ids only need to grow), and the sessions did see that traffic.
        if !self.room_for_batch()? {
            return Ok(());
        }
        if self.batch.appends_after(previous_last) {
            let blocks = self.append_blocks()?;
            let new_sessions = self.count_sessions()?;
            self.write_appended(blocks)?;
            self.write_state(count, new_sessions)?;
        } else {
            // Its entries go among the stored ones: write the group first.
            self.write_group()?;
            let (blocks, index) = self.merge()?;
            let new_sessions = self.count_sessions()?;
            // 0: the next open rebuilds the whole index. A rewritten block
            // and the parts it was split into go together.
            self.layout().mark_dirty(0)?;
            self.layout().apply_blocks(blocks)?;
            self.layout().apply_index(index)?;
            self.write_state(count, new_sessions)?;
            self.layout().clear_dirty()?;
        }
        self.health.add_written(count);
        self.health.set_sessions_touched(self.touched.len() as u64);
        if self.group_count >= GROUP_EXCHANGES
            || self.group_started.elapsed() >= Duration::from_millis(GROUP_MILLIS)
        {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Sessions, redacts, numbers and encodes each exchange of `batch`
    /// into `self.batch`, emptying `batch`.
    fn encode(&mut self, batch: &mut Vec<Exchange>) -> Result<()> {
        self.batch.clear();
        for mut exchange in batch.drain(..) {
            if exchange.session.0.is_empty() {
                exchange.session = self.assign_session(&exchange)?;
            }
            if exchange.session.0.contains('\0') {
                // The index separates key from id with 0x00.
                exchange.session.0 = exchange.session.0.replace('\0', "\u{fffd}");
            }
            match &self.redactor {
                Some(redactor) => redactor.redact_exchange(&mut exchange),
                // Kept as sent, but decoded: the learner reads JSON, not gzip.
                None => crate::redact::decode_bodies(&mut exchange),
            };
            exchange.id = self.assign_id(&exchange)?;
            let id = exchange.id;
            self.batch.push(&mut exchange).map_err(|e| {
                self.layout().corrupt(format!("exchange {id} could not be encoded: {e}"))
            })?;
        }
        Ok(())
    }

    /// The session the rules give an exchange that came without one,
    /// continuing (or, after an idle gap, starting) its key's session.
    fn assign_session(&mut self, exchange: &Exchange) -> Result<SessionKey> {
        let base = self.rules.base_key(exchange, self.redactor.as_ref());
        let state = KeyState::advance(self.key_state(&base)?, exchange.started_at, self.gap_ns);
        let session = SessionKey(state.key(&base));
        if !self.dirty_states.contains(&base) {
            self.dirty_states.insert(base.clone());
        }
        self.key_states.insert(base, state);
        Ok(session)
    }

    /// Marks the sessions of the batch touched; returns how many of them
    /// are new to the store (read before the batch's index entries are).
    fn count_sessions(&mut self) -> Result<u64> {
        let mut new_sessions = 0;
        for i in 0..self.batch.pending.len() {
            let session = &self.batch.pending[i].session;
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
        Ok(new_sessions)
    }

    /// Writes the blocks of an appending batch and holds its index entries
    /// back for the group (marking the group's first block dirty).
    fn write_appended(&mut self, blocks: Vec<([u8; 8], sled::IVec)>) -> Result<()> {
        if self.group_from.is_none() {
            // From here on, until the group is written, the blocks are
            // not (certainly) indexed.
            let from = self.batch.pending[0].id;
            self.layout().mark_dirty(from)?;
            self.group_from = Some(from);
            self.group_started = Instant::now();
        }
        for (key, value) in blocks {
            self.layout().insert_block(key, value)?;
        }
        // Readers in this process find the new exchanges here.
        let mut held = self.store.held();
        for p in &self.batch.pending {
            match held.get_mut(p.session.as_str()) {
                Some(ids) => ids.push(p.id),
                None => {
                    held.insert(p.session.clone(), vec![p.id]);
                }
            }
        }
        drop(held);
        self.group_count += self.batch.pending.len();
        Ok(())
    }

    /// Writes the session states the batch changed, and the counters.
    fn write_state(&mut self, count: u64, new_sessions: u64) -> Result<()> {
        let key_states = &self.key_states;
        let changed = self.dirty_states.iter().filter_map(|b| key_states.get_key_value(b.as_str()));
        self.store
            .layout()
            .log_key_states(self.state_log_seq, changed.map(|(b, s)| (b.as_str(), s)))?;
        self.state_log_seq += 1;
        self.group_states.extend(self.dirty_states.drain());
        self.exchange_count += count;
        self.session_count += new_sessions;
        self.store.layout().put_counts(self.exchange_count, self.session_count)
    }

    /// Writes the index entries held back for the current group, then
    /// clears the marker: the blocks are indexed.
    fn write_group(&mut self) -> Result<()> {
        self.fold_states()?;
        if self.group_from.is_none() {
            return Ok(());
        }
        // The writer alone adds to the map: what is copied is what is
        // cleared. Readers see the entries held until they are in the tree.
        let held = self.store.held().clone();
        self.layout().write_index_group(&held)?;
        self.layout().clear_dirty()?;
        self.store.held().clear();
        self.group_from = None;
        self.group_count = 0;
        Ok(())
    }

    /// Writes the states the group's batches logged to their own entries
    /// and removes the log.
    fn fold_states(&mut self) -> Result<()> {
        if self.group_states.is_empty() {
            return Ok(());
        }
        for base in self.group_states.drain() {
            if let Some(state) = self.key_states.get(&base) {
                self.store.layout().put_key_state(&base, state)?;
            }
        }
        self.store.layout().clear_key_state_log()
    }

    /// The usual case: the batch's ids increase and follow every stored
    /// one, so its exchanges become new blocks after the last.
    fn append_blocks(&mut self) -> Result<Vec<([u8; 8], sled::IVec)>> {
        let mut blocks = Vec::new();
        let batch = &self.batch;
        let records = batch.pending.iter().map(|p| (p.id, batch.record(p)));
        build_blocks(self.store.layout(), &mut self.builder, records, |key, value| {
            blocks.push((key, value))
        })?;
        Ok(blocks)
    }

    /// The rare case of an import whose ids fall among stored ones: the
    /// rewritten blocks and index entries (see `merge.rs`).
    fn merge(&mut self) -> Result<(sled::Batch, sled::Batch)> {
        self.batch.pending.sort_by_key(|p| p.id);
        let layout = self.store.layout();
        let blocks = merge::merge_blocks(layout, &mut self.builder, &self.batch)?;
        let index = merge::merge_index(layout, &self.batch.pending)?;
        Ok((blocks, index))
    }

    /// Keeps an id the exchange brings (an import) when it is still free;
    /// otherwise `max(started_at, last id + 1)`: unique and time-ordered.
    fn assign_id(&mut self, exchange: &Exchange) -> Result<u64> {
        let wanted = exchange.id;
        // Above every id stored or given out, an id is free.
        let free = wanted != 0
            && (wanted > self.last_id
                || (!self.batch.pending.iter().any(|p| p.id == wanted)
                    && !self.layout().contains(wanted)?));
        let id =
            if free { wanted } else { exchange.started_at.max(self.last_id.saturating_add(1)) };
        self.last_id = self.last_id.max(id);
        Ok(id)
    }

    fn key_state(&mut self, base: &str) -> Result<Option<KeyState>> {
        if let Some(state) = self.key_states.get(base) {
            return Ok(Some(*state));
        }
        self.layout().key_state(base)
    }

    /// Whether `session` gets its first exchange now (for the counter).
    fn is_new_session(&mut self, session: &str) -> Result<bool> {
        if self.known_sessions.contains(session) {
            return Ok(false);
        }
        let exists = self.layout().has_entries(session)?;
        self.known_sessions.insert(session.to_string());
        Ok(!exists)
    }
}
