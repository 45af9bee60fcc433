//! Serving a sample app: the accept loop, one task a connection, graceful
//! shutdown, and a handle for running an app in the background. The shop
//! and the library differ only in how they answer a request.
//!
//! Shutdown follows mini-redis: when the caller's future resolves, the loop
//! stops accepting, a watch channel tells every connection to finish the
//! request in flight and close, and the loop waits (bounded) for them.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// How long in-flight requests get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A client that opens a connection and never finishes its headers is dropped after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What an app answers a request with; an app never fails a request, it refuses it.
pub(crate) type Answer = Result<Response<Full<Bytes>>, Infallible>;

/// Serves `app` (named `name` in logs) on `listener` until `shutdown`
/// resolves, then drains. Errors on single connections (a client hanging up
/// mid-request) are logged and never stop the app.
pub(crate) async fn serve<A, F>(
    name: &'static str,
    listener: TcpListener,
    app: A,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(name, stream, app.clone(), stop_rx.clone()));
                }
                Err(err) => {
                    // Usually out of file descriptors or a connection reset
                    // before accept; back off a moment instead of spinning.
                    tracing::warn!(error = %err, "the {name} could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Receivers that already finished are gone; a send error only means none are left.
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "{name} connections still open after the drain timeout; closing them"
        );
        connections.abort_all();
    }
    Ok(())
}

async fn serve_connection<A, F>(
    name: &'static str,
    stream: TcpStream,
    app: A,
    mut stop: watch::Receiver<bool>,
) where
    A: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    // Small JSON answers: send them now rather than waiting to fill a segment.
    let _ = stream.set_nodelay(true);
    let service = service_fn(app);
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(err) = served {
                tracing::debug!(error = %err, "{name} connection ended with an error");
            }
        }
        // `wait_for` also sees a stop sent before this task started; a closed
        // channel means the server is gone, which is a stop too. The borrowed
        // value is dropped inside the block: it must not live across an await.
        () = async { let _ = stop.wait_for(|stopped| *stopped).await; } => {
            conn.as_mut().graceful_shutdown();
            if let Err(err) = conn.await {
                tracing::debug!(error = %err, "{name} connection ended with an error while draining");
            }
        }
    }
}

/// A sample app running in a background task, for tests and the demo.
///
/// Dropping the handle stops the app too, without waiting for it.
pub struct SampleHandle {
    /// Where the app listens (127.0.0.1 and a free port).
    pub addr: SocketAddr,
    name: &'static str,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl SampleHandle {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits for the app to end.
    pub async fn shutdown(self) {
        // The app may have stopped already; then there is nobody to tell.
        let _ = self.stop.send(());
        let name = self.name;
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "the sample {name} stopped with an error"),
            Err(err) => tracing::warn!(error = %err, "the sample {name} task failed"),
        }
    }
}

/// Starts `app` on 127.0.0.1 and a free port, in a background task.
pub(crate) async fn spawn<A, F>(name: &'static str, app: A) -> io::Result<SampleHandle>
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(name, listener, app, async move {
        // Resolves on `shutdown()` and when the handle is dropped.
        let _ = stopped.await;
    }));
    Ok(SampleHandle { addr, name, stop, task })
}
