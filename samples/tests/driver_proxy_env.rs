//! The driver honours `HTTP_PROXY` and `NO_PROXY`, and tags every request with `X-Session`.
//!
//! This file holds a single test because it changes the process environment,
//! which every test in the same binary would see.

use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use venomqa_samples::{drive, ClientTrust, DriveOptions};
use venomqa_testkit::start_shop;
use venomqa_testkit::upstream::{full, handler, TestBody, Upstream};

/// What the forward proxy saw: the request target and the `X-Session` header of each request.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A minimal forward proxy: takes absolute-form requests, forwards them with
/// a client that ignores the environment, and remembers each one. It stops
/// when the returned server is dropped.
async fn start_forward_proxy() -> (Upstream, Seen) {
    let seen: Seen = Arc::default();
    let client = venomqa_testkit::http::client();
    let log = Arc::clone(&seen);
    let server = Upstream::start(handler(move |req: Request<Incoming>| {
        let (client, log) = (client.clone(), Arc::clone(&log));
        async move { forward(&client, &log, req).await }
    }))
    .await;
    (server, seen)
}

async fn forward(
    client: &reqwest::Client,
    log: &Seen,
    req: Request<Incoming>,
) -> Response<TestBody> {
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
    response.body(full(answer.bytes().await.expect("the answer body"))).expect("a response")
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
    let shop = start_shop("all").await;
    let (forward_proxy, seen) = start_forward_proxy().await;
    let proxy = format!("http://{}", forward_proxy.addr);
    let opts = DriveOptions {
        base: shop.base_url(),
        users: 3,
        sessions: 6,
        seed: 4,
        concurrency: 3,
        trust: ClientTrust::default(),
    };

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
