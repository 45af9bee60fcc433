//! Protocol upgrades (WebSocket and friends): the request goes through like
//! any other, and when the upstream answers `101 Switching Protocols` the
//! two connections are taken over from hyper and bytes are copied both ways
//! until either side closes. A forward proxy's CONNECT passed through
//! unread is piped the same way.
//!
//! An upgrade request goes out on an upstream connection of its own, run
//! `with_upgrades` so that hyper hands its socket over. The tunnel runs
//! in the client connection's own task, after hyper hands the socket over,
//! so shutdown and the idle timeout treat it like the connection it was.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::stats::{Counters, InFlight};

/// The byte copy between an upgraded client connection and an upgraded
/// upstream connection, ready to be run by the connection task.
pub(crate) type Tunnel = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Builds the tunnel for a `101` answer. It counts as in flight until it
/// closes, so a shutdown waits for it (up to the drain timeout).
pub(crate) fn tunnel(client: OnUpgrade, upstream: OnUpgrade, counters: &Arc<Counters>) -> Tunnel {
    let in_flight = InFlight::start(counters);
    Box::pin(async move {
        let _in_flight = in_flight;
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(pair) => pair,
            Err(err) => {
                tracing::debug!("upgrade did not complete: {err}");
                return;
            }
        };
        let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
        match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            Ok((up, down)) => tracing::debug!(up, down, "upgraded connection closed"),
            Err(err) => tracing::debug!("upgraded connection broke: {err}"),
        }
    })
}

/// Builds the tunnel for a CONNECT passed through unread: the client's
/// upgraded connection piped to the connection opened to its target.
pub(crate) fn pipe(client: OnUpgrade, mut target: TcpStream, counters: &Arc<Counters>) -> Tunnel {
    let in_flight = InFlight::start(counters);
    Box::pin(async move {
        let _in_flight = in_flight;
        let client = match client.await {
            Ok(client) => client,
            Err(err) => {
                tracing::debug!("CONNECT did not complete: {err}");
                return;
            }
        };
        match tokio::io::copy_bidirectional(&mut TokioIo::new(client), &mut target).await {
            Ok((up, down)) => tracing::debug!(up, down, "tunnel closed"),
            Err(err) => tracing::debug!("tunnel broke: {err}"),
        }
    })
}
