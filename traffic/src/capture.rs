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

use crate::give_way::WriterPriority;
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

/// What both ends count and share.
#[derive(Debug)]
struct Counts {
    /// Captures that went into the queue.
    accepted: AtomicU64,
    /// Captures refused by a sender or discarded by the writer.
    dropped: AtomicU64,
    /// Captures the writer took from the queue; on a cache line of its own,
    /// as only the writer adds to it.
    taken: OwnLine,
    /// Whether the writer gives way to traffic; see `give_way`.
    priority: WriterPriority,
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct OwnLine(AtomicU64);

impl Counts {
    /// Captures queued and not yet taken by the writer.
    fn backlog(&self) -> u64 {
        let taken = self.taken.0.load(Ordering::Relaxed);
        self.accepted.load(Ordering::Relaxed).saturating_sub(taken)
    }
}

/// Creates a capture channel holding at most `capacity` waiting exchanges.
pub fn capture_channel(capacity: usize) -> (CaptureSender, CaptureReceiver) {
    let capacity = capacity.max(1);
    let (tx, rx) = mpsc::sync_channel(capacity);
    let counts = Arc::new(Counts {
        accepted: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        taken: OwnLine::default(),
        priority: WriterPriority::new(capacity),
    });
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
            Ok(()) => {
                self.counts.priority.queued(|| self.counts.backlog());
                true
            }
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
        // Before a send that may wait for the writer to make room.
        self.counts.priority.queued(|| self.counts.backlog());
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

    /// The recording ends: its writer stops giving way to traffic (see
    /// `give_way`), so that it drains and flushes without waiting for a
    /// free core.
    pub(crate) fn stop_giving_way(&self) {
        self.counts.priority.stop_giving_way();
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
            Ok(exchange) => Received::Exchange(self.took(exchange)),
            Err(RecvTimeoutError::Timeout) => Received::Idle,
            Err(RecvTimeoutError::Disconnected) => Received::Closed,
        }
    }

    /// The next exchange if one is already waiting.
    pub fn try_recv(&self) -> Option<Exchange> {
        self.rx.try_recv().ok().map(|exchange| self.took(exchange))
    }

    fn took(&self, exchange: Exchange) -> Exchange {
        self.counts.taken.0.fetch_add(1, Ordering::Relaxed);
        exchange
    }

    /// Called by a live recording's writer thread as it starts: it gives
    /// way to traffic while it keeps up (see `give_way`).
    pub(crate) fn start_giving_way(&self) {
        self.counts.priority.start_giving_way();
    }

    /// Called by the writer after each batch it took: gives way again once
    /// it has caught up.
    pub(crate) fn writer_took(&self) {
        self.counts.priority.writer_took(self.counts.backlog());
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
