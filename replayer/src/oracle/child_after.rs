//! The child-after-transition oracle: a child created under a parent after
//! the parent moved to a state where the recording never saw children added
//! (reached by a transition, not an initial state, and no recorded journey
//! added a child after that transition) was accepted, and the child exists: its own read shows it, or the
//! parent's read-back changed. Lower confidence: the recording may simply
//! never have tried it there.

use crate::mutate::children::accepted_after;
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
        let state = self.parent_state(trace, f, parent, &sent.url)?;
        let machine = self.plan.model.machine(&child.parent)?;
        let mut into = machine.transitions.iter().filter(|t| t.to == state && t.from != t.to);
        let reached = machine.transitions.iter().any(|t| t.to == state && t.from != t.to);
        if !reached
            || machine.initial.contains_key(&state)
            || into.any(|t| accepted_after(&self.plan.model, &t.action, &child.create))
        {
            return None;
        }
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
            ], check: None, })
    }

    /// The state of the parent instance `url` names, as last read back before step `f`.
    fn parent_state(&self, trace: &Trace, f: usize, parent: usize, url: &str) -> Option<String> {
        let probe = trace.probes.iter().rev().find(|p| {
            let inst = &trace.instances[p.instance];
            p.after < f && inst.resource == parent && url.contains(&format!("/{}/", inst.id))
        })?;
        probe.snapshot.state(&self.plan.resources[parent])
    }
}
