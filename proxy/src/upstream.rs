//! The upstream side of one client connection: its own connections to the
//! upstream (HTTP/1.1, or HTTP/2 when an `https://` upstream chooses it by
//! ALPN), opened when needed and kept for the requests that follow, and
//! the upstream timeout.
//!
//! A client connection's requests go out on connections of its own instead
//! of a pool shared by the whole proxy. HTTP/1 clients send one request at
//! a time, so one upstream connection carries all of them, like nginx's
//! `keepalive` pool but without a shared lock, a hashed pool key or a
//! task to hand a connection back when its response ends. Another
//! connection is opened only when every connection the client connection
//! has is still busy (concurrent HTTP/2 streams, or an upstream that
//! answered before it read the whole request body); it is kept too, up to
//! [`MAX_IDLE`].
//!
//! The upstream connections are run by the client connection's own task
//! ([`Drivers`]), not by tasks of their own: a request then goes out, and
//! its response comes back, without a wake-up crossing to another task (or
//! another worker thread), as nginx serves both sides of an exchange from
//! one event loop. Closing the client connection closes them.
//!
//! The upstream timeout is enforced by each upstream connection's
//! [`Driver`] rather than by a timer per request: a request only writes its
//! deadline into the connection's [`HeadDeadline`], and the connection's
//! one timer, armed for some earlier request's deadline, is moved on to
//! the current one only when it fires. So a busy connection touches the
//! runtime's timer wheel about once per timeout period, not per request.
//! A connection whose request misses its deadline is closed (as dropping
//! the request would close it), which fails the request; the handler then
//! answers 504. The timeout counts from when the request's body was all
//! sent: a deadline that comes while the client is still uploading is
//! moved on (the upload's own stalls are the idle timeout's business).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2, TrySendError};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::config::{Upstream, UpstreamAddr};
use crate::fault::Fault;
use crate::pending::RequestSent;
use crate::tee::TeeBody;

/// A request on its way to the upstream.
pub(crate) type UpstreamRequest = Request<TeeBody<Incoming>>;

/// Upstream connections a client connection keeps once they are free
/// again; past this the least recently used is closed.
const MAX_IDLE: usize = 8;

/// The upstream connections of one client connection.
#[derive(Default)]
pub(crate) struct Upstreams {
    /// Connections not in a handler's hands, most recently used last. They
    /// may still be busy streaming a response body.
    idle: Mutex<Vec<Connection>>,
    /// Drivers of connections opened since the client connection's task
    /// last looked: it adopts and runs them ([`Drivers::poll`]).
    opened: Mutex<Vec<DriverFuture>>,
    /// Whether `opened` holds any, so that the task looks without a lock.
    has_opened: AtomicBool,
    /// The client connection's task, woken when a connection is opened: an
    /// HTTP/2 stream's handler runs in a task of its own.
    task: OnceLock<Waker>,
}

/// An upstream connection's [`Driver`], boxed: one per connection, not per
/// request.
type DriverFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The drivers of a client connection's upstream connections, run by the
/// client connection's task between polls of its own connection.
#[derive(Default)]
pub(crate) struct Drivers {
    running: Vec<DriverFuture>,
}

impl Drivers {
    /// Runs every upstream connection as far as it can go, adopting those
    /// opened since the last call; drops the ones that ended.
    pub fn poll(&mut self, upstreams: &Upstreams, cx: &mut Context<'_>) {
        upstreams.task.get_or_init(|| cx.waker().clone());
        if upstreams.has_opened.load(Ordering::Acquire) {
            let mut opened = upstreams.opened.lock().unwrap_or_else(PoisonError::into_inner);
            upstreams.has_opened.store(false, Ordering::Release);
            self.running.append(&mut opened);
        }
        self.running.retain_mut(|driver| driver.as_mut().poll(cx).is_pending());
    }
}

/// A request's way onto one upstream connection: HTTP/1.1, or HTTP/2 when
/// an `https://` upstream chose it (ALPN).
#[derive(Debug)]
enum Sender {
    H1(http1::SendRequest<TeeBody<Incoming>>),
    H2(http2::SendRequest<TeeBody<Incoming>>),
}

impl Sender {
    fn is_ready(&self) -> bool {
        match self {
            Sender::H1(sender) => sender.is_ready(),
            Sender::H2(sender) => sender.is_ready(),
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(sender) => sender.is_closed(),
            Sender::H2(sender) => sender.is_closed(),
        }
    }

