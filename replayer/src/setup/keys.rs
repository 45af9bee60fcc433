//! Users of an API without a login, each known by a key of their own that
//! every request carries (`Authorization: Bearer sk_test_…`, `X-Api-Key:
//! …`; the model's `auth.key`). Replay gives each such user a stand-in
//! login that venomqa answers itself, with the user's key at `/key`: the
//! requests that carried a recorded key are bound to it like any request
//! bound to a login's token, so everything that swaps users (another
//! user's key on the owner's invoice) works as it does for logins.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use venomqa_learner::{KeyAuth, Location};
use venomqa_traffic::{is_pseudonym, Exchange, Redactor};

use crate::run::request::{BodyTemplate, RequestTemplate};
use crate::setup::config::User;

/// The field of `[users.NAME]` that holds a user's own key.
pub(crate) const KEY_FIELD: &str = "key";
/// The field of `[users.NAME]` naming the recorded key the user stands for.
pub(crate) const RECORDED_KEY: &str = "recorded_key";

/// The stand-in login of a user's key: never sent, answered locally with
/// the user's fields (the key at `/key`).
pub(crate) fn key_login(key: &KeyAuth) -> Arc<RequestTemplate> {
    Arc::new(RequestTemplate {
        action: Arc::from(format!("(the user's key in {})", key.header).as_str()),
        method: Method::POST,
        segments: Vec::new(),
        query: Vec::new(),
        headers: Vec::new(),
        idempotency_key: None,
        content_type: None,
        body: BodyTemplate::Json(Value::Object(Default::default())),
        credential_scheme: None,
        local: true,
    })
}

/// Where a request carries the key: the `Authorization` token (sent in
/// the scheme the request was recorded in), or the header itself.
pub(crate) fn key_location(key: &KeyAuth) -> Location {
    if key.header == "authorization" {
        Location::Bearer
    } else {
        Location::Header { name: key.header.clone() }
    }
}

/// Where the stand-in login answers the key.
pub(crate) fn key_answer() -> Location {
    Location::Body { pointer: format!("/{KEY_FIELD}") }
}

/// The key a recorded request carried, as the store pseudonymised it.
pub(crate) fn recorded_key(exchange: &Exchange, key: &KeyAuth) -> Option<String> {
    let value = exchange.request.headers.get_str(&key.header)?;
    let value = value.trim();
    let token = if key.header == "authorization" {
        value.split_once(' ').map_or(value, |(_, token)| token.trim())
    } else {
        value
    };
    is_pseudonym(token.as_bytes()).then(|| token.to_string())
}

/// The configured user a recorded key is: the one whose `recorded_key`
/// names it, else the one whose own key the store pseudonymises to it
/// (the recording was made with the test users' keys).
pub(crate) fn user_of_key(
    recorded: &str,
    users: &[User],
    redactor: Option<&Redactor>,
) -> Option<usize> {
    users.iter().position(|u| u.recorded_key.as_deref() == Some(recorded)).or_else(|| {
        let redactor = redactor?;
        users.iter().position(|u| {
            u.recorded_key.is_none()
                && u.fields
                    .get(KEY_FIELD)
                    .is_some_and(|k| redactor.pseudonym(k.as_bytes()) == recorded)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, key: &str, recorded: Option<&str>) -> User {
        User {
            name: name.into(),
            fields: [(KEY_FIELD.to_string(), key.to_string())].into_iter().collect(),
            generated: false,
            variables: Default::default(),
            recorded_key: recorded.map(str::to_string),
        }
    }

    #[test]
    fn a_recorded_key_is_the_user_that_names_it_else_the_one_whose_key_it_is() {
        let redactor = Redactor::new(b"a store's key");
        let bobs = redactor.pseudonym(b"sk_test_bob");
        let users = [
            user("alice", "sk_test_alice", Some("~r:00000000000000aa")),
            user("bob", "sk_test_bob", None),
        ];
        assert_eq!(user_of_key("~r:00000000000000aa", &users, Some(&redactor)), Some(0));
        assert_eq!(user_of_key(&bobs, &users, Some(&redactor)), Some(1));
        assert_eq!(user_of_key(&bobs, &users, None), None, "no store: no pseudonym to compare");
        assert_eq!(user_of_key("~r:00000000000000ff", &users, Some(&redactor)), None);
        // A user who names another recorded key is not matched by their own.
        let pinned = [user("bob", "sk_test_bob", Some("~r:00000000000000aa"))];
        assert_eq!(user_of_key(&bobs, &pinned, Some(&redactor)), None);
    }
}
