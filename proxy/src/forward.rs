//! The forward phase: turn the client's request into the upstream's and send
//! it on a pooled connection, bounded by the upstream timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{header, HeaderValue, Request, Response, Version};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::capture::PendingExchange;
use crate::config::Upstream;
use crate::fault::Fault;
use crate::headers;
use crate::tee::{Side, TeeBody};

/// The pooled HTTP/1.1 client every connection shares. It speaks to one
/// upstream, so the pool is simply that upstream's idle connections.
pub(crate) type UpstreamClient = Client<HttpConnector, TeeBody<Incoming>>;

pub(crate) fn upstream_client() -> UpstreamClient {
    let mut connector = HttpConnector::new();
    // Small request/response pairs are the common case: don't let Nagle
    // hold the last segment of a message back.
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        // The forward phase sets `Host` itself, to the upstream authority.
        .set_host(false)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_timer(TokioTimer::new())
        .build(connector)
}

/// The request for the upstream: absolute URI on the upstream (with its base
/// path), `Host` rewritten, hop-by-hop headers removed, the body wrapped in a
/// request tee. The extensions travel along: they carry the header-name case
/// hyper preserved.
pub(crate) fn upstream_request(
    upstream: &Upstream,
    mut head: http::request::Parts,
    body: Incoming,
    exchange: &Arc<PendingExchange>,
    forwarded: Option<SocketAddr>,
    upgrade: bool,
) -> Result<Request<TeeBody<Incoming>>, Fault> {
    head.uri = upstream.uri_for(head.uri.path_and_query()).map_err(|err| Fault {
        kind: "upstream",
        status: http::StatusCode::BAD_GATEWAY,
        message: format!("cannot build a request for upstream {}: {err}", upstream.display),
    })?;
    // The pool speaks HTTP/1.1 to the upstream whatever the client spoke;
    // hyper frames each side for its own peer.
    head.version = Version::HTTP_11;
    let accepts_trailers = headers::accepts_trailers(&head.headers);
    headers::strip_hop_by_hop(&mut head.headers, upgrade);
    if accepts_trailers {
        head.headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
    if let Some(client) = forwarded {
        let original_host = head.headers.get(header::HOST).cloned();
        headers::add_forwarded(&mut head.headers, client, original_host.as_ref());
    }
    head.headers.insert(header::HOST, upstream.host.clone());
    Ok(Request::from_parts(head, TeeBody::new(body, Side::Request, exchange.clone())))
}

/// Sends the request and waits for the response head, at most `timeout`.
pub(crate) async fn send(
    client: &UpstreamClient,
    upstream: &Upstream,
    timeout: Duration,
    request: Request<TeeBody<Incoming>>,
) -> Result<Response<Incoming>, Fault> {
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(err)) => Err(Fault::from_client_error(&upstream.display, &err)),
        Err(_elapsed) => Err(Fault::timeout(&upstream.display, timeout)),
    }
}
