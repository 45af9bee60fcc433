//! The library's endpoints: routing, cookie authentication, JSON in and out.
//!
//! Refusals are `{"error": "..."}` with the status a careful API would use:
//! 400 malformed body, 401 no live session, 403 staff only, 404 missing,
//! withdrawn or someone else's, 405 known path with the wrong method, 409
//! not allowed in the current state, 412 stale `If-Match`, 428 missing
//! `If-Match`. A failed login is the exception, on purpose: `200 {"ok":
//! false, "error": ...}`, as many login forms answer.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::catalogue::NewBook;
use super::http::{
    expired_session_cookie, form_field, header_str, is_form, json_reply, no_content, parse_json,
    read_body, session_cookie, session_id, with_header, Refusal, Reply,
};
use super::records::{BookStatus, Member, Preferences};
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
    let method = req.method().clone();
    match (segments.as_slice(), &method) {
        (["members"], &Method::POST) => sign_up(library, req).await,
        (["session"], &Method::POST) => login(library, req).await,
        (["session"], &Method::DELETE) => logout(library, &req),
        (["me"], &Method::GET) => Ok(json_reply(StatusCode::OK, &caller(library, &req)?)),
        (["me", "preferences"], &Method::GET) => {
            Ok(preferences_reply(&library.preferences(&caller(library, &req)?)))
        }
        (["me", "preferences"], &Method::PUT) => put_preferences(library, req).await,
        (["books"], &Method::GET) => list_books(library, &req),
        (["books"], &Method::POST) => add_book(library, req).await,
        (["books", slug], &Method::GET) => Ok(json_reply(StatusCode::OK, &library.book(slug)?)),
        (["books", slug], &Method::DELETE) => {
            library.withdraw(&caller(library, &req)?, slug)?;
            Ok(no_content())
        }
        (["books", slug, "copies"], &Method::POST) => add_copy(library, slug, req).await,
        (["loans"], &Method::GET) => {
            let loans = library.loans(&caller(library, &req)?);
            Ok(json_reply(StatusCode::OK, &json!({ "loans": loans })))
        }
        (["loans"], &Method::POST) => borrow(library, req).await,
        (["loans", id], &Method::GET) => ok(library.loan(&caller(library, &req)?, id)?),
        (["loans", id, "renew"], &Method::POST) => ok(library.renew(&caller(library, &req)?, id)?),
        (["loans", id, "return"], &Method::POST) => {
            ok(library.return_loan(&caller(library, &req)?, id)?)
        }
        (["holds"], &Method::GET) => {
            let holds = library.holds(&caller(library, &req)?);
            Ok(json_reply(StatusCode::OK, &json!({ "holds": holds })))
        }
        (["holds"], &Method::POST) => place_hold(library, req).await,
        (["holds", id], &Method::GET) => ok(library.hold(&caller(library, &req)?, id)?),
        (["holds", id, "cancel"], &Method::POST) => {
            ok(library.cancel_hold(&caller(library, &req)?, id)?)
        }
        (["desk", "pickups"], &Method::POST) => redeem(library, req).await,
        (known, _) => match allowed_methods(known) {
            Some(allow) => {
                let why = format!("{method} is not allowed on {path}; use {allow}");
                let reply = Refusal::new(StatusCode::METHOD_NOT_ALLOWED, why).into_reply();
                Ok(with_header(reply, header::ALLOW, allow))
            }
            None => Err(not_found(&path)),
        },
    }
}

/// The methods a known path (after the prefix) takes, for a 405's `Allow`.
fn allowed_methods(segments: &[&str]) -> Option<&'static str> {
    match segments {
        ["members"] | ["books", _, "copies"] | ["desk", "pickups"] => Some("POST"),
        ["loans", _, "renew" | "return"] | ["holds", _, "cancel"] => Some("POST"),
        ["session"] => Some("POST, DELETE"),
        ["me"] | ["loans", _] | ["holds", _] => Some("GET"),
        ["me", "preferences"] => Some("GET, PUT"),
        ["books"] | ["loans"] | ["holds"] => Some("GET, POST"),
        ["books", _] => Some("GET, DELETE"),
        _ => None,
    }
}

fn not_found(path: &str) -> Refusal {
    Refusal::new(StatusCode::NOT_FOUND, format!("no endpoint at {path}"))
}

fn ok(value: impl serde::Serialize) -> Outcome {
    Ok(json_reply(StatusCode::OK, &value))
}

/// The account behind the request's `sid` cookie.
fn caller(library: &Library, req: &Request<Incoming>) -> Result<Member, Refusal> {
    Ok(library.authenticate(session_id(req.headers()).as_deref())?)
}

/// Sign-up and login bodies nest the account one level: `{"member": {...}}`.
#[derive(Deserialize)]
struct Nested<T> {
    member: T,
}

