//! Logins as the recording shows them, one request at a time: where a
//! request carries its secret and the name of its account (at the top of a
//! JSON body, nested one level as `{"user": {"email", "password"}}`, or in
//! an `application/x-www-form-urlencoded` form), whether the answer granted
//! a credential, what a 2xx answer that granted none looked like (a failed
//! login), and the scheme later requests sent their credential in.
//!
//! Which action is the login is decided at the end (see `auth`); this keeps
//! the evidence of every action whose requests carried a password-like
//! field, so the decision can be read off it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};
use venomqa_traffic::{is_pseudonym, is_secret_name, Exchange, Response};

use crate::evidence::hash_of;
use crate::model::{Auth, FailedLogin, Model};
use crate::shape::{parse_query, ParsedBody};
use crate::wire::authorization_token;

/// Field names that name the account a secret belongs to, best first.
const ACCOUNT_NAMES: [&str; 9] =
    ["email", "username", "login", "user_name", "user", "account", "handle", "phone", "name"];
/// Distinct accounts remembered per action (logins and sign-ups).
const MAX_ACCOUNTS: usize = 4096;
/// Accounts listed in the model: the users a replay may log in as.
const MAX_USERS: usize = 32;
/// Distinct values kept per answer field, to tell failures from successes.
const MAX_VALUES: usize = 8;
/// Credentials remembered as handed to a known account's session.
const MAX_ISSUED: usize = 65_536;

/// The secret and account fields of one request, as JSON pointers.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CredentialRequest {
    pub credentials: Vec<String>,
    /// The account field's pointer and value.
    pub account: Option<(String, String)>,
    pub form: bool,
}

impl CredentialRequest {
    /// The credential fields of a request body, if it has a password-like one.
    pub(crate) fn of(body: &ParsedBody, raw: &[u8], content_type: Option<&str>) -> Option<Self> {
        let mut fields: Vec<(String, String)> = Vec::new();
        let form = content_type.is_some_and(|c| c.contains("x-www-form-urlencoded"));
        // Every request passes here: look at the keys before building anything.
        if !(form && contains_pass(raw)
            || body.json().and_then(Value::as_object).is_some_and(has_pass))
        {
            return None;
        }
        if let Some(object) = body.json().and_then(Value::as_object) {
            scalar_fields(object, "", &mut fields);
            for (key, value) in object {
                if let Some(inner) = value.as_object() {
                    scalar_fields(inner, &format!("/{}", escape(key)), &mut fields);
                }
            }
        } else if form {
            let text = String::from_utf8_lossy(raw);
            fields = parse_query(&text)
                .into_iter()
                .map(|(k, v)| (format!("/{}", escape(&k)), v))
                .collect();
        }
        let credentials: Vec<String> =
            fields.iter().filter(|(p, _)| is_credential(p)).map(|(p, _)| p.clone()).collect();
        if !credentials.iter().any(|p| last(p).to_ascii_lowercase().contains("pass")) {
            return None;
        }
        let account = ACCOUNT_NAMES.iter().find_map(|name| {
            fields.iter().find(|(p, _)| last(p).eq_ignore_ascii_case(name)).cloned()
        });
        Some(CredentialRequest { credentials, account, form: form && body.json().is_none() })
    }
}

/// Whether a key of `object`, or of an object one level in, says `pass`.
fn has_pass(object: &Map<String, Value>) -> bool {
    object.iter().any(|(k, v)| {
        contains_pass(k.as_bytes())
            || v.as_object().is_some_and(|o| o.keys().any(|k| contains_pass(k.as_bytes())))
    })
}

/// Whether the bytes contain `pass` in any case.
fn contains_pass(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"pass"))
}

/// Top-level string and number fields of `object`, under `prefix`.
fn scalar_fields(object: &Map<String, Value>, prefix: &str, out: &mut Vec<(String, String)>) {
    for (key, value) in object {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        out.push((format!("{prefix}/{}", escape(key)), text));
    }
}

/// A field is a credential when its name is a secret's (`password`,
/// `api_key`) or a `pin`.
fn is_credential(pointer: &str) -> bool {
    let name = last(pointer);
    is_secret_name(name.as_bytes()) || name.eq_ignore_ascii_case("pin")
}

