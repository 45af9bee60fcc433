//! The accept phase, the per-connection task and graceful shutdown.
//!
//! Shutdown follows mini-redis: one signal (a `watch` channel) that every
//! connection task listens to, and a final drain. When the caller's
//! `shutdown` future resolves the listener is dropped (new connections are
//! refused by the OS), every connection is asked to finish (hyper's
//! `graceful_shutdown`: HTTP/1 closes after the response in progress, HTTP/2
//! sends GOAWAY), and the drain waits, at most `drain_timeout`, for the
//! exchanges in flight. Whatever is still running then is counted and cut.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::rustls::server::Acceptor;
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor};

use crate::config::{ProxyConfig, Route, Upstream};
use crate::connect::{Intercept, Switch};
use crate::headers::ViaMarker;
use crate::idle::{Activity, IdleWatch, TickTimer, WatchedIo};
use crate::origins::Forwarding;
use crate::prefixed::Prefixed;
use crate::service::{self, ConnContext, Shared};
use crate::shards::{Accepted, Shards};
use crate::sink;
use crate::stats::{Counters, ProxyStats};
use crate::upstream::{Drivers, Upstreams};
use crate::Error;

/// After the last exchange in flight has ended, how long connections get to
/// write out what hyper still buffers before they are closed. Connections
/// still open after that have nothing in flight: they are idle or stuck in
/// a request head, and closing them loses nothing.
const FLUSH_GRACE: Duration = Duration::from_millis(500);

/// Runs the proxy on `listener` until `shutdown` resolves, then drains and
/// returns what it did. See the crate docs for an example.
///
/// `capture` is where finished exchanges go; `None` turns capture off (no
/// body is copied), e.g. to measure the proxy alone. Every clone of the
/// sender that the proxy made is dropped by the time this returns, so the
/// store's writer sees the channel close.
pub async fn serve(
    listener: TcpListener,
    config: ProxyConfig,
    capture: Option<venomqa_traffic::CaptureSender>,
    shutdown: impl Future<Output = ()>,
) -> Result<ProxyStats, Error> {
    // `record` says so loudly when the trust is insecure.
    let upstream_tls = config.upstream_trust.client_config(&venomqa_tls::SERVER_ALPN)?;
    let (upstream, forward) = match &config.route {
        Route::Reverse(uri) => {
            let upstream = Upstream::parse(uri, &upstream_tls)?;
            if let Ok(listen) = listener.local_addr() {
                upstream.refuse_self(listen).await?;
            }
            (Some(Arc::new(upstream)), None)
        }
        Route::Forward(forward) => (None, Some(Forwarding::new(forward.clone(), upstream_tls))),
    };
    let counters = Arc::new(Counters::default());
    let (sink, forwarder) = capture.map(sink::start).unzip();
    let shared = Arc::new(Shared {
        capture: sink,
        body_cap: config.body_cap,
        forwarded: config.forwarded,
        upstream_timeout: config.upstream_timeout,
        counters: counters.clone(),
        upstream,
        forward,
        via: ViaMarker::new(),
    });
    if let Ok(addr) = listener.local_addr() {
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        match &shared.upstream {
            Some(upstream) => tracing::info!(
                "proxy listening on {scheme}://{addr}, forwarding to {}",
                upstream.display
            ),
            None => tracing::info!("forward proxy listening on {scheme}://{addr}"),
        }
    }
    let (stop, stopping) = watch::channel(false);
    let serving = Arc::new(Serving {
        shared,
        tls: config.tls.clone().map(TlsAcceptor::from),
        builder: http_builder(&config),
        timeouts: (config.idle_timeout, config.header_read_timeout),
        drain_timeout: config.drain_timeout,
        stopping,
    });
    let shards = Shards::start(config.threads, |handed| serving.clone().shard(handed))?;

    // Accept phase.
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    Counters::bump(&counters.connections);
                    shards.hand(stream, peer);
                }
                Err(err) => {
                    // Usually a connection reset before it was accepted, or
                    // out of file descriptors; neither should stop the proxy,
                    // and a short pause keeps the second from spinning.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);

    // Drain.
    tracing::info!(in_flight = counters.in_flight(), "shutting down: draining connections");
    let _ = stop.send(true);
    let abandoned = shards.finish().await;
    drop(serving);
    if let Some(forwarder) = forwarder {
        forwarder.finish().await;
    }
    Ok(counters.snapshot(abandoned))
}

/// What every connection of a proxy run is served with.
struct Serving {
    shared: Arc<Shared>,
    /// Clients speak TLS to the proxy (`--tls-cert`).
    tls: Option<TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    timeouts: (Duration, Duration),
    drain_timeout: Duration,
    stopping: watch::Receiver<bool>,
}

