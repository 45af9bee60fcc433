//! A small service shaped unlike the sample shop, to try venomqa on other
//! APIs: cookie sessions, sequential numeric ids, ids passed in JSON bodies
//! and query strings, a public endpoint, a `state` field instead of `status`.
//!
//! `POST /session {"user","pin"}` → `Set-Cookie: sid=...`; `DELETE /session`;
//! `GET /api/rates` (public); `POST /api/accounts {"name"}` → 201
//! `{"account_id": 17, "state": "open", "balance": 0}`; `GET /api/accounts/{n}`;
//! `POST /api/accounts/{n}/deposit {"amount"}`; `POST /api/accounts/{n}/close`;
//! `POST /api/transfers {"from", "to", "amount"}` → 201 `{"transfer_id"}`;
//! `GET /api/transfers?account=N`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

#[derive(Default)]
struct Bank {
    next_account: u64,
    next_transfer: u64,
    sessions: HashMap<String, String>,
    accounts: HashMap<u64, Value>,
    transfers: Vec<Value>,
}

/// Serves the bank on 127.0.0.1 at a free port; returns its address.
pub async fn spawn_bank() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let bank =
        Arc::new(Mutex::new(Bank { next_account: 17, next_transfer: 900, ..Bank::default() }));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let bank = bank.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(bank.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

async fn handle(
    bank: Arc<Mutex<Bank>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let sid = req
        .headers()
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("sid=")))
        .map(str::to_string);
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut bank = bank.lock().expect("bank lock");
    let user = sid.as_ref().and_then(|s| bank.sessions.get(s)).cloned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let response = match (method.as_str(), segments.as_slice()) {
        ("POST", ["session"]) => {
            let Some(name) = input["user"].as_str() else {
                return Ok(reply(StatusCode::BAD_REQUEST, json!({"error": "user"})));
            };
            let sid = format!("{:016x}", rand_u64(&path, bank.sessions.len() as u64));
            bank.sessions.insert(sid.clone(), name.to_string());
            let mut response = reply(StatusCode::OK, json!({"user": name}));
            let cookie = format!("sid={sid}; Path=/; HttpOnly");
            response.headers_mut().insert("set-cookie", cookie.parse().expect("cookie"));
            response
        }
        ("GET", ["api", "rates"]) => reply(StatusCode::OK, json!({"eur": 1.0, "usd": 1.08})),
        _ if user.is_none() => reply(StatusCode::UNAUTHORIZED, json!({"error": "sign in"})),
        ("DELETE", ["session"]) => {
            if let Some(sid) = sid {
                bank.sessions.remove(&sid);
            }
            reply(StatusCode::NO_CONTENT, json!({}))
        }
        ("POST", ["api", "accounts"]) => {
            let id = bank.next_account;
            bank.next_account += 1;
            let account = json!({"account_id": id, "name": input["name"], "owner": user, "state": "open", "balance": 0});
            bank.accounts.insert(id, account.clone());
            reply(StatusCode::CREATED, account)
        }
        ("GET", ["api", "accounts", id]) => {
            match id.parse::<u64>().ok().and_then(|id| bank.accounts.get(&id)) {
                Some(account) => reply(StatusCode::OK, account.clone()),
                None => reply(StatusCode::NOT_FOUND, json!({"error": "no such account"})),
            }
        }
        ("POST", ["api", "accounts", id, action]) => {
            let Some(account) = id.parse::<u64>().ok().and_then(|id| bank.accounts.get_mut(&id))
            else {
                return Ok(reply(StatusCode::NOT_FOUND, json!({"error": "no such account"})));
            };
            match (*action, account["state"].as_str()) {
                ("deposit", Some("open")) => {
                    let balance = account["balance"].as_i64().unwrap_or(0)
                        + input["amount"].as_i64().unwrap_or(0);
                    account["balance"] = json!(balance);
                    reply(StatusCode::OK, account.clone())
                }
                ("close", Some("open")) => {
                    account["state"] = json!("closed");
                    reply(StatusCode::OK, account.clone())
                }
                _ => reply(StatusCode::CONFLICT, json!({"error": "account is closed"})),
            }
        }
        ("POST", ["api", "transfers"]) => {
            let id = bank.next_transfer;
            bank.next_transfer += 1;
            let transfer = json!({"transfer_id": id, "from": input["from"], "to": input["to"], "amount": input["amount"]});
            bank.transfers.push(transfer.clone());
            reply(StatusCode::CREATED, transfer)
        }
        ("GET", ["api", "transfers"]) => {
            let account: Option<u64> = query.strip_prefix("account=").and_then(|n| n.parse().ok());
            let list: Vec<Value> = bank
                .transfers
                .iter()
                .filter(|t| t["from"].as_u64() == account || t["to"].as_u64() == account)
                .cloned()
                .collect();
            reply(StatusCode::OK, json!({"transfers": list}))
        }
        _ => reply(StatusCode::NOT_FOUND, json!({"error": "no such endpoint"})),
    };
    Ok(response)
}

/// A cookie value that looks random but is reproducible within a test.
fn rand_u64(salt: &str, n: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (salt, n, std::time::SystemTime::now()).hash(&mut hasher);
    hasher.finish()
}

/// One customer's visit, with the cookie carried by hand (as a browser would).
pub async fn customer_visit(base: &str, user: &str) -> Vec<u16> {
    let client = venomqa_testkit::http::client();
    let mut statuses = Vec::new();
    let login = client
        .post(format!("{base}/session"))
        .json(&json!({"user": user, "pin": "4321"}))
        .send()
        .await
        .expect("login");
    statuses.push(login.status().as_u16());
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let send = |request: reqwest::RequestBuilder| {
        let cookie = cookie.clone();
        async move { request.header("cookie", cookie).send().await.expect("request") }
    };
    statuses.push(
        client.get(format!("{base}/api/rates")).send().await.expect("rates").status().as_u16(),
    );
    let mut ids = Vec::new();
    for name in ["checking", "savings"] {
        let created =
            send(client.post(format!("{base}/api/accounts")).json(&json!({"name": name}))).await;
        statuses.push(created.status().as_u16());
        let account: Value = created.json().await.expect("json");
        ids.push(account["account_id"].as_u64().expect("numeric id"));
    }
    let deposit = send(
        client
            .post(format!("{base}/api/accounts/{}/deposit", ids[0]))
            .json(&json!({"amount": 100})),
    )
    .await;
    statuses.push(deposit.status().as_u16());
    let transfer = send(
        client
            .post(format!("{base}/api/transfers"))
            .json(&json!({"from": ids[0], "to": ids[1], "amount": 40})),
    )
    .await;
    statuses.push(transfer.status().as_u16());
    let listed = send(client.get(format!("{base}/api/transfers?account={}", ids[1]))).await;
    statuses.push(listed.status().as_u16());
    let read = send(client.get(format!("{base}/api/accounts/{}", ids[1]))).await;
    statuses.push(read.status().as_u16());
    let closed = send(client.post(format!("{base}/api/accounts/{}/close", ids[0]))).await;
    statuses.push(closed.status().as_u16());
    let logout = send(client.delete(format!("{base}/session"))).await;
    statuses.push(logout.status().as_u16());
    statuses
}
