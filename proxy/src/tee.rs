//! The capturing body: [`TeeBody`] wraps a streaming body (a request on its
//! way to the upstream, a response on its way to the client), passes every
//! frame through untouched and copies data bytes into the exchange's capture
//! buffer up to the cap.
//!
//! Frames are never held back or merged, so flow control and timing stay
//! those of the two peers; `size_hint` and `is_end_stream` are the inner
//! body's, so hyper frames the forwarded message exactly as it would the
//! original (`Content-Length` stays sized, chunked stays chunked).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::pending::{BodyBuf, BodyEnd, PendingExchange};

/// Which half of the exchange a tee carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Request,
    Response,
}

/// A body that reports what went through it to its [`PendingExchange`].
#[derive(Debug)]
pub(crate) struct TeeBody<B: Body> {
    inner: B,
    side: Side,
    /// `None` once the end was reported.
    tap: Option<Tap>,
    /// A request tee whose last poll found no client bytes (kept here so the
    /// shared state is only touched when this changes).
    starved: bool,
}

#[derive(Debug)]
struct Tap {
    exchange: Arc<PendingExchange>,
    /// `None` when capture is off: frames are only passed through.
    buf: Option<BodyBuf>,
}

impl<B: Body> TeeBody<B> {
    pub fn new(inner: B, side: Side, exchange: Arc<PendingExchange>) -> Self {
        let mut buf = exchange.body_buf();
        if let (Some(buf), Some(len)) = (&mut buf, inner.size_hint().exact()) {
            buf.reserve_for(len);
        }
        // A request without a body may never be polled: it is sent now.
        if side == Side::Request && inner.is_end_stream() {
            exchange.request_sent().mark();
        }
        TeeBody { inner, side, tap: Some(Tap { exchange, buf }), starved: false }
    }

    /// Reports the end once and lets go of the exchange, so that it can be
    /// captured without waiting for this body to be dropped (hyper may keep
    /// a finished body around for a while).
    fn finish(&mut self, end: BodyEnd) {
        if let Some(Tap { exchange, buf }) = self.tap.take() {
            match self.side {
                Side::Request => exchange.request_body_ended(buf, end),
                Side::Response => exchange.response_body_ended(buf, end),
            }
        }
    }
}

impl<B> Body for TeeBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if this.side == Side::Request && this.starved != polled.is_pending() {
            this.starved = polled.is_pending();
            if let Some(tap) = &this.tap {
                tap.exchange.request_starved(this.starved);
            }
        }
        let frame = ready!(polled);
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(Tap { buf: Some(buf), .. })) =
                    (frame.data_ref(), &mut this.tap)
                {
                    buf.observe(data);
                }
                // hyper stops polling a body that says it has ended (a sized
                // body after its last byte), so the end is noticed here too.
                if this.inner.is_end_stream() {
                    this.finish(BodyEnd::Complete);
                }
            }
            Some(Err(_)) => this.finish(BodyEnd::Failed),
            None => this.finish(BodyEnd::Complete),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B: Body> Drop for TeeBody<B> {
    fn drop(&mut self) {
        // Dropped before its end was reported. An empty body (HEAD, 204,
        // 304, a 101) may never be polled at all, and that is a complete
        // end; otherwise the rest was not wanted: for a response, the client
        // went away; for a request, the upstream answered without reading it
        // all.
        let end = if self.inner.is_end_stream() { BodyEnd::Complete } else { BodyEnd::Dropped };
        self.finish(end);
    }
}
