//! The enumeration oracle: a login with an unknown account and one with a
//! known account and a wrong secret answered differently — by status, or by
//! the answer's fields once the account each named and what differed
//! between two identical unknown-account logins are left out. Lower
//! confidence: the difference tells accounts apart, it is not a breach.

use serde_json::Value;

use crate::oracle::diff::differing;
use crate::oracle::finding::{Check, Confidence, OracleKind, SentRequest};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};
use crate::run::request::form_decode;
use crate::run::request::Reply;

impl Oracles<'_> {
    /// The known account's failed login (step `f`) against the unknown
    /// account's ones before it (same action).
    pub(super) fn enumeration(&self, trace: &Trace, f: usize) -> Option<Verdict> {
        let pointer = self.plan.model.auth.account.as_deref()?;
        let known = answer(&trace.steps[f].sent, &trace.steps[f].replies, pointer)?;
        let action = &known.sent.action;
        let unknown: Vec<Answer> = trace.steps[..f]
            .iter()
            .filter(|s| s.sent.first().is_some_and(|x| &x.action == action))
            .filter_map(|s| answer(&s.sent, &s.replies, pointer))
            .collect();
        let first = unknown.first()?;
        let steady = unknown.iter().all(|u| u.reply.status == first.reply.status);
        if !steady || [first.reply.status, known.reply.status].contains(&429) {
            return None;
        }
        let mut check = None;
        let difference = if first.reply.status != known.reply.status {
            format!(
                "status {} for an unknown account, {} for a wrong secret",
                first.reply.status, known.reply.status
            )
        } else {
            let (difference, fields) = body_difference(&unknown, &known)?;
            // A reproducer compares the fields its shell can read: top-level
            // ones holding, in both answers, a number or a string without
            // quotes or escapes (a `true` or an object would read as empty
            // in both, and a real difference as none).
            let readable = |answer: &Answer, field: &str| match answer.json.as_ref()?.get(field)? {
                Value::Number(_) => Some(()),
                Value::String(s) => (!s.contains(['"', '\\'])).then_some(()),
                _ => None,
            };
            let fields: Vec<String> = fields
                .iter()
                .filter_map(|p| p.strip_prefix('/').filter(|f| !f.contains('/')))
                .filter(|f| readable(first, f).is_some() && readable(&known, f).is_some())
                .map(str::to_string)
                .collect();
            if !fields.is_empty() {
                let accounts = (first.account.clone(), known.account.clone());
                check = Some(Check::AnswersDiffer { fields, accounts });
            }
            difference
        };
        Some(Verdict {
            oracle: OracleKind::Enumeration,
            confidence: Confidence::Low,
            step: f,
            summary: format!(
                "{action} tells an unknown account from a wrong secret by its answer: {difference}"
            ),
            evidence: vec![
                format!("unknown account: {} {}", first.reply.status, snippet(&first.reply.body)),
                format!(
                    "known account, wrong secret: {} {}",
                    known.reply.status,
                    snippet(&known.reply.body)
                ),
            ],
            check,
        })
    }
}

/// What differs between the answers beyond what differed between the
/// identical unknown-account logins, and the JSON fields that differ;
/// `None` without two of them to tell.
fn body_difference(unknown: &[Answer], known: &Answer) -> Option<(String, Vec<String>)> {
    let [first, second, ..] = unknown else { return None };
    if first.json.is_none() || known.json.is_none() {
        let differ = first.text == second.text && first.text != known.text;
        return differ.then(|| ("the text differs".to_string(), Vec::new()));
    }
    let noise: Vec<String> = unknown
        .windows(2)
        .flat_map(|w| differing(w[0].json.as_ref(), w[1].json.as_ref()))
        .collect();
    let fields: Vec<String> = differing(first.json.as_ref(), known.json.as_ref())
        .into_iter()
        .filter(|p| !noise.contains(p))
        .collect();
    (!fields.is_empty()).then(|| (format!("{} differ", fields.join(", ")), fields))
}

/// One failed login's answer with the account it named taken out.
struct Answer<'a> {
    sent: &'a SentRequest,
    /// The account the login named.
    account: String,
    reply: &'a Reply,
    json: Option<Value>,
    text: String,
}

fn answer<'a>(sent: &'a [SentRequest], replies: &'a [Reply], pointer: &str) -> Option<Answer<'a>> {
    let (sent, reply) = (sent.first()?, replies.first()?);
    let body: Value = serde_json::from_str(sent.body.as_deref()?)
        .ok()
        .or_else(|| form_json(sent.body.as_deref()?))?;
    let account = body.pointer(pointer)?.as_str()?.to_string();
    let text = reply.body.replace(&account, "<account>");
    let json = serde_json::from_str(&text).ok();
    Some(Answer { sent, reply, json, text, account })
}

/// A form body as a flat JSON object of its decoded fields, so a value in
/// it is found the same way as in a JSON body.
pub(super) fn form_json(body: &str) -> Option<Value> {
    let map: serde_json::Map<String, Value> = body
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (form_decode(k), Value::from(form_decode(v))))
        .collect();
    Some(Value::Object(map))
}
