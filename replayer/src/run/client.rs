//! The HTTP client of a run: one pooled `reqwest` client (no system proxy:
//! mutated traffic goes to the target and nowhere else; an `https://`
//! target trusted as `[target]` says), a request counter for the budget,
//! and the target's base URL.
//!
//! **Delayed ACK.** A target that writes a response's headers and body in
//! two sends without `TCP_NODELAY` (Python's `http.server` does) has its
//! body held by Nagle until the client ACKs the headers, and on a
//! kept-alive connection the client's kernel delays that ACK ~40 ms: every
//! response stalls. `TCP_QUICKACK` would end it, but it is not sticky (the
//! kernel drops it after a few segments) and reqwest hides its sockets, so
//! the client watches instead: a body that arrives [`STALL`] or more after
//! its headers is a stall, and after [`STALLS_TO_SWITCH`] of them every
//! request goes on a fresh connection, whose first answer the kernel ACKs at
//! once. Fresh connections cost a handshake (tens of microseconds on a
//! LAN); stalls cost 40 ms each.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use venomqa_tls::ClientTrust;
use venomqa_traffic::strip_bom;

use crate::error::Error;
use crate::oracle::finding::SentRequest;
use crate::run::rate_limit;
use crate::run::request::{BodyTemplate, Draft, Reply, RequestTemplate};
use crate::run::trust;

/// A body that arrives this long after its headers is a stall: the
/// delayed ACK's 40 ms, never a loopback or LAN round trip.
pub(crate) const STALL: Duration = Duration::from_millis(30);

/// Stalls seen before every request goes on a fresh connection: more than
/// one, so a single slow moment of a busy machine does not switch.
pub(crate) const STALLS_TO_SWITCH: u32 = 2;

/// A body longer than this may take time to stream: never counted as a stall.
const SMALL_BODY: usize = 64 * 1024;

/// Sends drafts to the target.
#[derive(Debug)]
pub(crate) struct Client {
    /// Keeps connections alive between requests.
    pooled: reqwest::Client,
    /// A new connection for every request, once the target stalls.
    unpooled: reqwest::Client,
    stalls: AtomicU32,
    fresh_connections: AtomicBool,
    base: String,
    sent: AtomicU64,
    /// Answers that asked to wait (`rate_limit.rs`), waited out.
    rate_limited: AtomicU64,
    /// What an `https://` target may show, for the message when it is refused.
    trust: ClientTrust,
}

/// A request that got no answer, in a way that stops the whole run.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Nothing listens.
    Unreachable(String),
    /// The target's TLS certificate was refused: why, in words.
    Untrusted(String),
}

impl Client {
    pub fn new(base: &str, timeout: Duration, trust: ClientTrust) -> Result<Client, Error> {
        let tls = trust::client_tls(&trust)?;
        let build = |idle: usize| {
            reqwest::Client::builder()
                .no_proxy()
                .timeout(timeout)
                .pool_max_idle_per_host(idle)
                .tcp_nodelay(true)
                .use_preconfigured_tls(tls.clone())
                .build()
                .map_err(|e| Error::Setup(format!("cannot build the HTTP client: {e}")))
        };
        Ok(Client {
            pooled: build(64)?,
            unpooled: build(0)?,
            stalls: AtomicU32::new(0),
            fresh_connections: AtomicBool::new(false),
            base: base.trim_end_matches('/').to_string(),
            sent: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            trust,
        })
    }

    /// The run's error for a request that got no answer.
    pub fn stopped(&self, err: SendError) -> Error {
        let target = self.base.clone();
        match err {
            SendError::Unreachable(reason) => Error::Unreachable { target, reason },
            SendError::Untrusted(problem) => {
                Error::UntrustedTarget { target, problem, fix: trust::fix(&self.trust) }
            }
        }
    }

    /// Whether every request now goes on a fresh connection (the target stalled).
    pub fn fresh_connections(&self) -> bool {
        self.fresh_connections.load(Ordering::Relaxed)
    }

    /// The client the next request goes through.
    fn http(&self) -> &reqwest::Client {
        if self.fresh_connections() {
            &self.unpooled
        } else {
            &self.pooled
        }
    }

    /// Notes how long a body took after its headers; switches to fresh
    /// connections after enough stalls.
    fn observe(&self, after_headers: Duration, body_len: usize) {
        if after_headers < STALL || body_len > SMALL_BODY || self.fresh_connections() {
            return;
        }
        let stalls = self.stalls.fetch_add(1, Ordering::Relaxed) + 1;
        if stalls >= STALLS_TO_SWITCH && !self.fresh_connections.swap(true, Ordering::Relaxed) {
            tracing::info!(
                stalls,
                "the target's bodies arrive ~40 ms after their headers (delayed ACK): fresh connections from now on"
            );
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Answers that asked the run to wait (a rate limit), each waited out
    /// and its request sent again.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Sends one draft, again after the wait a rate-limited answer asks
    /// for (`rate_limit.rs`); a timeout or a broken connection is an answer
    /// with status 0 (the sequence goes on, the oracles ignore it), a
    /// refused connection is an error.
    pub async fn send(
        &self,
        template: &RequestTemplate,
        draft: &Draft,
    ) -> Result<(SentRequest, Reply), SendError> {
        self.patiently(|| self.send_at_once(template, draft), |(_, reply)| reply).await
    }

    /// Sends `send()`'s request again while its answer asks to wait, at most
    /// [`rate_limit::RETRIES`] times; the last answer stands.
    async fn patiently<T, F, Fut>(
        &self,
        send: F,
        reply: impl Fn(&T) -> &Reply,
    ) -> Result<T, SendError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SendError>>,
    {
        let mut answer = send().await?;
        for _ in 0..rate_limit::RETRIES {
            let last = reply(&answer);
            let Some(wait) = rate_limit::wait_before_retry(last.status, &last.headers) else {
                break;
            };
            if self.rate_limited.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    status = last.status,
                    "the target limits its rate: a request so answered is sent again after \
                     the wait its Retry-After asks for (at most {}s, {} times); a test \
                     environment without rate limits runs faster",
                    rate_limit::LONGEST_WAIT.as_secs(),
                    rate_limit::RETRIES
                );
            }
            tokio::time::sleep(wait).await;
            answer = send().await?;
        }
        Ok(answer)
    }

