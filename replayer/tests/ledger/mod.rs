//! A small ledger API on loopback whose writes depend on earlier writes
//! that no binding shows: a debit needs a credit on its account, a cart's
//! submit needs its items, and the receipt or order they answer names an
//! instance of another resource. Two bugs can be planted (a receipt
//! refunded twice, an order paid twice), and after `broken_after` resets
//! the credit answers 503, as a target that changed after calibration.
//! Staff-like codes: one user issues a code, another redeems it once;
//! every redemption is logged for the test to read.
//!
//! The recording is real too: [`record`] sends each request to the live
//! server and appends request and answer to a store, which assigns the
//! sessions (`X-Session`) and redacts the secrets as a recording would.
#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};
use venomqa_traffic::{Body, Exchange, Headers, RecordOptions, SessionKey};

/// An account that exists before any journey: every reset puts it back, empty.
pub const SEEDED: &str = "acc_5eed0c4f7a";

/// Which bugs are planted, and when the credit starts failing.
#[derive(Default)]
pub struct Faults {
    /// A refunded receipt accepts another refund.
    pub double_refund: bool,
    /// A paid order accepts another payment.
    pub double_pay: bool,
    /// Resets after which every credit answers 503 (0: never).
    pub broken_after: AtomicUsize,
    /// Only credits of this amount break.
    pub broken_amount: Option<i64>,
    /// Once reset, codes are no longer issued (403).
    pub refuse_codes: bool,
}

/// What the server holds.
#[derive(Default)]
struct State {
    tokens: HashMap<String, String>,
    accounts: HashMap<String, i64>,
    receipts: HashMap<String, (String, i64, u32)>,
    carts: HashMap<String, (u32, String)>,
    orders: HashMap<String, (String, u32)>,
    codes: HashMap<String, (String, bool)>,
    next: u64,
}

/// A running ledger: its URL, its faults, and the redemptions it accepted.
#[derive(Clone)]
pub struct Ledger {
    pub url: String,
    pub faults: Arc<Faults>,
    /// (issuer, redeemer) of each accepted redemption.
    pub redeemed: Arc<Mutex<Vec<(String, String)>>>,
    resets: Arc<AtomicUsize>,
}

impl Ledger {
    /// Resets seen so far.
    pub fn resets(&self) -> usize {
        self.resets.load(Ordering::Relaxed)
    }
}

