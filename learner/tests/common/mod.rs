//! Traffic built in code: a call builder, and a small simulation of the
//! sample shop played by interleaved QA sessions.
#![allow(dead_code)]

pub mod shop;

use serde_json::{json, Value};
use venomqa_learner::{learn, LearnOptions, Learned};
use venomqa_traffic::{Body, Exchange, ExchangeError, Headers, Request, Response, SessionKey};

/// One request and its response, built fluently.
#[derive(Clone, Debug)]
pub struct Call {
    session: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Body,
    status: u16,
    reply_headers: Vec<(String, String)>,
    reply_body: Body,
    error: Option<String>,
}

/// Starts a call in `session` (the store's session key, e.g. `x-session:s-1`).
pub fn call(session: &str, method: &str, url: &str) -> Call {
    Call {
        session: session.to_string(),
        method: method.to_string(),
        url: url.to_string(),
        headers: Vec::new(),
        body: Body::default(),
        status: 200,
        reply_headers: Vec::new(),
        reply_body: Body::default(),
        error: None,
    }
}

impl Call {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: Value) -> Self {
        self.headers.push(("Content-Type".into(), "application/json".into()));
        self.body = Body::complete(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, bytes: &[u8]) -> Self {
        self.headers.push(("Content-Type".into(), content_type.into()));
        self.body = Body::complete(bytes.to_vec());
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn reply(mut self, body: Value) -> Self {
        self.reply_headers.push(("Content-Type".into(), "application/json".into()));
        self.reply_body = Body::complete(body.to_string());
        self
    }

    pub fn reply_raw(mut self, content_type: &str, bytes: &[u8]) -> Self {
        self.reply_headers.push(("Content-Type".into(), content_type.into()));
        self.reply_body = Body::complete(bytes.to_vec());
        self
    }

    pub fn reply_header(mut self, name: &str, value: &str) -> Self {
        self.reply_headers.push((name.to_string(), value.to_string()));
        self
    }

    /// No response: the upstream failed with this error kind.
    pub fn failed(mut self, kind: &str) -> Self {
        self.error = Some(kind.to_string());
        self
    }
}

fn headers(list: &[(String, String)]) -> Headers {
    let mut h = Headers::default();
    for (n, v) in list {
        h.push(n.clone(), v.as_bytes().to_vec());
    }
    h
}

/// Recorded traffic, ids in time order as the store gives them.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    pub exchanges: Vec<Exchange>,
}

impl Traffic {
    pub fn new() -> Self {
        Traffic::default()
    }

    /// Appends a call; returns its exchange id.
    pub fn push(&mut self, c: Call) -> u64 {
        let id = 1_000 + self.exchanges.len() as u64;
        let response = match &c.error {
            Some(_) => None,
            None => Some(Response {
                status: c.status,
                version: "HTTP/1.1".into(),
                headers: headers(&c.reply_headers),
                body: c.reply_body.clone(),
            }),
        };
        self.exchanges.push(Exchange {
            id,
            session: SessionKey(c.session.clone()),
            started_at: id * 1_000_000,
            duration_ns: 1_000,
            client: Some("127.0.0.1:50000".into()),
            request: Request {
                method: c.method.clone(),
                url: c.url.clone(),
                version: "HTTP/1.1".into(),
                headers: headers(&c.headers),
                body: c.body.clone(),
            },
            response,
            error: c.error.map(|kind| ExchangeError { kind, message: "upstream failed".into() }),
        });
        id
    }

    pub fn learn(&self) -> Learned {
        self.learn_with(&LearnOptions::default())
    }

    pub fn learn_with(&self, options: &LearnOptions) -> Learned {
        self.try_learn(options).expect("learning succeeds")
    }

    pub fn try_learn(&self, options: &LearnOptions) -> Result<Learned, venomqa_learner::Error> {
        learn(|| self.exchanges.iter().cloned(), options)
    }

    /// The last response body, parsed: what a driver reads ids from.
    pub fn last_reply(&self) -> Value {
        let body =
            &self.exchanges.last().and_then(|e| e.response.as_ref()).map(|r| r.body.bytes.clone());
        body.as_ref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null)
    }
}

/// Action ids of a model, in model order.
pub fn action_ids(learned: &Learned) -> Vec<String> {
    learned.model.actions.iter().map(|a| a.id.clone()).collect()
}

/// A deterministic random-looking id: `prefix_` and ten base-36 characters.
pub fn token_id(prefix: &str, n: u64) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x1234_5678);
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = format!("{prefix}_");
    for _ in 0..10 {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        s.push(alphabet[(x % 36) as usize] as char);
    }
    s
}

/// A redaction pseudonym as the store writes it: `~r:` and 16 hex digits.
pub fn pseudonym(n: u64) -> String {
    format!("~r:{:016x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5_5A5A_0F0F_F0F0)
}

/// Three users sign up choosing a username (nested JSON, an answer without
/// an id), then read and write their profile under `/people/v2/{username}`.
pub fn signups_then_profiles() -> Traffic {
    let mut t = Traffic::new();
    for (n, user) in ["alice", "bob", "carol"].iter().enumerate() {
        let s = format!("x-session:{user}");
        t.push(
            call(&s, "POST", "/signup")
                .json(json!({"user": {"username": user, "password": pseudonym(n as u64)}}))
                .status(201)
                .reply(json!({"ok": true})),
        );
        t.push(call(&s, "GET", &format!("/people/v2/{user}")).reply(json!({"bio": ""})));
        t.push(call(&s, "PUT", &format!("/people/v2/{user}")).reply(json!({"bio": "x"})));
    }
    t
}
