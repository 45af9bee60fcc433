//! The after-final-state oracle: a create naming an instance in its body
//! (a pickup naming a hold by its code), sent after the instance's owner
//! moved it into a final state (the hold cancelled), was accepted and moved
//! the instance out of that state (the cancelled hold now `collected`).
//! Each part needs evidence: the transition was accepted and its read-back
//! shows the final state, which the learned machine never saw an instance
//! leave; the create's body holds a value of that instance (its id, or a
//! code its read shows), so it named this one; and the owner's read now
//! shows another state. A create that is merely accepted there (a comment
//! on a closed ticket) leaves the state alone and is not reported.

use serde_json::Value;

use crate::error::Error;
use crate::mutate::children::accepted_after;
use crate::oracle::enumeration::form_json;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::request::text_of;

/// The shortest text that identifies an instance when a body repeats it
/// (a code, a slug): shorter ones (`1`, `en`) match by chance.
const IDENTIFYING_LEN: usize = 6;

impl Oracles<'_> {
    /// The create at `f`, after the final transition at `f - 1`, accepted
    /// and moved the instance it names out of its final state.
    pub(super) async fn left_final_state(
        &self,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let Some(t) = f.checked_sub(1) else { return Ok(None) };
        let (ex, closing) = (&trace.steps[f], &trace.steps[t]);
        let (Some(reply), Some(sent)) = (ex.replies.first(), ex.sent.first()) else {
            return Ok(None);
        };
        let (Some(k), Some(closed_by)) = (closing.instance, closing.sent.first()) else {
            return Ok(None);
        };
        let accepted =
            |e: &crate::run::execute::Executed| e.replies.first().is_some_and(|r| r.ok());
        if !reply.ok() || !accepted(closing) {
            return Ok(None);
        }
        let inst = &trace.instances[k];
        let info = &self.plan.resources[inst.resource];
        let Some(closed) = trace.after(t, k).filter(|s| s.ok()) else { return Ok(None) };
        let Some(final_state) = closed.state(info) else { return Ok(None) };
        let before = trace.before(t, k).and_then(|s| s.state(info));
        if before.is_none_or(|b| b == final_state) || !self.is_final(&info.name, &final_state) {
            return Ok(None);
        }
        if accepted_after(&self.plan.model, &closed_by.action, &sent.action) {
            return Ok(None);
        }
        let identifying =
            identifying_values(closed.json.as_ref(), &inst.id, info.state_field.as_deref());
        let body = scalars_of_body(sent.body.as_deref());
        let Some(named) = body.iter().find(|v| identifying.contains(v)) else { return Ok(None) };
        let Some(now) = self.read_with(closed_by, inst.resource, &inst.params).await? else {
            return Ok(None);
        };
        let now_state = now.json.as_ref().filter(|_| now.ok()).and_then(|j| info.state_in(j));
        let Some(now_state) = now_state.filter(|s| *s != final_state) else {
            return Ok(None);
        };
        let noun = singular(&info.name);
        Ok(Some(Verdict {
            oracle: OracleKind::UnexpectedAccept,
            confidence: Confidence::Medium,
            step: f,
            summary: format!(
                "{} was accepted naming {noun} {} after {} made it `{final_state}`, and moved it `{final_state}` → `{now_state}`",
                sent.action, inst.id, closed_by.action
            ),
            evidence: vec![
                format!(
                    "{} answered {}; the {noun}'s read then showed `{final_state}`, a state the recording never saw a {noun} leave",
                    closed_by.action,
                    closing.replies[0].status
                ),
                format!(
                    "{} {} answered {}, its body naming {noun} {} by `{named}`",
                    sent.method, sent.url, reply.status, inst.id
                ),
                format!("the owner's read of {noun} {} now shows `{now_state}`", inst.id),
            ], check: None, }))
    }

    /// Whether the machine of `resource` reaches `state` by a transition,
    /// never leaves it, and never creates in it.
    fn is_final(&self, resource: &str, state: &str) -> bool {
        let Some(machine) = self.plan.model.machine(resource) else { return false };
        let reached = machine.transitions.iter().any(|t| t.to == state && t.from != state);
        let left = machine.transitions.iter().any(|t| t.from == state && t.to != state);
        reached && !left && !machine.initial.contains_key(state)
    }
}

/// The values of an instance's read that name it: its id, and texts long
/// enough not to match by chance (a pickup code), but not its state.
pub(crate) fn identifying_values(
    json: Option<&Value>,
    id: &str,
    state_field: Option<&str>,
) -> Vec<String> {
    let mut out = vec![id.to_string()];
    if let Some(Value::Object(map)) = json {
        for (key, value) in map {
            let Value::String(text) = value else { continue };
            if Some(key.as_str()) != state_field && text.len() >= IDENTIFYING_LEN {
                out.push(text.clone());
            }
        }
    }
    out
}

/// The scalar values of a JSON (or form) body, as text.
pub(crate) fn scalars_of_body(body: Option<&str>) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => map.values().for_each(|x| walk(x, out)),
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            Value::Null => {}
            scalar => out.push(text_of(scalar)),
        }
    }
    let json = body.and_then(|b| serde_json::from_str::<Value>(b).ok().or_else(|| form_json(b)));
    let mut out = Vec::new();
    if let Some(json) = json {
        walk(&json, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_code_names_its_hold_and_a_short_word_or_the_state_does_not() {
        let read = json!({"id": 3, "code": "PK-7QX2M4AB", "status": "cancelled", "book": "dune"});
        let values = identifying_values(Some(&read), "3", Some("status"));
        assert_eq!(values, vec!["3".to_string(), "PK-7QX2M4AB".to_string()]);
        let body = scalars_of_body(Some(r#"{"code": "PK-7QX2M4AB", "note": "cancelled"}"#));
        assert!(body.iter().any(|v| values.contains(v)));
        let other = scalars_of_body(Some(r#"{"code": "PK-OTHER000", "shelf": "dune"}"#));
        assert!(!other.iter().any(|v| values.contains(v)));
    }

    #[test]
    fn a_form_body_is_read_as_its_decoded_values() {
        let mut values = scalars_of_body(Some("code=PK%2D1+A&n=2"));
        values.sort();
        assert_eq!(values, ["2", "PK-1 A"]);
    }
}
