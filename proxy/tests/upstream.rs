//! The proxy's connections to the upstream: each client connection has its
//! own, reused for its requests and closed with it; a connection the
//! upstream closed is replaced; concurrent HTTP/2 streams get one each; and
//! the upstream timeout holds on a reused connection.

mod common;

use std::time::{Duration, Instant};

use common::*;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::net::TcpStream;
use venomqa_proxy::ProxyConfig;

fn hello() -> Handler {
    handler(|request: Request<Incoming>| async move {
        match request.uri().path() {
            "/slow" => tokio::time::sleep(Duration::from_secs(5)).await,
            "/pause" => tokio::time::sleep(Duration::from_millis(200)).await,
            _ => {}
        }
        Response::new(full("hello"))
    })
}

async fn get_raw(raw: &mut TcpStream, path: &str) -> (String, Vec<u8>) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: shop.test\r\n\r\n");
    write_all(raw, request.as_bytes()).await;
    read_response(raw, true).await
}

/// Waits up to 5 s for `check` to hold.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "{what} did not happen within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_connection_keeps_one_upstream_connection_and_closes_it_when_it_goes() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let proxy = Proxy::start(upstream.url()).await;

        let mut first = TcpStream::connect(proxy.addr).await.expect("connect");
        for _ in 0..5 {
            let (head, body) = get_raw(&mut first, "/").await;
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            assert_eq!(body, b"hello");
        }
        assert_eq!(upstream.connections.accepted(), 1, "five requests, one upstream connection");

        let mut second = TcpStream::connect(proxy.addr).await.expect("connect");
        let (head, _) = get_raw(&mut second, "/").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(upstream.connections.accepted(), 2, "each client connection has its own");

        drop(first);
        eventually("the first upstream connection closing", || upstream.connections.ended() == 1)
            .await;
        let (head, _) = get_raw(&mut second, "/").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(upstream.connections.accepted(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_connection_the_upstream_closed_is_replaced_by_a_new_one() {
    bounded(async {
        // Answers one request a connection, then hangs up without saying
        // so (as a keep-alive timeout would).
        let addr =
            upstream_hanging_up_after(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
        let proxy = Proxy::start(format!("http://{addr}").parse().expect("url")).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        for round in 0..4 {
            if round == 2 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let (head, body) = get_raw(&mut raw, "/").await;
            assert!(head.starts_with("HTTP/1.1 200"), "round {round}: {head}");
            assert_eq!(body, b"ok");
        }
        for _ in 0..4 {
            assert!(proxy.next_capture().await.error.is_none());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_http2_streams_each_get_an_upstream_connection() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let client = h2c_client();
        let requests = (0..10).map(|_| {
            let client = client.clone();
            let url = proxy.url("/pause");
            tokio::spawn(async move { get(&client, &url).await })
        });
        for answer in futures_util::future::join_all(requests).await {
            let (head, body) = answer.expect("request task");
            assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"hello"[..]));
        }
        let accepted = upstream.connections.accepted();
        assert!((2..=10).contains(&accepted), "{accepted} upstream connections for 10 streams");

        // Once they are free again, later streams reuse them.
        for _ in 0..3 {
            let (head, _) = get(&client, &proxy.url("/")).await;
            assert_eq!(head.status, StatusCode::OK);
        }
        assert_eq!(upstream.connections.accepted(), accepted);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_timeout_holds_for_each_request_on_a_reused_connection() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let mut config = ProxyConfig::new(upstream.url());
        // Margins of a second: this runs on loaded 2-core machines.
        config.upstream_timeout = Duration::from_millis(1200);
        let proxy = Proxy::with(config, 64).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        let timed = |head: &str, started: Instant| {
            let waited = started.elapsed();
            assert!(head.starts_with("HTTP/1.1 504"), "{head}");
            assert!(
                waited >= Duration::from_millis(1200) && waited < Duration::from_millis(4900),
                "answered after {waited:?}"
            );
        };

        // Fast requests leave the connection's timer armed for their
        // deadlines; a slow one that follows still gets its full timeout.
        for _ in 0..3 {
            let (head, _) = get_raw(&mut raw, "/").await;
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (head, _) = get_raw(&mut raw, "/pause").await;
        assert!(head.starts_with("HTTP/1.1 200"), "a 200 ms answer is in time: {head}");
        let started = Instant::now();
        let (head, _) = get_raw(&mut raw, "/slow").await;
        timed(&head, started);

        // After a quiet spell (the timer fired with nothing waiting), on a
        // new upstream connection and then on a reused one.
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let (head, _) = get_raw(&mut raw, "/").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let started = Instant::now();
        let (head, _) = get_raw(&mut raw, "/slow").await;
        timed(&head, started);
        let (head, body) = get_raw(&mut raw, "/").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"hello");
    })
    .await;
}
