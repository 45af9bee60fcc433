//! The after-delete oracle: a write accepted on a resource whose delete was
//! accepted, and the resource changed (or came back). A soft-deleted
//! instance is judged by its item in a list, and one no view shows by the
//! write's own answer (see `evidence`).

use crate::oracle::finding::OracleKind;
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
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
        })
    }
}
