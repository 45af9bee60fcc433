//! The proxy tests' fixtures: the shared set-ups from `venomqa-testkit`
//! (upstreams, the proxy with its capture queue, raw sockets), plus HTTP
//! clients, time bounds and data only these tests use. Everything runs on
//! loopback with ports picked at run time.
#![allow(dead_code, unused_imports)]

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
pub use venomqa_testkit::proxy::Proxy;
pub use venomqa_testkit::socket::{closed_within, read_response, read_until, write_all};
pub use venomqa_testkit::upstream::{
    empty, full, handler, listen_on, upstream_hanging_up_after, vacant_addr, BoxError, Handler,
    TestBody, Upstream,
};

/// Generous: the machine running the tests may be small and busy.
pub const BOUND: Duration = Duration::from_secs(60);

/// Runs a test body under a hard time limit, so a hang fails instead of
/// blocking the suite.
pub async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, test).await.expect("test took longer than its time bound")
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

/// Header values of `name` in a captured header list.
pub fn values(headers: &venomqa_traffic::Headers, name: &str) -> Vec<String> {
    headers.get_all(name).map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}
