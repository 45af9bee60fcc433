//! The idle timeout: a connection on which no byte has moved, either way,
//! for `idle_timeout` while the proxy was not waiting on the upstream for it
//! (see [`ExchangeActivity`]) is closed, so a silent or stalled client cannot hold a connection (and a
//! task, and a socket) forever.
//!
//! hyper's own `header_read_timeout` covers a slow request head on HTTP/1;
//! this covers the rest: a client that connects and says nothing (before
//! hyper knows whether it speaks HTTP/1 or HTTP/2), an upload that stalls, a
//! client that stops reading its response, an idle HTTP/2 connection or an
//! upgraded tunnel (as nginx's `proxy_read_timeout` does).
//!
//! The socket wrapper only bumps a counter per read or write that moved
//! bytes; the watchdog samples it a few times per timeout. No clock is read
//! on the data path.
//!
//! The watchdog's ticks also drive hyper's header-read timeout: hyper asks
//! its timer for a new sleep for every request head, and [`TickTimer`]'s
//! sleeps only compare the clock with their deadline when polled instead of
//! each entering the runtime's timer wheel. The watchdog wakes its
//! connection at least four times per header-read timeout, and hyper polls
//! the sleep on each wake-up while it waits for a head, so the timeout
//! fires at most a tick late.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What one connection has been doing.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Reads and writes that moved at least one byte.
    progress: AtomicU64,
    /// Exchanges of this connection that excuse its silence: see
    /// [`ExchangeActivity`].
    excused: AtomicU64,
    /// Set when the idle timeout closes the connection.
    timed_out: AtomicBool,
}

impl Activity {
    fn moved(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the idle timeout closed this connection.
    pub fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }
}

/// How one exchange bears on its connection's idleness.
///
/// A quiet client socket is the upstream's doing, not the client's, while
/// the exchange waits for the upstream's response head *and* the proxy is
/// not itself waiting for request body bytes from the client. Waiting for
/// the head is bounded by the upstream timeout instead. An upload the client
/// stalls, though, leaves the upstream waiting for the body and the proxy
/// waiting for the head: that silence is the client's and the idle timeout
/// ends it.
#[derive(Debug)]
pub(crate) struct ExchangeActivity {
    connection: Arc<Activity>,
    /// `AWAITING_HEAD` and `STARVED` bits.
    state: AtomicU8,
}

const AWAITING_HEAD: u8 = 1;
const STARVED: u8 = 2;

impl ExchangeActivity {
    pub fn new(connection: &Arc<Activity>) -> Self {
        ExchangeActivity { connection: connection.clone(), state: AtomicU8::new(0) }
    }

    pub fn connection(&self) -> &Activity {
        &self.connection
    }

    /// Marks the exchange as waiting for the upstream's response head until
    /// the guard drops.
    pub fn awaiting_head(&self) -> AwaitingHead<'_> {
        self.set(AWAITING_HEAD, true);
        AwaitingHead(self)
    }

    /// Whether the request body is waiting for bytes from the client.
    pub fn starved(&self, starved: bool) {
        self.set(STARVED, starved);
    }

    fn set(&self, bit: u8, on: bool) {
        let change = |state: u8| if on { state | bit } else { state & !bit };
        // `fetch_update` makes each transition atomic, so the connection's
        // count moves by exactly the change in this exchange's excuse even
        // when the request tee and the handler update it at once.
        let Ok(old) =
            self.state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| Some(change(s)))
        else {
            return;
        };
        match (excuses(old), excuses(change(old))) {
            (false, true) => {
                self.connection.excused.fetch_add(1, Ordering::AcqRel);
            }
            (true, false) => {
                self.connection.excused.fetch_sub(1, Ordering::AcqRel);
            }
            _ => {}
        }
    }
}

fn excuses(state: u8) -> bool {
    state == AWAITING_HEAD
}

