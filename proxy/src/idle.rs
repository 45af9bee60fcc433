//! The idle timeout: a connection on which no byte has moved, either way,
//! for `idle_timeout` while the proxy was not waiting on the upstream for it
//! is closed, so a silent or stalled client cannot hold a connection (and a
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

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// What one connection has been doing.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Reads and writes that moved at least one byte.
    progress: AtomicU64,
    /// Exchanges of this connection waiting for an upstream response head;
    /// that wait is the upstream timeout's business, not the idle timeout's.
    awaiting_upstream: AtomicU64,
}

impl Activity {
    fn moved(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks the connection busy until the returned guard drops.
    pub fn awaiting_upstream(self: &Arc<Self>) -> AwaitingUpstream {
        self.awaiting_upstream.fetch_add(1, Ordering::Relaxed);
        AwaitingUpstream(self.clone())
    }
}

/// See [`Activity::awaiting_upstream`].
#[derive(Debug)]
pub(crate) struct AwaitingUpstream(Arc<Activity>);

impl Drop for AwaitingUpstream {
    fn drop(&mut self) {
        // Counts as activity too: the quiet period starts now, not when the
        // request was sent.
        self.0.moved();
        self.0.awaiting_upstream.fetch_sub(1, Ordering::Relaxed);
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

/// Resolves once the connection has been idle for `timeout`. Samples four
/// times per timeout, so it fires between 1 and 1.25 timeouts after the
/// last byte moved.
pub(crate) async fn idle_for(activity: &Activity, timeout: Duration) {
    let tick = (timeout / 4).max(Duration::from_millis(5));
    let mut seen = activity.progress.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let now_seen = activity.progress.load(Ordering::Relaxed);
        if now_seen != seen || activity.awaiting_upstream.load(Ordering::Relaxed) > 0 {
            seen = now_seen;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= timeout {
            return;
        }
    }
}
