//! The mass-assignment oracle: a create or update carried a field no
//! recorded request sent, and the owner's read-back shows the value sent.
//! A server that ignores the field shows its own value, and stays silent.
//! Sure (high confidence) when the field is the resource's state or one the
//! model reads roles from; otherwise the field may simply be optional.

use serde_json::Value;

use crate::oracle::finding::{Check, Confidence, OracleKind};
use crate::oracle::{compact, Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::request::BodyTemplate;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// An injected field's value stored: the read-back after the write shows
    /// it, and the read-back before did not.
    pub(super) fn mass_assignment(
        &self,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
    ) -> Option<Verdict> {
        let ex = &trace.steps[f];
        let (reply, sent, k) = (ex.replies.first()?, ex.sent.first()?, ex.instance?);
        if !reply.ok() {
            return None;
        }
        let focus = &seq.steps[f];
        // The recorded request the field was added to: the journey's step
        // (a path exploration extended numbers its steps anew: then the
        // action's recorded request).
        let journey = &self.plan.journeys.get(seq.journey)?.sequence.steps;
        let original = journey
            .iter()
            .find(|s| s.origin == focus.origin && s.call.action() == focus.call.action())
            .map(|s| &s.call.template)
            .or_else(|| self.plan.catalog.get(focus.call.action()).map(|(t, _, _)| t))?;
        let (BodyTemplate::Json(Value::Object(sent_body)), BodyTemplate::Json(Value::Object(was))) =
            (&focus.call.template.body, &original.body)
        else {
            return None;
        };
        let after_read = trace.after(f, k)?;
        let after = after_read.json.as_ref()?;
        let before = trace.before(f, k).and_then(|s| s.json.as_ref());
        let (field, value) = sent_body.iter().find(|(field, value)| {
            !was.contains_key(*field)
                && after.get(field) == Some(value)
                && before.and_then(|b| b.get(field)) != Some(value)
        })?;
        let state_field = self.plan.resources[trace.instances[k].resource].state_field.as_deref();
        let confidence = if state_field == Some(field.as_str()) || self.names_a_role(field) {
            Confidence::High
        } else {
            Confidence::Low
        };
        let was_shown = before.and_then(|b| b.get(field)).map_or("absent".into(), compact);
        // The writer reads it back in the reproducer with its own session,
        // as the probe did when the writer is the reader.
        let check = self.read_for_script(trace, after_read, k, f).map(|request| Check::ReadBack {
            request,
            field: field.clone(),
            value: value.clone(),
        });
        Some(Verdict {
            oracle: OracleKind::MassAssignment,
            confidence,
            step: f,
            summary: format!(
                "{} stored `{field}` = {} sent by the client, a field no recorded request sent",
                sent.action,
                compact(value)
            ),
            evidence: vec![
                format!(
                    "{} {} with `{field}`: {} answered {}",
                    sent.method,
                    sent.url,
                    compact(value),
                    reply.status
                ),
                format!(
                    "the owner's read-back shows `{field}`: {} (before: {was_shown})",
                    compact(value)
                ),
            ],
            check,
        })
    }

    /// Whether the model reads users' roles from `field` (`/role`,
    /// `/user/role`) or names a role after it (`is_admin=true`).
    fn names_a_role(&self, field: &str) -> bool {
        self.plan.model.roles.iter().any(|r| {
            r.field.rsplit('/').next() == Some(field) || r.name.split('=').next() == Some(field)
        })
    }
}
