//! HTTP for the shop: routing, bearer authentication, JSON in and out.
//!
//! Every refusal is a JSON `{"error": "..."}` with the status a careful API
//! would use: 400 for a malformed body, 401 without a live token, 404 for an
//! order that is missing, deleted or someone else's, 405 for a known path
//! with the wrong method, 409 for an action the order's status forbids, 412
//! for a stale `If-Match`, 422 for a reused `Idempotency-Key`, 428 for a
//! missing `If-Match`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::state::{Order, Shop, ShopError};

/// Largest request body read, in bytes; the shop's bodies are tiny.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The response every route builds: a small, fully buffered JSON body.
pub(crate) type Reply = Response<Full<Bytes>>;

/// A refusal on its way to becoming a response.
struct Refusal {
    status: StatusCode,
    message: String,
    etag: Option<String>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into(), etag: None }
    }

    fn into_reply(self) -> Reply {
        let mut reply = json_reply(self.status, &json!({ "error": self.message }));
        if self.status == StatusCode::UNAUTHORIZED {
            reply
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(value) = self.etag.and_then(|tag| HeaderValue::from_str(&tag).ok()) {
            reply.headers_mut().insert(header::ETAG, value);
        }
        reply
    }
}

impl From<ShopError> for Refusal {
    fn from(err: ShopError) -> Refusal {
        let status = match &err {
            ShopError::BadCredentials | ShopError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ShopError::NotFound => StatusCode::NOT_FOUND,
            ShopError::WrongState { .. } => StatusCode::CONFLICT,
            ShopError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ShopError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ShopError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ShopError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        // A 412 carries the current ETag, so a client can see how far behind it is.
        let etag = match &err {
            ShopError::PreconditionFailed { current } => Some(current.clone()),
            _ => None,
        };
        Refusal { status, message: err.message(), etag }
    }
}

type Outcome = Result<Reply, Refusal>;

/// The hyper service: never fails, every problem becomes a response.
pub(crate) async fn handle(shop: Arc<Shop>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let reply = route(&shop, req).await.unwrap_or_else(Refusal::into_reply);
    tracing::debug!(%method, %path, status = reply.status().as_u16(), "shop request");
    Ok(reply)
}

/// The endpoints, matched on method and path segments.
async fn route(shop: &Shop, req: Request<Incoming>) -> Outcome {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
    match (segments.as_slice(), &method) {
        (["health"], &Method::GET) => Ok(json_reply(StatusCode::OK, &json!({ "status": "ok" }))),
        (["__reset"], &Method::POST) => {
            shop.reset();
            Ok(no_content())
        }
        // Test hooks for exploration's branching: save the state under a
        // name, and put it back.
        (["__checkpoint", name], &Method::POST) => Ok(if shop.checkpoint(name) {
            no_content()
        } else {
            json_reply(
                StatusCode::INSUFFICIENT_STORAGE,
                &json!({ "error": "too many checkpoints" }),
            )
        }),
        (["__rollback", name], &Method::POST) => Ok(if shop.rollback(name) {
            no_content()
        } else {
            json_reply(StatusCode::NOT_FOUND, &json!({ "error": format!("no checkpoint {name}") }))
        }),
        (["login"], &Method::POST) => login(shop, req).await,
        (["logout"], &Method::POST) => {
            let token = bearer(req.headers())?;
            shop.logout(&token)?;
            Ok(no_content())
        }
        (["orders"], &Method::POST) => create_order(shop, req).await,
        (["orders"], &Method::GET) => {
            let user = authenticate(shop, req.headers())?;
            let orders = shop.list_orders(user);
            Ok(json_reply(StatusCode::OK, &json!({ "orders": orders })))
        }
        (["orders", id], &Method::GET) => {
            let user = authenticate(shop, req.headers())?;
            Ok(order_reply(StatusCode::OK, &shop.get_order(user, id)?))
        }
        (["orders", id], &Method::PATCH) => patch_order(shop, id, req).await,
        (["orders", id], &Method::DELETE) => {
            let user = authenticate(shop, req.headers())?;
            shop.delete(user, id)?;
            Ok(no_content())
        }
        (["orders", id, "pay"], &Method::POST) => {
            let user = authenticate(shop, req.headers())?;
            let key = header_str(req.headers(), "idempotency-key")?;
            let payment = shop.pay(user, id, key)?;
            let mut reply = order_reply(StatusCode::OK, &payment.order);
            if payment.replayed {
                reply.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            Ok(reply)
        }
        (["orders", id, "ship"], &Method::POST) => {
            let user = authenticate(shop, req.headers())?;
            Ok(order_reply(StatusCode::OK, &shop.ship(user, id)?))
        }
        (["orders", id, "refund"], &Method::POST) => {
            let user = authenticate(shop, req.headers())?;
            Ok(order_reply(StatusCode::OK, &shop.refund(user, id).await?))
        }
        (["orders", id, "cancel"], &Method::POST) => {
            let user = authenticate(shop, req.headers())?;
            Ok(order_reply(StatusCode::OK, &shop.cancel(user, id)?))
        }
        (known, _) => match allowed_methods(known) {
            Some(allow) => {
                let refusal = Refusal::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("{method} is not allowed on {path}; use {allow}"),
                );
                let mut reply = refusal.into_reply();
                reply.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
                Ok(reply)
            }
            None => Err(Refusal::new(StatusCode::NOT_FOUND, format!("no endpoint at {path}"))),
        },
    }
}

/// The methods a known path takes, for a 405's `Allow` header.
fn allowed_methods(segments: &[&str]) -> Option<&'static str> {
    match segments {
        ["health"] => Some("GET"),
        ["__reset"] | ["login"] | ["logout"] | ["__checkpoint" | "__rollback", _] => Some("POST"),
        ["orders"] => Some("GET, POST"),
        ["orders", _] => Some("GET, PATCH, DELETE"),
        ["orders", _, "pay" | "ship" | "refund" | "cancel"] => Some("POST"),
        _ => None,
    }
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(shop: &Shop, req: Request<Incoming>) -> Outcome {
    let body: LoginBody = read_json(req).await?;
    let token = shop.login(&body.username, &body.password)?;
    Ok(json_reply(StatusCode::OK, &json!({ "token": token })))
}

#[derive(Deserialize)]
struct NewOrder {
    item: String,
    amount: u64,
}

async fn create_order(shop: &Shop, req: Request<Incoming>) -> Outcome {
    let user = authenticate(shop, req.headers())?;
    let body: NewOrder = read_json(req).await?;
    let order = shop.create_order(user, &body.item, body.amount)?;
    let mut reply = order_reply(StatusCode::CREATED, &order);
    if let Ok(location) = HeaderValue::from_str(&format!("/orders/{}", order.id)) {
        reply.headers_mut().insert(header::LOCATION, location);
    }
    Ok(reply)
}

#[derive(Deserialize)]
struct NotePatch {
    note: String,
}

async fn patch_order(shop: &Shop, id: &str, req: Request<Incoming>) -> Outcome {
    let user = authenticate(shop, req.headers())?;
    let if_match = header_str(req.headers(), "if-match")?.map(str::to_string);
    let body: NotePatch = read_json(req).await?;
    Ok(order_reply(StatusCode::OK, &shop.patch_note(user, id, if_match.as_deref(), &body.note)?))
}

/// The caller's username, from a live bearer token.
fn authenticate(shop: &Shop, headers: &HeaderMap) -> Result<&'static str, Refusal> {
    let token = bearer(headers)?;
    Ok(shop.authenticate(&token)?)
}

