//! Test fixtures: a small hyper upstream, a running proxy with its capture
//! channel, raw-socket helpers and time bounds. Everything runs on loopback
//! with ports picked at run time.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use venomqa_proxy::{ProxyConfig, ProxyStats};
use venomqa_traffic::{capture_channel, CaptureReceiver, Exchange, Received};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestBody = BoxBody<Bytes, BoxError>;
pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<TestBody>> + Send>>
        + Send
        + Sync,
>;

/// Generous: the machine running the tests may be small and busy.
pub const BOUND: Duration = Duration::from_secs(60);

/// Runs a test body under a hard time limit, so a hang fails instead of
/// blocking the suite.
pub async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, test).await.expect("test took longer than its time bound")
}

pub fn full(bytes: impl Into<Bytes>) -> TestBody {
    Full::new(bytes.into()).map_err(|never: Infallible| match never {}).boxed()
}

pub fn empty() -> TestBody {
    full(Bytes::new())
}

pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<TestBody>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// A hyper HTTP/1.1 server standing in for the service behind the proxy.
pub struct Upstream {
    pub addr: SocketAddr,
    /// Connections accepted, and connections that have ended since.
    pub connections: Arc<Connections>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
pub struct Connections {
    pub accepted: AtomicUsize,
    pub ended: AtomicUsize,
}

impl Connections {
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn ended(&self) -> usize {
        self.ended.load(Ordering::SeqCst)
    }
}

impl Upstream {
    pub async fn start(handler: Handler) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
        Upstream::on(listener, handler)
    }

    pub fn on(listener: TcpListener, handler: Handler) -> Upstream {
        let addr = listener.local_addr().expect("upstream addr");
        let connections = Arc::new(Connections::default());
        let counts = connections.clone();
        let task = tokio::spawn(async move {
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
        });
        Upstream { addr, connections, task }
    }

    pub fn url(&self) -> http::Uri {
        format!("http://{}", self.addr).parse().expect("upstream url")
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A running proxy, its capture queue and the means to stop it.
pub struct Proxy {
    pub addr: SocketAddr,
    pub captured: CaptureReceiver,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<ProxyStats, venomqa_proxy::Error>>>,
}

impl Proxy {
    pub async fn start(upstream: http::Uri) -> Proxy {
        Proxy::with(ProxyConfig::new(upstream), 1024).await
    }

    pub async fn with(config: ProxyConfig, queue: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (capture, captured) = capture_channel(queue);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(venomqa_proxy::serve(listener, config, Some(capture), async {
            let _ = stopped.await;
        }));
        Proxy { addr, captured, stop: Some(stop), task: Some(task) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals shutdown without waiting for it.
    pub fn signal_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(&mut self) -> ProxyStats {
        self.signal_shutdown();
        let task = self.task.take().expect("proxy already stopped");
        task.await.expect("proxy task panicked").expect("proxy failed")
    }

    /// The next captured exchange, waiting up to 10 s for it.
    pub async fn next_capture(&self) -> Exchange {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(exchange) = self.captured.try_recv() {
                return exchange;
            }
            assert!(tokio::time::Instant::now() < deadline, "no exchange was captured within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Every exchange captured once the proxy has stopped; also checks that
    /// the proxy dropped every capture sender.
    pub fn drain_captures(&self) -> Vec<Exchange> {
        let mut all = Vec::new();
        loop {
            match self.captured.recv_timeout(Duration::from_secs(5)) {
                Received::Exchange(exchange) => all.push(exchange),
                Received::Closed => return all,
                Received::Idle => panic!("a capture sender outlived serve"),
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub type TestClient = Client<HttpConnector, TestBody>;

pub fn client() -> TestClient {
    Client::builder(TokioExecutor::new()).build_http()
}

pub fn h2c_client() -> TestClient {
    Client::builder(TokioExecutor::new()).http2_only(true).build_http()
}

/// Sends a request and collects the whole response.
pub async fn send(
    client: &TestClient,
    request: Request<TestBody>,
) -> (http::response::Parts, Bytes) {
    let response = client.request(request).await.expect("request through the proxy");
    let (head, body) = response.into_parts();
    let body = body.collect().await.expect("response body").to_bytes();
    (head, body)
}

pub async fn get(client: &TestClient, url: &str) -> (http::response::Parts, Bytes) {
    send(client, Request::get(url).body(empty()).expect("request")).await
}

/// Deterministic bytes covering every byte value, without a rand dependency.
pub fn binary(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Reads from a raw socket until `needle` has been seen (or EOF / 10 s).
pub async fn read_until(stream: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("raw read timed out");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

/// Reads one HTTP/1.1 response with a Content-Length (or none) from a raw
/// socket: returns the head as text and the body.
pub async fn read_response(stream: &mut TcpStream, has_body: bool) -> (String, Vec<u8>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("raw read timed out")
            .expect("raw read");
        assert!(
            n > 0,
            "connection closed before a response head: {:?}",
            String::from_utf8_lossy(&data)
        );
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut body = data[head_end..].to_vec();
    let len = if has_body {
        head.lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .expect("test responses carry a Content-Length")
    } else {
        0
    };
    while body.len() < len {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("raw read timed out")
            .expect("raw read");
        assert!(n > 0, "connection closed mid-body");
        body.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        body.len(),
        len,
        "the proxy sent bytes after the response: {:?}",
        String::from_utf8_lossy(&body)
    );
    (head, body)
}

/// Waits until the peer closes the connection; panics after `within`.
pub async fn closed_within(stream: &mut TcpStream, within: Duration) {
    let mut buf = [0u8; 1024];
    let waited = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the proxy kept the connection open longer than {within:?}");
}

pub async fn write_all(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.expect("raw write");
}

/// Header values of `name` in a captured header list.
pub fn values(headers: &venomqa_traffic::Headers, name: &str) -> Vec<String> {
    headers.get_all(name).map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}
