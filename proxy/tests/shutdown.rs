//! Graceful shutdown: stop accepting, let what is in flight finish (within
//! the drain timeout), count what had to be cut, and let go of every capture
//! sender before `serve` returns.

mod common;

use std::time::{Duration, Instant};

use common::*;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::net::TcpStream;
use venomqa_proxy::ProxyConfig;

/// An upstream whose `/slow` takes `delay`, telling the test of each
/// request it has (one message each: a `Notify` keeps one permit only, so
/// requests arriving together would be counted as one).
async fn slow_upstream(delay: Duration) -> (Upstream, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let (arrival, arrived) = tokio::sync::mpsc::unbounded_channel();
    let upstream = Upstream::start(handler(move |request: Request<Incoming>| {
        let arrival = arrival.clone();
        async move {
            if request.uri().path() == "/slow" {
                let _ = arrival.send(());
                tokio::time::sleep(delay).await;
            }
            Response::new(full("done"))
        }
    }))
    .await;
    (upstream, arrived)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_an_in_flight_slow_request_and_then_refuses_connections() {
    bounded(async {
        let (upstream, mut arrived) = slow_upstream(Duration::from_millis(800)).await;
        let mut proxy = Proxy::start(upstream.url()).await;
        let client = client();
        let in_flight = tokio::spawn({
            let url = proxy.url("/slow");
            async move { get(&client, &url).await }
        });
        arrived.recv().await.expect("the upstream is up");

        let started = Instant::now();
        let stats = proxy.shutdown().await;
        let (head, body) = in_flight.await.expect("request task");
        assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"done"[..]));
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "the drain took {:?}",
            started.elapsed()
        );
        assert_eq!(stats.exchanges, 1);
        assert_eq!(stats.abandoned_in_flight, 0);
        assert!(
            TcpStream::connect(proxy.addr).await.is_err(),
            "the proxy still accepts connections"
        );

        let captured = proxy.drain_captures();
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].response.as_ref().expect("response").body.bytes, b"done");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_timeout_cuts_what_is_still_in_flight_and_counts_it() {
    bounded(async {
        let (upstream, mut arrived) = slow_upstream(Duration::from_secs(30)).await;
        let mut config = ProxyConfig::new(upstream.url());
        config.drain_timeout = Duration::from_millis(300);
        let mut proxy = Proxy::with(config, 16).await;
        let client = client();
        let in_flight = tokio::spawn({
            let url = proxy.url("/slow");
            async move { client.get(url.parse().expect("url")).await.map(|r| r.status()) }
        });
        arrived.recv().await.expect("the upstream is up");

        let started = Instant::now();
        let stats = proxy.shutdown().await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the drain took {:?}",
            started.elapsed()
        );
        assert_eq!(stats.abandoned_in_flight, 1);
        assert!(
            in_flight.await.expect("request task").is_err(),
            "the cut request cannot have succeeded"
        );

        let captured = proxy.drain_captures();
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].error.as_ref().expect("error").kind, "abandoned");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_do_not_hold_up_shutdown() {
    bounded(async {
        let (upstream, _) = slow_upstream(Duration::ZERO).await;
        let mut proxy = Proxy::start(upstream.url()).await;
        // One connection that never says anything (connected first, so it
        // is accepted before the other one is served)...
        let _silent = TcpStream::connect(proxy.addr).await.expect("connect");
        // ...and one request, after which its connection sits in keep-alive.
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(&mut raw, b"GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n").await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 200"));
        assert_eq!(body, b"done");

        let started = Instant::now();
        let stats = proxy.shutdown().await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the drain took {:?}",
            started.elapsed()
        );
        assert_eq!((stats.connections, stats.exchanges, stats.abandoned_in_flight), (2, 1, 0));
        closed_within(&mut raw, Duration::from_secs(2)).await;
        assert_eq!(proxy.drain_captures().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_not_http_is_refused_before_serving() {
    bounded(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let config = ProxyConfig::new("ftp://shop.test".parse().expect("url"));
        let err = venomqa_proxy::serve(listener, config, None, std::future::pending())
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("http:// or https://"), "{err}");
    })
    .await;
}

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_threads_of_its_own_the_proxy_serves_and_drains_every_connection() {
    bounded(async {
        let (upstream, mut arrived) = slow_upstream(Duration::from_secs(30)).await;
        let mut config = ProxyConfig::new(upstream.url());
        config.threads = 2;
        config.drain_timeout = Duration::from_millis(300);
        let mut proxy = Proxy::with(config, 64).await;
        let client = client();
        for i in 0..6 {
            let (head, body) = get(&client, &proxy.url(&format!("/quick/{i}"))).await;
            assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"done"[..]));
        }
        let names = thread_names();
        for shard in ["venomqa-proxy-0", "venomqa-proxy-1"] {
            assert!(names.iter().any(|name| name == shard), "no thread {shard} in {names:?}");
        }
        // Four slow requests, each on a connection of its own.
        let in_flight: Vec<_> = (0..4)
            .map(|_| {
                let client = client.clone();
                let url = proxy.url("/slow");
                tokio::spawn(async move { client.get(url.parse().expect("url")).await.is_ok() })
            })
            .collect();
        for _ in 0..4 {
            arrived.recv().await.expect("the upstream is up");
        }

        let started = Instant::now();
        let stats = proxy.shutdown().await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the drain took {:?}",
            started.elapsed()
        );
        assert_eq!((stats.exchanges, stats.abandoned_in_flight), (10, 4));
        for request in in_flight {
            assert!(!request.await.expect("request task"), "a cut request cannot have succeeded");
        }
        let captured = proxy.drain_captures();
        assert_eq!(captured.len(), 10);
        let cut = captured.iter().filter(|exchange| exchange.error.is_some()).count();
        assert_eq!(cut, 4);
        assert!(
            !thread_names().iter().any(|name| name.starts_with("venomqa-proxy")),
            "the proxy's threads outlived serve"
        );
    })
    .await;
}