    /// Sends `request`, giving it back if it was never written.
    async fn try_send(
        &mut self,
        request: UpstreamRequest,
        upstream: &Upstream,
    ) -> Result<Response<Incoming>, TrySendError<UpstreamRequest>> {
        match self {
            Sender::H1(sender) => sender.try_send_request(request).await,
            Sender::H2(sender) => sender.try_send_request(for_h2(request, upstream)).await,
        }
    }

    async fn send(
        &mut self,
        request: UpstreamRequest,
        upstream: &Upstream,
    ) -> hyper::Result<Response<Incoming>> {
        match self {
            Sender::H1(sender) => sender.send_request(request).await,
            Sender::H2(sender) => sender.send_request(for_h2(request, upstream)).await,
        }
    }
}

/// The request as HTTP/2 carries it: its target absolute (`:scheme` and
/// `:authority` come from it), its version HTTP/2.
fn for_h2(mut request: UpstreamRequest, upstream: &Upstream) -> UpstreamRequest {
    // Made from parts, not formatted and parsed again: this runs for
    // every request.
    if let Some(tls) = &upstream.tls {
        let mut parts = std::mem::take(request.uri_mut()).into_parts();
        parts.scheme = Some(http::uri::Scheme::HTTPS);
        parts.authority = Some(tls.authority.clone());
        parts.path_and_query.get_or_insert(http::uri::PathAndQuery::from_static("/"));
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    *request.version_mut() = http::Version::HTTP_2;
    // HTTP/2 names the host in `:authority`.
    request.headers_mut().remove(http::header::HOST);
    request
}

/// One upstream connection, and what a request sent on it waits for.
#[derive(Debug)]
struct Connection {
    sender: Sender,
    deadline: Arc<HeadDeadline>,
    /// Where it goes: a forward proxy's client connection may reach
    /// several origins.
    upstream: Arc<Upstream>,
}

/// What a request waits for, and until when.
pub(crate) struct Wait<'a> {
    pub upstream: &'a Arc<Upstream>,
    pub timeout: Duration,
    /// When the upstream timeout runs out at the earliest: the arrival of
    /// the request plus the timeout (`None` if that is too far to name).
    /// A connection must be open by then.
    pub deadline: Option<Instant>,
    /// When the request's body was all sent: the response head is waited
    /// for `timeout` from then, however long the upload took.
    pub sent: &'a Arc<RequestSent>,
}

impl Wait<'_> {
    fn timed_out(&self) -> Fault {
        Fault::timeout(&self.upstream.display, self.timeout)
    }

    fn failed(&self, err: &hyper::Error, connection: &Connection) -> Fault {
        if connection.deadline.timed_out() {
            self.timed_out()
        } else {
            Fault::from_http_error(&self.upstream.display, err)
        }
    }
}

impl Upstreams {
    /// Sends `request` on a free connection, or on a new one, and returns
    /// the upstream's response head.
    pub async fn send(
        &self,
        wait: &Wait<'_>,
        mut request: UpstreamRequest,
    ) -> Result<Response<Incoming>, Fault> {
        if let Some(mut connection) = self.checkout(wait.upstream) {
            connection.deadline.start(wait);
            match connection.sender.try_send(request, wait.upstream).await {
                Ok(response) => {
                    connection.deadline.clear();
                    self.checkin(connection);
                    return Ok(response);
                }
                Err(mut err) => match err.take_message() {
                    // Never written: the connection closed while it sat
                    // idle (the upstream's keep-alive timeout). A new
                    // connection gets it (as hyper-util's pooled client does).
                    Some(unsent) if !connection.deadline.timed_out() => request = unsent,
                    _ => return Err(wait.failed(&err.into_error(), &connection)),
                },
            }
        }
        // Boxed: opening a connection is the rare path, and its future is
        // large; every request would carry (and move) it otherwise.
        let (mut connection, driver) = Box::pin(open(wait, false)).await?;
        self.adopt(driver);
        connection.deadline.start(wait);
        match connection.sender.send(request, wait.upstream).await {
            Ok(response) => {
                connection.deadline.clear();
                self.checkin(connection);
                Ok(response)
            }
            Err(err) => Err(wait.failed(&err, &connection)),
        }
    }

    /// Hands a new connection's driver to the client connection's task.
    fn adopt(&self, driver: DriverFuture) {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner).push(driver);
        self.has_opened.store(true, Ordering::Release);
        // Not set before the task's first poll, when it looks anyway.
        if let Some(task) = self.task.get() {
            task.wake_by_ref();
        }
    }

    /// A connection to `upstream` ready for a request, if one is free.
    fn checkout(&self, upstream: &Arc<Upstream>) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let mut i = idle.len();
        while i > 0 {
            i -= 1;
            if idle[i].sender.is_ready() && Arc::ptr_eq(&idle[i].upstream, upstream) {
                return Some(idle.swap_remove(i));
            }
            if idle[i].sender.is_closed() {
                idle.swap_remove(i);
            }
        }
        None
    }

    /// Keeps a connection for later requests. It may still be carrying a
    /// response body: `checkout` only takes it once it is ready again. When
    /// [`MAX_IDLE`] are kept already, the least recently used one goes (a
    /// forward proxy's client may have moved on to other origins).
    fn checkin(&self, connection: Connection) {
        if connection.sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push(connection);
    }
}

