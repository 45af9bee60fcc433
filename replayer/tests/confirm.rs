//! Reproducers that confirm: each script replays its sequence against a live
//! ledger on loopback and makes the oracle's check itself. With the bug
//! planted it prints `REPRODUCED` and exits 1; on a correct ledger
//! `NOT REPRODUCED` and exits 0:
//! - a retry that charges again shows only in the owner's read-back (both
//!   answers are 200 alike), so the script reads the account after the
//!   first charge and after the retry and compares;
//! - an invariant (`account.balance <= account.limit`) is evaluated on the
//!   read-back by the script;
//! - two requests venomqa sent at once are sent at once (the ledger answers
//!   both 200 only when they overlap, as a race needs).

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use venomqa_replayer::report::{confirming_script, Confirm};
use venomqa_replayer::{Check, Invariant, OracleKind, ResetHow, SentRequest};

const RECORDED: &str = "http://127.0.0.1:9000";

/// The ledger's state: accounts by id, the idempotency keys seen, and the
/// requests in flight on `/freeze` and `/close` (the race pair).
#[derive(Default)]
struct Ledger {
    buggy: bool,
    accounts: HashMap<String, serde_json::Value>,
    keys: HashMap<String, String>,
    made: u32,
    in_flight: u32,
}

type Shared = Arc<Mutex<Ledger>>;

fn lock(ledger: &Shared) -> std::sync::MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

