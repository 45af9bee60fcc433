//! The event loops connections are served on.
//!
//! One task accepts; each accepted connection is handed to the shard
//! serving the fewest connections, and stays there: its exchanges, its
//! upstream connections and every wake-up they cause run on that shard's
//! thread. A shard is a thread with a current-thread runtime, as nginx runs
//! a worker process per core, so no work-stealing scheduler moves tasks
//! (and their wake-ups) between cores on every request. With no threads
//! asked for, one shard runs on the caller's runtime.
//!
//! Handing connections over (instead of every shard accepting from the
//! listener) keeps the shards balanced: woken together by a new
//! connection, the same thread would win nearly every accept.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::Error;

/// A connection handed to a shard.
pub(crate) struct Accepted {
    pub stream: std::net::TcpStream,
    pub peer: SocketAddr,
    /// Counts the connection against its shard while it lives.
    pub assigned: Assigned,
}

/// One connection counted against its shard's load, until dropped.
pub(crate) struct Assigned(Arc<AtomicUsize>);

impl Drop for Assigned {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The running shards.
pub(crate) struct Shards {
    shards: Vec<Shard>,
}

struct Shard {
    inbox: mpsc::UnboundedSender<Accepted>,
    load: Arc<AtomicUsize>,
    /// What the shard's drain cut, when it has ended.
    done: oneshot::Receiver<u64>,
    /// The shard's own thread, if it has one.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Shards {
    /// Starts `threads` shards on threads of their own (named
    /// `venomqa-proxy-N`), or one on the caller's runtime when `threads` is
    /// 0. `serve` runs a shard: it takes the connections handed to it until
    /// its inbox closes or the proxy stops, drains them and returns how
    /// many exchanges it cut.
    pub fn start<F, S>(threads: usize, serve: S) -> Result<Self, Error>
    where
        S: Fn(mpsc::UnboundedReceiver<Accepted>) -> F,
        F: Future<Output = u64> + Send + 'static,
    {
        let mut shards = Vec::with_capacity(threads.max(1));
        if threads == 0 {
            let (inbox, handed) = mpsc::unbounded_channel();
            let (finished, done) = oneshot::channel();
            let serving = serve(handed);
            tokio::spawn(async move {
                let _ = finished.send(serving.await);
            });
            shards.push(Shard { inbox, load: Arc::default(), done, thread: None });
        }
        for index in 0..threads {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::Threads)?;
            let (inbox, handed) = mpsc::unbounded_channel();
            let (finished, done) = oneshot::channel();
            let serving = serve(handed);
            let thread = std::thread::Builder::new()
                .name(format!("venomqa-proxy-{index}"))
                .spawn(move || {
                    let abandoned = runtime.block_on(serving);
                    drop(runtime);
                    let _ = finished.send(abandoned);
                })
                .map_err(Error::Threads)?;
            shards.push(Shard { inbox, load: Arc::default(), done, thread: Some(thread) });
        }
        Ok(Shards { shards })
    }

    /// Hands a connection to the shard serving the fewest.
    pub fn hand(&self, stream: tokio::net::TcpStream, peer: SocketAddr) {
        let Some(shard) = self.shards.iter().min_by_key(|shard| shard.load.load(Ordering::Relaxed))
        else {
            return;
        };
        // Out of the accepting runtime's reactor, into the shard's.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(%peer, "cannot hand a connection over: {err}");
                return;
            }
        };
        shard.load.fetch_add(1, Ordering::Relaxed);
        let assigned = Assigned(shard.load.clone());
        if shard.inbox.send(Accepted { stream, peer, assigned }).is_err() {
            tracing::debug!(%peer, "a shard has stopped: connection closed");
        }
    }

    /// Closes the inboxes and waits for every shard to drain and its
    /// thread to end; returns how many exchanges (and tunnels) were cut.
    pub async fn finish(self) -> u64 {
        let ending: Vec<_> =
            self.shards.into_iter().map(|shard| (shard.done, shard.thread)).collect();
        let mut abandoned = 0;
        for (done, thread) in ending {
            // Each shard counts what is still in flight, everywhere, before
            // it cuts its own: the first to count saw it all.
            abandoned = abandoned.max(done.await.unwrap_or(0));
            if let Some(thread) = thread {
                // It has sent its count: only its exit is left.
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
        }
        abandoned
    }
}
