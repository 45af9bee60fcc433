//! `venomqa sessions` and `venomqa show`: reading a store as a person or a script.

use std::process::ExitCode;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use venomqa_traffic::{
    rfc3339, utc_millis, Body, Exchange, Headers, SessionKey, SessionSummary, Store,
};

use crate::cli::{SessionsArgs, ShowArgs};
use crate::format::Table;
use crate::usage;

pub fn sessions(args: SessionsArgs) -> Result<ExitCode> {
    let store = open_store(&args.store.store)?;
    let sessions = store.sessions().context("failed to list sessions")?;
    if args.json {
        let list: Vec<_> = sessions.iter().map(session_json).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if sessions.is_empty() {
        println!("no sessions in {} yet", args.store.store.display());
    } else {
        print!("{}", sessions_table(&sessions));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: ShowArgs) -> Result<ExitCode> {
    let store = open_store(&args.store.store)?;
    let key = resolve_session(&store, &args.session)?;
    let exchanges: Vec<Exchange> = store
        .session_exchanges(&key)
        .collect::<Result<_, _>>()
        .with_context(|| format!("failed to read session {key}"))?;
    if args.json {
        let list: Vec<_> = exchanges.iter().map(exchange_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"session": key.as_str(), "exchanges": list}))?
        );
    } else {
        println!("session {key}: {} exchanges", exchanges.len());
        let mut table = Table::new(&["TIME (UTC)", "METHOD", "PATH", "STATUS", "MS"]);
        for exchange in &exchanges {
            table.row(vec![
                utc_millis(exchange.started_at),
                exchange.request.method.clone(),
                exchange.request.url.clone(),
                status_text(exchange),
                format!("{:.1}", exchange.duration_ns as f64 / 1e6),
            ]);
        }
        print!("{}", table.render());
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens a store that must already exist, for reading.
pub fn open_store(dir: &std::path::Path) -> Result<Store> {
    Store::open_existing(dir).with_context(|| format!("cannot read the store at {}", dir.display()))
}

/// A session named exactly, or by a prefix only one session has.
pub fn resolve_session(store: &Store, text: &str) -> Result<SessionKey> {
    let sessions = store.sessions().context("failed to list sessions")?;
    if let Some(exact) = sessions.iter().find(|s| s.key.as_str() == text) {
        return Ok(exact.key.clone());
    }
    let matching: Vec<&SessionSummary> =
        sessions.iter().filter(|s| s.key.as_str().starts_with(text)).collect();
    match matching.as_slice() {
        [one] => Ok(one.key.clone()),
        [] => Err(usage(format!(
            "no session `{text}` in {}; `venomqa sessions --store {}` lists them",
            store.dir().display(),
            store.dir().display()
        ))),
        many => Err(usage(format!(
            "`{text}` matches {} sessions ({}, ...); give more of the key",
            many.len(),
            many.iter().take(3).map(|s| s.key.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The session table `sessions` and `demo` print.
pub fn sessions_table(sessions: &[SessionSummary]) -> String {
    let mut table = Table::new(&["SESSION", "EXCHANGES", "FIRST (UTC)", "LAST (UTC)", "ENDPOINTS"]);
    for session in sessions {
        table.row(vec![
            session.key.to_string(),
            session.exchanges.to_string(),
            utc_millis(session.first),
            utc_millis(session.last),
            endpoints_text(&session.endpoints),
        ]);
    }
    table.render()
}

/// `12: GET /orders, POST /login, ...` — the count, then the first few.
fn endpoints_text(endpoints: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = format!("{}", endpoints.len());
    if !endpoints.is_empty() {
        text.push_str(": ");
        text.push_str(&endpoints.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", "));
        if endpoints.len() > SHOWN {
            text.push_str(", ...");
        }
    }
    text
}

fn session_json(session: &SessionSummary) -> serde_json::Value {
    json!({
        "key": session.key.as_str(),
        "exchanges": session.exchanges,
        "first": rfc3339(session.first),
        "last": rfc3339(session.last),
        "first_ns": session.first,
        "last_ns": session.last,
        "endpoints": session.endpoints,
    })
}

fn exchange_json(exchange: &Exchange) -> serde_json::Value {
    let request = &exchange.request;
    json!({
        "id": exchange.id,
        "time": rfc3339(exchange.started_at),
        "method": request.method,
        "url": request.url,
        "status": exchange.response.as_ref().map(|r| r.status),
        "error": exchange.error.as_ref().map(|e| json!({"kind": e.kind, "message": e.message})),
        "duration_ms": exchange.duration_ns as f64 / 1e6,
        "request": {"headers": headers_json(&request.headers), "body": body_json(&request.body)},
        "response": exchange.response.as_ref().map(|r| {
            json!({"headers": headers_json(&r.headers), "body": body_json(&r.body)})
        }),
    })
}

/// Headers in order, as `[{"name", "value"}]` (values redacted as stored).
fn headers_json(headers: &Headers) -> serde_json::Value {
    headers.iter().map(|h| json!({"name": h.name, "value": h.value_str()})).collect()
}

/// A body as stored: `text` when it is UTF-8, else `base64`; with its length
/// on the wire and whether the store cut it short.
fn body_json(body: &Body) -> serde_json::Value {
    let content = match std::str::from_utf8(&body.bytes) {
        Ok(text) => json!({"text": text}),
        Err(_) => json!({"base64": STANDARD.encode(&body.bytes)}),
    };
    let mut out = content;
    out["original_len"] = json!(body.original_len);
    out["truncated"] = json!(body.truncated);
    out
}

fn status_text(exchange: &Exchange) -> String {
    match (&exchange.response, &exchange.error) {
        (Some(response), _) => response.status.to_string(),
        (None, Some(error)) => format!("error: {}", error.kind),
        (None, None) => "-".to_string(),
    }
}
