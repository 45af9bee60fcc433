//! The hand-off between whoever sees traffic (the proxy, an import) and the
//! one writer that owns the store.
//!
//! The channel is bounded on purpose: when the disk cannot keep up, captures
//! are dropped and counted rather than letting memory grow or — worse — making
//! live traffic wait for the store. `capture` therefore never blocks.

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
    dropped: Arc<AtomicU64>,
}

/// The writer's end of the channel.
#[derive(Debug)]
pub struct CaptureReceiver {
    rx: Receiver<Exchange>,
    dropped: Arc<AtomicU64>,
}

/// Creates a capture channel holding at most `capacity` waiting exchanges.
pub fn capture_channel(capacity: usize) -> (CaptureSender, CaptureReceiver) {
    let (tx, rx) = mpsc::sync_channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    (CaptureSender { tx, dropped: dropped.clone() }, CaptureReceiver { rx, dropped })
}

impl CaptureSender {
    /// Queues an exchange for the store without ever waiting. Returns false,
    /// and counts a dropped capture, when the queue is full or the writer has
    /// stopped.
    pub fn capture(&self, exchange: Exchange) -> bool {
        match self.tx.try_send(exchange) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues an exchange, waiting for room: for imports, where nothing is
    /// live and nothing may be lost. Returns false if the writer has stopped.
    pub fn capture_blocking(&self, exchange: Exchange) -> bool {
        if self.tx.send(exchange).is_ok() {
            true
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// Captures dropped so far, across all clones.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
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

    /// Captures dropped so far by the senders of this channel.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
