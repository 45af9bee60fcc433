//! A forward proxy's `CONNECT` tunnels. A tunnel to a host that is
//! recorded is intercepted: the client is answered `200`, then its TLS is
//! accepted with a certificate from the recording CA and what it sends is
//! served like any other connection, to the `https://` origin it named, or,
//! when it speaks plain HTTP in the tunnel, to the `http://` one
//! (`server.rs` runs that once hyper hands the socket over). Any other
//! tunnel is passed through unread, and recorded, when its host is, as one
//! `CONNECT host:port` exchange.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use tokio::net::TcpStream;

use crate::config::Upstream;
use crate::fault::Fault;
use crate::idle::Activity;
use crate::origins::Forwarding;
use crate::pending::PendingExchange;
use crate::sink::CaptureSink;
use crate::stats::Counters;
use crate::upgrade::{self, Tunnel};

/// What a connection becomes once hyper hands its socket over.
pub(crate) enum Switch {
    /// Bytes copied both ways: an upgrade, or a tunnel passed through.
    Tunnel(Tunnel),
    /// A tunnel whose TLS is accepted and whose requests are served.
    Intercept(Intercept),
}

/// A tunnel to read: what `server.rs` needs once the socket is handed over.
pub(crate) struct Intercept {
    pub client: OnUpgrade,
    /// The host the certificate names when the client sends no SNI (an IP
    /// address).
    pub host: String,
    /// `host:port`, where a tunnel that turns out to be plain HTTP goes.
    pub authority: Authority,
    /// Where its requests go when it speaks TLS: `https://host:port`.
    pub upstream: Arc<Upstream>,
    /// Whether its exchanges are recorded.
    pub records: bool,
}

/// What answering a CONNECT needs of its connection and proxy.
pub(crate) struct Asker<'a> {
    pub counters: &'a Arc<Counters>,
    /// Where a recorded tunnel goes, and the body cap.
    pub capture: Option<(&'a CaptureSink, usize)>,
    pub activity: &'a Arc<Activity>,
    pub client: &'a str,
    /// How long opening a tunnel passed through may take.
    pub connect_timeout: Duration,
}

/// Answers a `CONNECT`: the response, and the tunnel the connection
/// becomes once the client has it.
pub(crate) async fn answer(
    asker: Asker<'_>,
    forwarding: &Forwarding,
    mut request: Request<Incoming>,
) -> (Response<Full<Bytes>>, Option<Switch>) {
    let client = hyper::upgrade::on(&mut request);
    let (head, _body) = request.into_parts();
    let Some(authority) = head.uri.authority().cloned() else {
        return (Fault::bad_connect_target(&head.uri.to_string()).response(), None);
    };
    let host = authority.host().to_owned();
    let intercept = forwarding.config.intercepts(&host);
    let records_tunnel = !intercept && forwarding.config.records(&host);
    let exchange = PendingExchange::start(
        asker.counters,
        asker.capture.filter(|_| records_tunnel),
        asker.activity,
        asker.client,
        &head,
    );
    let switch = if intercept {
        forwarding.origin("https", &authority).map(|upstream| {
            Switch::Intercept(Intercept {
                client,
                records: forwarding.config.records(&host),
                host,
                authority: authority.clone(),
                upstream,
            })
        })
    } else {
        pass_through(&asker, &authority, client).await
    };
    match switch {
        Ok(switch) => {
            let (parts, body) = Response::new(Full::new(Bytes::new())).into_parts();
            exchange.response_head(&parts);
            (Response::from_parts(parts, body), Some(switch))
        }
        Err(fault) => {
            if fault.is_upstream() {
                Counters::bump(&asker.counters.upstream_errors);
            }
            exchange.failed(fault.kind, &fault.message);
            (fault.response(), None)
        }
    }
}

/// Opens the connection a tunnel passed through unread goes to.
async fn pass_through(
    asker: &Asker<'_>,
    authority: &Authority,
    client: OnUpgrade,
) -> Result<Switch, Fault> {
    let port = authority.port_u16().unwrap_or(443);
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let target = format!("tunnel to {authority}");
    let timeout = asker.connect_timeout;
    let connected = tokio::time::timeout(timeout, TcpStream::connect((host, port))).await;
    let stream = match connected {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => return Err(Fault::from_connect_error(&target, &err)),
        Err(_elapsed) => return Err(Fault::timeout(&target, timeout)),
    };
    Ok(Switch::Tunnel(upgrade::pipe(client, stream, asker.counters)))
}