/// Starts a ledger with `faults` on a loopback port.
pub async fn start(faults: Faults) -> Ledger {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let ledger =
        Ledger { url, faults: Arc::new(faults), redeemed: Arc::default(), resets: Arc::default() };
    let mut seeded = State::default();
    seeded.accounts.insert(SEEDED.to_string(), 0);
    let state = Arc::new(Mutex::new(seeded));
    let served = ledger.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (state, ledger) = (state.clone(), served.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<_>| {
                    let (state, ledger) = (state.clone(), ledger.clone());
                    async move { Ok::<_, Infallible>(serve(&state, &ledger, req).await) }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    ledger
}

async fn serve(
    state: &Mutex<State>,
    ledger: &Ledger,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let bytes = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut s = state.lock().expect("state");
    let user = token.and_then(|t| s.tokens.get(&t).cloned());
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (status, reply) = match (method.as_str(), segments.as_slice(), user) {
        ("POST", ["__reset"], _) => {
            *s = State { next: s.next, ..State::default() };
            s.accounts.insert(SEEDED.to_string(), 0);
            ledger.resets.fetch_add(1, Ordering::Relaxed);
            (204, Value::Null)
        }
        ("POST", ["login"], _) => login(&mut s, &body),
        (_, _, None) => (401, json!({"error": "log in first"})),
        (m, rest, Some(user)) => route(&mut s, ledger, m, rest, &body, &user),
    };
    respond(status, &reply)
}

fn respond(status: u16, reply: &Value) -> Response<Full<Bytes>> {
    let body = if reply.is_null() { Bytes::new() } else { Bytes::from(reply.to_string()) };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    response.headers_mut().insert("content-type", "application/json".parse().expect("header"));
    response
}

fn fresh(s: &mut State, prefix: &str) -> String {
    s.next += 1;
    // Random-looking ids, as a real service gives: never a small number.
    let mix = s.next.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24;
    format!("{prefix}{mix:010x}")
}

fn login(s: &mut State, body: &Value) -> (u16, Value) {
    let user = body["username"].as_str().unwrap_or_default().to_string();
    let password = body["password"].as_str().unwrap_or_default();
    if password != format!("{user}-pw") {
        return (401, json!({"error": "wrong password"}));
    }
    let token = fresh(s, "tok_");
    s.tokens.insert(token.clone(), user);
    (200, json!({ "token": token }))
}

fn route(
    s: &mut State,
    ledger: &Ledger,
    method: &str,
    path: &[&str],
    body: &Value,
    user: &str,
) -> (u16, Value) {
    match (method, path) {
        ("POST", ["accounts"]) => {
            let id = fresh(s, "acc_");
            s.accounts.insert(id.clone(), 0);
            (201, json!({"id": id, "owner": user, "balance": 0}))
        }
        ("GET", ["accounts", id]) => match s.accounts.get(*id) {
            Some(b) => (200, json!({"id": id, "owner": user, "balance": b})),
            None => (404, json!({"error": "no such account"})),
        },
        ("POST", ["accounts", id, "credit"]) => credit(s, ledger, id, body),
        ("POST", ["accounts", id, "debit"]) => debit(s, id, body),
        ("GET", ["receipts", id]) => match s.receipts.get(*id) {
            Some((account, amount, refunds)) => {
                let status = if *refunds > 0 { "refunded" } else { "settled" };
                (
                    200,
                    json!({"id": id, "account": account, "amount": amount, "status": status, "refunds": refunds}),
                )
            }
            None => (404, json!({"error": "no such receipt"})),
        },
        ("POST", ["receipts", id, "refund"]) => refund(s, ledger, id),
        _ => carts_and_codes(s, ledger, method, path, body, user),
    }
}

fn credit(s: &mut State, ledger: &Ledger, id: &str, body: &Value) -> (u16, Value) {
    let broken_after = ledger.faults.broken_after.load(Ordering::Relaxed);
    let amount = body["amount"].as_i64().unwrap_or(0);
    let this_amount = ledger.faults.broken_amount.is_none_or(|a| a == amount);
    if broken_after > 0 && ledger.resets() > broken_after && this_amount {
        return (503, json!({"error": "the ledger is down"}));
    }
    let Some(balance) = s.accounts.get_mut(id) else { return (404, json!({})) };
    *balance += amount;
    (200, json!({"id": id, "balance": *balance}))
}

fn debit(s: &mut State, id: &str, body: &Value) -> (u16, Value) {
    let amount = body["amount"].as_i64().unwrap_or(0);
    let Some(balance) = s.accounts.get_mut(id) else { return (404, json!({})) };
    if *balance < amount {
        return (409, json!({"error": "insufficient funds"}));
    }
    *balance -= amount;
    let balance = *balance;
    let receipt = fresh(s, "rct_");
    s.receipts.insert(receipt.clone(), (id.to_string(), amount, 0));
    (200, json!({"receipt": receipt, "balance": balance}))
}

fn refund(s: &mut State, ledger: &Ledger, id: &str) -> (u16, Value) {
    let Some((account, amount, refunds)) = s.receipts.get_mut(id) else {
        return (404, json!({}));
    };
    if *refunds > 0 && !ledger.faults.double_refund {
        return (409, json!({"error": "already refunded"}));
    }
    *refunds += 1;
    let (account, amount, refunds) = (account.clone(), *amount, *refunds);
    if let Some(b) = s.accounts.get_mut(&account) {
        *b += amount;
    }
    (200, json!({"id": id, "status": "refunded", "refunds": refunds}))
}

fn carts_and_codes(
    s: &mut State,
    ledger: &Ledger,
    method: &str,
    path: &[&str],
    body: &Value,
    user: &str,
) -> (u16, Value) {
    match (method, path) {
        ("POST", ["carts"]) => {
            let id = fresh(s, "crt_");
            s.carts.insert(id.clone(), (0, "open".into()));
            (201, json!({"id": id, "status": "open", "items": 0}))
        }
        ("GET", ["carts", id]) => match s.carts.get(*id) {
            Some((items, status)) => (200, json!({"id": id, "status": status, "items": items})),
            None => (404, json!({})),
        },
        ("POST", ["carts", id, "items"]) => match s.carts.get_mut(*id) {
            Some((items, status)) if status == "open" => {
                *items += 1;
                let sku = body["sku"].clone();
                (201, json!({"cart": id, "sku": sku, "line": *items}))
            }
            _ => (409, json!({"error": "not an open cart"})),
        },
        ("POST", ["carts", id, "submit"]) => submit(s, id),
        ("GET", ["orders", id]) => match s.orders.get(*id) {
            Some((status, paid)) => (200, json!({"id": id, "status": status, "paid": paid})),
            None => (404, json!({})),
        },
        ("POST", ["orders", id, "pay"]) => pay(s, ledger, id),
        ("POST", ["codes"]) if ledger.faults.refuse_codes && ledger.resets() > 0 => {
            (403, json!({"error": "codes are closed"}))
        }
        ("POST", ["codes"]) => {
            let code = fresh(s, "INV");
            s.codes.insert(code.clone(), (user.to_string(), false));
            (201, json!({ "code": code }))
        }
        ("GET", ["codes"]) => {
            let mut open: Vec<&String> =
                s.codes.iter().filter(|(_, (_, used))| !used).map(|(c, _)| c).collect();
            open.sort();
            (200, json!({"codes": open.iter().map(|c| json!({"code": c})).collect::<Vec<_>>()}))
        }
        ("POST", ["redemptions"]) => redeem(s, ledger, body, user),
        _ => (404, json!({"error": "no such route"})),
    }
}

fn submit(s: &mut State, id: &str) -> (u16, Value) {
    let Some((items, status)) = s.carts.get_mut(id) else { return (404, json!({})) };
    if *items == 0 || status != "open" {
        return (409, json!({"error": "an empty cart cannot be submitted"}));
    }
    *status = "submitted".into();
    let order = fresh(s, "ord_");
    s.orders.insert(order.clone(), ("placed".into(), 0));
    (200, json!({"id": id, "status": "submitted", "order": order}))
}

fn pay(s: &mut State, ledger: &Ledger, id: &str) -> (u16, Value) {
    let Some((status, paid)) = s.orders.get_mut(id) else { return (404, json!({})) };
    if *paid > 0 && !ledger.faults.double_pay {
        return (409, json!({"error": "already paid"}));
    }
    *paid += 1;
    *status = "paid".into();
    (200, json!({"id": id, "status": "paid", "paid": *paid}))
}

fn redeem(s: &mut State, ledger: &Ledger, body: &Value, user: &str) -> (u16, Value) {
    let code = body["code"].as_str().unwrap_or_default();
    match s.codes.get_mut(code) {
        Some((issuer, used)) if !*used && issuer != user => {
            *used = true;
            ledger.redeemed.lock().expect("log").push((issuer.clone(), user.to_string()));
            (201, json!({"ok": true}))
        }
        _ => (404, json!({"error": "no such code"})),
    }
}

/// One recorded session as it was played: `X-Session` names it.
pub struct Recorder {
    client: reqwest::Client,
    base: String,
    exchanges: Vec<Exchange>,
}

impl Recorder {
    pub fn new(base: &str) -> Recorder {
        Recorder {
            client: venomqa_testkit::http::client(),
            base: base.to_string(),
            exchanges: Vec::new(),
        }
    }

    /// Sends one request in `session` (with `token` when given) and keeps
    /// the exchange; returns the answer's JSON.
    pub async fn call(
        &mut self,
        session: &str,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method.clone(), &url).header("x-session", session);
        let mut headers = Headers::default();
        headers.push("x-session", session.as_bytes().to_vec());
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
            headers.push("authorization", format!("Bearer {t}").into_bytes());
        }
        let sent = body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        if body.is_some() {
            request = request.header("content-type", "application/json").body(sent.clone());
            headers.push("content-type", b"application/json".to_vec());
        }
        let started_at = now_ns();
        let response = request.send().await.expect("the ledger answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let mut reply_headers = Headers::default();
        reply_headers.push("content-type", b"application/json".to_vec());
        self.exchanges.push(Exchange {
            id: 0,
            session: SessionKey::default(),
            started_at,
            duration_ns: 1_000_000,
            client: Some("127.0.0.1:40000".into()),
            request: venomqa_traffic::Request {
                method: method.as_str().into(),
                url: path.into(),
                version: "HTTP/1.1".into(),
                headers,
                body: if body.is_some() { Body::complete(sent) } else { Body::default() },
            },
            response: Some(venomqa_traffic::Response {
                status,
                version: "HTTP/1.1".into(),
                headers: reply_headers,
                body: Body::complete(text.clone()),
            }),
            error: None,
        });
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Logs `user` in within `session`; returns the token.
    pub async fn login(&mut self, session: &str, user: &str) -> String {
        let body = json!({"username": user, "password": format!("{user}-pw")});
        let reply = self.call(session, None, "POST", "/login", Some(body)).await;
        reply["token"].as_str().expect("a token").to_string()
    }

    /// What a recording store holds after these exchanges: sessions
    /// assigned, secrets redacted, in id order.
    pub fn stored(self) -> Vec<Exchange> {
        let temp = venomqa_testkit::store::TempStore::new();
        let store = temp.open();
        store.append(self.exchanges, RecordOptions::default()).expect("append");
        venomqa_testkit::store::all(&store)
    }
}

fn now_ns() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as u64)
}

/// The invariant a receipt refunded twice breaks.
pub const REFUND_INVARIANT: &str = r#"
[[invariants]]
name = "a receipt is refunded at most once"
resource = "receipts"
expr = "receipt.refunds <= 1"
"#;

/// The invariants the planted bugs break.
pub const INVARIANTS: &str = r#"
[[invariants]]
name = "a receipt is refunded at most once"
resource = "receipts"
expr = "receipt.refunds <= 1"

[[invariants]]
name = "an order is paid at most once"
resource = "orders"
expr = "order.paid <= 1"
"#;

/// A `qa/venomqa.toml` for the ledger at `target`: users alice and bob,
/// the reset hook, and `extra`.
pub fn config(target: &str, extra: &str) -> venomqa_replayer::Config {
    let text = format!(
        r#"
[target]
url = "{target}"
timeout = "5s"

[reset]
request = "POST /__reset"

[users.alice]
username = "alice"
password = "alice-pw"

[users.bob]
username = "bob"
password = "bob-pw"
{extra}"#
    );
    venomqa_replayer::Config::parse_with_env(&text, std::path::Path::new("qa/venomqa.toml"), |_| {
        None
    })
    .expect("config parses")
}
