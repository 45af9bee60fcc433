//! A member's session, as planned: sign up or log in, fill in the profile,
//! browse, set preferences, borrow, hold, gather a reading list, and log
//! out (or change the password on the way out).
//!
//! Each step runs in the order a person at a browser would; a step whose
//! answer was unexpected ends the part of the journey that depended on it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::auth::{self, log_in, log_out};
use super::plan::{LoanFate, MemberSession, RunPlan};
use super::profile::{edit_preferences, rename};
use super::visit::{Call, Visit};
use super::Run;
use crate::driver::DriveError;

type Step<T = ()> = Result<T, DriveError>;

/// One member session, as planned; pickup codes for the desk go to `run`.
pub(crate) async fn member_session(visit: &mut Visit<'_>, run: &Run, plan: &MemberSession) -> Step {
    let account = run.member(plan.member);
    if plan.sign_up && !sign_up(visit, run, plan).await? {
        return Ok(());
    }
    if plan.typo_first {
        auth::mistype_password(visit, &account).await?;
    }
    if !log_in(visit, &account, plan.form_login).await? {
        return Ok(());
    }
    let me = visit.send(Call::get("GET /api/v1/me", "/api/v1/me".into())).await?;
    let my_id = me.and_then(|me| number(visit, &me.body, "GET /api/v1/me", "/api/v1/me"));
    if plan.rename {
        rename(visit, &run.full_name(plan.member)).await?;
    }
    browse(visit, run, &plan.browse).await?;
    if let Some(preferences) = plan.preferences {
        edit_preferences(visit, preferences, plan.newsletter_first).await?;
    }
    circulate(visit, run, plan).await?;
    if let Some(publish) = plan.reading_list {
        reading_list(visit, run, plan.member, publish).await?;
    }
    if plan.list_at_end {
        for (endpoint, path) in [
            ("GET /api/v1/loans", "/api/v1/loans"),
            ("GET /api/v1/holds", "/api/v1/holds"),
            ("GET /api/v1/lists", "/api/v1/lists"),
        ] {
            visit.send(Call::get(endpoint, path.into())).await?;
        }
    }
    match my_id {
        Some(id) if plan.change_password => {
            auth::change_password(visit, &run.member_renewed(plan.member), id).await
        }
        _ if plan.logout || plan.change_password => log_out(visit).await,
        _ => Ok(()),
    }
}

/// Signs the member up, after trying to log in first when planned; false
/// when no account came of it.
async fn sign_up(visit: &mut Visit<'_>, run: &Run, plan: &MemberSession) -> Step<bool> {
    let account = run.member(plan.member);
    if plan.login_before_sign_up {
        auth::log_in_before_signing_up(visit, &account).await?;
    }
    let body = json!({ "member": { "email": account.email, "password": account.password, "name": account.name } });
    let call = Call::post("POST /api/v1/members", "/api/v1/members".into(), StatusCode::CREATED);
    Ok(visit.send(call.json(body)).await?.is_some())
}

/// The catalogue, then a few books: reads anyone may make.
async fn browse(visit: &mut Visit<'_>, run: &Run, books: &[usize]) -> Step {
    visit.send(Call::get("GET /api/v1/books", "/api/v1/books".into())).await?;
    for &k in books {
        let path = format!("/api/v1/books/{}", run.slug(k));
        visit.send(Call::get("GET /api/v1/books/{slug}", path)).await?;
    }
    Ok(())
}

/// The session's loan and hold, as planned.
async fn circulate(visit: &mut Visit<'_>, run: &Run, plan: &MemberSession) -> Step {
    if let Some(fate) = plan.loan {
        borrow(visit, &run.slug(RunPlan::loan_book(plan.member)), fate).await?;
    }
    if let Some(pickup) = plan.hold {
        let slug = run.slug(RunPlan::hold_book(plan.member));
        if let Some(code) = hold(visit, &slug, pickup).await? {
            run.hand_to_desk(code);
        }
    }
    Ok(())
}

/// Borrows a copy of `slug`, reads the loan, and takes it where `fate` says.
async fn borrow(visit: &mut Visit<'_>, slug: &str, fate: LoanFate) -> Step {
    let call = Call::post("POST /api/v1/loans", "/api/v1/loans".into(), StatusCode::CREATED);
    let Some(answer) = visit.send(call.json(json!({ "book": slug }))).await? else { return Ok(()) };
    let Some(id) = number(visit, &answer.body, "POST /api/v1/loans", "/api/v1/loans") else {
        return Ok(());
    };
    let loan = format!("/api/v1/loans/{id}");
    visit.send(Call::get("GET /api/v1/loans/{id}", loan.clone())).await?;
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
        let call = Call::post(endpoint, format!("{loan}/{action}"), StatusCode::OK);
        if visit.send(call).await?.is_none() {
            break;
        }
    }
    Ok(())
}

/// Holds a copy of `slug`; the pickup code when it goes to the desk, or
/// `None` when the hold is cancelled instead.
async fn hold(visit: &mut Visit<'_>, slug: &str, pickup: bool) -> Step<Option<String>> {
    let call = Call::post("POST /api/v1/holds", "/api/v1/holds".into(), StatusCode::CREATED);
    let Some(answer) = visit.send(call.json(json!({ "book": slug }))).await? else {
        return Ok(None);
    };
    let Some(id) = number(visit, &answer.body, "POST /api/v1/holds", "/api/v1/holds") else {
        return Ok(None);
    };
    let code = answer.body["code"].as_str().map(str::to_string);
    let path = format!("/api/v1/holds/{id}");
    visit.send(Call::get("GET /api/v1/holds/{id}", path.clone())).await?;
    if pickup {
        return Ok(code);
    }
    let cancel =
        Call::post("POST /api/v1/holds/{id}/cancel", format!("{path}/cancel"), StatusCode::OK);
    visit.send(cancel).await?;
    Ok(None)
}

/// A reading list of the member's two books, read back, and published
/// (then read again) when `publish`.
async fn reading_list(visit: &mut Visit<'_>, run: &Run, member: usize, publish: bool) -> Step {
    let create = Call::post("POST /api/v1/lists", "/api/v1/lists".into(), StatusCode::CREATED);
    let name = format!("{}'s picks", run.member(member).name);
    let Some(answer) = visit.send(create.json(json!({ "name": name }))).await? else {
        return Ok(());
    };
    let Some(id) = number(visit, &answer.body, "POST /api/v1/lists", "/api/v1/lists") else {
        return Ok(());
    };
    let path = format!("/api/v1/lists/{id}");
    for k in [RunPlan::loan_book(member), RunPlan::hold_book(member)] {
        let add = Call::post(
            "POST /api/v1/lists/{id}/items",
            format!("{path}/items"),
            StatusCode::CREATED,
        );
        visit.send(add.json(json!({ "book": run.slug(k) }))).await?;
    }
    visit.send(Call::get("GET /api/v1/lists/{id}", path.clone())).await?;
    if publish {
        let call = Call::post(
            "POST /api/v1/lists/{id}/publish",
            format!("{path}/publish"),
            StatusCode::OK,
        );
        if visit.send(call).await?.is_some() {
            visit.send(Call::get("GET /api/v1/lists/{id}", path)).await?;
        }
    }
    Ok(())
}

/// The answer's `id`, or a logged problem.
fn number(visit: &mut Visit<'_>, body: &Value, endpoint: &'static str, path: &str) -> Option<u64> {
    let id = body["id"].as_u64();
    if id.is_none() {
        visit.note_problem(endpoint, path, "the answer has no numeric `id`");
    }
    id
}