async fn handle(
    req: hyper::Request<hyper::body::Incoming>,
    ledger: Shared,
) -> Result<hyper::Response<Full<bytes::Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let key = parts.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from);
    let (status, reply) = match (parts.method.as_str(), segments.as_slice()) {
        ("POST", ["__reset"]) => {
            let mut l = lock(&ledger);
            let buggy = l.buggy;
            *l = Ledger { buggy, ..Ledger::default() };
            (204, String::new())
        }
        ("POST", ["login"]) => (200, r#"{"token":"tok-live-7f3e9a"}"#.to_string()),
        _ if parts.headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some("Bearer tok-live-7f3e9a") =>
        {
            (401, r#"{"error":"unauthorized"}"#.to_string())
        }
        ("POST", ["accounts"]) => {
            let mut l = lock(&ledger);
            l.made += 1;
            let id = format!("acc-live{}", l.made);
            let account = serde_json::json!({"id": id, "balance": 0, "limit": 100, "version": 1});
            l.accounts.insert(id, account.clone());
            (201, account.to_string())
        }
        ("GET", ["accounts", id]) => match lock(&ledger).accounts.get(*id) {
            Some(account) => (200, account.to_string()),
            None => (404, r#"{"error":"no such account"}"#.to_string()),
        },
        ("POST", ["accounts", id, "charge"]) => {
            let amount = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|b| b["amount"].as_i64())
                .unwrap_or(0);
            charge(&ledger, id, amount, key)
        }
        ("POST", ["accounts", id, "freeze" | "close"]) => {
            // Both succeed only when the other is in flight at the same time.
            lock(&ledger).in_flight += 1;
            let mut overlapped = false;
            for _ in 0..50 {
                if lock(&ledger).in_flight >= 2 {
                    overlapped = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            lock(&ledger).in_flight -= 1;
            if overlapped && lock(&ledger).buggy {
                (200, format!(r#"{{"id":"{id}","overlapped":true}}"#))
            } else {
                (409, format!(r#"{{"id":"{id}","error":"the account is busy"}}"#))
            }
        }
        _ => (404, r#"{"error":"not found"}"#.to_string()),
    };
    let response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(reply)));
    Ok(response.unwrap_or_else(|_| hyper::Response::new(Full::default())))
}

/// A charge: the buggy ledger applies a retry again and ignores the limit;
/// the correct one answers a retry from its keys and refuses over the limit.
fn charge(ledger: &Shared, id: &str, amount: i64, key: Option<String>) -> (u16, String) {
    let mut l = lock(ledger);
    let buggy = l.buggy;
    if let Some(answer) = key.as_ref().and_then(|k| l.keys.get(k)).filter(|_| !buggy) {
        return (200, answer.clone());
    }
    let Some(account) = l.accounts.get_mut(id) else {
        return (404, r#"{"error":"no such account"}"#.to_string());
    };
    let balance = account["balance"].as_i64().unwrap_or(0) + amount;
    if !buggy && balance > account["limit"].as_i64().unwrap_or(0) {
        return (409, r#"{"error":"over the limit"}"#.to_string());
    }
    account["balance"] = balance.into();
    account["version"] = (account["version"].as_i64().unwrap_or(0) + 1).into();
    let answer = format!(r#"{{"id":"{id}","charged":{amount}}}"#);
    if let Some(k) = key {
        l.keys.insert(k, answer.clone());
    }
    (200, answer)
}

/// A ledger on a loopback port, buggy or correct; its base URL.
async fn start_ledger(buggy: bool) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let ledger: Shared = Arc::new(Mutex::new(Ledger { buggy, ..Ledger::default() }));
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            let ledger = Arc::clone(&ledger);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| handle(req, Arc::clone(&ledger)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), server)
}

fn req(method: &str, path: &str, body: Option<&str>, status: u16, answer: &str) -> SentRequest {
    let action = format!("{method} {}", path.replace("acc-rec1", "{account_id}"));
    let mut headers = vec![("authorization".to_string(), "Bearer tok-rec-1a2b3c4d".to_string())];
    if body.is_some() {
        headers.push(("content-type".to_string(), "application/json".to_string()));
    }
    SentRequest {
        action,
        user: Some("alice".to_string()),
        method: method.to_string(),
        url: format!("{RECORDED}{path}"),
        headers,
        body: body.map(str::to_string),
        copies: 1,
        at_once_with_previous: false,
        linked: Vec::new(),
        status: Some(status),
        response_body: Some(answer.to_string()),
    }
}

fn login() -> SentRequest {
    let mut login = req("POST", "/login", Some("{}"), 200, r#"{"token":"tok-rec-1a2b3c4d"}"#);
    login.headers.retain(|(n, _)| n != "authorization");
    login
}

fn create() -> SentRequest {
    req("POST", "/accounts", Some("{}"), 201, r#"{"id":"acc-rec1","balance":0,"limit":100}"#)
}

fn charge_of(amount: i64, key: &str) -> SentRequest {
    let body = format!(r#"{{"amount":{amount}}}"#);
    let answer = format!(r#"{{"id":"acc-rec1","charged":{amount}}}"#);
    let mut charge = req("POST", "/accounts/acc-rec1/charge", Some(&body), 200, &answer);
    charge.headers.push(("idempotency-key".to_string(), key.to_string()));
    charge
}

fn read_back(balance: i64, version: i64) -> SentRequest {
    let answer =
        format!(r#"{{"id":"acc-rec1","balance":{balance},"limit":100,"version":{version}}}"#);
    req("GET", "/accounts/acc-rec1", None, 200, &answer)
}

fn confirm(oracle: OracleKind, check: Option<Check>, steps: usize) -> Confirm {
    Confirm {
        reset: Some(ResetHow::Request { method: "POST".into(), path: "/__reset".into() }),
        oracle: Some(oracle),
        summary: "the bug".into(),
        check,
        step_ends: (1..=steps).collect(),
        ..Confirm::default()
    }
}

/// Runs `script` against `target`: its exit code and what it printed.
async fn run(script: &str, target: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.sh");
    std::fs::write(&path, script).expect("write");
    let target = target.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash").arg(&path).env("TARGET", target).output().expect("bash runs")
    })
    .await
    .expect("join");
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), said)
}

/// The script exits `code` against `target`, saying `verdict` on a line's start.
async fn confirms(script: &str, target: &str, code: i32, verdict: &str) -> String {
    let (exit, said) = run(script, target).await;
    assert_eq!(exit, Some(code), "{said}\n{script}");
    assert!(said.contains(&format!("\n{verdict}")), "{said}");
    said
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_that_charged_again_is_confirmed_by_the_read_back_not_the_answers() {
    let (buggy, b) = start_ledger(true).await;
    let (correct, c) = start_ledger(false).await;
    let sequence = [login(), create(), charge_of(70, "k-1"), charge_of(70, "k-1")];
    let check = Check::ReadsDiffer {
        request: read_back(140, 3),
        after: [2, 3],
        fields: vec!["balance".into(), "version".into()],
    };
    let script =
        confirming_script(&sequence, RECORDED, &confirm(OracleKind::Idempotency, Some(check), 4));
    assert_eq!(script.matches("'/accounts/'\"${S2_ID}\"").count(), 4, "two charges, two reads");
    let said = confirms(&script, &buggy, 1, "REPRODUCED: ").await;
    assert!(said.contains("balance: '70' -> '140'"), "{said}");
    // Both answers are alike on the correct ledger too: only the read shows it.
    let said = confirms(&script, &correct, 0, "NOT REPRODUCED: ").await;
    assert!(said.contains("5. POST /accounts/{account_id}/charge -> 200"), "{said}");
    // Run again: a fresh key each run, so the second run is no retry of the first.
    confirms(&script, &correct, 0, "NOT REPRODUCED: ").await;
    confirms(&script, &buggy, 1, "REPRODUCED: ").await;

    // Without the check, the answers are compared: the same on both ledgers,
    // so the bug only the read-back shows is missed, and the script says so.
    let script = confirming_script(&sequence, RECORDED, &confirm(OracleKind::Idempotency, None, 4));
    let said = confirms(&script, &buggy, 0, "NOT REPRODUCED: ").await;
    assert!(said.contains("a change only a read-back shows would not be seen here"), "{said}");
    b.abort();
    c.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invariant_is_evaluated_by_the_script_on_the_read_back() {
    let (buggy, b) = start_ledger(true).await;
    let (correct, c) = start_ledger(false).await;
    let sequence = [login(), create(), charge_of(70, "k-1"), charge_of(70, "k-2")];
    let invariant =
        Invariant::compile("within the limit", "accounts", "account.balance <= account.limit")
            .expect("valid");
    let read = read_back(140, 3);
    let seen: serde_json::Value =
        serde_json::from_str(read.response_body.as_deref().unwrap()).unwrap();
    let check = |request: SentRequest| Check::Invariant {
        request,
        after: 3,
        name: invariant.name.clone(),
        expr: invariant.expr.clone(),
        awk: invariant.awk(&seen).expect("awk evaluates it"),
    };
    let script = confirming_script(
        &sequence,
        RECORDED,
        &confirm(OracleKind::Invariant, Some(check(read.clone())), 4),
    );
    let said = confirms(&script, &buggy, 1, "REPRODUCED: ").await;
    assert!(said.contains("balance=140 limit=100"), "{said}");
    let said = confirms(&script, &correct, 0, "NOT REPRODUCED: ").await;
    assert!(said.contains("4. POST /accounts/{account_id}/charge -> 409"), "{said}");

    // A read-back whose field the script cannot read as recorded (an escaped
    // string where a number was) is said, exit 2, never guessed.
    let mut odd = read.clone();
    odd.response_body = Some(r#"{"id":"acc-rec1","balance":"1\"40","limit":100}"#.into());
    let script = confirming_script(
        &sequence,
        RECORDED,
        &confirm(OracleKind::Invariant, Some(check(odd)), 4),
    );
    let said = confirms(&script, &buggy, 2, "CANNOT CONFIRM: ").await;
    assert!(said.contains("`balance`"), "{said}");
    // So is one where the key first appears nested, where the script's
    // extraction would read the inner value.
    let mut nested = read.clone();
    nested.response_body =
        Some(r#"{"holds":[{"balance":5}],"id":"acc-rec1","balance":140,"limit":100}"#.into());
    let script = confirming_script(
        &sequence,
        RECORDED,
        &confirm(OracleKind::Invariant, Some(check(nested)), 4),
    );
    let said = confirms(&script, &buggy, 2, "CANNOT CONFIRM: ").await;
    assert!(said.contains("`balance`"), "{said}");

    // An invariant awk cannot evaluate as CEL does is refused when the check is made.
    let division =
        Invariant::compile("half", "accounts", "account.balance / 2 <= account.limit").unwrap();
    assert!(division.awk(&seen).unwrap_err().contains("division"));
    b.abort();
    c.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_sent_at_once_are_sent_at_once() {
    let (buggy, b) = start_ledger(true).await;
    let (correct, c) = start_ledger(false).await;
    let freeze = req("POST", "/accounts/acc-rec1/freeze", None, 200, "{}");
    let mut close = req("POST", "/accounts/acc-rec1/close", None, 200, "{}");
    close.at_once_with_previous = true;
    let sequence = [login(), create(), freeze, close];
    let script = confirming_script(&sequence, RECORDED, &confirm(OracleKind::Race, None, 3));
    assert_eq!(script.matches(".status\" &\n").count(), 2, "{script}");
    assert_eq!(script.matches("\nwait\n").count(), 1, "{script}");
    let said = confirms(&script, &buggy, 1, "REPRODUCED: ").await;
    assert!(said.contains("3. POST /accounts/{account_id}/freeze -> 200"), "{said}");
    assert!(said.contains("4. POST /accounts/{account_id}/close -> 200"), "{said}");
    confirms(&script, &correct, 0, "NOT REPRODUCED: ").await;

    // One after the other, the ledger refuses: what the script above avoids.
    let mut sequential = sequence.clone();
    sequential[3].at_once_with_previous = false;
    let script = confirming_script(&sequential, RECORDED, &confirm(OracleKind::Race, None, 4));
    confirms(&script, &buggy, 0, "NOT REPRODUCED: ").await;
    b.abort();
    c.abort();
}