impl Serving {
    /// One shard: serves the connections handed to it until the stop
    /// signal, then drains them; returns how many exchanges (and tunnels)
    /// in flight it cut.
    async fn shard(self: Arc<Self>, mut handed: mpsc::UnboundedReceiver<Accepted>) -> u64 {
        let counters = &self.shared.counters;
        let mut connections = JoinSet::new();
        let stopped = stop_signal(self.stopping.clone());
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                biased;
                () = &mut stopped => break,
                // Reaping comes before taking new connections so a flood of
                // them cannot keep finished tasks piling up in the set.
                Some(finished) = connections.join_next() => log_panic(finished),
                accepted = handed.recv() => match accepted {
                    Some(accepted) => {
                        connections.spawn(connection(accepted, self.clone()));
                    }
                    None => break,
                },
            }
        }
        drain(&mut connections, counters, self.drain_timeout).await
    }
}

fn http_builder(config: &ProxyConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // Cheap sleeps for the header-read timeout, woken by the
        // connection's IdleWatch (see idle.rs).
        .timer(TickTimer)
        .header_read_timeout(config.header_read_timeout)
        // The upstream's `Date` passes through; the proxy adds none of its own.
        .auto_date_header(false);
    builder.http2().timer(TokioTimer::new()).auto_date_header(false);
    builder
}

/// One client connection, from accept to close (or to the end of the tunnel
/// it was upgraded into).
async fn connection(accepted: Accepted, serving: Arc<Serving>) {
    let Accepted { stream, peer, assigned: _assigned } = accepted;
    let stream = match TcpStream::from_std(stream) {
        Ok(stream) => stream,
        Err(err) => {
            tracing::debug!(%peer, "cannot serve a connection: {err}");
            return;
        }
    };
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%peer, "cannot set TCP_NODELAY: {err}");
    }
    let upstream = serving.shared.upstream.clone();
    let intercept = match &serving.tls {
        None => serve_io(stream, peer, serving.clone(), upstream, true).await,
        Some(acceptor) => {
            let handshake = acceptor.accept(stream);
            match tokio::time::timeout(serving.timeouts.1, handshake).await {
                Ok(Ok(secured)) => serve_io(secured, peer, serving.clone(), upstream, true).await,
                Ok(Err(err)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {err}");
                    None
                }
                Err(_elapsed) => {
                    tracing::debug!(%peer, "TLS handshake took too long");
                    None
                }
            }
        }
    };
    // A CONNECT to a recorded host: the connection goes on as the tunnel's.
    if let Some(intercept) = intercept {
        serve_intercepted(intercept, peer, serving).await;
    }
}

/// Serves HTTP on one client connection, plain or TLS: its requests go to
/// `upstream` (`None`: each names its origin) and are recorded when
/// `records` says so. Returns the tunnel to intercept when a CONNECT asked
/// for one; runs any other upgrade itself.
async fn serve_io<I>(
    io: I,
    peer: SocketAddr,
    serving: Arc<Serving>,
    upstream: Option<Arc<Upstream>>,
    records: bool,
) -> Option<Intercept>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (idle_timeout, header_read_timeout) = serving.timeouts;
    let mut stopping = serving.stopping.clone();
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(WatchedIo::new(io, activity.clone()));
    let context = Arc::new(ConnContext {
        shared: serving.shared.clone(),
        peer,
        peer_text: peer.to_string(),
        activity: activity.clone(),
        upstreams: Upstreams::default(),
        upstream,
        records,
        switch: Mutex::new(None),
    });
    let service = {
        let context = context.clone();
        service_fn(move |request| service::handle(context.clone(), request))
    };

    let mut idle = IdleWatch::new(activity, idle_timeout, header_read_timeout);
    let conn = serving.builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut draining = *stopping.borrow_and_update();
    if draining {
        conn.as_mut().graceful_shutdown();
    }
    // Not a `select!`: that would poll every branch on every wake-up, and
    // this task wakes several times per request. The shutdown signal and
    // the idle timer are polled once to register, and after that only when
    // a cheap check says they have news.
    let mut signal = stopping.clone();
    let stop = signal.changed();
    tokio::pin!(stop);
    let mut stop_armed = false;
    // The connection's upstream connections run here too, before the
    // connection itself: a response that has just come in is then taken
    // to the client in the same pass.
    let mut drivers = Drivers::default();
    let ended = std::future::poll_fn(|cx| loop {
        drivers.poll(&context.upstreams, cx);
        if let Poll::Ready(served) = conn.as_mut().poll(cx) {
            return Poll::Ready(Some(served));
        }
        if !draining && (!stop_armed || stopping.has_changed().unwrap_or(true)) {
            stop_armed = true;
            if stop.as_mut().poll(cx).is_ready() {
                draining = true;
                conn.as_mut().graceful_shutdown();
                continue;
            }
        }
        if idle.due() && Pin::new(&mut idle).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        return Poll::Pending;
    })
    .await;
    match ended {
        Some(Ok(())) => {}
        Some(Err(err)) => tracing::debug!(%peer, "connection ended with an error: {err}"),
        None => {
            tracing::debug!(%peer, "closing a connection idle for {idle_timeout:?}");
            return None;
        }
    }

    // An upgrade (or a CONNECT) hands the socket over when the connection
    // future ends.
    match context.take_switch() {
        None => None,
        Some(Switch::Tunnel(tunnel)) => {
            tokio::select! {
                () = tunnel => {}
                () = Pin::new(&mut idle) => tracing::debug!(%peer, "closing an upgraded connection idle for {idle_timeout:?}"),
            }
            None
        }
        // The tunnel's own connection watches its idleness.
        Some(Switch::Intercept(intercept)) => Some(intercept),
    }
}

