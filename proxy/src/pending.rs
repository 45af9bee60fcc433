//! The exchange in progress (the capture phase): the per-exchange state the
//! request and response tees share, and the hand-off of the finished
//! [`Exchange`] to the store's capture channel. "Capture" names that
//! channel (`venomqa_traffic::capture_channel`); what is built here until
//! then is a [`PendingExchange`].
//!
//! A [`PendingExchange`] is created when a request arrives and is shared
//! (through an `Arc`) by the request handler and both tees. Each party
//! reports what it saw and lets go; the exchange is handed to the
//! [`CaptureSink`] when the last one lets go. That single rule covers every
//! ending: a response body that ends normally, a client that goes away
//! mid-body (the tee is dropped), an upstream that fails (the handler records
//! the error), a request body the upstream never read.
//!
//! Nothing here blocks or touches the disk: the per-exchange mutex is only
//! ever contended by the two tees of the same exchange, and the sink only
//! queues (see `sink.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use http::{HeaderMap, Version};
use venomqa_traffic::{
    unix_now_ns, Body, Exchange, ExchangeError, Header, Headers, Request, Response,
};

use crate::idle::{Activity, AwaitingHead, ExchangeActivity};
use crate::sink::CaptureSink;
use crate::stats::{Counters, InFlight};

/// How a body stopped flowing through its tee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyEnd {
    /// The last frame went through.
    Complete,
    /// The body reported an error (a peer broke off the stream).
    Failed,
    /// The body was dropped before its end (nobody wanted the rest).
    Dropped,
}

/// The first `cap` bytes of a body and the length it really had.
#[derive(Debug)]
pub(crate) struct BodyBuf {
    bytes: Vec<u8>,
    seen: u64,
    cap: usize,
}

impl BodyBuf {
    fn new(cap: usize) -> Self {
        BodyBuf { bytes: Vec::new(), seen: 0, cap }
    }

    /// Reserves room once for a body whose size is known, instead of
    /// growing the buffer frame by frame.
    pub fn reserve_for(&mut self, len: u64) {
        let want = usize::try_from(len).unwrap_or(usize::MAX).min(self.cap);
        self.bytes.reserve(want.saturating_sub(self.bytes.len()));
    }

    pub fn observe(&mut self, data: &[u8]) {
        self.seen += data.len() as u64;
        let room = self.cap.saturating_sub(self.bytes.len());
        if room > 0 {
            self.bytes.extend_from_slice(&data[..room.min(data.len())]);
        }
    }

    fn into_body(self) -> Body {
        Body {
            truncated: self.seen > self.bytes.len() as u64,
            original_len: self.seen,
            bytes: self.bytes,
        }
    }
}

/// When a request's body had all been passed on to the upstream: the
/// upstream timeout counts from then, so a long upload is not blamed on
/// the upstream (a stalled one is cut by the idle timeout instead).
#[derive(Debug, Default)]
pub(crate) struct RequestSent(OnceLock<Instant>);

impl RequestSent {
    /// The body is all sent (the first call counts).
    pub fn mark(&self) {
        let _ = self.0.set(Instant::now());
    }

    /// When it was all sent; `None` while it is still being sent.
    pub fn at(&self) -> Option<Instant> {
        self.0.get().copied()
    }
}

/// One exchange in progress; see the module docs.
#[derive(Debug)]
pub(crate) struct PendingExchange {
    started: Instant,
    /// When the request body was all passed on.
    sent: Arc<RequestSent>,
    /// Set when the client broke off its request body, so an upstream
    /// failure that follows is not blamed on the upstream.
    request_body_failed: AtomicBool,
    recorder: Option<Recorder>,
    /// What the exchange means for its connection's idle timeout; also
    /// tells an idle-timeout cut from a client that went away.
    activity: ExchangeActivity,
    in_flight: InFlight,
}

/// Who ended an exchange early, for the error recorded on it.
enum Cut {
    Client,
    IdleTimeout,
    Shutdown,
}

impl Cut {
    fn error(self, when: &str) -> ExchangeError {
        let (kind, who) = match self {
            Cut::Client => ("client-gone", "the client went away"),
            Cut::IdleTimeout => {
                ("idle-timeout", "the proxy closed the connection after the idle timeout")
            }
            Cut::Shutdown => ("abandoned", "shutdown cut the exchange off"),
        };
        ExchangeError { kind: kind.into(), message: format!("{who} {when}") }
    }
}

#[derive(Debug)]
struct Recorder {
    sink: CaptureSink,
    body_cap: usize,
    draft: Mutex<Draft>,
}

