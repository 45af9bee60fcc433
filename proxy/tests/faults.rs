//! Faults of single exchanges — an upstream that is down, resets or is slow,
//! a malformed or slow client, a full capture queue — get a clear answer,
//! are recorded, and never stop the proxy.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body_util::channel::Channel;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::net::TcpStream;
use venomqa_proxy::ProxyConfig;

fn hello() -> Handler {
    handler(|request: Request<Incoming>| async move {
        if request.uri().path() == "/slow" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Response::new(full("hello"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_answers_502_saying_so_and_the_proxy_serves_once_it_is_up() {
    bounded(async {
        let addr = vacant_addr().await;
        let mut proxy = Proxy::start(format!("http://{addr}").parse().expect("url")).await;
        let client = client();

        let (head, body) = get(&client, &proxy.url("/orders")).await;
        assert_eq!(head.status, StatusCode::BAD_GATEWAY);
        assert_eq!(head.headers["content-type"], "text/plain; charset=utf-8");
        assert_eq!(body, format!("venomqa: upstream http://{addr} refused the connection\n"));
        let exchange = proxy.next_capture().await;
        let error = exchange.error.expect("an error exchange");
        assert_eq!(error.kind, "refused");
        assert_eq!(error.message, format!("upstream http://{addr} refused the connection"));
        assert!(exchange.response.is_none());
        assert_eq!(exchange.request.url, "/orders");

        let _upstream = Upstream::on(listen_on(addr), hello());
        let (head, body) = get(&client, &proxy.url("/orders")).await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(body, "hello");
        assert_eq!(proxy.next_capture().await.response.expect("response").status, 200);

        let stats = proxy.shutdown().await;
        assert_eq!((stats.exchanges, stats.upstream_errors), (2, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_hangs_up_without_answering_gives_502_reset() {
    bounded(async {
        let addr = upstream_hanging_up_after(b"").await;
        let proxy = Proxy::start(format!("http://{addr}").parse().expect("url")).await;
        let (head, body) = get(&client(), &proxy.url("/")).await;
        assert_eq!(head.status, StatusCode::BAD_GATEWAY);
        assert_eq!(
            body,
            format!("venomqa: upstream http://{addr} closed the connection before answering\n")
        );
        assert_eq!(proxy.next_capture().await.error.expect("error").kind, "reset");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_gives_504_after_the_upstream_timeout() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let mut config = ProxyConfig::new(upstream.url());
        config.upstream_timeout = Duration::from_millis(300);
        let proxy = Proxy::with(config, 16).await;
        let client = client();

        let started = Instant::now();
        let (head, body) = get(&client, &proxy.url("/slow")).await;
        let waited = started.elapsed();
        assert_eq!(head.status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            body,
            format!(
                "venomqa: upstream {} sent no response within 300ms\n",
                upstream.url().to_string().trim_end_matches('/')
            )
        );
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(4),
            "answered after {waited:?}"
        );
        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.error.expect("error").kind, "timeout");
        assert!(exchange.duration_ns >= 300_000_000);

        let (head, _) = get(&client, &proxy.url("/fast")).await;
        assert_eq!(head.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_gets_400_and_the_proxy_keeps_serving() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let proxy = Proxy::start(upstream.url()).await;
        for garbage in
            [&b"this is not http\r\n\r\n"[..], b"GET /x HTTP/1.1\r\nbad header line\r\n\r\n"]
        {
            let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
            write_all(&mut raw, garbage).await;
            let answer = read_until(&mut raw, b"\r\n\r\n").await;
            assert!(answer.starts_with(b"HTTP/1.1 400"), "{:?}", String::from_utf8_lossy(&answer));
            closed_within(&mut raw, Duration::from_secs(5)).await;
        }
        let (head, body) = get(&client(), &proxy.url("/")).await;
        assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"hello"[..]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_cut_by_the_header_read_timeout() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let mut config = ProxyConfig::new(upstream.url());
        config.header_read_timeout = Duration::from_millis(300);
        let proxy = Proxy::with(config, 16).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        let started = Instant::now();
        write_all(&mut raw, b"GET / HTTP/1.1\r\nHost: shop.test\r\n").await;
        closed_within(&mut raw, Duration::from_secs(5)).await;
        // The idle timeout (60 s) is far off: this is the header-read
        // timeout, which fires at most a watchdog tick (75 ms) late.
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
            "closed after {waited:?}"
        );
        let (head, _) = get(&client(), &proxy.url("/")).await;
        assert_eq!(head.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_stalled_clients_are_cut_by_the_idle_timeout() {
    bounded(async {
        let upstream = Upstream::start(handler(|request: Request<Incoming>| async move {
            // Reads the whole body before answering, like most services.
            let body =
                request.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
            Response::new(full(body))
        }))
        .await;
        let mut config = ProxyConfig::new(upstream.url());
        config.idle_timeout = Duration::from_millis(300);
        let proxy = Proxy::with(config, 16).await;

        // Connects and says nothing at all.
        let mut silent = TcpStream::connect(proxy.addr).await.expect("connect");
        // Starts an upload and stops halfway.
        let mut stalled = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(
            &mut stalled,
            b"POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 100\r\n\r\n0123456789",
        )
        .await;
        closed_within(&mut silent, Duration::from_secs(5)).await;
        closed_within(&mut stalled, Duration::from_secs(5)).await;

        let exchange = proxy.next_capture().await;
        let error = exchange.error.expect("the stalled upload is recorded with an error");
        assert_eq!(error.kind, "idle-timeout", "{error:?}");
        assert_eq!(exchange.request.body.original_len, 10);

        // An exchange that waits on a slow upstream is not idle.
        let (head, body) = send(
            &client(),
            Request::post(proxy.url("/after")).body(full("still here")).expect("request"),
        )
        .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(body, "still here");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_a_slow_upstream_does_not_count_as_idle() {
    bounded(async {
        let upstream = Upstream::start(handler(|_request: Request<Incoming>| async move {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            Response::new(full("late"))
        }))
        .await;
        let mut config = ProxyConfig::new(upstream.url());
        config.idle_timeout = Duration::from_millis(200);
        let proxy = Proxy::with(config, 16).await;
        let (head, body) = get(&client(), &proxy.url("/")).await;
        assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"late"[..]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_capture_queue_drops_captures_but_every_request_is_answered() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        // Room for one capture, and nobody reading the queue.
        let mut proxy = Proxy::with(ProxyConfig::new(upstream.url()), 1).await;
        let client = client();
        for _ in 0..20 {
            let (head, body) = get(&client, &proxy.url("/")).await;
            assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"hello"[..]));
        }
        let stats = proxy.shutdown().await;
        assert_eq!(stats.exchanges, 20);
        assert_eq!(proxy.drain_captures().len(), 1);
        assert_eq!(proxy.captured.dropped(), 19);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_breaks_off_its_body_is_recorded_with_what_came() {
    bounded(async {
        // A head promising 100 bytes, 10 of them, and a hang-up.
        let addr =
            upstream_hanging_up_after(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                .await;
        let proxy = Proxy::start(format!("http://{addr}").parse().expect("url")).await;
        let response = client().get(proxy.url("/cut").parse().expect("url")).await.expect("head");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.into_body().collect().await.is_err(),
            "the client must see the body break off"
        );

        let exchange = proxy.next_capture().await;
        let response = exchange.response.expect("the head that came");
        assert_eq!(response.body.bytes, b"0123456789");
        assert_eq!(response.body.original_len, 10);
        assert_eq!(exchange.error.expect("error").kind, "reset");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_mid_response_is_still_captured_with_what_was_seen() {
    bounded(async {
        let upstream = Upstream::start(handler(|_request: Request<Incoming>| async move {
            let (mut tx, body) = Channel::<Bytes, BoxError>::new(1);
            tokio::spawn(async move {
                let _ = tx.send_data(Bytes::from_static(b"first part;")).await;
                // The rest would come much later.
                tokio::time::sleep(Duration::from_secs(30)).await;
                let _ = tx.send_data(Bytes::from_static(b"second part")).await;
            });
            Response::new(body.boxed())
        }))
        .await;
        let proxy = Proxy::start(upstream.url()).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(&mut raw, b"GET /stream HTTP/1.1\r\nHost: shop.test\r\n\r\n").await;
        let seen = read_until(&mut raw, b"first part;").await;
        assert!(seen.starts_with(b"HTTP/1.1 200"));
        drop(raw);

        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.response.expect("response").body.bytes, b"first part;");
        assert_eq!(exchange.error.expect("error").kind, "client-gone");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_is_refused_by_the_reverse_proxy() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(&mut raw, b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
            .await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 405"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("CONNECT is not supported"));
        assert_eq!(proxy.next_capture().await.error.expect("error").kind, "unsupported");
    })
    .await;
}

/// An upstream that reads the whole request body, then answers with it.
fn echo() -> Handler {
    handler(|request: Request<Incoming>| async move {
        let body = request.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Response::new(full(body))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upload_longer_than_the_upstream_timeout_is_answered() {
    bounded(async {
        let upstream = Upstream::start(echo()).await;
        let mut config = ProxyConfig::new(upstream.url());
        config.upstream_timeout = Duration::from_millis(300);
        let proxy = Proxy::with(config, 16).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(
            &mut raw,
            b"POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 60\r\n\r\n",
        )
        .await;
        // 60 bytes over 1.2 s: four times the upstream timeout, never idle.
        for chunk in 0..6 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            write_all(&mut raw, format!("chunk {chunk}...").as_bytes()).await;
        }
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 200"), "the upload was blamed on the upstream: {head}");
        assert_eq!(body.len(), 60);
        let exchange = proxy.next_capture().await;
        assert!(exchange.error.is_none(), "{:?}", exchange.error);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_is_the_clients_fault_not_an_upstream_timeout() {
    bounded(async {
        let upstream = Upstream::start(echo()).await;
        let mut config = ProxyConfig::new(upstream.url());
        config.upstream_timeout = Duration::from_millis(200);
        config.idle_timeout = Duration::from_millis(800);
        let mut proxy = Proxy::with(config, 16).await;
        let mut stalled = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(
            &mut stalled,
            b"POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 100\r\n\r\n0123456789",
        )
        .await;
        closed_within(&mut stalled, Duration::from_secs(10)).await;
        let exchange = proxy.next_capture().await;
        let error = exchange.error.expect("the stalled upload is recorded with an error");
        assert_eq!(error.kind, "idle-timeout", "{error:?}");
        let stats = proxy.shutdown().await;
        assert_eq!(stats.upstream_errors, 0, "not the upstream's fault: {stats:?}");
    })
    .await;
}