/// The last segment of a pointer.
pub(crate) fn last(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

/// RFC 6901 escaping of one pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether an answer hands the client a credential: a `Set-Cookie`, or a
/// field named like a secret at the top of its JSON body or one level down.
pub(crate) fn grants_credential(response: &Response, body: &ParsedBody) -> bool {
    if response.headers.get("set-cookie").is_some() {
        return true;
    }
    let Some(object) = body.json().and_then(Value::as_object) else { return false };
    let secret = |o: &Map<String, Value>| {
        o.iter().any(|(k, v)| is_secret_name(k.as_bytes()) && v.is_string())
    };
    secret(object) || object.values().filter_map(Value::as_object).any(secret)
}

/// The user's id in a login answer: `/user_id`, `/id`, `/user/id`, `/data/id`.
fn user_id(answer: &Value) -> Option<String> {
    ["/user_id", "/id", "/user/id", "/data/id"].iter().find_map(|p| match answer.pointer(p)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The evidence of one action whose requests carried a password.
#[derive(Debug, Default)]
pub(crate) struct ActionLogins {
    pub requests: u64,
    pub form: u64,
    pub credentials: BTreeMap<String, u64>,
    pub accounts: BTreeMap<String, u64>,
    /// The accounts whose logins were granted (at most [`MAX_ACCOUNTS`]).
    pub granted_accounts: BTreeSet<String>,
    /// The accounts its 2xx answers accepted before any login of theirs
    /// was granted (a sign-up's new accounts; at most [`MAX_ACCOUNTS`]).
    pub new_accounts: BTreeSet<String>,
    /// Whether its requests were `POST`s (a sign-up is one).
    pub post: bool,
    /// 2xx answers that granted a credential.
    pub granted: u64,
    /// 2xx answers that granted none, by status.
    pub refused: BTreeMap<u16, u64>,
    /// Per top-level answer field, the values granted answers showed.
    pub granted_fields: BTreeMap<String, BTreeSet<String>>,
    /// Per top-level answer field, the values refused answers showed.
    pub refused_fields: BTreeMap<String, BTreeSet<String>>,
}

impl ActionLogins {
    fn answer(&mut self, granted: bool, status: u16, body: &ParsedBody) {
        if granted {
            self.granted += 1;
        } else {
            *self.refused.entry(status).or_default() += 1;
        }
        let fields = if granted { &mut self.granted_fields } else { &mut self.refused_fields };
        let Some(object) = body.json().and_then(Value::as_object) else { return };
        for (key, value) in object {
            let text = match value {
                Value::Bool(_) | Value::Null | Value::Number(_) => value.to_string(),
                Value::String(s) if s.len() <= 40 => value.to_string(),
                _ => "…".to_string(),
            };
            let values = fields.entry(format!("/{}", escape(key))).or_default();
            if values.len() < MAX_VALUES {
                values.insert(text);
            }
        }
    }
}

/// Every action's login evidence, the credential schemes sent, and who each
/// session logged in as.
#[derive(Debug, Default)]
pub(crate) struct LoginAcc {
    pub actions: HashMap<u32, ActionLogins>,
    /// `Authorization` schemes as sent (`Bearer`, `Token`), with counts.
    pub schemes: BTreeMap<String, u64>,
    /// The account each session logged in or signed up as.
    pub accounts: HashMap<u32, String>,
    /// The user id a session's granted login answered (`/id`, `/user/id`).
    pub user_ids: HashMap<u32, String>,
    /// Every account a login was granted to so far.
    pub logged_in: HashSet<String>,
    /// Credentials (hashes of their values) that answers handed to a
    /// session whose account was known, with that session: a refreshed
    /// token keys a session of its own, which is the same account's.
    issued: HashMap<u64, u32>,
}

impl LoginAcc {
    /// Looks at one exchange of `action` in `session`; true when its request
    /// carried a password (a login or a sign-up).
    pub(crate) fn observe(
        &mut self,
        session: u32,
        action: u32,
        exchange: &Exchange,
        response: &Response,
        request: &ParsedBody,
        answer: &ParsedBody,
    ) -> bool {
        let headers = &exchange.request.headers;
        self.inherit_account(session, headers.get_str("authorization"));
        let login = self.observe_login(session, action, exchange, response, request, answer);
        if (200..300).contains(&response.status) && grants_credential(response, answer) {
            self.remember_issued(session, answer);
        }
        login
    }

    /// [`LoginAcc::observe`] of a request that may carry a password.
    fn observe_login(
        &mut self,
        session: u32,
        action: u32,
        exchange: &Exchange,
        response: &Response,
        request: &ParsedBody,
        answer: &ParsedBody,
    ) -> bool {
        let headers = &exchange.request.headers;
        // `Token X` sends `Token`; a bare credential names no scheme.
        let scheme = headers.get_str("authorization").and_then(|a| a.trim_start().split_once(' '));
        if let Some((scheme, _)) = scheme {
            if let Some(n) = self.schemes.get_mut(scheme) {
                *n += 1;
            } else if !scheme.is_empty() && self.schemes.len() < 16 {
                self.schemes.insert(scheme.to_string(), 1);
            }
        }
        let body = &exchange.request.body.bytes;
        let content_type = headers.get_str("content-type");
        let Some(sent) = CredentialRequest::of(request, body, content_type) else { return false };
        let acc = self.actions.entry(action).or_default();
        acc.requests += 1;
        acc.post = exchange.request.method.eq_ignore_ascii_case("POST");
        acc.form += u64::from(sent.form);
        for pointer in sent.credentials {
            *acc.credentials.entry(pointer).or_default() += 1;
        }
        if let Some((pointer, _)) = &sent.account {
            *acc.accounts.entry(pointer.clone()).or_default() += 1;
        }
        if (200..300).contains(&response.status) {
            let granted = grants_credential(response, answer);
            if let Some((_, value)) = &sent.account {
                let known = self.logged_in.contains(value);
                if !granted && !known && acc.new_accounts.len() < MAX_ACCOUNTS {
                    acc.new_accounts.insert(value.clone());
                }
            }
            acc.answer(granted, response.status, answer);
            if let Some((_, value)) = sent.account.filter(|_| granted) {
                if self.logged_in.len() < MAX_ACCOUNTS {
                    self.logged_in.insert(value.clone());
                }
                if acc.granted_accounts.len() < MAX_ACCOUNTS && !is_pseudonym(value.as_bytes()) {
                    acc.granted_accounts.insert(value.clone());
                }
                self.accounts.insert(session, value);
            }
            if let Some(id) = answer.json().and_then(user_id).filter(|_| granted) {
                self.user_ids.insert(session, id);
            }
        }
        true
    }
}

impl LoginAcc {
    /// A session with no login of its own that sends a credential an
    /// answer handed to another session (a token from a refresh) is that
    /// session's account, and has its user id.
    fn inherit_account(&mut self, session: u32, authorization: Option<&str>) {
        if self.accounts.contains_key(&session) {
            return;
        }
        let Some(token) = authorization.and_then(authorization_token) else { return };
        let Some(&from) = self.issued.get(&hash_of(token)) else { return };
        if let Some(account) = self.accounts.get(&from).cloned() {
            self.accounts.insert(session, account);
        }
        if let Some(id) = self.user_ids.get(&from).cloned() {
            self.user_ids.insert(session, id);
        }
    }

    /// Remembers the secret-named strings of an answer to a session whose
    /// account is known (at the top of its JSON or one level down), as
    /// handed to that session.
    fn remember_issued(&mut self, session: u32, answer: &ParsedBody) {
        if !self.accounts.contains_key(&session) || self.issued.len() >= MAX_ISSUED {
            return;
        }
        let Some(object) = answer.json().and_then(Value::as_object) else { return };
        let nested = object.values().filter_map(Value::as_object);
        for o in std::iter::once(object).chain(nested) {
            for (key, value) in o {
                if let (true, Some(text)) = (is_secret_name(key.as_bytes()), value.as_str()) {
                    self.issued.insert(hash_of(text), session);
                }
            }
        }
    }
}

/// Completes a model's [`Auth`] with the login evidence: the login itself
/// when no link or JSON schema named it (a form login), where its account
/// and secrets sit, the scheme credentials were sent in, and what a failed
/// 2xx login looks like.
pub(crate) fn describe(
    mut auth: Auth,
    acc: &LoginAcc,
    model: &Model,
    action_ids: &[String],
) -> Auth {
    let index = |id: &str| action_ids.iter().position(|a| a == id).map(|i| i as u32);
    if auth.login.is_none() {
        auth.login = most_granted(acc).and_then(|i| action_ids.get(i as usize)).cloned();
    }
    auth.scheme = scheme(acc, model);
    let Some(evidence) = auth.login.as_deref().and_then(index).and_then(|i| acc.actions.get(&i))
    else {
        return auth;
    };
    auth.account = commonest(&evidence.accounts);
    if auth.sign_up.is_none() {
        let login = auth.login.as_deref().and_then(index);
        auth.sign_up =
            made_accounts(acc, evidence, login).and_then(|i| action_ids.get(i as usize)).cloned();
    }
    // Accounts the recording signed up are made again by replay, never users.
    let signed_up = auth.sign_up.as_deref().and_then(index).and_then(|i| acc.actions.get(&i));
    auth.accounts = evidence
        .granted_accounts
        .iter()
        .filter(|a| !signed_up.is_some_and(|s| s.new_accounts.contains(*a)))
        .take(MAX_USERS)
        .cloned()
        .collect();
    auth.credentials = evidence.credentials.keys().cloned().collect();
    auth.login_body =
        Some(if evidence.form * 2 > evidence.requests { "form" } else { "json" }.to_string());
    auth.failed_login = failed_login(evidence);
    auth
}

/// The sign-up, by what the recording shows: another password-carrying
/// `POST` that accepted accounts no login had been granted to yet, and
/// that later logged in (most such accounts wins). A password change of an
/// account that had logged in is no sign-up.
fn made_accounts(acc: &LoginAcc, login: &ActionLogins, login_index: Option<u32>) -> Option<u32> {
    acc.actions
        .iter()
        .filter(|(i, a)| Some(**i) != login_index && a.post)
        .map(|(i, a)| (*i, a.new_accounts.intersection(&login.granted_accounts).count()))
        .filter(|(_, made)| *made > 0)
        .max_by_key(|(i, made)| (*made, std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
}

/// The action whose password-carrying requests most often got a credential.
fn most_granted(acc: &LoginAcc) -> Option<u32> {
    acc.actions
        .iter()
        .filter(|(_, a)| a.granted > 0)
        .max_by_key(|(i, a)| (a.granted, std::cmp::Reverse(**i)))
        .map(|(i, _)| *i)
}

/// The key seen most often; ties go to the smaller key.
fn commonest(counts: &BTreeMap<String, u64>) -> Option<String> {
    counts.iter().max_by_key(|(k, n)| (**n, std::cmp::Reverse(*k))).map(|(k, _)| k.clone())
}

/// The `Authorization` scheme sent most often, else the session cookie the
/// actions were learned to need.
fn scheme(acc: &LoginAcc, model: &Model) -> Option<String> {
    if let Some(scheme) = commonest(&acc.schemes) {
        return Some(scheme);
    }
    let mut cookies: BTreeMap<String, u64> = BTreeMap::new();
    for auth in model.actions.iter().filter_map(|a| a.auth.as_deref()) {
        if auth.starts_with("cookie") {
            *cookies.entry(auth.to_string()).or_default() += 1;
        }
    }
    commonest(&cookies)
}

/// Failed logins, told apart by the answer fields whose values successful
/// logins never showed. Unknown unless both kinds were seen.
fn failed_login(evidence: &ActionLogins) -> Option<FailedLogin> {
    if evidence.granted == 0 || evidence.refused.is_empty() {
        return None;
    }
    let fields = evidence
        .refused_fields
        .iter()
        .filter_map(|(pointer, values)| {
            let granted = evidence.granted_fields.get(pointer);
            let only: Vec<String> = values
                .iter()
                .filter(|v| granted.is_none_or(|g| !g.contains(*v)))
                .cloned()
                .collect();
            (!only.is_empty()).then(|| (pointer.clone(), only))
        })
        .collect();
    Some(FailedLogin { statuses: evidence.refused.clone(), fields, granted: evidence.granted })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json_body(v: Value) -> ParsedBody {
        ParsedBody::Json(v)
    }

    #[test]
    fn a_login_nested_one_level_is_found_by_pointers() {
        let body = json_body(json!({"user": {"email": "a@x.io", "password": "~r:1"}}));
        let sent = CredentialRequest::of(&body, b"", Some("application/json")).unwrap();
        assert_eq!(sent.credentials, ["/user/password"]);
        assert_eq!(sent.account, Some(("/user/email".into(), "a@x.io".into())));
    }

    #[test]
    fn an_oauth2_password_form_is_a_login_by_username() {
        let raw = b"grant_type=password&username=ann&password=%7Er%3A1";
        let body = ParsedBody::NonJson(Some("application/x-www-form-urlencoded".into()));
        let sent =
            CredentialRequest::of(&body, raw, Some("application/x-www-form-urlencoded")).unwrap();
        assert_eq!(sent.credentials, ["/password"]);
        assert_eq!(sent.account, Some(("/username".into(), "ann".into())));
        assert!(sent.form);
    }

    #[test]
    fn an_email_names_the_account_before_a_display_name_and_a_token_alone_is_no_login() {
        let body = json_body(json!({"name": "Ann", "email": "a@x.io", "password": "p"}));
        let sent = CredentialRequest::of(&body, b"", None).unwrap();
        assert_eq!(sent.account, Some(("/email".into(), "a@x.io".into())));
        let token_only = json_body(json!({"refresh_token": "abc"}));
        assert_eq!(CredentialRequest::of(&token_only, b"", None), None);
    }
}
