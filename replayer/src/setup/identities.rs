//! Identities made inside journeys: an account that a recorded request
//! created (a sign-up) before any login named it did not exist before the
//! recording, so no one configures it. Replay makes it again: its sign-up
//! and every later request that names it send a fresh account of the same
//! shape each sequence (a reset may not delete the recorded one), and the
//! secret sent at sign-up is the one its logins send (both are the same
//! recorded pseudonym, made fresh once per sequence).
//!
//! The evidence that a request signed an account up: it was accepted, it is
//! not a login, it came before the first accepted login naming the account,
//! and its body holds the account value and either is the model's sign-up
//! or holds the same secret that account's logins sent.

use std::collections::HashMap;

use serde_json::Value;
use venomqa_learner::{Auth, Location, Model};
use venomqa_traffic::{is_pseudonym, is_secret_name, strip_bom, Exchange, PSEUDONYM_PREFIX};

use crate::run::request::{encode, form_decode, BodyTemplate, RequestTemplate, Segment};
use crate::setup::recorded::Recorded;

/// An account made by a recorded request of a journey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Made {
    /// The account value as recorded (`ada@example.com`).
    pub account: String,
    /// The journey and step of the request that made it.
    pub journey: usize,
    pub step: usize,
    /// Where its answer echoes the account, if it does (`/member/email`):
    /// later logins bind to it, so keeping a login keeps its sign-up.
    pub echoed_at: Option<String>,
    /// The secrets its sign-up sent, as recorded pseudonyms.
    pub secrets: Vec<String>,
}

/// The accounts the recording made, in the order they were made.
#[derive(Clone, Debug, Default)]
pub(crate) struct Identities {
    pub made: Vec<Made>,
}

/// An accepted recorded login: where it is, which account, which secrets.
struct Login {
    exchange: u64,
    account: String,
    secrets: Vec<String>,
}

impl Identities {
    /// The accounts the recorded journeys sign up before they log in.
    pub fn find(model: &Model, recorded: &Recorded, auth: &Auth) -> Identities {
        let Some(login_id) = auth.login.as_deref() else { return Identities::default() };
        let logins = accepted_logins(model, recorded, auth, login_id);
        let mut made: Vec<(u64, Made)> = Vec::new();
        let mut first_login: HashMap<&str, u64> = HashMap::new();
        for l in &logins {
            let at = first_login.entry(l.account.as_str()).or_insert(l.exchange);
            *at = (*at).min(l.exchange);
        }
        for (j, journey) in model.journeys.iter().enumerate() {
            for (s, step) in journey.steps.iter().enumerate() {
                if step.action == login_id || !(200..300).contains(&step.status) {
                    continue;
                }
                let (Some(action), Some(exchange)) =
                    (model.action(&step.action), recorded.get(step.exchange))
                else {
                    continue;
                };
                let body = RequestTemplate::from_exchange(action, exchange).body;
                let sent = strings(&body);
                let is_sign_up = auth.sign_up.as_deref() == Some(step.action.as_str());
                for l in &logins {
                    let before =
                        first_login.get(l.account.as_str()).is_some_and(|&f| exchange.id < f);
                    let names = sent.contains(&l.account);
                    let same_secret = l.secrets.iter().any(|p| sent.contains(p));
                    if !before || !names || !(is_sign_up || same_secret) {
                        continue;
                    }
                    match made.iter_mut().find(|(_, m)| m.account == l.account) {
                        Some((id, _)) if *id <= exchange.id => {}
                        other => {
                            let m = Made {
                                account: l.account.clone(),
                                journey: j,
                                step: s,
                                echoed_at: echoed_at(exchange, &l.account),
                                secrets: pseudonyms(&sent),
                            };
                            match other {
                                Some(slot) => *slot = (exchange.id, m),
                                None => made.push((exchange.id, m)),
                            }
                        }
                    }
                }
            }
        }
        made.sort_by_key(|(id, _)| *id);
        Identities { made: made.into_iter().map(|(_, m)| m).collect() }
    }

    /// Which made account `account` is.
    pub fn index(&self, account: &str) -> Option<usize> {
        self.made.iter().position(|m| m.account == account)
    }
}

