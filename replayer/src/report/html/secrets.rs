//! Keeping secrets off the page, a second layer: findings reach every
//! report with the configured users' secrets already written as their
//! variables and live credentials as placeholders (`report::secrets`). An
//! HTML page gets opened, attached and forwarded, so it also blanks what
//! that leaves: the fresh secrets of identities the journeys sign up, and
//! any other value sent under a secret name. It shows where a credential
//! went but never its value.
//!
//! The same names the store redacts are secret here (`venomqa_traffic`'s
//! rules): the values of credential and cookie headers (the scheme and the
//! cookie names stay), and of JSON, form and query fields named like
//! `password` or `token`. Every such value a finding's requests and answers
//! hold is then blanked wherever else it shows up too: a token a login
//! answered is also gone from a later URL, body or evidence line.

use serde_json::Value;
use venomqa_traffic::{is_secret_header, is_secret_name};

use crate::oracle::finding::SentRequest;

/// What a secret is shown as.
pub(super) const HIDDEN: &str = "[redacted]";

/// Values shorter than this are blanked only where they stand, never
/// searched for elsewhere: blanking every `1` would blank the page.
const SHORTEST_SEARCHED: usize = 4;

/// The secret values of one finding, to blank them wherever they appear.
#[derive(Debug, Default)]
pub(super) struct Secrets {
    /// Longest first, so a secret containing another goes whole.
    values: Vec<String>,
}

impl Secrets {
    /// The secrets `requests` sent and were answered.
    pub fn of(requests: &[SentRequest]) -> Secrets {
        let mut values = Vec::new();
        for r in requests {
            for (name, value) in &r.headers {
                if is_secret_header(name) {
                    values.extend(header_secrets(value));
                }
            }
            let query = r.url.split_once('?').map(|(_, q)| q);
            for text in [r.body.as_deref(), r.response_body.as_deref(), query].into_iter().flatten()
            {
                values.extend(field_secrets(text));
            }
        }
        values.retain(|v| v.chars().count() >= SHORTEST_SEARCHED);
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Secrets { values }
    }

    /// A header as it may be shown: a secret one keeps its name, its scheme
    /// (`Bearer`) and its cookie names.
    pub fn header(&self, name: &str, value: &str) -> String {
        if !is_secret_header(name) {
            return self.text(value);
        }
        if name.eq_ignore_ascii_case("cookie") {
            return value
                .split(';')
                .map(|pair| match pair.split_once('=') {
                    Some((cookie, _)) => format!("{}={HIDDEN}", cookie.trim()),
                    None => HIDDEN.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
        if name.eq_ignore_ascii_case("set-cookie") {
            let cookie = value.split_once('=').map_or("", |(c, _)| c.trim());
            return format!("{cookie}={HIDDEN}");
        }
        match value.split_once(' ') {
            Some((scheme, _)) if is_scheme(scheme) => format!("{scheme} {HIDDEN}"),
            _ => HIDDEN.to_string(),
        }
    }

    /// A body, URL or line of text as it may be shown: secret JSON, form
    /// and query fields blanked, and every known secret value wherever it is.
    pub fn text(&self, text: &str) -> String {
        let mut shown = blank_fields(text);
        for value in &self.values {
            if shown.contains(value.as_str()) {
                shown = shown.replace(value.as_str(), HIDDEN);
            }
        }
        shown
    }
}

/// `Bearer`, `Basic`, `Token`: a word before the credential.
fn is_scheme(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
}

/// The secret parts of a credential header's value: the credential after
/// its scheme, each cookie's value, or the whole value.
fn header_secrets(value: &str) -> Vec<String> {
    let mut found = vec![value.trim().to_string()];
    if let Some((scheme, credential)) = value.split_once(' ') {
        if is_scheme(scheme) {
            found.push(credential.trim().to_string());
        }
    }
    for pair in value.split(';') {
        if let Some((_, cookie)) = pair.split_once('=') {
            found.push(cookie.trim().to_string());
        }
    }
    found
}

/// The values of secret fields in a JSON text or a form (or query) string.
fn field_secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(json) => collect_json(&json, false, &mut found),
        Err(_) => {
            for (name, value) in form_pairs(text) {
                if is_secret_name(name.as_bytes()) {
                    found.push(value.to_string());
                }
            }
        }
    }
    found
}

fn collect_json(value: &Value, secret: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, inner) in fields {
                collect_json(inner, secret || is_secret_name(name.as_bytes()), found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_json(item, secret, found)),
        Value::String(s) if secret => found.push(s.clone()),
        Value::Number(n) if secret => found.push(n.to_string()),
        _ => {}
    }
}

