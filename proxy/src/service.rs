//! One exchange, phase by phase: read request → forward → respond, with the
//! capture phase (`pending.rs`) fed along the way and finishing after the
//! response body ends.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{Either, Full};
use hyper::body::Incoming;

use crate::config::Upstream;
use crate::connect::{self, Asker, Switch};
use crate::fault::Fault;
use crate::forward;
use crate::headers::{self, HopHeaders, ViaMarker};
use crate::idle::Activity;
use crate::origins::Forwarding;
use crate::pending::PendingExchange;
use crate::sink::CaptureSink;
use crate::stats::Counters;
use crate::tee::{Side, TeeBody};
use crate::upgrade;
use crate::upstream::{Upstreams, Wait};

/// What the client gets: the upstream's body through a tee, or a fault's
/// short text.
pub(crate) type ProxyBody = Either<TeeBody<Incoming>, Full<Bytes>>;

/// What every exchange of a proxy run needs.
#[derive(Debug)]
pub(crate) struct Shared {
    /// A reverse proxy's one upstream; `None` for a forward proxy.
    pub upstream: Option<Arc<Upstream>>,
    /// A forward proxy's origins and what it records.
    pub forward: Option<Forwarding>,
    pub capture: Option<CaptureSink>,
    pub body_cap: usize,
    pub forwarded: bool,
    pub upstream_timeout: Duration,
    pub counters: Arc<Counters>,
    /// This proxy's `Via` entry: added to every forwarded request, and how
    /// a request that looped back is recognised.
    pub via: ViaMarker,
}

/// What the exchanges of one client connection share.
pub(crate) struct ConnContext {
    pub shared: Arc<Shared>,
    pub peer: SocketAddr,
    /// `peer` as recorded in exchanges, formatted once per connection.
    pub peer_text: String,
    pub activity: Arc<Activity>,
    /// This connection's own connections to the upstream.
    pub upstreams: Upstreams,
    /// Where this connection's requests go; `None` for a forward proxy's
    /// client connection, whose requests each name their origin.
    pub upstream: Option<Arc<Upstream>>,
    /// Whether this connection's exchanges are recorded (a forward proxy's
    /// client connection decides request by request).
    pub records: bool,
    /// Set by an exchange that switched protocols (or a CONNECT); the
    /// connection task runs it once hyper has handed the socket over.
    pub switch: Mutex<Option<Switch>>,
}

impl ConnContext {
    pub fn set_switch(&self, switch: Switch) {
        *self.switch.lock().unwrap_or_else(PoisonError::into_inner) = Some(switch);
    }