#[derive(Debug)]
struct Draft {
    exchange: Exchange,
    /// When the response body ended (or the error was decided).
    ended: Option<Instant>,
}

impl PendingExchange {
    /// Starts an exchange for a request that has just arrived. With a sink,
    /// the request head is recorded now, as the client sent it, before the
    /// forward phase rewrites it.
    pub fn start(
        counters: &Arc<Counters>,
        capture: Option<(&CaptureSink, usize)>,
        activity: &Arc<Activity>,
        client: &str,
        request: &http::request::Parts,
    ) -> Arc<Self> {
        let started = Instant::now();
        let recorder = capture.map(|(sink, body_cap)| Recorder {
            sink: sink.clone(),
            body_cap,
            draft: Mutex::new(Draft {
                exchange: Exchange {
                    id: 0,
                    session: Default::default(),
                    started_at: unix_now_ns(),
                    duration_ns: 0,
                    client: Some(client.to_owned()),
                    request: Request {
                        method: request.method.as_str().to_owned(),
                        url: request_target(request),
                        version: version_str(request.version),
                        headers: captured_request_headers(request),
                        body: Body::default(),
                    },
                    response: None,
                    error: None,
                },
                ended: None,
            }),
        });
        Arc::new(PendingExchange {
            started,
            sent: Arc::default(),
            request_body_failed: AtomicBool::new(false),
            recorder,
            activity: ExchangeActivity::new(activity),
            in_flight: InFlight::start(counters),
        })
    }

    /// When the request arrived.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// When its body was all passed on to the upstream, once it was.
    pub fn request_sent(&self) -> &Arc<RequestSent> {
        &self.sent
    }

    /// A capture buffer for one of this exchange's bodies, if it records.
    pub fn body_buf(&self) -> Option<BodyBuf> {
        self.recorder.as_ref().map(|r| BodyBuf::new(r.body_cap))
    }

    /// Marks the exchange as waiting for the upstream's response head (for
    /// the idle timeout) until the guard drops.
    pub fn awaiting_head(&self) -> AwaitingHead<'_> {
        self.activity.awaiting_head()
    }

    /// The request tee is (or no longer is) waiting for client bytes.
    pub fn request_starved(&self, starved: bool) {
        self.activity.starved(starved);
    }

    pub fn request_body_failed(&self) -> bool {
        self.request_body_failed.load(Ordering::Relaxed)
    }

    /// The request tee is done: keep what it saw.
    pub fn request_body_ended(&self, buf: Option<BodyBuf>, end: BodyEnd) {
        self.sent.mark();
        self.activity.starved(false);
        if end == BodyEnd::Failed {
            self.request_body_failed.store(true, Ordering::Relaxed);
        }
        if let (Some(recorder), Some(buf)) = (&self.recorder, buf) {
            recorder.edit(|draft| draft.exchange.request.body = buf.into_body());
        }
    }

    /// The upstream's response head, recorded before the respond phase
    /// strips its hop-by-hop headers.
    pub fn response_head(&self, head: &http::response::Parts) {
        if let Some(recorder) = &self.recorder {
            let response = Response {
                status: head.status.as_u16(),
                version: version_str(head.version),
                headers: captured_headers(&head.headers),
                body: Body::default(),
            };
            recorder.edit(|draft| draft.exchange.response = Some(response));
        }
    }

    /// The response tee is done: keep what it saw; the exchange's duration
    /// ends here.
    pub fn response_body_ended(&self, buf: Option<BodyBuf>, end: BodyEnd) {
        let Some(recorder) = &self.recorder else { return };
        let cut = self.cut();
        let now = Instant::now();
        recorder.edit(|draft| {
            draft.ended = Some(now);
            let seen = buf.as_ref().map_or(0, |b| b.seen);
            if let (Some(response), Some(buf)) = (&mut draft.exchange.response, buf) {
                response.body = buf.into_body();
            }
            let error = match end {
                BodyEnd::Complete => return,
                BodyEnd::Failed => ExchangeError {
                    kind: "reset".into(),
                    message: format!("the upstream broke off the response body after {seen} bytes"),
                },
                BodyEnd::Dropped => cut.error(&format!("after {seen} bytes of the response body")),
            };
            draft.exchange.error.get_or_insert(error);
        });
    }

    /// The exchange ends without a response from the upstream.
    pub fn failed(&self, kind: &str, message: &str) {
        if let Some(recorder) = &self.recorder {
            let now = Instant::now();
            recorder.edit(|draft| {
                draft.ended = Some(now);
                draft.exchange.error =
                    Some(ExchangeError { kind: kind.to_owned(), message: message.to_owned() });
            });
        }
    }
}

