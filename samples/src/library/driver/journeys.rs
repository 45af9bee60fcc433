//! The three journeys a library run plays: the librarian stocks the
//! catalogue, members borrow and hold, the desk redeems pickup codes.
//!
//! Each journey logs in, works, and (mostly) logs out, in the order a
//! person at a browser would; a step whose answer was unexpected ends the
//! part of the journey that depended on it.

use reqwest::header::ETAG;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::plan::{LoanFate, MemberSession, RunPlan};
use super::visit::{Body, Call, Visit};
use super::Run;
use crate::driver::DriveError;
use crate::library::STAFF;

type Step<T = ()> = Result<T, DriveError>;

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

fn post(endpoint: &'static str, path: String, expected: StatusCode) -> Call {
    Call::new(Method::POST, endpoint, path, expected)
}

fn get(endpoint: &'static str, path: String) -> Call {
    Call::new(Method::GET, endpoint, path, StatusCode::OK)
}

/// Logs in with nested JSON or a form; false when no session came of it.
async fn log_in(visit: &mut Visit<'_>, account: &Account, form: bool) -> Step<bool> {
    let mut call = post("POST /api/v1/session", "/api/v1/session".into(), StatusCode::OK);
    call.body = if form {
        Body::Form(vec![("email", account.email.clone()), ("password", account.password.clone())])
    } else {
        Body::Json(json!({ "member": { "email": account.email, "password": account.password } }))
    };
    let Some(answer) = visit.send(call).await? else { return Ok(false) };
    if answer.body["ok"] != true || !visit.keep_cookie(&answer) {
        visit.note_problem("POST /api/v1/session", "/api/v1/session", "login gave no session");
        return Ok(false);
    }
    Ok(true)
}

/// A mistyped password: the library answers `200 {"ok": false}` and no cookie.
async fn mistype_password(visit: &mut Visit<'_>, account: &Account) -> Step {
    let body = json!({ "member": { "email": account.email, "password": "wrong-password" } });
    let call = post("POST /api/v1/session", "/api/v1/session".into(), StatusCode::OK).json(body);
    if let Some(answer) = visit.send(call).await? {
        if answer.body["ok"] != false {
            visit.note_problem(
                "POST /api/v1/session",
                "/api/v1/session",
                "a wrong password was accepted",
            );
        }
    }
    Ok(())
}

async fn log_out(visit: &mut Visit<'_>) -> Step {
    let call = Call::new(
        Method::DELETE,
        "DELETE /api/v1/session",
        "/api/v1/session".into(),
        StatusCode::NO_CONTENT,
    );
    if visit.send(call).await?.is_some() {
        visit.forget_cookie();
    }
    Ok(())
}

/// The librarian adds every planned book with its copies, withdraws the
/// last one, and checks the lists.
pub(crate) async fn stock_catalogue(visit: &mut Visit<'_>, run: &Run) -> Step {
    if !log_in(visit, &Account::staff(0), false).await? {
        return Ok(());
    }
    visit.send(get("GET /api/v1/me", "/api/v1/me".into())).await?;
    for (k, book) in run.plan.books.iter().enumerate() {
        let slug = run.slug(k);
        let body = json!({ "slug": slug, "title": book.title, "author": book.author });
        let create = post("POST /api/v1/books", "/api/v1/books".into(), StatusCode::CREATED);
        if visit.send(create.json(body)).await?.is_none() {
            continue;
        }
        for c in 0..book.copies {
            let barcode = format!("{}-c{}", slug.chars().take(12).collect::<String>(), c + 1);
            let path = format!("/api/v1/books/{slug}/copies");
            let call = post("POST /api/v1/books/{slug}/copies", path, StatusCode::CREATED);
            visit.send(call.json(json!({ "barcode": barcode }))).await?;
        }
    }
    let withdrawn = run.slug(run.plan.withdrawn_book());
    visit.send(get("GET /api/v1/books/{slug}", format!("/api/v1/books/{withdrawn}"))).await?;
    let delete = Call::new(
        Method::DELETE,
        "DELETE /api/v1/books/{slug}",
        format!("/api/v1/books/{withdrawn}"),
        StatusCode::NO_CONTENT,
    );
    visit.send(delete).await?;
    visit.send(get("GET /api/v1/books", "/api/v1/books?status=withdrawn".into())).await?;
    visit.send(get("GET /api/v1/books", "/api/v1/books".into())).await?;
    log_out(visit).await
}

/// One member session, as planned; pickup codes for the desk go to `run`.
pub(crate) async fn member_session(visit: &mut Visit<'_>, run: &Run, plan: &MemberSession) -> Step {
    let account = run.member(plan.member);
    if plan.sign_up {
        let body = json!({ "member": { "email": account.email, "password": account.password, "name": account.name } });
        let call = post("POST /api/v1/members", "/api/v1/members".into(), StatusCode::CREATED);
        if visit.send(call.json(body)).await?.is_none() {
            return Ok(());
        }
    }
    if plan.typo_first {
        mistype_password(visit, &account).await?;
    }
    if !log_in(visit, &account, plan.form_login).await? {
        return Ok(());
    }
    visit.send(get("GET /api/v1/me", "/api/v1/me".into())).await?;
    browse(visit, run, &plan.browse).await?;
    if let Some((notify_by, newsletter)) = plan.preferences {
        edit_preferences(visit, notify_by, newsletter).await?;
    }
    if let Some(fate) = plan.loan {
        borrow(visit, &run.slug(RunPlan::loan_book(plan.member)), fate).await?;
    }
    if let Some(pickup) = plan.hold {
        let slug = run.slug(RunPlan::hold_book(plan.member));
        if let Some(code) = hold(visit, &slug, pickup).await? {
            run.hand_to_desk(code);
        }
    }
    if plan.list_at_end {
        visit.send(get("GET /api/v1/loans", "/api/v1/loans".into())).await?;
        visit.send(get("GET /api/v1/holds", "/api/v1/holds".into())).await?;
    }
    if plan.logout {
        log_out(visit).await?;
    }
    Ok(())
}