    pub fn take_switch(&self) -> Option<Switch> {
        self.switch.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Whether a request with this head is recorded.
    fn records(&self, head: &http::request::Parts) -> bool {
        match (&self.upstream, &self.shared.forward) {
            (None, Some(forwarding)) => {
                head.uri.host().is_some_and(|host| forwarding.config.records(host))
            }
            _ => self.records,
        }
    }
}

/// Serves one request. Never fails: every fault becomes a response.
pub(crate) async fn handle(
    conn: Arc<ConnContext>,
    mut request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let shared = &conn.shared;

    // Read request: note its arrival and, when capturing, its head as the
    // client sent it. An upgrade request leaves a handle on the client's
    // side of the switch.
    Counters::bump(&shared.counters.exchanges);
    if request.method() == Method::CONNECT && conn.upstream.is_none() {
        if let Some(forwarding) = &shared.forward {
            let asker = Asker {
                counters: &shared.counters,
                capture: shared.capture.as_ref().map(|sink| (sink, shared.body_cap)),
                activity: &conn.activity,
                client: &conn.peer_text,
                connect_timeout: shared.upstream_timeout,
            };
            let (response, switch) = connect::answer(asker, forwarding, request).await;
            if let Some(switch) = switch {
                conn.set_switch(switch);
            }
            return Ok(response.map(Either::Right));
        }
    }
    let hop = HopHeaders::scan(request.headers());
    let client_upgrade = (request.version() == Version::HTTP_11
        && headers::wants_upgrade(request.headers(), hop))
    .then(|| hyper::upgrade::on(&mut request));
    let (head, body) = request.into_parts();
    let exchange = PendingExchange::start(
        &shared.counters,
        shared.capture.as_ref().filter(|_| conn.records(&head)).map(|sink| (sink, shared.body_cap)),
        &conn.activity,
        &conn.peer_text,
        &head,
    );

    // Forward: to the connection's upstream, or to the origin a forward
    // proxy's request names.
    let mut origin = None;
    let upstream = match (&conn.upstream, &shared.forward) {
        (Some(upstream), _) => Ok(upstream),
        (None, Some(forwarding)) => match forwarding.for_request(&head.uri) {
            Ok(named) => Ok(&*origin.insert(named)),
            Err(fault) => Err(fault),
        },
        (None, None) => Err(Fault::not_absolute()),
    };
    let sent = match upstream {
        Ok(upstream) => {
            let upgrade = client_upgrade.is_some();
            forward_phase(&conn, upstream, &exchange, head, body, hop, upgrade).await
        }
        Err(fault) => Err(fault),
    };

    // Respond.
    let response = match sent {
        Ok(response) => respond(&conn, &exchange, response, client_upgrade),
        Err(fault) => {
            // A request body the client broke off is why the upstream
            // request failed, whatever error it shows.
            let fault = if exchange.request_body_failed() { Fault::client_gone() } else { fault };
            if fault.is_upstream() {
                Counters::bump(&shared.counters.upstream_errors);
            }
            tracing::debug!(kind = fault.kind, "{}", fault.message);
            exchange.failed(fault.kind, &fault.message);
            fault.response().map(Either::Right)
        }
    };
    Ok(response)
}

/// The forward phase: the upstream's response head, or why there is none.
async fn forward_phase(
    conn: &ConnContext,
    upstream: &Arc<Upstream>,
    exchange: &Arc<PendingExchange>,
    head: http::request::Parts,
    body: Incoming,
    hop: HopHeaders,
    upgrade: bool,
) -> Result<Response<Incoming>, Fault> {
    if head.method == Method::CONNECT {
        return Err(Fault::connect_unsupported());
    }
    let shared = &conn.shared;
    let host_missing = head.version == Version::HTTP_11
        && head.uri.authority().is_none()
        && !head.headers.contains_key(http::header::HOST);
    if host_missing {
        return Err(Fault::missing_host());
    }
    if shared.via.seen_in(&head.headers) {
        return Err(Fault::loop_detected(&upstream.display));
    }
    let forwarded = shared.forwarded.then_some(conn.peer);
    let mut request =
        forward::upstream_request(upstream, head, body, exchange, forwarded, hop, upgrade)?;
    shared.via.add_to(request.headers_mut());
    let _awaiting = exchange.awaiting_head();
    let wait = Wait {
        upstream,
        timeout: shared.upstream_timeout,
        deadline: exchange.started().checked_add(shared.upstream_timeout),
        sent: exchange.request_sent(),
    };
    let response = forward::send(&conn.upstreams, &wait, request, upgrade).await?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS && !upgrade {
        // Nothing on the client's side could follow the switch.
        return Err(Fault::unasked_switch(&upstream.display));
    }
    Ok(response)
}

/// The respond phase: record the upstream's head as it came, strip its
/// hop-by-hop headers and stream its body to the client through a tee.
fn respond(
    conn: &ConnContext,
    exchange: &Arc<PendingExchange>,
    mut response: Response<Incoming>,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<ProxyBody> {
    let switching = response.status() == StatusCode::SWITCHING_PROTOCOLS;
    let upgrade = match client_upgrade {
        Some(client) if switching => {
            let upstream = hyper::upgrade::on(&mut response);
            let tunnel = upgrade::tunnel(client, upstream, &conn.shared.counters);
            conn.set_switch(Switch::Tunnel(tunnel));
            true
        }
        _ => false,
    };
    let (mut head, body) = response.into_parts();
    exchange.response_head(&head);
    let hop = HopHeaders::scan(&head.headers);
    headers::strip_hop_by_hop(&mut head.headers, hop, upgrade);
    // hyper writes the response in the client's protocol; HTTP/1.1 is the
    // version its server expects to be handed.
    head.version = Version::HTTP_11;
    Response::from_parts(head, Either::Left(TeeBody::new(body, Side::Response, exchange.clone())))
}