/// The token of an `Authorization: Bearer ...` header.
fn bearer(headers: &HeaderMap) -> Result<String, Refusal> {
    let value = header_str(headers, "authorization")?.ok_or(ShopError::Unauthenticated)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ShopError::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ShopError::Unauthenticated.into());
    }
    Ok(token.trim().to_string())
}

/// A header as text; a value that is not visible ASCII is a 400.
fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Refusal> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| {
            Refusal::new(StatusCode::BAD_REQUEST, format!("the {name} header is not visible ASCII"))
        }),
    }
}

/// Reads a small JSON body into `T`, refusing oversized or malformed ones.
async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, Refusal> {
    let bytes = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|err| {
            if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                )
            } else {
                Refusal::new(StatusCode::BAD_REQUEST, format!("could not read the body: {err}"))
            }
        })?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|err| Refusal::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}")))
}

fn json_reply(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    // Serializing our own types and `json!` values cannot fail.
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// One order, with its version as the `ETag`.
fn order_reply(status: StatusCode, order: &Order) -> Reply {
    let mut reply = json_reply(status, order);
    if let Ok(etag) = HeaderValue::from_str(&order.etag()) {
        reply.headers_mut().insert(header::ETAG, etag);
    }
    reply
}

fn no_content() -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = StatusCode::NO_CONTENT;
    reply
}
