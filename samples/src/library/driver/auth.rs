//! How a QA session signs in and out: logins that work, the failed ones a
//! person makes (a mistyped password, an email with no account yet), and a
//! member changing their own password.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::visit::{Body, Call, Visit};
use crate::driver::DriveError;
use crate::library::STAFF;

type Step<T = ()> = Result<T, DriveError>;

const SESSION: &str = "/api/v1/session";

/// An account as the driver logs in with it.
pub(crate) struct Account {
    pub email: String,
    pub password: String,
    pub name: String,
}

impl Account {
    /// A seeded staff account: 0 the librarian, 1 the desk.
    pub fn staff(k: usize) -> Account {
        let staff = STAFF[k];
        Account {
            email: staff.email.into(),
            password: staff.password.into(),
            name: staff.name.into(),
        }
    }
}

/// Logs in with nested JSON or a form; false when no session came of it.
pub(crate) async fn log_in(visit: &mut Visit<'_>, account: &Account, form: bool) -> Step<bool> {
    let mut call = Call::post("POST /api/v1/session", SESSION.into(), StatusCode::OK);
    call.body = if form {
        Body::Form(vec![("email", account.email.clone()), ("password", account.password.clone())])
    } else {
        Body::Json(json!({ "member": { "email": account.email, "password": account.password } }))
    };
    let Some(answer) = visit.send(call).await? else { return Ok(false) };
    if answer.body["ok"] != true || !visit.keep_cookie(&answer) {
        visit.note_problem("POST /api/v1/session", SESSION, "login gave no session");
        return Ok(false);
    }
    Ok(true)
}

/// A login the library must refuse with `200 {"ok": false}` and no cookie.
async fn failed_login(visit: &mut Visit<'_>, email: &str, password: &str) -> Step {
    let body = json!({ "member": { "email": email, "password": password } });
    let call = Call::post("POST /api/v1/session", SESSION.into(), StatusCode::OK).json(body);
    if let Some(answer) = visit.send(call).await? {
        if answer.body["ok"] != false {
            visit.note_problem("POST /api/v1/session", SESSION, "a wrong login was accepted");
        }
    }
    Ok(())
}

/// A mistyped password.
pub(crate) async fn mistype_password(visit: &mut Visit<'_>, account: &Account) -> Step {
    failed_login(visit, &account.email, "wrong-password").await
}

/// A login before signing up: the email has no account yet.
pub(crate) async fn log_in_before_signing_up(visit: &mut Visit<'_>, account: &Account) -> Step {
    failed_login(visit, &account.email, &account.password).await
}

pub(crate) async fn log_out(visit: &mut Visit<'_>) -> Step {
    let call =
        Call::new(Method::DELETE, "DELETE /api/v1/session", SESSION.into(), StatusCode::NO_CONTENT);
    if visit.send(call).await?.is_some() {
        visit.forget_cookie();
    }
    Ok(())
}

/// Member `id` sets `account`'s new password, logs out, and back in with it
/// to see that it took.
pub(crate) async fn change_password(visit: &mut Visit<'_>, account: &Account, id: u64) -> Step {
    let path = format!("/api/v1/members/{id}/password");
    let call =
        Call::new(Method::PUT, "PUT /api/v1/members/{id}/password", path, StatusCode::NO_CONTENT);
    let call = call.json(json!({ "password": account.password }));
    if visit.send(call).await?.is_none() {
        return Ok(());
    }
    log_out(visit).await?;
    if log_in(visit, account, false).await? {
        visit.send(Call::get("GET /api/v1/me", "/api/v1/me".into())).await?;
        log_out(visit).await?;
    }
    Ok(())
}
