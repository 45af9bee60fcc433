//! Serving the library: an accept loop, one task a connection, and a
//! graceful shutdown that lets requests in flight finish (bounded).

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::routes;
use super::state::Library;
use super::LibraryConfig;

/// How long in-flight requests get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A client that never finishes its headers is dropped after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves the library on `listener` until `shutdown` resolves, then drains.
///
/// Errors on single connections are logged and never stop the library.
pub async fn serve_library(
    listener: TcpListener,
    config: LibraryConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let library = Arc::new(Library::new(config.bugs));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&library), stop_rx.clone()));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the library could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(left = connections.len(), "library connections still open; closing them");
        connections.abort_all();
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    library: Arc<Library>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| routes::handle(Arc::clone(&library), req));
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(err) = served {
                tracing::debug!(error = %err, "library connection ended with an error");
            }
        }
        () = async { let _ = stop.wait_for(|stopped| *stopped).await; } => {
            conn.as_mut().graceful_shutdown();
            if let Err(err) = conn.await {
                tracing::debug!(error = %err, "library connection ended while draining");
            }
        }
    }
}

/// A library running in a background task, for tests. Dropping it stops the library too.
pub struct LibraryHandle {
    /// Where the library listens (127.0.0.1 and a free port).
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl LibraryHandle {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits for the end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "the sample library stopped with an error")
            }
            Err(err) => tracing::warn!(error = %err, "the sample library task failed"),
        }
    }
}

/// Starts a library on 127.0.0.1 and a free port, in a background task.
pub async fn spawn_library(config: LibraryConfig) -> io::Result<LibraryHandle> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_library(listener, config, async move {
        let _ = stopped.await;
    }));
    Ok(LibraryHandle { addr, stop, task })
}