/// `a=1&password=x` as (name, value) pairs; nothing for text that is no form.
fn form_pairs(text: &str) -> Vec<(&str, &str)> {
    if text.contains(char::is_whitespace) {
        return Vec::new();
    }
    text.split('&').filter_map(|pair| pair.split_once('=')).collect()
}

/// `text` with the values of its secret fields blanked: JSON re-written
/// (pretty, for reading) when it is JSON, a form's or URL query's values
/// in place otherwise.
fn blank_fields(text: &str) -> String {
    if let Ok(mut json) = serde_json::from_str::<Value>(text) {
        if json.is_object() || json.is_array() {
            blank_json(&mut json, false);
            return serde_json::to_string_pretty(&json).unwrap_or_else(|_| text.to_string());
        }
        return text.to_string();
    }
    let (head, query) = match text.split_once('?') {
        Some((head, query)) => (format!("{head}?"), query),
        None => (String::new(), text),
    };
    if form_pairs(query).is_empty() {
        return text.to_string();
    }
    let blanked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name.as_bytes()) => format!("{name}={HIDDEN}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{head}{}", blanked.join("&"))
}

fn blank_json(value: &mut Value, secret: bool) {
    match value {
        Value::Object(fields) => {
            for (name, inner) in fields.iter_mut() {
                blank_json(inner, secret || is_secret_name(name.as_bytes()));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| blank_json(item, secret)),
        _ if secret => *value = Value::String(HIDDEN.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(headers: &[(&str, &str)], body: Option<&str>, response: Option<&str>) -> SentRequest {
        SentRequest {
            action: "POST /login".into(),
            user: Some("alice".into()),
            method: "POST".into(),
            url: "http://127.0.0.1:9/login?api_key=k-123456".into(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: body.map(str::to_string),
            copies: 1,
            at_once_with_previous: false,
            linked: Vec::new(),
            status: Some(200),
            response_body: response.map(str::to_string),
        }
    }

    #[test]
    fn credentials_keep_their_scheme_and_cookie_names_and_lose_their_values() {
        let secrets = Secrets::default();
        assert_eq!(secrets.header("Authorization", "Bearer tok-abc"), "Bearer [redacted]");
        assert_eq!(
            secrets.header("cookie", "sid=s3cr3t; theme=dark"),
            "sid=[redacted]; theme=[redacted]"
        );
        assert_eq!(secrets.header("Set-Cookie", "sid=s3cr3t; Path=/"), "sid=[redacted]");
        assert_eq!(secrets.header("X-Api-Key", "k-123456"), "[redacted]");
        assert_eq!(secrets.header("Content-Type", "application/json"), "application/json");
    }

    #[test]
    fn a_secret_is_blanked_in_its_field_and_wherever_else_it_shows_up() {
        let login = sent(
            &[("Authorization", "Bearer tok-from-login")],
            Some(r#"{"user":{"email":"a@x","password":"hunter22"}}"#),
            Some(r#"{"token":"tok-from-login"}"#),
        );
        let secrets = Secrets::of(&[login]);
        let body = secrets.text(r#"{"user":{"email":"a@x","password":"hunter22"}}"#);
        assert!(!body.contains("hunter22") && body.contains("a@x"), "{body}");
        let evidence = secrets.text("the old token tok-from-login still answered 200");
        assert_eq!(evidence, "the old token [redacted] still answered 200");
        let url = secrets.text("http://127.0.0.1:9/login?api_key=k-123456&page=2");
        assert_eq!(url, "http://127.0.0.1:9/login?api_key=[redacted]&page=2");
        assert_eq!(
            secrets.text("username=alice&password=pw"),
            "username=alice&password=[redacted]"
        );
    }
}
