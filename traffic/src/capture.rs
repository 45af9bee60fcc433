//! The hand-off between whoever sees traffic (the proxy, an import) and the
//! one writer that owns the store.
//!
//! The channel is bounded on purpose: when the disk cannot keep up, captures
//! are dropped and counted rather than letting memory grow or — worse — making
//! live traffic wait for the store. `capture` therefore never blocks.
//!
//! Both ends share two counters: captures accepted into the queue and
//! captures dropped (by a sender when the queue is full, or by the writer
//! when the store's disk is full or failing), so that a recording can say at
//! any moment how many captures are still not confirmed on disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use crate::Exchange;

/// Default number of exchanges that may wait for the writer.
pub(crate) const DEFAULT_CAPTURE_QUEUE: usize = 16 * 1024;

/// Cheap to clone; one per connection or task that captures.
#[derive(Clone, Debug)]
pub struct CaptureSender {
    tx: SyncSender<Exchange>,
    counts: Arc<Counts>,
}

/// The writer's end of the channel.
#[derive(Debug)]
pub struct CaptureReceiver {
    rx: Receiver<Exchange>,
    counts: Arc<Counts>,
}

/// What both ends count.
#[derive(Debug, Default)]
struct Counts {
    /// Captures that went into the queue.
    accepted: AtomicU64,
    /// Captures refused by a sender or discarded by the writer.
    dropped: AtomicU64,
}

/// Creates a capture channel holding at most `capacity` waiting exchanges.
pub fn capture_channel(capacity: usize) -> (CaptureSender, CaptureReceiver) {
    let (tx, rx) = mpsc::sync_channel(capacity.max(1));
    let counts = Arc::new(Counts::default());
    (CaptureSender { tx, counts: counts.clone() }, CaptureReceiver { rx, counts })
}

impl CaptureSender {
    /// Queues an exchange for the store without ever waiting. Returns false,
    /// and counts a dropped capture, when the queue is full or the writer has
    /// stopped.
    pub fn capture(&self, exchange: Exchange) -> bool {
        // Counted before it is sent: the writer may take it at once, and
        // must never see more taken than accepted.
        self.counts.accepted.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(exchange) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counts.accepted.fetch_sub(1, Ordering::Relaxed);
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues an exchange, waiting for room: for imports, where nothing is
    /// live and nothing may be lost. Returns false if the writer has stopped.
    pub fn capture_blocking(&self, exchange: Exchange) -> bool {
        self.counts.accepted.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(exchange).is_ok() {
            true
        } else {
            self.counts.accepted.fetch_sub(1, Ordering::Relaxed);
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// Captures dropped so far, across all clones and by the writer.
    pub fn dropped(&self) -> u64 {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// Captures that went into the queue so far, across all clones.
    pub fn accepted(&self) -> u64 {
        self.counts.accepted.load(Ordering::Relaxed)
    }
}

/// What the writer gets from one wait on the channel.
///
/// Returned by value and consumed at once, so the exchange is not boxed:
/// a box would cost an allocation per capture to save bytes on the stack.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Received {
    /// The next exchange to write.
    Exchange(Exchange),
    /// Nothing arrived within the wait; check for a stop request.
    Idle,
    /// Every sender is gone: nothing more will ever arrive.
    Closed,
}

impl CaptureReceiver {
    /// Waits up to `timeout` for the next exchange.
    pub fn recv_timeout(&self, timeout: Duration) -> Received {
        match self.rx.recv_timeout(timeout) {
            Ok(exchange) => Received::Exchange(exchange),
            Err(RecvTimeoutError::Timeout) => Received::Idle,
            Err(RecvTimeoutError::Disconnected) => Received::Closed,
        }
    }

    /// The next exchange if one is already waiting.
    pub fn try_recv(&self) -> Option<Exchange> {
        self.rx.try_recv().ok()
    }

    /// Captures dropped so far, by the senders of this channel or the writer.
    pub fn dropped(&self) -> u64 {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// Counts `n` captures taken from the queue as dropped: the writer
    /// could not store them (the disk is full or failing).
    pub fn count_dropped(&self, n: u64) {
        self.counts.dropped.fetch_add(n, Ordering::Relaxed);
    }
}
