//! The HTTP client of a run: one pooled `reqwest` client (no system proxy:
//! mutated traffic goes to the target and nowhere else), a request counter
//! for the budget, and the target's base URL.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use crate::error::Error;
use crate::oracle::finding::SentRequest;
use crate::run::request::{Draft, Reply, RequestTemplate};

/// Sends drafts to the target.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    sent: AtomicU64,
}

/// A request that got no answer.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Nothing listens: the whole run stops.
    Unreachable(String),
}

impl Client {
    pub fn new(base: &str, timeout: Duration) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::Setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client { http, base: base.trim_end_matches('/').to_string(), sent: AtomicU64::new(0) })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Sends one draft; a timeout or a broken connection is an answer with
    /// status 0 (the sequence goes on, the oracles ignore it), a refused
    /// connection is an error.
    pub async fn send(
        &self,
        template: &RequestTemplate,
        draft: &Draft,
    ) -> Result<(SentRequest, Reply), SendError> {
        let url = draft.url(&self.base, template);
        let headers = draft.wire_headers(template);
        let body = draft.body_bytes();
        let mut request = self.http.request(template.method.clone(), &url);
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
                match response.bytes().await {
                    Ok(bytes) => {
                        let json = match bytes.first() {
                            Some(b'{' | b'[') => serde_json::from_slice(&bytes).ok(),
                            _ => None,
                        };
                        let body = String::from_utf8_lossy(&bytes).into_owned();
                        Reply { status, headers, body, json }
                    }
                    Err(e) => failed(e),
                }
            }
            Err(e) if e.is_connect() => return Err(SendError::Unreachable(source_chain(&e))),
            Err(e) => failed(e),
        };
        let sent = SentRequest {
            action: template.action.to_string(),
            user: None,
            method: template.method.to_string(),
            url,
            headers,
            body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
            copies: 1,
            status: (reply.status != 0).then_some(reply.status),
            response_body: Some(reply.body.clone()),
        };
        Ok((sent, reply))
    }
}

impl Client {
    /// Sends a request as it was sent before, with another URL and headers:
    /// the control requests of the oracles.
    pub async fn resend(
        &self,
        sent: &SentRequest,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Reply, SendError> {
        let method =
            reqwest::Method::from_bytes(sent.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = self.http.request(method, url);
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
                let bytes = response.bytes().await.unwrap_or_default();
                let json = serde_json::from_slice(&bytes).ok();
                Ok(Reply {
                    status,
                    headers: Vec::new(),
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                    json,
                })
            }
            Err(e) if e.is_connect() => Err(SendError::Unreachable(source_chain(&e))),
            Err(e) => Ok(failed(e)),
        }
    }
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
