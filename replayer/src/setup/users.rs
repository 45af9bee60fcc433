//! The users a run logs in as: the configured ones (matched to the
//! recorded logins by the fields the recording shows, each checked to give
//! the fields it hid) and the identities the journeys make themselves,
//! which need no configuration.

use std::sync::Arc;

use serde_json::Value;
use venomqa_learner::Model;
use venomqa_traffic::{is_pseudonym, is_secret_name};

use crate::error::Error;
use crate::run::request::{form_decode, BodyTemplate, RequestTemplate};
use crate::setup::config::{env_var, Config, User};
use crate::setup::identities::Identities;

/// The configured users, then one generated user for each made identity,
/// named by its recorded account. A generated user has no fields: its
/// logins send the recorded request with the made account and secret.
pub(crate) fn with_generated(configured: &[User], identities: &Identities) -> Vec<User> {
    let made = identities.made.iter().map(|m| User {
        name: m.account.clone(),
        fields: Default::default(),
        generated: true,
        variables: Default::default(),
        recorded_key: None,
    });
    configured.iter().cloned().chain(made).collect()
}

/// Which configured user a recorded login was: the first whose readable
/// fields (not secret) the recorded body holds, every one of them equal (a
/// field named by pointer, `member/email`, is read there; form values
/// decoded).
pub(crate) fn match_user(login: &RequestTemplate, users: &[User]) -> Option<usize> {
    users.iter().position(|u| {
        let mut compared = false;
        for (field, value) in u.fields.iter().filter(|(k, _)| !is_secret_name(k.as_bytes())) {
            match recorded_value(&login.body, field) {
                Some(v) if is_pseudonym(v.as_bytes()) => {}
                Some(v) if v == *value => compared = true,
                Some(_) => return false,
                None => {}
            }
        }
        compared
    })
}

/// The recorded value of a user's `field` in a login body, as text.
fn recorded_value(body: &BodyTemplate, field: &str) -> Option<String> {
    match body {
        BodyTemplate::Json(json) => match json.pointer(&format!("/{field}"))? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        BodyTemplate::Form(pairs) => {
            pairs.iter().find(|(k, _)| k == field).map(|(_, v)| form_decode(v))
        }
        _ => None,
    }
}

/// The role the model saw `user` act in: the role listing one of its
/// field values as an account.
pub(crate) fn role_of(model: &Model, user: &User) -> Option<String> {
    let role = model.roles.iter().find(|r| r.users.iter().any(|a| user.is_account(a)));
    role.map(|r| r.name.clone())
}

/// A recorded login of a configured user needs configured users, each
/// giving the fields its own recorded login (else `login`) hid.
pub(crate) fn check_users(
    login: &RequestTemplate,
    logins: &[Option<Arc<RequestTemplate>>],
    config: &Config,
    unmatched: usize,
) -> Result<(), Error> {
    if config.users.is_empty() {
        return Err(Error::Setup(format!(
            "the recorded journeys log in with {} as users who exist before any journey, but the configuration names no [users.NAME]",
            login.action
        )));
    }
    if unmatched > 0 && config.users.len() > 1 {
        tracing::info!(
            journeys = unmatched,
            "recorded logins that match no configured user replay as the first user"
        );
    }
    for (u, user) in config.users.iter().enumerate() {
        let own = logins.get(u).and_then(Option::as_deref).unwrap_or(login);
        check_login_fields(own, user)?;
    }
    Ok(())
}

/// `user` must give each field its login's recording hid.
fn check_login_fields(login: &RequestTemplate, user: &User) -> Result<(), Error> {
    for (field, value) in login.body.fields() {
        if !is_pseudonym(form_decode(&value).as_bytes()) || user.fields.contains_key(&field) {
            continue;
        }
        return Err(Error::Setup(format!(
            "user {} has no `{field}`: the recorded {} hid it, so [users.{}] must give it (e.g. {field} = {{ env = \"{}\" }})",
            user.name,
            login.action,
            user.name,
            env_var(&user.name, &field)
        )));
    }
    Ok(())
}
