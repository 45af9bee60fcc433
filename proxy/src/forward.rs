//! The forward phase: turn the client's request into the upstream's and send
//! it on one of the client connection's upstream connections
//! (`upstream.rs`), bounded by the upstream timeout.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{header, HeaderValue, Request, Response, Version};
use hyper::body::Incoming;

use crate::config::Upstream;
use crate::fault::Fault;
use crate::headers::{self, HopHeaders};
use crate::pending::PendingExchange;
use crate::tee::{Side, TeeBody};
use crate::upstream::{self, UpstreamRequest, Upstreams, Wait};

/// The request for the upstream: origin-form target (with the upstream's
/// base path), `Host` rewritten, hop-by-hop headers removed, the body
/// wrapped in a request tee.
pub(crate) fn upstream_request(
    upstream: &Upstream,
    mut head: http::request::Parts,
    body: Incoming,
    exchange: &Arc<PendingExchange>,
    forwarded: Option<SocketAddr>,
    hop: HopHeaders,
    upgrade: bool,
) -> Result<UpstreamRequest, Fault> {
    head.uri = upstream.target_for(std::mem::take(&mut head.uri)).map_err(|err| Fault {
        kind: "upstream",
        status: http::StatusCode::BAD_GATEWAY,
        message: format!("cannot build a request for upstream {}: {err}", upstream.display),
    })?;
    // The proxy speaks HTTP/1.1 to the upstream whatever the client spoke;
    // hyper frames each side for its own peer.
    head.version = Version::HTTP_11;
    let accepts_trailers = headers::accepts_trailers(&head.headers, hop);
    headers::strip_hop_by_hop(&mut head.headers, hop, upgrade);
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

/// Sends the request on one of the client connection's upstream
/// connections (an upgrade on a new one) and waits for the response head,
/// until the upstream timeout runs out.
pub(crate) async fn send(
    upstreams: &Upstreams,
    wait: &Wait<'_>,
    request: UpstreamRequest,
    upgrade: bool,
) -> Result<Response<Incoming>, Fault> {
    if upgrade {
        // Rare, and its future is large: boxed, so that every other
        // request does not carry it.
        Box::pin(upstream::send_upgrade(wait, request)).await
    } else {
        upstreams.send(wait, request).await
    }
}