/// The accepted (2xx, not shaped like a failed login) recorded logins.
fn accepted_logins(model: &Model, recorded: &Recorded, auth: &Auth, login_id: &str) -> Vec<Login> {
    let Some(action) = model.action(login_id) else { return Vec::new() };
    let steps = model.journeys.iter().flat_map(|j| &j.steps);
    steps
        .filter(|s| s.action == login_id && (200..300).contains(&s.status))
        .filter_map(|s| recorded.get(s.exchange))
        .filter(|e| !recorded_login_failed(e, auth))
        .filter_map(|e| {
            let body = RequestTemplate::from_exchange(action, e).body;
            let account = login_account(&body, auth)?;
            let secrets =
                strings(&body).into_iter().filter(|v| is_pseudonym(v.as_bytes())).collect();
            Some(Login { exchange: e.id, account, secrets })
        })
        .collect()
}

/// Whether a recorded login's answer was a failed login (non-2xx, or the
/// model's failed-login shape).
pub(crate) fn recorded_login_failed(exchange: &Exchange, auth: &Auth) -> bool {
    let Some(response) = &exchange.response else { return true };
    let json: Option<Value> = serde_json::from_slice(strip_bom(&response.body.bytes)).ok();
    !(200..300).contains(&response.status) || looks_failed(json.as_ref(), auth).is_some()
}

/// What makes a 2xx login answer a failed login, by the shape the model
/// learned (`/ok is false`): one of the fields failed logins had, with a
/// value only they had; `None` when it does not look failed.
pub(crate) fn looks_failed(json: Option<&Value>, auth: &Auth) -> Option<String> {
    let failed = auth.failed_login.as_ref()?;
    let json = json?;
    failed.fields.iter().find_map(|(pointer, values)| {
        let text = json.pointer(pointer)?.to_string();
        values.contains(&text).then(|| format!("{pointer} is {text}"))
    })
}

/// The account a login request names, readable: at the model's account
/// pointer, or a form field named like its last part; else the first
/// top-level field that is neither a secret nor a pseudonym.
pub(crate) fn login_account(body: &BodyTemplate, auth: &Auth) -> Option<String> {
    let visible = |v: &String| !v.is_empty() && !is_pseudonym(v.as_bytes());
    if let Some(pointer) = auth.account.as_deref() {
        let found = match body {
            BodyTemplate::Json(json) => {
                json.pointer(pointer).and_then(Value::as_str).map(str::to_string)
            }
            BodyTemplate::Form(pairs) => {
                let key = pointer.rsplit('/').next().unwrap_or(pointer);
                pairs.iter().find(|(k, _)| k == key).map(|(_, v)| form_decode(v))
            }
            _ => None,
        };
        if found.as_ref().is_some_and(visible) {
            return found;
        }
    }
    visible_fields(body).into_iter().map(|(_, v)| v).next()
}

/// Where a login request names its account: the model's account pointer
/// (in a form, the field named like its last part), when the body has it.
pub(crate) fn account_location(body: &BodyTemplate, auth: &Auth) -> Option<Location> {
    let pointer = auth.account.as_deref()?;
    let pointer = match body {
        BodyTemplate::Json(json) => json.pointer(pointer).map(|_| pointer.to_string()),
        BodyTemplate::Form(pairs) => {
            let key = pointer.rsplit('/').next().unwrap_or(pointer);
            pairs.iter().any(|(k, _)| k == key).then(|| format!("/{key}"))
        }
        _ => None,
    }?;
    Some(Location::Body { pointer })
}

/// A login body's top-level fields a user gives literally (form values
/// decoded), secrets and pseudonyms left out.
pub(crate) fn visible_fields(body: &BodyTemplate) -> Vec<(String, String)> {
    let decoded = matches!(body, BodyTemplate::Form(_));
    body.fields()
        .into_iter()
        .map(|(k, v)| if decoded { (k, form_decode(&v)) } else { (k, v) })
        .filter(|(k, v)| !is_pseudonym(v.as_bytes()) && !is_secret_name(k.as_bytes()))
        .collect()
}

/// Every string a body sends (form values decoded).
/// The recorded pseudonyms (hidden secrets) among `values`.
pub(crate) fn pseudonyms(values: &[String]) -> Vec<String> {
    values.iter().filter(|v| is_pseudonym(v.as_bytes())).cloned().collect()
}

/// Replaces the secret `from` by `to` wherever `body` sends it whole.
pub(crate) fn replace_secret(body: &mut BodyTemplate, from: &str, to: &str) {
    fn walk(v: &mut Value, from: &str, to: &str) {
        match v {
            Value::String(s) if s == from => *s = to.to_string(),
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, from, to)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, from, to)),
            _ => {}
        }
    }
    match body {
        BodyTemplate::Json(json) => walk(json, from, to),
        BodyTemplate::Form(pairs) => {
            for (_, v) in pairs.iter_mut().filter(|(_, v)| form_decode(v) == from) {
                *v = encode(to);
            }
        }
        _ => {}
    }
}

