//! Another user changed someone's credentials: no read shows a password, so
//! the evidence is two logins after the write — the victim's own secret no
//! longer logs them in, and the secret the intruder sent does.

use serde_json::Value;

use crate::error::Error;
use crate::oracle::finding::{Confidence, OracleKind, SentRequest};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};

impl Oracles<'_> {
    /// Step `f`, sent by `actor` on an instance of user `victim`, carried a
    /// secret: a verdict when the victim's configured secret now fails and
    /// the sent one logs the victim in.
    pub(super) async fn credential_change(
        &self,
        trace: &Trace,
        f: usize,
        victim: usize,
        actor: &str,
        owner: &str,
    ) -> Result<Option<Verdict>, Error> {
        let Some(sent) = trace.steps[f].sent.first() else { return Ok(None) };
        let Some((field, secret)) = sent_secret(sent, &self.plan.secret_fields) else {
            return Ok(None);
        };
        let runner = self.runner;
        let Some(old) = runner.try_login(victim, None, trace.nonce).await? else { return Ok(None) };
        if runner.granted(&old) {
            return Ok(None);
        }
        let Some(new) = runner.try_login(victim, Some(&secret), trace.nonce).await? else {
            return Ok(None);
        };
        if !runner.granted(&new) {
            return Ok(None);
        }
        let status = trace.steps[f].replies.first().map_or(0, |r| r.status);
        Ok(Some(Verdict {
            oracle: OracleKind::CrossUser,
            confidence: Confidence::High,
            step: f,
            summary: format!("{actor} changed {owner}'s credentials (`{field}`) with {}", sent.action),
            evidence: vec![
                format!("as {actor}: {} {} answered {status}", sent.method, sent.url),
                format!(
                    "then {owner}'s login with their own secret answered {}: {}",
                    old.status,
                    snippet(&old.body)
                ),
                format!(
                    "and a login as {owner} with the `{field}` {actor} sent answered {} with a session",
                    new.status
                ),
            ], check: None, }))
    }
}

/// The secret a request body carries: a field named like one of the
/// model's credential fields (`password`, `new_password`; never the
/// `current_` or `old_` one), at the top of a JSON or form body or one
/// level in; `(field, value)`.
fn sent_secret(sent: &SentRequest, fields: &[String]) -> Option<(String, String)> {
    let body = sent.body.as_deref()?;
    let is_secret = |key: &str| {
        let key = key.to_ascii_lowercase();
        let old = key.starts_with("current_") || key.starts_with("old_");
        !old && fields.iter().any(|f| {
            let f = f.to_ascii_lowercase();
            key == f || key.ends_with(&format!("_{f}"))
        })
    };
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        let top = json.as_object()?;
        let nested = top.values().filter_map(Value::as_object);
        return std::iter::once(top).chain(nested).find_map(|object| {
            object.iter().find_map(|(k, v)| {
                let value = v.as_str().filter(|s| !s.is_empty())?;
                is_secret(k).then(|| (k.clone(), value.to_string()))
            })
        });
    }
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (is_secret(k) && !v.is_empty()).then(|| (k.to_string(), v.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(body: &str) -> SentRequest {
        SentRequest {
            action: "PATCH /accounts/{account_id}".into(),
            user: None,
            method: "PATCH".into(),
            url: "http://t/accounts/1".into(),
            headers: Vec::new(),
            body: Some(body.into()),
            copies: 1,
            at_once_with_previous: false,
            linked: Vec::new(),
            status: Some(200),
            response_body: None,
        }
    }

    #[test]
    fn a_secret_is_found_by_the_credential_field_names_never_the_old_one() {
        let fields = vec!["password".to_string()];
        let nested = sent(r#"{"user": {"current_password": "a", "new_password": "b"}}"#);
        assert_eq!(sent_secret(&nested, &fields), Some(("new_password".into(), "b".into())));
        let form = sent("name=x&password=s3cret");
        assert_eq!(sent_secret(&form, &fields), Some(("password".into(), "s3cret".into())));
        assert_eq!(sent_secret(&sent(r#"{"name": "x"}"#), &fields), None);
        assert_eq!(sent_secret(&sent(r#"{"old_password": "x"}"#), &fields), None);
    }
}
