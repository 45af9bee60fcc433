//! Keeping secrets out of every artifact a run writes. A configured
//! user's secret (read from `VENOMQA_*` variables) is written as the
//! variable, `${VENOMQA_ALICE_PASSWORD}`, in reports and in reproducers,
//! which read the same variable when they run. Live credentials (the
//! session a login answered) are left to the reproducer to obtain for
//! itself, and shown in reports only as a placeholder.

use serde_json::Value;
use venomqa_traffic::{is_secret_header, is_secret_name};

use super::script_vars::token_matches;
use crate::oracle::finding::SentRequest;
use crate::run::request::encode;

/// What a live credential is shown as in a report.
pub(crate) const LIVE: &str = "<live credential>";

/// The secrets a run was given, each with the variable it came from.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    /// (value, variable), longest values first so a secret inside another
    /// is not replaced inside it.
    by_value: Vec<(String, String)>,
}

impl Secrets {
    /// From (value, variable) pairs; empty values are no secret. Each is
    /// also looked for as a form or URL sends it (percent-encoded) and as
    /// a JSON string holds it (escaped).
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Secrets {
        let mut by_value: Vec<(String, String)> = Vec::new();
        for (value, var) in pairs.into_iter().filter(|(value, _)| !value.is_empty()) {
            let json = serde_json::to_string(&value).unwrap_or_default();
            let json = json.trim_matches('"').to_string();
            for form in [encode(&value), json] {
                if form != value {
                    by_value.push((form, var.clone()));
                }
            }
            by_value.push((value, var));
        }
        by_value.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.1.cmp(&b.1)));
        by_value.dedup_by(|a, b| a.0 == b.0);
        Secrets { by_value }
    }

    /// `text` with every secret replaced by `${VARIABLE}` where it stands
    /// as a whole token (a short secret, `pw1`, is not replaced inside
    /// `pw12` or a word that happens to contain it).
    pub fn hide(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, var) in &self.by_value {
            let spots = token_matches(&out, value);
            if spots.is_empty() {
                continue;
            }
            let mut hidden = String::with_capacity(out.len());
            let mut last = 0;
            for (start, end) in spots {
                hidden.push_str(&out[last..start]);
                hidden.push_str(&format!("${{{var}}}"));
                last = end;
            }
            hidden.push_str(&out[last..]);
            out = hidden;
        }
        out
    }

    /// A sent request with every secret replaced by its variable.
    pub fn hide_in(&self, r: &mut SentRequest) {
        r.url = self.hide(&r.url);
        for (_, value) in &mut r.headers {
            *value = self.hide(value);
        }
        for text in [&mut r.body, &mut r.response_body].into_iter().flatten() {
            *text = self.hide(text);
        }
    }
}

/// A sent request as a report shows it: credential headers (`Cookie`,
/// `Authorization`) and secret-named fields of its answer (`token`) as
/// [`LIVE`]. The reproducer is made before this, from the request as sent.
pub(crate) fn without_live_credentials(r: &mut SentRequest) {
    for (name, value) in &mut r.headers {
        if is_secret_header(name) && !value.contains("${VENOMQA_") {
            *value = match value.split_once(' ') {
                // `Bearer <live credential>`: the scheme says what it was.
                Some((scheme, _)) if !scheme.contains('=') => format!("{scheme} {LIVE}"),
                _ => LIVE.to_string(),
            };
        }
    }
    let Some(body) = r.response_body.as_mut() else { return };
    let Ok(mut json) = serde_json::from_str::<Value>(body) else { return };
    if hide_secret_fields(&mut json) {
        *body = json.to_string();
    }
}

/// Replaces the string values of secret-named keys; whether any was.
fn hide_secret_fields(json: &mut Value) -> bool {
    match json {
        Value::Object(map) => {
            let mut hid = false;
            for (key, value) in map.iter_mut() {
                if is_secret_name(key.as_bytes()) && value.is_string() {
                    *value = Value::String(LIVE.to_string());
                    hid = true;
                } else {
                    hid |= hide_secret_fields(value);
                }
            }
            hid
        }
        Value::Array(items) => {
            let mut hid = false;
            for item in items {
                hid |= hide_secret_fields(item);
            }
            hid
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str, headers: &[(&str, &str)], answer: &str) -> SentRequest {
        SentRequest {
            action: "POST /login".into(),
            user: Some("alice".into()),
            method: "POST".into(),
            url: "http://127.0.0.1:1/login".into(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: Some(body.into()),
            copies: 1,
            at_once_with_previous: false,
            linked: Vec::new(),
            status: Some(200),
            response_body: Some(answer.into()),
        }
    }

    #[test]
    fn a_secret_becomes_its_variable_wherever_it_is_and_a_longer_one_wins() {
        let secrets = Secrets::new([
            ("pw".to_string(), "VENOMQA_BOB_PASSWORD".to_string()),
            ("alice-pw".to_string(), "VENOMQA_ALICE_PASSWORD".to_string()),
            (String::new(), "VENOMQA_EMPTY".to_string()),
        ]);
        let mut r = request(r#"{"password":"alice-pw","note":"pwned"}"#, &[("x-pw", "pw")], "{}");
        secrets.hide_in(&mut r);
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"password":"${VENOMQA_ALICE_PASSWORD}","note":"pwned"}"#),
            "a short secret inside a word stays"
        );
        assert_eq!(r.headers[0].1, "${VENOMQA_BOB_PASSWORD}");
    }

    #[test]
    fn a_secret_is_found_as_a_form_and_a_json_string_send_it() {
        let secrets = Secrets::new([("p\"w d!".to_string(), "VENOMQA_ANN_PASSWORD".to_string())]);
        let form = secrets.hide("user=ann&password=p%22w%20d%21");
        assert_eq!(form, "user=ann&password=${VENOMQA_ANN_PASSWORD}");
        let json = secrets.hide(r#"{"password":"p\"w d!"}"#);
        assert_eq!(json, r#"{"password":"${VENOMQA_ANN_PASSWORD}"}"#);
    }

    #[test]
    fn live_credentials_are_shown_as_placeholders_and_other_values_stay() {
        let mut r = request(
            "{}",
            &[("authorization", "Bearer eyJabc"), ("cookie", "sid=k2m4"), ("accept", "*/*")],
            r#"{"token":"eyJabc","user":{"id":7,"session_token":"s9"}}"#,
        );
        without_live_credentials(&mut r);
        assert_eq!(r.headers[0].1, format!("Bearer {LIVE}"));
        assert_eq!(r.headers[1].1, LIVE);
        assert_eq!(r.headers[2].1, "*/*");
        let body = r.response_body.unwrap();
        assert!(
            !body.contains("eyJabc") && !body.contains("s9") && body.contains("\"id\":7"),
            "{body}"
        );
    }
}
