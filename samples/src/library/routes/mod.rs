//! The library's endpoints: routing, cookie authentication, JSON in and out.
//!
//! Refusals are `{"error": "..."}` with the status a careful API would use:
//! 400 malformed body or a field the endpoint does not take, 401 no live
//! session, 403 staff only, 404 missing, withdrawn or someone else's, 405
//! known path with the wrong method, 409 not allowed in the current state,
//! 412 stale `If-Match`, 428 missing `If-Match`. A failed login is the
//! exception, on purpose: `200 {"ok": false, "error": ...}`, as many login
//! forms answer.
//!
//! The dispatch is here; the handlers sit by area: `accounts` (sign-up,
//! sessions, the profile, preferences), `catalogue`, `circulation` and
//! `lists`.

mod accounts;
mod catalogue;
mod circulation;
mod lists;

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header;
use hyper::{Method, Request, StatusCode};
use serde_json::json;

use super::http::{json_reply, no_content, session_id, with_header, Refusal, Reply};
use super::records::Member;
use super::state::Library;

/// Every API path starts with this.
pub(crate) const PREFIX: &str = "/api/v1";

type Outcome = Result<Reply, Refusal>;

/// The hyper service: never fails, every problem becomes a response.
pub(crate) async fn handle(
    library: Arc<Library>,
    req: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let reply = route(&library, req).await.unwrap_or_else(Refusal::into_reply);
    tracing::debug!(%method, %path, status = reply.status().as_u16(), "library request");
    Ok(reply)
}

async fn route(library: &Library, req: Request<Incoming>) -> Outcome {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/health" if req.method() == Method::GET => {
            return Ok(json_reply(StatusCode::OK, &json!({ "status": "ok" })))
        }
        "/__reset" if req.method() == Method::POST => {
            library.reset();
            return Ok(no_content());
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix(PREFIX) else { return Err(not_found(&path)) };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    match segments.first().copied() {
        Some("members" | "session" | "me") => accounts::route(library, req, &segments).await,
        Some("books") => catalogue::route(library, req, &segments).await,
        Some("loans" | "holds" | "desk") => circulation::route(library, req, &segments).await,
        Some("lists") => lists::route(library, req, &segments).await,
        _ => Err(not_found(&path)),
    }
}

/// The answer to a path no handler took: 405 with `Allow` on a known path, else 404.
fn unrouted(req: &Request<Incoming>, segments: &[&str]) -> Outcome {
    let path = req.uri().path();
    match allowed_methods(segments) {
        Some(allow) => {
            let why = format!("{} is not allowed on {path}; use {allow}", req.method());
            let reply = Refusal::new(StatusCode::METHOD_NOT_ALLOWED, why).into_reply();
            Ok(with_header(reply, header::ALLOW, allow))
        }
        None => Err(not_found(path)),
    }
}

/// The methods a known path (after the prefix) takes, for a 405's `Allow`.
fn allowed_methods(segments: &[&str]) -> Option<&'static str> {
    match segments {
        ["members"] | ["books", _, "copies" | "feature"] | ["desk", "pickups"] => Some("POST"),
        ["loans", _, "renew" | "return"] | ["holds", _, "cancel"] => Some("POST"),
        ["lists", _, "items" | "publish"] => Some("POST"),
        ["members", _, "password"] => Some("PUT"),
        ["session"] => Some("POST, DELETE"),
        ["loans", _] | ["holds", _] | ["lists", _] => Some("GET"),
        ["me"] => Some("GET, PUT"),
        ["me", "preferences"] => Some("GET, PUT, PATCH"),
        ["books"] | ["loans"] | ["holds"] | ["lists"] => Some("GET, POST"),
        ["books", _] => Some("GET, PATCH, DELETE"),
        _ => None,
    }
}

fn not_found(path: &str) -> Refusal {
    Refusal::new(StatusCode::NOT_FOUND, format!("no endpoint at {path}"))
}

fn ok(value: impl serde::Serialize) -> Outcome {
    Ok(json_reply(StatusCode::OK, &value))
}

/// A 201 with the new instance and, when it has a read, its `Location`.
fn created(value: impl serde::Serialize, location: Option<String>) -> Outcome {
    let reply = json_reply(StatusCode::CREATED, &value);
    Ok(match location {
        Some(location) => with_header(reply, header::LOCATION, &location),
        None => reply,
    })
}

/// The account behind the request's `sid` cookie.
fn caller(library: &Library, req: &Request<Incoming>) -> Result<Member, Refusal> {
    Ok(library.authenticate(session_id(req.headers()).as_deref())?)
}

/// The account behind the `sid` cookie of a request that creates an instance.
fn creator(library: &Library, req: &Request<Incoming>) -> Result<Member, Refusal> {
    Ok(library.authenticate_create(session_id(req.headers()).as_deref())?)
}