    /// Sends one draft once, whatever it is answered: for the requests of a
    /// burst, which sent again later would no longer be at once.
    pub async fn send_at_once(
        &self,
        template: &RequestTemplate,
        draft: &Draft,
    ) -> Result<(SentRequest, Reply), SendError> {
        if template.local {
            return Ok(local_answer(template, draft));
        }
        let url = draft.url(&self.base, template);
        let headers = draft.wire_headers(template);
        let body = draft.body_bytes();
        let mut request = self.http().request(template.method.clone(), &url);
        for (name, value) in &headers {
            if let (Ok(n), Ok(v)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            {
                request = request.header(n, v);
            }
        }
        if let Some(body) = &body {
            request = request.body(body.clone());
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let reply = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers: Vec<(String, String)> = response
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())
                    })
                    .collect();
                let headers_at = Instant::now();
                match response.bytes().await {
                    Ok(bytes) => {
                        self.observe(headers_at.elapsed(), bytes.len());
                        // Without a byte order mark, so that whatever reads
                        // the answer (oracles, reports) reads it as JSON.
                        let text = strip_bom(&bytes);
                        let json = match text.first() {
                            Some(b'{' | b'[') => serde_json::from_slice(text).ok(),
                            _ => None,
                        };
                        let body = String::from_utf8_lossy(text).into_owned();
                        Reply { status, headers, body, json }
                    }
                    Err(e) => failed(e),
                }
            }
            Err(e) => no_answer(e)?,
        };
        let sent = SentRequest {
            action: template.action.to_string(),
            user: None,
            method: template.method.to_string(),
            url,
            headers,
            body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
            copies: 1,
            at_once_with_previous: false,
            linked: draft.linked.clone(),
            status: (reply.status != 0).then_some(reply.status),
            response_body: Some(reply.body.clone()),
        };
        Ok((sent, reply))
    }
}

impl Client {
    /// Sends a request as it was sent before, with another URL and headers:
    /// the control requests of the oracles (again after a rate limit's
    /// wait, as [`Client::send`]).
    pub async fn resend(
        &self,
        sent: &SentRequest,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Reply, SendError> {
        self.patiently(|| self.resend_once(sent, url, headers), |reply| reply).await
    }

    async fn resend_once(
        &self,
        sent: &SentRequest,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Reply, SendError> {
        let method =
            reqwest::Method::from_bytes(sent.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = self.http().request(method, url);
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            {
                request = request.header(n, v);
            }
        }
        if let Some(body) = &sent.body {
            request = request.body(body.clone());
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // Only what a rate limit's wait is read from.
                let headers = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .map(|v| {
                        (
                            "retry-after".to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .into_iter()
                    .collect();
                let headers_at = Instant::now();
                let bytes = response.bytes().await.unwrap_or_default();
                self.observe(headers_at.elapsed(), bytes.len());
                let text = strip_bom(&bytes);
                Ok(Reply {
                    status,
                    headers,
                    body: String::from_utf8_lossy(text).into_owned(),
                    json: serde_json::from_slice(text).ok(),
                })
            }
            Err(e) => no_answer(e),
        }
    }
}

/// The answer of a template venomqa answers itself (a user's key's
/// stand-in login): `200` with the drafted body, nothing sent or counted.
fn local_answer(template: &RequestTemplate, draft: &Draft) -> (SentRequest, Reply) {
    let json = match &draft.body {
        BodyTemplate::Json(json) => Some(json.clone()),
        _ => None,
    };
    let body = json.as_ref().map(Value::to_string).unwrap_or_default();
    let reply = Reply { status: 200, headers: Vec::new(), body: body.clone(), json };
    let sent = SentRequest {
        action: template.action.to_string(),
        user: None,
        method: template.method.to_string(),
        url: String::new(),
        headers: Vec::new(),
        body: None,
        copies: 1,
        at_once_with_previous: false,
        linked: Vec::new(),
        status: Some(200),
        response_body: Some(body),
    };
    (sent, reply)
}

/// A request that got no answer: the run stops when nothing listens or the
/// target's certificate is refused (every request would fail alike);
/// otherwise (a timeout, a broken connection) it is an answer with status 0.
fn no_answer(e: reqwest::Error) -> Result<Reply, SendError> {
    if let Some(problem) = venomqa_tls::describe_error(&e) {
        return Err(SendError::Untrusted(problem));
    }
    if e.is_connect() {
        return Err(SendError::Unreachable(source_chain(&e)));
    }
    Ok(failed(e))
}

fn failed(e: reqwest::Error) -> Reply {
    Reply {
        status: 0,
        headers: Vec::new(),
        body: format!("no answer: {}", source_chain(&e)),
        json: None,
    }
}

/// The error and its causes on one line ("error sending request: ... : Connection refused").
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