/// Serves a CONNECT tunnel to a recorded host. A tunnel that starts with
/// a TLS handshake (as HTTPS does) is answered with a certificate from the
/// recording CA for the name the client asked for (SNI, or the CONNECT
/// host) and its requests go to `https://host:port`; one that starts with
/// anything else (plain HTTP, a `ws://` upgrade) goes to `http://host:port`.
async fn serve_intercepted(intercept: Intercept, peer: SocketAddr, serving: Arc<Serving>) {
    let Intercept { client, host, authority, upstream, records } = intercept;
    let Some(forwarding) = &serving.shared.forward else { return };
    let mut upgraded = match client.await {
        Ok(upgraded) => TokioIo::new(upgraded),
        Err(err) => {
            tracing::debug!(%peer, "CONNECT did not complete: {err}");
            return;
        }
    };
    let mut first = [0u8; 1];
    let read = tokio::time::timeout(serving.timeouts.0, upgraded.read(&mut first)).await;
    let io = match read {
        Ok(Ok(1)) => Prefixed::new(first.to_vec(), upgraded),
        _ => return,
    };
    /// The first byte of a TLS record carrying a handshake.
    const TLS_HANDSHAKE: u8 = 0x16;
    if first[0] != TLS_HANDSHAKE {
        match forwarding.origin("http", &authority) {
            Ok(plain) => {
                let _none = serve_io(io, peer, serving, Some(plain), records).await;
            }
            Err(fault) => tracing::debug!(%peer, "{}", fault.message),
        }
        return;
    }
    let handshake = async {
        let start = LazyConfigAcceptor::new(Acceptor::default(), io).await?;
        let name = start.client_hello().server_name().map_or_else(|| host.clone(), str::to_owned);
        let config =
            forwarding.config.ca.server_config_for(&name).map_err(std::io::Error::other)?;
        start.into_stream(config).await
    };
    match tokio::time::timeout(serving.timeouts.1, handshake).await {
        Ok(Ok(secured)) => {
            // A CONNECT inside the tunnel went to the origin (which refuses
            // it or not): nothing more to intercept here.
            let _none = serve_io(secured, peer, serving, Some(upstream), records).await;
        }
        Ok(Err(err)) => tracing::warn!(
            %peer,
            "the client refused the TLS of the tunnel to {host} ({err}); does it trust the \
             recording CA (venomqa ca export)?"
        ),
        Err(_elapsed) => {
            tracing::debug!(%peer, "TLS handshake in the tunnel to {host} took too long")
        }
    }
}

/// Resolves once the stop signal is given (or its sender is gone).
async fn stop_signal(mut stopping: watch::Receiver<bool>) {
    while !*stopping.borrow_and_update() {
        if stopping.changed().await.is_err() {
            return;
        }
    }
}

/// Waits for the exchanges in flight to end, then for their connections to
/// flush, all within `timeout`; then cuts whatever is left. Returns how many
/// exchanges (and tunnels) were cut.
async fn drain(connections: &mut JoinSet<()>, counters: &Counters, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    let mut quiet_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if counters.in_flight() == 0 {
            let until = *quiet_until.get_or_insert(now + FLUSH_GRACE);
            if connections.is_empty() || now >= until {
                break;
            }
        } else {
            quiet_until = None;
        }
        // The in-flight count is a plain atomic (no lock or notification on
        // the hot path), so it is sampled here rather than waited on.
        tokio::select! {
            Some(finished) = connections.join_next() => log_panic(finished),
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    let abandoned = counters.in_flight();
    if abandoned > 0 {
        tracing::warn!(abandoned, "drain timeout: cutting exchanges still in flight");
    }
    counters.start_cutting();
    connections.abort_all();
    while let Some(finished) = connections.join_next().await {
        log_panic(finished);
    }
    abandoned
}

fn log_panic(finished: Result<(), tokio::task::JoinError>) {
    if let Err(err) = finished {
        if err.is_panic() {
            tracing::error!("a connection task panicked: {err}");
        }
    }
}
