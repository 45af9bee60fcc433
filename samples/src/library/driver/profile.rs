//! A member's own account as they edit it: the profile's name, and the
//! preferences singleton written under its `ETag`.

use reqwest::header::ETAG;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::visit::{Answer, Call, Visit};
use crate::driver::DriveError;

type Step<T = ()> = Result<T, DriveError>;

const PREFERENCES: &str = "/api/v1/me/preferences";

/// Sets the profile's name, then reads the account back.
pub(crate) async fn rename(visit: &mut Visit<'_>, name: &str) -> Step {
    let call = Call::new(Method::PUT, "PUT /api/v1/me", "/api/v1/me".into(), StatusCode::OK);
    if visit.send(call.json(json!({ "name": name }))).await?.is_some() {
        visit.send(Call::get("GET /api/v1/me", "/api/v1/me".into())).await?;
    }
    Ok(())
}

/// A fresh read of the preferences, then a `PUT` with that read's `ETag`;
/// with `newsletter_first`, a `PATCH` flips the newsletter before, and the
/// `PUT` carries the `ETag` the `PATCH` answered.
pub(crate) async fn edit_preferences(
    visit: &mut Visit<'_>,
    (notify_by, newsletter): (&str, bool),
    newsletter_first: bool,
) -> Step {
    let read = visit.send(Call::get("GET /api/v1/me/preferences", PREFERENCES.into())).await?;
    let Some(mut etag) = read.and_then(|read| etag_of(visit, &read, "GET /api/v1/me/preferences"))
    else {
        return Ok(());
    };
    if newsletter_first {
        let patch = conditional(Method::PATCH, "PATCH /api/v1/me/preferences", etag);
        let answer = visit.send(patch.json(json!({ "newsletter": !newsletter }))).await?;
        let Some(next) = answer.and_then(|a| etag_of(visit, &a, "PATCH /api/v1/me/preferences"))
        else {
            return Ok(());
        };
        etag = next;
    }
    let body = json!({ "notify_by": notify_by, "language": "en", "newsletter": newsletter });
    visit.send(conditional(Method::PUT, "PUT /api/v1/me/preferences", etag).json(body)).await?;
    Ok(())
}

/// A write of the preferences with `If-Match: etag`.
fn conditional(method: Method, endpoint: &'static str, etag: String) -> Call {
    Call::new(method, endpoint, PREFERENCES.into(), StatusCode::OK).header("if-match", etag)
}

/// The answer's `ETag`, or a logged problem.
fn etag_of(visit: &mut Visit<'_>, answer: &Answer, endpoint: &'static str) -> Option<String> {
    let etag = answer.headers.get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
    if etag.is_none() {
        visit.note_problem(endpoint, PREFERENCES, "the answer has no ETag");
    }
    etag
}