impl Drop for ExchangeActivity {
    fn drop(&mut self) {
        if excuses(*self.state.get_mut()) {
            self.connection.excused.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// See [`ExchangeActivity::awaiting_head`].
#[derive(Debug)]
pub(crate) struct AwaitingHead<'a>(&'a ExchangeActivity);

impl Drop for AwaitingHead<'_> {
    fn drop(&mut self) {
        self.0.set(AWAITING_HEAD, false);
        // Counts as activity too: the quiet period starts now, not when the
        // request was sent.
        self.0.connection.moved();
    }
}

/// A socket that reports its progress to an [`Activity`].
#[derive(Debug)]
pub(crate) struct WatchedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> WatchedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        WatchedIo { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.moved();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves once the connection has been idle for `timeout`. Samples at
/// least four times per timeout, so it fires between 1 and 1.25 timeouts
/// after the last byte moved.
///
/// [`IdleWatch::due`] tells the connection task whether polling it could
/// do anything, so that the task's many polls per request (one per socket
/// event) do not each poll a timer.
#[derive(Debug)]
pub(crate) struct IdleWatch {
    activity: Arc<Activity>,
    timeout: Duration,
    tick: Duration,
    /// The progress count at the last sample, and since when it has not
    /// moved.
    seen: u64,
    quiet_since: Instant,
    timer: Pin<Box<Sleep>>,
    /// Whether the timer has been polled (so it will wake the task).
    armed: bool,
}

impl IdleWatch {
    /// A watchdog that closes the connection after `timeout` of idleness
    /// and wakes it at least four times per `header_read_timeout` (see
    /// [`TickTimer`]).
    pub fn new(activity: Arc<Activity>, timeout: Duration, header_read_timeout: Duration) -> Self {
        let tick = (timeout.min(header_read_timeout) / 4).max(Duration::from_millis(5));
        IdleWatch {
            seen: activity.progress.load(Ordering::Relaxed),
            activity,
            timeout,
            tick,
            quiet_since: Instant::now(),
            timer: Box::pin(tokio::time::sleep(tick)),
            armed: false,
        }
    }

    /// Whether the next sample is due (or the timer still has to be armed).
    pub fn due(&self) -> bool {
        !self.armed || self.timer.is_elapsed()
    }
}

impl Future for IdleWatch {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            this.armed = true;
            ready!(this.timer.as_mut().poll(cx));
            let now_seen = this.activity.progress.load(Ordering::Relaxed);
            let now = Instant::now();
            if now_seen != this.seen || this.activity.excused.load(Ordering::Acquire) > 0 {
                this.seen = now_seen;
                this.quiet_since = now;
            } else if now.duration_since(this.quiet_since) >= this.timeout {
                this.activity.timed_out.store(true, Ordering::Relaxed);
                return Poll::Ready(());
            }
            this.timer.as_mut().reset(now + this.tick);
        }
    }
}

/// hyper's timer for the HTTP/1 header-read timeout: see the module docs.
/// Only for connections an [`IdleWatch`] wakes often enough.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TickTimer;

impl hyper::rt::Timer for TickTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(std::time::Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TickSleep { deadline })
    }
}

/// A sleep that is over once polled after its deadline. It registers no
/// wake-up of its own: the connection's [`IdleWatch`] provides them.
struct TickSleep {
    deadline: std::time::Instant,
}

impl Future for TickSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if std::time::Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl hyper::rt::Sleep for TickSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    fn excused(activity: &Activity) -> u64 {
        activity.excused.load(Ordering::Acquire)
    }

    #[test]
    fn only_waiting_for_the_head_with_the_request_fully_fed_excuses_silence() {
        let connection = Arc::new(Activity::default());
        let exchange = ExchangeActivity::new(&connection);
        let awaiting = exchange.awaiting_head();
        assert_eq!(excused(&connection), 1);
        exchange.starved(true);
        assert_eq!(excused(&connection), 0, "a stalled upload is the client's silence");
        exchange.starved(false);
        assert_eq!(excused(&connection), 1);
        drop(awaiting);
        assert_eq!(excused(&connection), 0);

        let other = ExchangeActivity::new(&connection);
        let _awaiting = other.awaiting_head();
        drop(other.awaiting_head());
        assert_eq!(excused(&connection), 0);
        let third = ExchangeActivity::new(&connection);
        std::mem::forget(third.awaiting_head());
        assert_eq!(excused(&connection), 1);
        drop(third);
        assert_eq!(excused(&connection), 0, "a dropped exchange excuses nothing");
    }
}