/// Every string a body sends, form values decoded.
pub(crate) fn strings(body: &BodyTemplate) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match body {
        BodyTemplate::Json(json) => walk(json, &mut out),
        BodyTemplate::Form(pairs) => out.extend(pairs.iter().map(|(_, v)| form_decode(v))),
        _ => {}
    }
    out
}

/// Where a recorded answer holds `account`, as a JSON pointer.
fn echoed_at(exchange: &Exchange, account: &str) -> Option<String> {
    fn find(v: &Value, account: &str, at: &str) -> Option<String> {
        match v {
            Value::String(s) if s == account => Some(at.to_string()),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                find(v, account, &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")))
            }),
            _ => None,
        }
    }
    let body = &exchange.response.as_ref()?.body.bytes;
    find(&serde_json::from_slice(strip_bom(body)).ok()?, account, "")
}

/// The account as replay sends it: the recorded one with a pseudonym in it,
/// which each sequence replaces by a fresh value (`ada@example.com` →
/// `ada.~r:…@example.com` → `ada.vq…@example.com`), so a sign-up never
/// meets the account a recording or an earlier sequence made.
pub(crate) fn fresh_account(account: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let pseudonym = format!("{PSEUDONYM_PREFIX}{h:016x}");
    match account.rsplit_once('@') {
        Some((local, domain)) => format!("{local}.{pseudonym}@{domain}"),
        None => format!("{account}{pseudonym}"),
    }
}

/// Replaces the recorded `account` wherever `template` sends it (body,
/// form, query, path) by `fresh`.
pub(crate) fn rewrite_account(template: &mut RequestTemplate, account: &str, fresh: &str) {
    fn walk(v: &mut Value, account: &str, fresh: &str) {
        match v {
            Value::String(s) if s == account => *s = fresh.to_string(),
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, account, fresh)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, account, fresh)),
            _ => {}
        }
    }
    let encoded = encode(fresh);
    let pairs = match &mut template.body {
        BodyTemplate::Json(json) => {
            walk(json, account, fresh);
            None
        }
        BodyTemplate::Form(pairs) => Some(pairs),
        _ => None,
    };
    for (_, v) in pairs.into_iter().flatten().chain(template.query.iter_mut()) {
        if form_decode(v) == account {
            v.clone_from(&encoded);
        }
    }
    for segment in &mut template.segments {
        if let Segment::Param { recorded, .. } = segment {
            if form_decode(recorded) == account {
                recorded.clone_from(&encoded);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_account_keeps_its_shape_and_holds_one_pseudonym() {
        let email = fresh_account("ada@example.com");
        assert!(email.starts_with("ada.~r:") && email.ends_with("@example.com"), "{email}");
        let name = fresh_account("ada");
        assert!(name.starts_with("ada~r:") && name.len() == "ada".len() + 19, "{name}");
        assert_ne!(fresh_account("ada"), fresh_account("bob"));
    }

    #[test]
    fn form_values_decode_and_rewrite_in_place() {
        assert_eq!(form_decode("ada%40example.com"), "ada@example.com");
        assert_eq!(form_decode("a+b%2"), "a b%2");
        let mut t = RequestTemplate {
            action: "POST /session".into(),
            method: reqwest::Method::POST,
            segments: vec![Segment::Param { name: "who".into(), recorded: "ada%40x.io".into() }],
            query: vec![("email".into(), "ada%40x.io".into())],
            headers: Vec::new(),
            idempotency_key: None,
            content_type: None,
            body: BodyTemplate::Form(vec![
                ("email".into(), "ada%40x.io".into()),
                ("name".into(), "ada".into()),
            ]),
            credential_scheme: None,
            local: false,
        };
        rewrite_account(&mut t, "ada@x.io", "ada.~r:0123456789abcdef@x.io");
        let BodyTemplate::Form(pairs) = &t.body else { panic!("form") };
        assert_eq!(pairs[0].1, "ada.~r:0123456789abcdef@x.io");
        assert_eq!(pairs[1].1, "ada", "a value that is not the account stays");
        assert_eq!(t.query[0].1, "ada.~r:0123456789abcdef@x.io");
        let mut draft = t.draft();
        draft.refresh_pseudonyms(&mut |_| "vq42".into());
        let BodyTemplate::Form(pairs) = &draft.body else { panic!("form") };
        assert_eq!(pairs[0].1, "ada.vq42@x.io", "the embedded pseudonym is made fresh");
        assert_eq!(draft.params[0].1, "ada.vq42@x.io");
    }
}