/// Sends an upgrade request (WebSocket) on a connection of its own, which
/// hands its socket over when the upstream switches protocols.
pub(crate) async fn send_upgrade(
    wait: &Wait<'_>,
    request: UpstreamRequest,
) -> Result<Response<Incoming>, Fault> {
    // The driver hands the socket over when the upstream switches
    // protocols, which may be after the client connection's task has
    // ended: it runs in a task of its own.
    let (mut connection, driver) = open(wait, true).await?;
    tokio::spawn(driver);
    connection.deadline.start(wait);
    let sent = connection.sender.send(request, wait.upstream).await;
    connection.deadline.clear();
    sent.map_err(|err| wait.failed(&err, &connection))
}

/// Opens a new connection to the upstream, within the request's deadline;
/// the caller runs its driver. One for an upgrade speaks HTTP/1.1 (the
/// only protocol hyper switches from) and hands its socket over when the
/// upstream switches; any other speaks HTTP/2 to an `https://` upstream
/// that chooses it.
async fn open(wait: &Wait<'_>, upgrade: bool) -> Result<(Connection, DriverFuture), Fault> {
    let connect = async {
        let upstream = wait.upstream;
        let connected = match &upstream.addr {
            UpstreamAddr::Ip(addr) => TcpStream::connect(*addr).await,
            UpstreamAddr::Name(host, port) => TcpStream::connect((host.as_str(), *port)).await,
        };
        let stream = connected.map_err(|err| Fault::from_connect_error(&upstream.display, &err))?;
        // Small request/response pairs are the common case: the last
        // segment of a message must not wait for Nagle.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on an upstream connection: {err}");
        }
        let io = match &upstream.tls {
            None => UpstreamIo::Plain(stream),
            Some(tls) => {
                let connector = if upgrade { &tls.h1_connector } else { &tls.connector };
                let secured = connector.connect(tls.name.clone(), stream).await;
                let secured =
                    secured.map_err(|err| Fault::from_tls_error(&upstream.display, &err))?;
                UpstreamIo::Tls(Box::new(secured))
            }
        };
        let h2 =
            matches!(&io, UpstreamIo::Tls(tls) if tls.get_ref().1.alpn_protocol() == Some(b"h2"));
        let failed = |err: hyper::Error| Fault::from_http_error(&upstream.display, &err);
        let deadline = Arc::new(HeadDeadline::default());
        let opened: (Sender, DriverFuture) = if h2 {
            let (sender, connection) =
                http2::handshake(TokioExecutor::new(), TokioIo::new(io)).await.map_err(failed)?;
            (Sender::H2(sender), Box::pin(Driver::new(connection, deadline.clone())))
        } else {
            let (sender, connection) = http1::handshake(TokioIo::new(io)).await.map_err(failed)?;
            let driver: DriverFuture = if upgrade {
                Box::pin(Driver::new(connection.with_upgrades(), deadline.clone()))
            } else {
                Box::pin(Driver::new(connection, deadline.clone()))
            };
            (Sender::H1(sender), driver)
        };
        Ok::<_, Fault>((opened, deadline))
    };
    let ((sender, driver), deadline) = match wait.deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), connect)
            .await
            .map_err(|_elapsed| wait.timed_out())??,
        None => connect.await?,
    };
    Ok((Connection { sender, deadline, upstream: wait.upstream.clone() }, driver))
}

