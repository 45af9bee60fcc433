//! Serving a sample app: the accept loop, one task a connection (over TLS
//! when the app is given a certificate), graceful shutdown, and a handle for
//! running an app in the background. The shop and the library differ only
//! in how they answer a request.
//!
//! Shutdown follows mini-redis: when the caller's future resolves, the loop
//! stops accepting, a watch channel tells every connection to finish the
//! request in flight and close, and the loop waits (bounded) for them.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// How long in-flight requests get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A client that opens a connection and never finishes its headers is dropped after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A client that opens a connection and never finishes the TLS handshake
/// is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What an app answers a request with; an app never fails a request, it refuses it.
pub(crate) type Answer = Result<Response<Full<Bytes>>, Infallible>;

/// Serves `app` (named `name` in logs) on `listener` until `shutdown`
/// resolves, then drains; over TLS (HTTP/2 or HTTP/1.1, as ALPN settles)
/// when `tls` is given, else plain HTTP/1.1. Errors on single connections
/// (a client hanging up mid-request, a failed handshake) are logged and
/// never stop the app.
pub(crate) async fn serve<A, F>(
    name: &'static str,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: A,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let tls = tls.map(TlsAcceptor::from);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let connection = Connection { name, tls: tls.clone(), stop: stop_rx.clone() };
                    connections.spawn(connection.serve(stream, app.clone()));
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

/// One accepted connection: how to serve it and when to stop.
struct Connection {
    name: &'static str,
    tls: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
}

/// Which HTTP versions a connection is served with.
#[derive(Clone, Copy)]
enum Versions {
    Http1,
    Http2,
    /// Told by the first bytes the client sends (TLS without ALPN).
    Either,
}

impl Connection {
    /// Shakes hands when serving TLS, then answers until the client closes
    /// or the server stops.
    async fn serve<A, F>(self, stream: TcpStream, app: A)
    where
        A: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Answer> + Send + 'static,
    {
        let name = self.name;
        // Small JSON answers: send them now rather than waiting to fill a segment.
        let _ = stream.set_nodelay(true);
        let Some(acceptor) = self.tls.clone() else {
            return self.answer(stream, Versions::Http1, app).await;
        };
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            // A client that does not trust the certificate ends here: its
            // side says why.
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "a {name} TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("a {name} TLS handshake timed out");
                return;
            }
        };
        let versions = match stream.get_ref().1.alpn_protocol() {
            Some(b"h2") => Versions::Http2,
            Some(_) => Versions::Http1,
            None => Versions::Either,
        };
        self.answer(stream, versions, app).await;
    }

    async fn answer<I, A, F>(mut self, io: I, versions: Versions, app: A)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        A: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Answer> + Send + 'static,
    {
        let name = self.name;
        let service = service_fn(app);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder = match versions {
            Versions::Http1 => builder.http1_only(),
            Versions::Http2 => builder.http2_only(),
            Versions::Either => builder,
        };
        builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
        builder.http2().timer(TokioTimer::new());
        let conn = builder.serve_connection(TokioIo::new(io), service);
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
            () = async { let _ = self.stop.wait_for(|stopped| *stopped).await; } => {
                conn.as_mut().graceful_shutdown();
                if let Err(err) = conn.await {
                    tracing::debug!(error = %err, "{name} connection ended with an error while draining");
                }
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
    /// Whether it serves HTTPS.
    pub tls: bool,
    name: &'static str,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl SampleHandle {
    /// `http://127.0.0.1:PORT` (`https://` over TLS), without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
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

/// Starts `app` on 127.0.0.1 and a free port, in a background task, over
/// TLS when `tls` is given.
pub(crate) async fn spawn<A, F>(
    name: &'static str,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: A,
) -> io::Result<SampleHandle>
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let served_over_tls = tls.is_some();
    let task = tokio::spawn(serve(name, listener, tls, app, async move {
        // Resolves on `shutdown()` and when the handle is dropped.
        let _ = stopped.await;
    }));
    Ok(SampleHandle { addr, tls: served_over_tls, name, stop, task })
}
