//! The child-after-transition oracle: a child created under a parent after
//! the parent moved to a state where the recording never saw children added
//! was accepted, and the child exists: its own read shows it, or the
//! parent's read-back changed. Lower confidence: the recording may simply
//! never have tried it there.

use crate::oracle::diff::{changes, holds_id};
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// A child create accepted after its parent's transition, its effect
    /// shown by a read-back of the child or of the parent.
    pub(super) fn child_after(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let ex = &trace.steps[f];
        let (reply, sent, k) = (ex.replies.first()?, ex.sent.first()?, ex.instance?);
        let child = self.plan.model.children.iter().find(|c| c.create == sent.action)?;
        if !reply.ok() {
            return None;
        }
        let inst = &trace.instances[k];
        let after = trace.after(f, k)?;
        let shown = if seq.steps[f].call.creates == Some(inst.resource) {
            let exists = after.ok() && after.json.as_ref().is_some_and(|j| holds_id(j, &inst.id));
            exists.then(|| format!("the new child's read-back shows {}", inst.id))?
        } else {
            let changed = changes(trace.before(f, k)?, after, inst.resource, self.noise);
            (!changed.is_empty())
                .then(|| format!("the parent's read-back changed: {}", changed.join(", ")))?
        };
        let parent = self.plan.resources.iter().position(|r| r.name == child.parent)?;
        let state = self.parent_state(trace, f, parent).unwrap_or_else(|| "changed".into());
        Some(Verdict {
            oracle: OracleKind::UnexpectedAccept,
            confidence: Confidence::Low,
            step: f,
            summary: format!(
                "{} added a child to a {} that is `{state}`, where the recording never saw one added",
                sent.action,
                singular(&child.parent)
            ),
            evidence: vec![
                format!("{} {} answered {}", sent.method, sent.url, reply.status),
                shown,
            ],
        })
    }

    /// The state of the last parent instance read back before step `f`.
    fn parent_state(&self, trace: &Trace, f: usize, parent: usize) -> Option<String> {
        let probe = trace
            .probes
            .iter()
            .rev()
            .find(|p| p.after < f && trace.instances[p.instance].resource == parent)?;
        probe.snapshot.state(&self.plan.resources[parent])
    }
}
