//! The after-delete oracle: a write accepted on a resource whose delete was
//! accepted, and the resource changed (or came back). A soft-deleted
//! instance is judged by its item in a list, and one no view shows by the
//! write's own answer (see `evidence`). A create that names a deleted
//! instance in its body (a loan of a withdrawn book) is judged by what it
//! made: the new instance, read back by its owner; a child made under its
//! deleted parent (`201` to `POST /repos/{name}/issues`), which no read can
//! show, by its answer alone, with low confidence.

use crate::oracle::final_state::scalars_of_body;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// A create naming an instance deleted just before it was accepted, and
    /// what it made exists.
    pub(super) fn create_after_delete(
        &self,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
    ) -> Option<Verdict> {
        let ex = &trace.steps[f];
        let (k, reply, sent) = (ex.instance?, ex.replies.first()?, ex.sent.first()?);
        if !reply.ok() || trace.instances[k].created_at != Some(f) {
            return None;
        }
        let d = (0..f).rev().find(|&d| {
            let action = seq.steps[d].call.action();
            self.plan.resources.iter().any(|r| r.deletes.iter().any(|a| a == action))
        })?;
        let kd = trace.steps[d].instance?;
        let gone = trace.instances[kd].resource;
        if !trace.steps[d].replies.first()?.ok() {
            return None;
        }
        // The create names that very instance (a loan of the withdrawn
        // book, not of another one the list showed).
        let named = scalars_of_body(sent.body.as_deref());
        let in_url =
            sent.url.split(['?', '&', '=', '/']).any(|part| part == trace.instances[kd].id);
        if !in_url && !named.iter().any(|v| *v == trace.instances[kd].id) {
            return None;
        }
        // The delete happened: the instance is gone, or in another state.
        let info = &self.plan.resources[gone];
        let (before, after) = (trace.before(d, kd), trace.after(d, kd)?);
        let moved = before.and_then(|b| b.state(info)) != after.state(info);
        if after.ok() && !moved {
            return None;
        }
        let made = &self.plan.resources[trace.instances[k].resource];
        // A child made under its deleted parent cannot be read back through
        // it: the `201` naming the new child is then all there is to see.
        let under_gone = in_url
            && reply.status == 201
            && self.plan.model.resource(&made.name).and_then(|r| r.parent.as_deref())
                == Some(info.name.as_str());
        let readable = trace.after(f, k).is_some_and(|s| s.ok());
        if !readable && !under_gone {
            return None;
        }
        let (noun, gone_noun) = (singular(&made.name), singular(&info.name));
        let shown = match trace.after(f, k) {
            Some(s) if !readable => format!(
                "its read answered {}: only the create's own answer says {noun} {} was made",
                s.status, trace.instances[k].id
            ),
            _ => format!("its owner's read-back shows {noun} {}", trace.instances[k].id),
        };
        Some(Verdict {
            oracle: OracleKind::AfterDelete,
            confidence: if readable { Confidence::Medium } else { Confidence::Low },
            step: f,
            summary: format!(
                "{} made {noun} {} naming {gone_noun} {} after its delete",
                sent.action, trace.instances[k].id, trace.instances[kd].id
            ),
            evidence: vec![
                format!(
                    "{} answered {}; the {gone_noun}'s read then answered {}{}",
                    seq.steps[d].call.action(),
                    trace.steps[d].replies[0].status,
                    after.status,
                    after.state(info).map(|s| format!(" (`{s}`)")).unwrap_or_default()
                ),
                format!("{} {} answered {}", sent.method, sent.url, reply.status),
                shown,
            ],
            check: None,
        })
    }

    /// A write after the delete was accepted and the resource changed (or came back).
    pub(super) fn after_delete(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let ex = &trace.steps[f];
        let k = ex.instance?;
        let reply = ex.replies.first()?;
        if !reply.ok() || seq.steps[f].call.is_read() {
            return None;
        }
        let inst = &trace.instances[k];
        let resource = &self.plan.resources[inst.resource];
        let d = (0..f).rev().find(|&d| {
            trace.steps[d].instance == Some(k)
                && resource.deletes.iter().any(|a| a == seq.steps[d].call.action())
        })?;
        let deleted = trace.after(d, k)?;
        if !trace.steps[d].replies.first()?.ok() || deleted.ok() {
            return None; // the delete did not happen: nothing to check
        }
        let effect = self.effect(trace, f, k)?;
        let sent = ex.sent.first()?;
        Some(Verdict {
            oracle: OracleKind::AfterDelete,
            confidence: effect.confidence,
            step: f,
            summary: format!(
                "{} was accepted on {} {} after its delete",
                sent.action,
                singular(&resource.name),
                inst.id
            ),
            evidence: vec![
                format!(
                    "{} answered {}; the owner's read then answered {}",
                    seq.steps[d].call.action(),
                    trace.steps[d].replies[0].status,
                    deleted.status
                ),
                format!("{} {} answered {}", sent.method, sent.url, reply.status),
                effect.describe(),
            ],
            check: None,
        })
    }
}
