//! The enumeration family: two logins with an account no one has (twice, so
//! what differs between identical requests is known), then one with a
//! configured user's account and a wrong secret. The answers should not
//! tell the two failures apart.

use std::sync::Arc;

use serde_json::Value;
use venomqa_learner::Location;

use crate::mutate::journey::Journey;
use crate::run::request::RequestTemplate;
use crate::run::sequence::{Call, SeqStep, Sequence};

/// The secret every failed login of the family sends.
const WRONG_SECRET: &str = "venomqa-wrong-secret-7f3a";

impl Journey<'_> {
    /// Unknown account twice, then a known account with a wrong secret.
    pub(super) fn enumeration(&self) -> Vec<Sequence> {
        let auth = &self.plan.model.auth;
        let (Some(login), Some(account)) = (&self.plan.login, auth.account.as_deref()) else {
            return Vec::new();
        };
        if auth.credentials.is_empty() {
            return Vec::new();
        }
        let Some(user) = self.steps().iter().find(|s| s.call.login).and_then(|s| s.call.user)
        else {
            return Vec::new();
        };
        let key = account.trim_start_matches('/');
        let Some(known) = self.plan.users.get(user).and_then(|u| u.fields.get(key)) else {
            return Vec::new();
        };
        let attempt = |who: &str| failed_login(login, account, who, &auth.credentials);
        let (Some(unknown), Some(wrong)) = (attempt(&unknown_like(known)), attempt(known)) else {
            return Vec::new();
        };
        // One case per known account: the salt tells them apart when cases
        // from different journeys are deduplicated.
        let mut wrong = wrong;
        wrong.idem_salt = user as u32 + 1;
        let first = self.seq.fresh_origin();
        let steps = vec![
            SeqStep::plain(first, unknown.clone()),
            SeqStep::plain(first + 1, unknown),
            SeqStep::plain(first + 2, wrong).focus(),
        ];
        vec![self.new_seq(steps)]
    }
}

/// An account of the same shape as `known` that no one has.
fn unknown_like(known: &str) -> String {
    match known.split_once('@') {
        Some((_, domain)) => format!("venomqa-nobody-5c1e@{domain}"),
        None => "venomqa-nobody-5c1e".to_string(),
    }
}

/// The login as recorded, with `account` at its account pointer and a wrong
/// secret at each credential pointer; sent without anyone's credentials.
fn failed_login(
    login: &Arc<RequestTemplate>,
    pointer: &str,
    account: &str,
    credentials: &[String],
) -> Option<Call> {
    let mut draft = login.draft();
    let mut placed = draft.set(&Location::Body { pointer: pointer.into() }, &Value::from(account));
    for c in credentials {
        placed &= draft.set(&Location::Body { pointer: c.clone() }, &Value::from(WRONG_SECRET));
    }
    if !placed {
        return None;
    }
    let mut template = RequestTemplate::clone(login);
    template.body = draft.body;
    let mut call = Call::login(&Arc::new(template), 0);
    call.login = false;
    call.user = None;
    Some(call)
}
