//! The consumed-twice oracle: a create that names an instance in its body
//! (a pickup naming a hold by its code, an order naming a cart) and moved
//! that instance's state, sent again and accepted again, making a second
//! instance (or answering another id). The first create used the named
//! instance up; the second one should have been refused.

use serde_json::Value;
use venomqa_learner::Location;

use crate::error::Error;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::probe::item_with_id;
use crate::run::request::text_of;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// The create at `f` repeats the one before it; both were accepted and
    /// made two instances, and the instance they name is in another state
    /// now than the list (or read) that showed it said, shown the same way.
    pub(super) async fn consumed_twice(
        &self,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let Some(first) = f.checked_sub(1) else { return Ok(None) };
        let (a, b) = (&trace.steps[first], &trace.steps[f]);
        let (Some(ra), Some(rb)) = (a.replies.first(), b.replies.first()) else {
            return Ok(None);
        };
        // Two different things made: two instances tracked, or two answers
        // holding different ids (a pickup's `{"hold": …, "loan": …}`).
        let apart = match (a.instance, b.instance) {
            (Some(x), Some(y)) => x != y,
            _ => {
                let (x, y) = (ids_in(ra.json.as_ref()), ids_in(rb.json.as_ref()));
                !x.is_empty() && x != y
            }
        };
        let same = seq.steps[first].call.action() == seq.steps[f].call.action();
        let made_two = same && ra.ok() && rb.ok() && apart;
        let Some(sent) = b.sent.first().filter(|_| made_two) else { return Ok(None) };
        for bind in &seq.steps[f].call.binds {
            let Location::Body { pointer } = &bind.from else { continue };
            let Some(p) = seq.steps[..first].iter().rposition(|s| s.origin == bind.origin) else {
                continue;
            };
            let Some(r) = self.plan.answered_by(seq.steps[p].call.action()) else { continue };
            let info = &self.plan.resources[r];
            let Some(field) = info.state_field.as_deref() else { continue };
            // The item the value came from, as the list showed it then.
            let item_at = pointer.rsplit_once('/').map_or("", |(item, _)| item);
            let answer = trace.steps[p].reply().and_then(|r| r.json.as_ref());
            let Some(item) = answer.and_then(|j| j.pointer(item_at)) else { continue };
            let keys = [info.id_param.as_str(), "id"];
            let Some(id) = keys.iter().find_map(|k| item.get(*k)).map(text_of) else { continue };
            let Some(before) = item.get(field).map(text_of) else { continue };
            // The same view again: the list (or read) that showed it.
            let Some(shown) = trace.steps[p].sent.first() else { continue };
            let now = self.control(shown, &shown.url, &shown.headers).await?;
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let again = now.json.as_ref().and_then(|j| {
                item_with_id(j, &id, &keys).or_else(|| {
                    keys.iter()
                        .any(|k| j.get(k).map(text_of).as_deref() == Some(id.as_str()))
                        .then(|| j.clone())
                })
            });
            let after = again.as_ref().and_then(|item| item.get(field)).map(text_of);
            let Some(after) = after.filter(|a| now.ok() && *a != before) else { continue };
            let noun = singular(&info.name);
            let second = match self.made_noun(seq, f) {
                Some(made) => format!("the second made another {made}"),
                None => "the second was accepted too".to_string(),
            };
            return Ok(Some(Verdict {
                oracle: OracleKind::UnexpectedAccept,
                confidence: Confidence::Medium,
                step: f,
                summary: format!(
                    "{} was accepted twice naming {noun} {id}: the first moved it `{before}` → `{after}`, {second}",
                    sent.action
                ),
                evidence: vec![
                    format!("{} answered {} and {}", sent.action, status(a), status(b)),
                    format!("{noun} {id} was `{before}` before; its read now shows `{after}`"),
                ], check: None, }));
        }
        Ok(None)
    }

    /// What the create at `f` makes (`loan`), if it is a create.
    fn made_noun(&self, seq: &Sequence, f: usize) -> Option<String> {
        let made = seq.steps[f].call.creates.and_then(|r| self.plan.resources.get(r))?;
        Some(singular(&made.name))
    }
}

/// Every value held under an `id` key, at any depth, in order.
fn ids_in(json: Option<&Value>) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    if k == "id" && !x.is_object() && !x.is_array() {
                        out.push(text_of(x));
                    }
                    walk(x, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(v) = json {
        walk(v, &mut out);
    }
    out
}

fn status(e: &crate::run::execute::Executed) -> String {
    e.replies.first().map_or_else(|| "nothing".to_string(), |r| r.status.to_string())
}