/// An upstream connection's socket: plain, or TLS for an `https://`
/// upstream.
pub(crate) enum UpstreamIo {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for UpstreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Plain(io) => Pin::new(io).poll_read(cx, buf),
            UpstreamIo::Tls(io) => Pin::new(io.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpstreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamIo::Plain(io) => Pin::new(io).poll_write(cx, buf),
            UpstreamIo::Tls(io) => Pin::new(io.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamIo::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            UpstreamIo::Tls(io) => Pin::new(io.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            UpstreamIo::Plain(io) => io.is_write_vectored(),
            UpstreamIo::Tls(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Plain(io) => Pin::new(io).poll_flush(cx),
            UpstreamIo::Tls(io) => Pin::new(io.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Plain(io) => Pin::new(io).poll_shutdown(cx),
            UpstreamIo::Tls(io) => Pin::new(io.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The deadline for the response head of the request an upstream
/// connection carries, shared by the request's handler and the
/// connection's [`Driver`].
#[derive(Debug, Default)]
struct HeadDeadline {
    /// Nanoseconds after [`epoch`], plus one; 0 for none. The earliest the
    /// request can time out; when it comes, [`HeadDeadline::moved_on`]
    /// says whether the upload moved it later.
    at: AtomicU64,
    /// The request's upload and the timeout while the body is still being
    /// sent when the request starts, read only when `at` comes.
    request: Mutex<Option<(Arc<RequestSent>, Duration)>>,
    /// Whether `request` holds one: a request sent whole at once (most
    /// have no body) touches neither the lock nor the `Arc`.
    watching: AtomicBool,
    /// Set when the driver closed the connection for a missed deadline.
    timed_out: AtomicBool,
}

impl HeadDeadline {
    /// A request is on its way: its deadline, and its upload to watch
    /// when its body is still being sent.
    fn start(&self, wait: &Wait<'_>) {
        let uploading = wait.sent.at().is_none();
        if uploading || self.watching.load(Ordering::Acquire) {
            *self.request.lock().unwrap_or_else(PoisonError::into_inner) =
                uploading.then(|| (wait.sent.clone(), wait.timeout));
            self.watching.store(uploading, Ordering::Release);
        }
        self.set(wait.deadline);
    }

    /// The request has its answer (or none will come).
    fn clear(&self) {
        self.set(None);
        if self.watching.swap(false, Ordering::AcqRel) {
            *self.request.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    /// At the deadline `now`: the later deadline the request has because
    /// its body was still being sent (`timeout` after it was all sent, or
    /// after now while it still is), or `None` when it has timed out.
    fn moved_on(&self, now: Instant) -> Option<Instant> {
        let request = self.request.lock().unwrap_or_else(PoisonError::into_inner);
        let (sent, timeout) = request.as_ref()?;
        let later = match sent.at() {
            Some(at) => at.checked_add(*timeout)?,
            None => now.checked_add(*timeout)?,
        };
        (later > now).then_some(later)
    }

    fn set(&self, deadline: Option<Instant>) {
        let at = deadline.map_or(0, |d| {
            u64::try_from(d.saturating_duration_since(epoch()).as_nanos())
                .map_or(u64::MAX, |n| n.saturating_add(1))
        });
        self.at.store(at, Ordering::Release);
    }

    fn get(&self) -> Option<Instant> {
        match self.at.load(Ordering::Acquire) {
            0 => None,
            at => Some(epoch() + Duration::from_nanos(at - 1)),
        }
    }

    fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }
}

/// The instant deadlines are counted from; any time before the first
/// request will do.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Runs one upstream connection (hyper's state machine for it) and closes
/// it when the request it carries misses its [`HeadDeadline`].
struct Driver<C> {
    connection: C,
    deadline: Arc<HeadDeadline>,
    /// Created for the first request; afterwards only moved on when it
    /// has fired (or, rarely, when a request's deadline comes earlier).
    timer: Option<Pin<Box<Sleep>>>,
}

impl<C> Driver<C> {
    fn new(connection: C, deadline: Arc<HeadDeadline>) -> Self {
        Driver { connection, deadline, timer: None }
    }
}

impl<C> Future for Driver<C>
where
    C: Future<Output = hyper::Result<()>> + Unpin,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Poll::Ready(done) = Pin::new(&mut this.connection).poll(cx) {
            if let Err(err) = done {
                tracing::debug!("upstream connection ended with an error: {err}");
            }
            return Poll::Ready(());
        }
        let Some(deadline) = this.deadline.get() else { return Poll::Pending };
        let timer = match &mut this.timer {
            Some(timer) => {
                if !timer.is_elapsed() {
                    // Armed for this deadline or an earlier one: it wakes
                    // this driver when it fires, and is moved on then.
                    if timer.deadline() <= deadline.into() {
                        return Poll::Pending;
                    }
                    timer.as_mut().reset(deadline.into());
                }
                timer
            }
            None => this.timer.insert(Box::pin(tokio::time::sleep_until(deadline.into()))),
        };
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            if now < deadline {
                timer.as_mut().reset(deadline.into());
                continue;
            }
            match this.deadline.moved_on(now) {
                Some(later) => {
                    this.deadline.set(Some(later));
                    timer.as_mut().reset(later.into());
                }
                None => {
                    // Dropping the connection closes it and fails the request.
                    this.deadline.timed_out.store(true, Ordering::Release);
                    return Poll::Ready(());
                }
            }
        }
    }
}
