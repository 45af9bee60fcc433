//! Servers that stand behind the proxy in tests, on loopback with ports
//! picked at run time: a hyper server answering with a handler
//! ([`Upstream`]), and the faulty ones — nothing listening
//! ([`vacant_addr`]), a port that comes back ([`listen_on`]), a peer that
//! hangs up ([`upstream_hanging_up_after`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;

use crate::socket::{read_until, write_all};

/// The error type of test bodies: anything.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A body a test server or client sends: whole, streamed or empty.
pub type TestBody = BoxBody<Bytes, BoxError>;
/// How an [`Upstream`] answers each request.
pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<TestBody>> + Send>>
        + Send
        + Sync,
>;

/// A whole body of `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> TestBody {
    Full::new(bytes.into()).map_err(|never: Infallible| match never {}).boxed()
}

/// A body with nothing in it.
pub fn empty() -> TestBody {
    full(Bytes::new())
}

/// A [`Handler`] from an async function, so a test writes only the answer.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<TestBody>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// A hyper HTTP/1.1 server standing in for the service behind the proxy;
/// it stops when dropped.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Connections accepted, and connections that have ended since.
    pub connections: Arc<Connections>,
    task: JoinHandle<()>,
}

/// Connection counts of an [`Upstream`], for tests of connection reuse.
#[derive(Debug, Default)]
pub struct Connections {
    accepted: AtomicUsize,
    ended: AtomicUsize,
}

impl Connections {
    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections that have ended so far.
    pub fn ended(&self) -> usize {
        self.ended.load(Ordering::SeqCst)
    }
}

impl Upstream {
    /// Starts answering with `handler` on a fresh loopback port.
    pub async fn start(handler: Handler) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
        Upstream::on(listener, handler)
    }

    /// Starts answering with `handler` on `listener` (see [`listen_on`]).
    pub fn on(listener: TcpListener, handler: Handler) -> Upstream {
        let addr = listener.local_addr().expect("upstream addr");
        let connections = Arc::new(Connections::default());
        let task = tokio::spawn(accept_loop(listener, handler, connections.clone()));
        Upstream { addr, connections, task }
    }

    /// `http://ADDR`, the proxy's upstream.
    pub fn url(&self) -> http::Uri {
        format!("http://{}", self.addr).parse().expect("upstream url")
    }
}

async fn accept_loop(listener: TcpListener, handler: Handler, counts: Arc<Connections>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        counts.accepted.fetch_add(1, Ordering::SeqCst);
        let handler = handler.clone();
        let counts = counts.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
            counts.ended.fetch_add(1, Ordering::SeqCst);
        });
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback address with nothing listening on it (yet): an upstream that is down.
pub async fn vacant_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

/// Listens on `addr` again, allowing the quick rebind of a port: the
/// upstream that was down comes up.
pub fn listen_on(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket.bind(addr).expect("rebind the upstream port");
    socket.listen(128).expect("listen")
}

/// A raw upstream that, on every connection, reads the request head, writes
/// `answer` exactly as given (nothing, a whole response, or a response cut
/// short) and hangs up without saying so. Returns where it listens.
pub async fn upstream_hanging_up_after(answer: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            read_until(&mut stream, b"\r\n\r\n").await;
            if !answer.is_empty() {
                write_all(&mut stream, answer).await;
            }
        }
    });
    addr
}
