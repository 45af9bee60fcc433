//! The hand-off of finished exchanges to the store's channel, in batches.
//!
//! Handing each exchange straight to [`CaptureSender::capture`] would wake
//! the store's writer thread once per exchange whenever it has caught up
//! (a futex wake: a system call and a context switch, several microseconds
//! each on the hot path; measured as a third of the cost of capturing).
//! Instead the connection tasks push into a local lock-free queue that
//! never wakes anyone while traffic flows, and one forwarder task moves
//! what has gathered to the store's channel every couple of milliseconds,
//! so the writer wakes once per batch. The store's bounded channel still
//! decides what is dropped, and counts it.
//!
//! The forwarder holds the only strong reference to the [`CaptureSender`];
//! `serve` stops it last, after a final drain, so no sender outlives
//! `serve` even when a stray body finishes later inside an upstream
//! connection's task (its exchange is then not recorded).

use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use venomqa_traffic::{CaptureSender, Exchange};

/// How long exchanges gather between two batches while traffic flows.
const TICK: Duration = Duration::from_millis(2);
/// Empty ticks before the forwarder parks until the next exchange.
const TICKS_BEFORE_PARKING: u32 = 50;
/// A parked forwarder looks anyway this often (a safety net; the wake-up
/// protocol below does not lose wake-ups).
const PARKED_LOOK: Duration = Duration::from_secs(1);
/// Exchanges the local queue may hold. The forwarder only moves them, so
/// it is only this far behind if the runtime starves it; past this the
/// exchange goes straight to the store's channel.
const LOCAL_LIMIT: usize = 64 * 1024;
/// Exchanges moved before the forwarder yields to other tasks.
const BATCH: usize = 4096;

/// Where finished exchanges go; cheap to clone, never blocks.
#[derive(Clone, Debug)]
pub(crate) struct CaptureSink(Arc<Queue>);

#[derive(Debug)]
struct Queue {
    tx: mpsc::Sender<Exchange>,
    queued: AtomicUsize,
    /// Set while the forwarder waits for `wake`.
    parked: AtomicBool,
    wake: Notify,
    /// For the overflow path only; see [`LOCAL_LIMIT`].
    overflow: Weak<CaptureSender>,
}

impl CaptureSink {
    pub fn capture(&self, exchange: Exchange) {
        let queue = &*self.0;
        if queue.queued.fetch_add(1, Ordering::Relaxed) >= LOCAL_LIMIT {
            queue.queued.fetch_sub(1, Ordering::Relaxed);
            if let Some(sender) = queue.overflow.upgrade() {
                sender.capture(exchange);
            }
            return;
        }
        if queue.tx.send(exchange).is_err() {
            // The forwarder has stopped: `serve` is over.
            queue.queued.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        // Pairs with the fence in `Forwarder::park`: either the forwarder's
        // last look sees this exchange, or this sees it parked and wakes it.
        fence(Ordering::SeqCst);
        if queue.parked.load(Ordering::Relaxed) && queue.parked.swap(false, Ordering::AcqRel) {
            queue.wake.notify_one();
        }
    }
}

/// The task moving exchanges from the local queue to the store's channel.
#[derive(Debug)]
pub(crate) struct Forwarder {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Starts the forwarder for `sender` and returns the sink that feeds it.
pub(crate) fn start(sender: CaptureSender) -> (CaptureSink, Forwarder) {
    let sender = Arc::new(sender);
    let (tx, rx) = mpsc::channel();
    let queue = Arc::new(Queue {
        tx,
        queued: AtomicUsize::new(0),
        parked: AtomicBool::new(false),
        wake: Notify::new(),
        overflow: Arc::downgrade(&sender),
    });
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(run(rx, queue.clone(), sender, stopped));
    (CaptureSink(queue), Forwarder { stop, task })
}

impl Forwarder {
    /// Moves what is left and drops the capture sender.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        if let Err(err) = self.task.await {
            tracing::error!("the capture forwarder failed: {err}");
        }
    }
}

async fn run(
    rx: mpsc::Receiver<Exchange>,
    queue: Arc<Queue>,
    sender: Arc<CaptureSender>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut empty_ticks = 0;
    loop {
        match forward(&rx, &queue, &sender) {
            0 => empty_ticks += 1,
            BATCH => {
                tokio::task::yield_now().await;
                continue;
            }
            _ => empty_ticks = 0,
        }
        if empty_ticks < TICKS_BEFORE_PARKING {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                _ = &mut stopped => break,
            }
            continue;
        }
        // Nothing for a while: park until the next exchange.
        queue.parked.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if forward(&rx, &queue, &sender) == 0 {
            tokio::select! {
                () = queue.wake.notified() => {}
                () = tokio::time::sleep(PARKED_LOOK) => {}
                _ = &mut stopped => break,
            }
        }
        queue.parked.store(false, Ordering::Relaxed);
        empty_ticks = 0;
    }
    while forward(&rx, &queue, &sender) > 0 {}
    drop(rx);
    release(sender).await;
}

/// Moves up to [`BATCH`] exchanges; returns how many.
fn forward(rx: &mpsc::Receiver<Exchange>, queue: &Queue, sender: &CaptureSender) -> usize {
    let mut moved = 0;
    while moved < BATCH {
        let Ok(exchange) = rx.try_recv() else { break };
        queue.queued.fetch_sub(1, Ordering::Relaxed);
        if !sender.capture(exchange) {
            tracing::debug!("capture queue full or closed: capture dropped");
        }
        moved += 1;
    }
    moved
}

/// Drops the sender, waiting out an overflow capture that may hold it for
/// the few instructions of a `try_send`.
async fn release(mut sender: Arc<CaptureSender>) {
    for _ in 0..10_000 {
        match Arc::try_unwrap(sender) {
            Ok(sender) => return drop(sender),
            Err(shared) => {
                sender = shared;
                tokio::task::yield_now().await;
            }
        }
    }
    tracing::warn!("a capture was still being queued at shutdown; the sender goes with it");
}
