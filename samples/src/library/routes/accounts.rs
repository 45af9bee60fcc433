//! Sign-up, login and logout, the caller's profile and password, and the
//! preferences singleton with its `ETag`.

use hyper::body::Incoming;
use hyper::header;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{caller, ok, unrouted, Outcome};
use crate::library::http::{
    expired_session_cookie, form_field, header_str, is_form, json_reply, no_content, parse_json,
    read_body, session_cookie, session_id, with_header, Reply,
};
use crate::library::preferences::PreferencesPatch;
use crate::library::records::Preferences;
use crate::library::state::Library;

pub(super) async fn route(library: &Library, req: Request<Incoming>, segments: &[&str]) -> Outcome {
    match (segments, req.method().clone()) {
        (["members"], Method::POST) => sign_up(library, req).await,
        (["members", id, "password"], Method::PUT) => change_password(library, req, id).await,
        (["session"], Method::POST) => login(library, req).await,
        (["session"], Method::DELETE) => logout(library, &req),
        (["me"], Method::GET) => ok(caller(library, &req)?),
        (["me"], Method::PUT) => update_profile(library, req).await,
        (["me", "preferences"], Method::GET) => {
            Ok(preferences_reply(&library.preferences(&caller(library, &req)?)))
        }
        (["me", "preferences"], Method::PUT) => put_preferences(library, req).await,
        (["me", "preferences"], Method::PATCH) => patch_preferences(library, req).await,
        _ => unrouted(&req, segments),
    }
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
        Ok((sid, member)) => {
            let reply = json_reply(StatusCode::OK, &json!({ "ok": true, "member": member }));
            Ok(with_header(reply, header::SET_COOKIE, &session_cookie(&sid)))
        }
        Err(why) => ok(json!({ "ok": false, "error": why })),
    }
}

fn logout(library: &Library, req: &Request<Incoming>) -> Outcome {
    let sid = session_id(req.headers()).unwrap_or_default();
    library.logout(&sid)?;
    Ok(with_header(no_content(), header::SET_COOKIE, &expired_session_cookie()))
}

/// `{"name": ...}`: the fields are checked by the library, one by one.
async fn update_profile(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let fields: Map<String, Value> = parse_json(&read_body(req).await?)?;
    ok(library.update_profile(&member, &fields)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

/// `{"password": ...}` → 204.
async fn change_password(library: &Library, req: Request<Incoming>, id: &str) -> Outcome {
    let member = caller(library, &req)?;
    let body: NewPassword = parse_json(&read_body(req).await?)?;
    library.change_password(&member, id, &body.password)?;
    Ok(no_content())
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
        put_from: None,
    };
    Ok(preferences_reply(&library.put_preferences(&member, if_match.as_deref(), wanted)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreferencesPatchBody {
    notify_by: Option<String>,
    language: Option<String>,
    newsletter: Option<bool>,
}

async fn patch_preferences(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let if_match = header_str(req.headers(), "if-match")?.map(str::to_string);
    let body: PreferencesPatchBody = parse_json(&read_body(req).await?)?;
    let patch = PreferencesPatch {
        notify_by: body.notify_by,
        language: body.language,
        newsletter: body.newsletter,
    };
    Ok(preferences_reply(&library.patch_preferences(&member, if_match.as_deref(), patch)?))
}