/// The catalogue, then a few books: reads anyone may make.
async fn browse(visit: &mut Visit<'_>, run: &Run, books: &[usize]) -> Step {
    visit.send(get("GET /api/v1/books", "/api/v1/books".into())).await?;
    for &k in books {
        let path = format!("/api/v1/books/{}", run.slug(k));
        visit.send(get("GET /api/v1/books/{slug}", path)).await?;
    }
    Ok(())
}

/// A fresh read of the preferences, then a `PUT` with that read's `ETag`.
async fn edit_preferences(visit: &mut Visit<'_>, notify_by: &str, newsletter: bool) -> Step {
    let path = "/api/v1/me/preferences";
    let Some(read) = visit.send(get("GET /api/v1/me/preferences", path.into())).await? else {
        return Ok(());
    };
    let Some(etag) = read.headers.get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string)
    else {
        visit.note_problem("GET /api/v1/me/preferences", path, "the answer has no ETag");
        return Ok(());
    };
    let body = json!({ "notify_by": notify_by, "language": "en", "newsletter": newsletter });
    let mut put = Call::new(Method::PUT, "PUT /api/v1/me/preferences", path.into(), StatusCode::OK)
        .json(body);
    put.headers.push(("if-match", etag));
    visit.send(put).await?;
    Ok(())
}

/// Borrows a copy of `slug`, reads the loan, and takes it where `fate` says.
async fn borrow(visit: &mut Visit<'_>, slug: &str, fate: LoanFate) -> Step {
    let call = post("POST /api/v1/loans", "/api/v1/loans".into(), StatusCode::CREATED);
    let Some(answer) = visit.send(call.json(json!({ "book": slug }))).await? else { return Ok(()) };
    let Some(id) = number(visit, &answer.body, "POST /api/v1/loans", "/api/v1/loans") else {
        return Ok(());
    };
    let loan = format!("/api/v1/loans/{id}");
    visit.send(get("GET /api/v1/loans/{id}", loan.clone())).await?;
    let actions: &[(&'static str, &str)] = match fate {
        LoanFate::Keep => &[],
        LoanFate::Renew => &[("POST /api/v1/loans/{id}/renew", "renew")],
        LoanFate::Return => &[("POST /api/v1/loans/{id}/return", "return")],
        LoanFate::RenewAndReturn => &[
            ("POST /api/v1/loans/{id}/renew", "renew"),
            ("POST /api/v1/loans/{id}/return", "return"),
        ],
    };
    for (endpoint, action) in actions {
        if visit.send(post(endpoint, format!("{loan}/{action}"), StatusCode::OK)).await?.is_none() {
            break;
        }
    }
    Ok(())
}

/// Holds a copy of `slug`; the pickup code when it goes to the desk, or
/// `None` when the hold is cancelled instead.
async fn hold(visit: &mut Visit<'_>, slug: &str, pickup: bool) -> Step<Option<String>> {
    let call = post("POST /api/v1/holds", "/api/v1/holds".into(), StatusCode::CREATED);
    let Some(answer) = visit.send(call.json(json!({ "book": slug }))).await? else {
        return Ok(None);
    };
    let Some(id) = number(visit, &answer.body, "POST /api/v1/holds", "/api/v1/holds") else {
        return Ok(None);
    };
    let code = answer.body["code"].as_str().map(str::to_string);
    let path = format!("/api/v1/holds/{id}");
    visit.send(get("GET /api/v1/holds/{id}", path.clone())).await?;
    if pickup {
        return Ok(code);
    }
    let cancel = post("POST /api/v1/holds/{id}/cancel", format!("{path}/cancel"), StatusCode::OK);
    visit.send(cancel).await?;
    Ok(None)
}

/// The desk redeems `codes`, then lists the holds and loans it can see (all of them).
pub(crate) async fn redeem_pickups(visit: &mut Visit<'_>, codes: &[String]) -> Step {
    if !log_in(visit, &Account::staff(1), true).await? {
        return Ok(());
    }
    visit.send(get("GET /api/v1/holds", "/api/v1/holds".into())).await?;
    for code in codes {
        let call =
            post("POST /api/v1/desk/pickups", "/api/v1/desk/pickups".into(), StatusCode::CREATED);
        visit.send(call.json(json!({ "code": code }))).await?;
    }
    visit.send(get("GET /api/v1/loans", "/api/v1/loans".into())).await?;
    log_out(visit).await
}

/// The answer's `id`, or a logged problem.
fn number(visit: &mut Visit<'_>, body: &Value, endpoint: &'static str, path: &str) -> Option<u64> {
    let id = body["id"].as_u64();
    if id.is_none() {
        visit.note_problem(endpoint, path, "the answer has no numeric `id`");
    }
    id
}
