//! Recording: the one writer that owns a store while traffic is captured,
//! and [`Store::append`], the same writer fed from an iterator.
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
//! What the writer does with each exchange is in `writer.rs`.
//!
//! Ending a recording never waits forever: [`Recording::finish_within`]
//! gives the writer a deadline to write what is queued and flush. sled may
//! never return from a flush once a write has failed, so past the deadline
//! the writer thread is left where it is, the store is given up on (its
//! handles are not flushed on drop: see `mod.rs`), and the summary says how
//! many exchanges no flush confirmed, which may be lost. Exiting the
//! process then is like a kill, which the store recovers from.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::health::{Health, StoreTrouble};
use super::options::RecordOptions;
use super::permissions;
use super::writer::Writer;
use super::Store;
use crate::capture::{capture_channel, CaptureSender};
use crate::{Error, Exchange, Result};

/// How long ending a recording waits for the writer by default (and
/// dropping a `Recording` always): enough to write a full queue of
/// ordinary exchanges and flush on a healthy disk, short enough that a
/// stuck store does not hold a shutdown.
pub const DEFAULT_FINISH_DEADLINE: Duration = Duration::from_secs(5);

/// What a finished recording did, for the summary `record` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordSummary {
    /// Exchanges this recording handed to the store.
    pub exchanges_written: u64,
    /// Distinct sessions that received at least one exchange.
    pub sessions_touched: u64,
    /// Captures refused because the queue was full or the writer had
    /// stopped, or dropped by the writer because of the store's disk.
    pub captures_dropped: u64,
    /// Of `captures_dropped`, those dropped because the store's disk was
    /// full or failing.
    pub dropped_by_store: u64,
    /// Captures accepted for the store that no flush confirmed on disk:
    /// 0 after a clean finish; otherwise they may be lost.
    pub unconfirmed: u64,
    /// What went wrong with the store, if anything (the worst): the
    /// recording is then incomplete.
    pub trouble: Option<StoreTrouble>,
}

/// A running writer; dropping it without `finish` also stops and flushes
/// (within [`DEFAULT_FINISH_DEADLINE`]), but swallows errors (they are
/// logged).
pub struct Recording {
    store: Store,
    sender: CaptureSender,
    stop: Arc<AtomicBool>,
    health: Arc<Health>,
    writer: Option<WriterThread>,
}

/// The writer's thread, and where it sends its result when it ends (so
/// that the wait for it can have a deadline, which a join cannot).
struct WriterThread {
    handle: JoinHandle<()>,
    done: mpsc::Receiver<Result<u64>>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").field("store", &self.store.dir()).finish_non_exhaustive()
    }
}

impl Store {
    /// Starts the writer for live traffic; only one recording of a store
    /// runs at a time. While the store's disk is full or failing, captures
    /// are dropped and counted (see `writer.rs`), never waited for.
    pub fn record(&self, options: RecordOptions) -> Result<Recording> {
        self.start(options, true)
    }

    fn start(&self, options: RecordOptions, live: bool) -> Result<Recording> {
        if !self.claim_writer() {
            return Err(Error::AlreadyRecording { dir: self.dir().to_path_buf() });
        }
        let started = self.start_writer(options, live);
        if started.is_err() {
            self.release_writer();
        }
        started
    }

    /// Writes `exchanges` as a recording would capture them (sessions
    /// assigned, secrets redacted, ids kept where free), waiting for room
    /// rather than dropping any: for imports and generated traffic. Stops
    /// early if the writer fails, and returns its error.
    pub fn append(
        &self,
        exchanges: impl IntoIterator<Item = Exchange>,
        options: RecordOptions,
    ) -> Result<RecordSummary> {
        let recording = self.start(options, false)?;
        let sender = recording.sender();
        for exchange in exchanges {
            if !sender.capture_blocking(exchange) {
                break; // the writer stopped; `finish` says why
            }
        }
        drop(sender);
        recording.finish()
    }