impl PendingExchange {
    fn cut(&self) -> Cut {
        if self.in_flight.cut_by_shutdown() {
            Cut::Shutdown
        } else if self.activity.connection().timed_out() {
            Cut::IdleTimeout
        } else {
            Cut::Client
        }
    }
}

impl Recorder {
    fn edit(&self, change: impl FnOnce(&mut Draft)) {
        // A panic while holding this lock can only come from our own code
        // above; the draft is still worth recording.
        let mut draft = self.draft.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut draft);
    }
}

impl Drop for PendingExchange {
    /// The last holder let go: the exchange is complete, as far as anyone
    /// will ever see it, and goes to the store's channel.
    fn drop(&mut self) {
        let Some(recorder) = self.recorder.take() else { return };
        let Draft { mut exchange, ended } =
            recorder.draft.into_inner().unwrap_or_else(PoisonError::into_inner);
        let ended = ended.unwrap_or_else(Instant::now);
        exchange.duration_ns =
            u64::try_from(ended.duration_since(self.started).as_nanos()).unwrap_or(u64::MAX);
        if exchange.response.is_none() && exchange.error.is_none() {
            // The handler was dropped while waiting for the upstream: hyper
            // does that when the client closes its connection, and shutdown
            // when it cuts the connection.
            exchange.error = Some(self.cut().error("before the upstream answered"));
        }
        recorder.sink.capture(exchange);
    }
}

/// The request target as the client sent it: origin-form for HTTP/1
/// (`/orders/7?x=1`, or absolute-form if that is what came), and the path
/// for HTTP/2, whose target travels as pseudo-headers.
/// The target as the proxy forwards it (before the upstream's base path):
/// origin-form. An absolute-form (`GET http://169.254.169.254/x`) or
/// authority-form target of a reverse proxy's client names a host the
/// proxy never goes to; the record keeps the path it did forward, and the
/// target as the client wrote it in a [`ORIGINAL_TARGET`] header.
fn request_target(request: &http::request::Parts) -> String {
    if request.method == http::Method::CONNECT {
        // A tunnel's target is where it goes: `host:port`.
        if let Some(authority) = request.uri.authority() {
            return authority.as_str().to_owned();
        }
    }
    request.uri.path_and_query().map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
}

/// The header a record keeps a client's non-origin-form target in.
pub(crate) const ORIGINAL_TARGET: &str = "venomqa-original-target";

/// The request's headers for the record, and its original target when the
/// client did not send one in origin-form (HTTP/2 requests always carry
/// their authority; that is not a target of another form).
fn captured_request_headers(request: &http::request::Parts) -> Headers {
    let mut headers = captured_headers(&request.headers);
    let other_form = request.uri.scheme().is_some() || request.uri.authority().is_some();
    if other_form && request.version != Version::HTTP_2 {
        headers.push(ORIGINAL_TARGET, request.uri.to_string());
    }
    headers
}

fn version_str(version: Version) -> String {
    // The wire names, as http's Debug output spells them; a match rather
    // than `format!`, which costs a formatter run twice an exchange.
    let name = match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

/// Header lines for the record. hyper's `HeaderMap` keeps every value and
/// the order of values of one name, but it lowercases names and groups the
/// values of a name together at its first appearance; that is the order and
/// case recorded.
pub(crate) fn captured_headers(headers: &HeaderMap) -> Headers {
    Headers(
        headers.iter().map(|(name, value)| Header::new(name.as_str(), value.as_bytes())).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_buffer_keeps_the_first_cap_bytes_and_counts_the_rest() {
        let mut buf = BodyBuf::new(5);
        buf.observe(b"abc");
        buf.observe(b"defg");
        buf.observe(b"h");
        let body = buf.into_body();
        assert_eq!(body.bytes, b"abcde");
        assert_eq!(body.original_len, 8);
        assert!(body.truncated);
    }

    #[test]
    fn versions_are_recorded_by_their_wire_names_as_http_spells_them() {
        for version in
            [Version::HTTP_09, Version::HTTP_10, Version::HTTP_11, Version::HTTP_2, Version::HTTP_3]
        {
            assert_eq!(version_str(version), format!("{version:?}"));
        }
    }

    #[test]
    fn a_body_exactly_at_the_cap_is_not_truncated() {
        let mut buf = BodyBuf::new(4);
        buf.reserve_for(4);
        buf.observe(b"abcd");
        let body = buf.into_body();
        assert_eq!(body, Body::complete(b"abcd".to_vec()));
    }
}
