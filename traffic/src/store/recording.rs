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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::options::RecordOptions;
use super::writer::Writer;
use super::Store;
use crate::capture::{capture_channel, CaptureSender};
use crate::{Error, Exchange, Result};

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
        if !self.claim_writer() {
            return Err(Error::AlreadyRecording { dir: self.dir().to_path_buf() });
        }
        let started = self.start_writer(options);
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
        let recording = self.record(options)?;
        let sender = recording.sender();
        for exchange in exchanges {
            if !sender.capture_blocking(exchange) {
                break; // the writer stopped; `finish` says why
            }
        }
        drop(sender);
        recording.finish()
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
        let writer = Writer::new(self, rx, queue, &options, stop.clone(), written.clone())?;
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