    fn start_writer(&self, options: RecordOptions, live: bool) -> Result<Recording> {
        if self.failed() {
            return Err(Error::Failed { dir: self.dir().to_path_buf() });
        }
        let queue = options.queue.max(1);
        let (sender, rx) = capture_channel(queue);
        let stop = Arc::new(AtomicBool::new(false));
        let health = Arc::new(Health::default());
        // A writer of this store that failed earlier may have left a group
        // unindexed (and held): index it as an open would.
        self.recover()?;
        self.held().clear();
        let writer = Writer::new(self, rx, queue, &options, stop.clone(), health.clone(), live)?;
        let (done_tx, done) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("venomqa-store-writer".into())
            .spawn(move || {
                // The receiver may be gone (a deadline passed): nothing to tell.
                let _ = done_tx.send(writer.run());
            })
            .map_err(|e| Error::io(self.dir(), e))?;
        Ok(Recording {
            store: self.clone(),
            sender,
            stop,
            health,
            writer: Some(WriterThread { handle, done }),
        })
    }
}

impl Recording {
    /// A handle for one capturing connection or task.
    pub fn sender(&self) -> CaptureSender {
        self.sender.clone()
    }

    /// Exchanges written so far.
    pub fn written(&self) -> u64 {
        self.health.written()
    }

    /// Captures dropped so far.
    pub fn dropped(&self) -> u64 {
        self.sender.dropped()
    }

    /// What has gone wrong with the store so far, if anything.
    pub fn trouble(&self) -> Option<StoreTrouble> {
        self.health.trouble()
    }

    /// Stops the writer once it has written everything already queued, then
    /// flushes the store, waiting as long as that takes (an import, which
    /// must not lose anything). Captures sent after this are dropped and
    /// counted.
    pub fn finish(mut self) -> Result<RecordSummary> {
        self.stop_writer(None)?;
        Ok(self.summary())
    }

    /// [`Recording::finish`], waiting at most `deadline` for the writer;
    /// past it the summary has [`StoreTrouble::FlushTimedOut`] and counts
    /// what no flush confirmed (see the module's doc).
    pub fn finish_within(mut self, deadline: Duration) -> Result<RecordSummary> {
        self.stop_writer(Some(deadline))?;
        Ok(self.summary())
    }

    fn summary(&self) -> RecordSummary {
        let health = &self.health;
        RecordSummary {
            exchanges_written: health.written(),
            sessions_touched: health.sessions_touched(),
            captures_dropped: self.sender.dropped(),
            dropped_by_store: health.dropped_by_store(),
            unconfirmed: self
                .sender
                .accepted()
                .saturating_sub(health.confirmed())
                .saturating_sub(health.discarded()),
            trouble: health.trouble(),
        }
    }

    /// Asks the writer to stop and waits for it, at most `deadline` if
    /// given; past it the store is given up on.
    fn stop_writer(&mut self, deadline: Option<Duration>) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        self.sender.stop_giving_way();
        let Some(writer) = self.writer.take() else { return Ok(()) };
        let ended = match deadline {
            None => writer.done.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => writer.done.recv_timeout(deadline),
        };
        match ended {
            Ok(result) => {
                // It has sent its result: the join is immediate.
                let _ = writer.handle.join();
                result?;
                // sled made its blob files with the umask's modes.
                permissions::keep_private(self.store.dir());
                Ok(())
            }
            Err(RecvTimeoutError::Timeout) => {
                self.store.layout().mark_failed();
                self.health.report(StoreTrouble::FlushTimedOut);
                tracing::error!(
                    "the store at {} did not finish writing and flushing within {:?}; \
                     giving up on it",
                    self.store.dir().display(),
                    deadline.unwrap_or_default()
                );
                Ok(())
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = writer.handle.join();
                Err(Error::WriterPanicked { dir: self.store.dir().to_path_buf() })
            }
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Err(e) = self.stop_writer(Some(DEFAULT_FINISH_DEADLINE)) {
            tracing::error!("recording stopped with an error: {e}");
        }
    }
}
