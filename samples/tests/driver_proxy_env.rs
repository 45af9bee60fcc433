//! The driver honours `HTTP_PROXY` and `NO_PROXY`, and tags every request with `X-Session`.
//!
//! This file holds a single test because it changes the process environment,
//! which every test in the same binary would see.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use venomqa_samples::{drive, spawn_shop, BugSet, DriveOptions, ShopConfig};

/// What the forward proxy saw: the request target and the `X-Session` header of each request.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A minimal forward proxy: takes absolute-form requests, forwards them with
/// a client that ignores the environment, and remembers each one.
async fn start_forward_proxy() -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let seen: Seen = Arc::default();
    let client = reqwest::Client::builder().no_proxy().build().expect("a client");
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (client, log) = (client.clone(), Arc::clone(&log));
            let service = service_fn(move |req: Request<Incoming>| {
                let (client, log) = (client.clone(), Arc::clone(&log));
                async move { Ok::<_, Infallible>(forward(&client, &log, req).await) }
            });
            tokio::spawn(async move {
                http1::Builder::new().serve_connection(TokioIo::new(stream), service).await
            });
        }
    });
    (format!("http://{addr}"), seen)
}

async fn forward(
    client: &reqwest::Client,
    log: &Seen,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let session = req.headers().get("x-session").and_then(|v| v.to_str().ok()).map(str::to_string);
    log.lock().expect("the log").push((req.uri().to_string(), session));
    let (parts, body) = req.into_parts();
    let body = body.collect().await.expect("the request body").to_bytes();
    let answer = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .expect("the shop answers the proxy");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    response.body(Full::new(answer.bytes().await.expect("the answer body"))).expect("a response")
}

fn set_proxy_environment(http_proxy: &str, no_proxy: Option<&str>) {
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("HTTP_PROXY", http_proxy);
    if let Some(no_proxy) = no_proxy {
        std::env::set_var("NO_PROXY", no_proxy);
    }
}

#[tokio::test]
async fn the_driver_goes_through_http_proxy_unless_no_proxy_excludes_the_shop() {
    let shop = spawn_shop(ShopConfig { bugs: BugSet::all() }).await.expect("a shop");
    let (proxy, seen) = start_forward_proxy().await;
    let opts =
        DriveOptions { base: shop.base_url(), users: 3, sessions: 6, seed: 4, concurrency: 3 };

    set_proxy_environment(&proxy, None);
    let report = drive(opts.clone()).await.expect("a run through the proxy");
    assert!(report.unexpected.is_empty(), "{report}");
    let through_proxy = seen.lock().expect("the log").clone();
    assert_eq!(through_proxy.len(), report.requests, "every request went through HTTP_PROXY");
    assert!(
        through_proxy.iter().all(|(target, _)| target.starts_with(&shop.base_url())),
        "absolute-form targets"
    );

    // Every request names its session, and the sessions interleave.
    let sessions: Vec<&str> =
        through_proxy.iter().map(|(_, s)| s.as_deref().expect("an X-Session header")).collect();
    let known: std::collections::BTreeSet<&str> =
        report.session_ids.iter().map(String::as_str).collect();
    assert!(sessions.iter().all(|s| known.contains(s)), "{sessions:?}");
    assert_eq!(sessions.iter().collect::<std::collections::BTreeSet<_>>().len(), 6);
    let switches = sessions.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches > 6, "three sessions at a time interleave: {sessions:?}");

    set_proxy_environment(&proxy, Some("127.0.0.1"));
    let direct = drive(opts).await.expect("a direct run");
    assert!(direct.unexpected.is_empty(), "{direct}");
    assert_eq!(
        seen.lock().expect("the log").len(),
        report.requests,
        "NO_PROXY kept the second run direct"
    );
    shop.shutdown().await;
}