#[derive(Deserialize)]
struct SignUp {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn sign_up(library: &Library, req: Request<Incoming>) -> Outcome {
    let body: Nested<SignUp> = parse_json(&read_body(req).await?)?;
    let SignUp { email, password, name } = body.member;
    let member = library.sign_up(&email, &password, &name)?;
    Ok(json_reply(StatusCode::CREATED, &json!({ "member": member })))
}

/// `{"member": {"email", "password"}}`, or a form `email=...&password=...`.
async fn login(library: &Library, req: Request<Incoming>) -> Outcome {
    let form = is_form(req.headers());
    let bytes = read_body(req).await?;
    let credentials = if form {
        let text = String::from_utf8_lossy(&bytes);
        let field = |name| form_field(&text, name).unwrap_or_default();
        Credentials { email: field("email"), password: field("password") }
    } else {
        parse_json::<Nested<Credentials>>(&bytes)?.member
    };
    match library.login(&credentials.email, &credentials.password) {
        Some((sid, member)) => {
            let reply = json_reply(StatusCode::OK, &json!({ "ok": true, "member": member }));
            Ok(with_header(reply, header::SET_COOKIE, &session_cookie(&sid)))
        }
        None => Ok(json_reply(
            StatusCode::OK,
            &json!({ "ok": false, "error": "wrong email or password" }),
        )),
    }
}

fn logout(library: &Library, req: &Request<Incoming>) -> Outcome {
    let sid = session_id(req.headers()).unwrap_or_default();
    library.logout(&sid)?;
    Ok(with_header(no_content(), header::SET_COOKIE, &expired_session_cookie()))
}

/// The preferences with their version as the `ETag`.
fn preferences_reply(preferences: &Preferences) -> Reply {
    with_header(json_reply(StatusCode::OK, preferences), header::ETAG, &preferences.etag())
}

#[derive(Deserialize)]
struct PreferencesBody {
    notify_by: String,
    language: String,
    newsletter: bool,
}

async fn put_preferences(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let if_match = header_str(req.headers(), "if-match")?.map(str::to_string);
    let body: PreferencesBody = parse_json(&read_body(req).await?)?;
    let wanted = Preferences {
        notify_by: body.notify_by,
        language: body.language,
        newsletter: body.newsletter,
        version: 0,
    };
    Ok(preferences_reply(&library.put_preferences(&member, if_match.as_deref(), wanted)?))
}

/// `?status=available` (the default) or `?status=withdrawn`.
fn list_books(library: &Library, req: &Request<Incoming>) -> Outcome {
    let query = req.uri().query().unwrap_or_default();
    let status = match form_field(query, "status").as_deref() {
        None | Some("available") => BookStatus::Available,
        Some("withdrawn") => BookStatus::Withdrawn,
        Some(other) => {
            let why = format!("status `{other}`: expected `available` or `withdrawn`");
            return Err(Refusal::new(StatusCode::BAD_REQUEST, why));
        }
    };
    Ok(json_reply(StatusCode::OK, &json!({ "books": library.books(status) })))
}

#[derive(Deserialize)]
struct BookBody {
    slug: String,
    title: String,
    #[serde(default)]
    author: String,
}

async fn add_book(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let BookBody { slug, title, author } = parse_json(&read_body(req).await?)?;
    let book = library.add_book(&member, NewBook { slug, title, author })?;
    let location = format!("{PREFIX}/books/{}", book.slug);
    Ok(with_header(json_reply(StatusCode::CREATED, &book), header::LOCATION, &location))
}

#[derive(Deserialize)]
struct CopyBody {
    barcode: String,
}

async fn add_copy(library: &Library, slug: &str, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let body: CopyBody = parse_json(&read_body(req).await?)?;
    Ok(json_reply(StatusCode::CREATED, &library.add_copy(&member, slug, &body.barcode)?))
}

/// Loans and holds name their book by slug: `{"book": "dune"}`.
#[derive(Deserialize)]
struct BookRef {
    book: String,
}

async fn borrow(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let body: BookRef = parse_json(&read_body(req).await?)?;
    let loan = library.borrow(&member, &body.book).await?;
    let location = format!("{PREFIX}/loans/{}", loan.id);
    Ok(with_header(json_reply(StatusCode::CREATED, &loan), header::LOCATION, &location))
}

async fn place_hold(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let body: BookRef = parse_json(&read_body(req).await?)?;
    let hold = library.place_hold(&member, &body.book)?;
    let location = format!("{PREFIX}/holds/{}", hold.id);
    Ok(with_header(json_reply(StatusCode::CREATED, &hold), header::LOCATION, &location))
}

#[derive(Deserialize)]
struct PickupBody {
    code: String,
}

async fn redeem(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let body: PickupBody = parse_json(&read_body(req).await?)?;
    let (hold, loan) = library.redeem(&member, &body.code)?;
    Ok(json_reply(StatusCode::CREATED, &json!({ "hold": hold, "loan": loan })))
}
