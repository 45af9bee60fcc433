//! The function-level authorization oracle: an action the recording shows
//! only for one role, sent by a user of another role, was accepted and took
//! effect: the instance it created exists, or the instance it named changed.
//! A refusal, or a 2xx that changed nothing, is silent.

use crate::oracle::diff::{changes, holds_id};
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// A role-only action accepted from a user of another role, its effect
    /// shown by a read-back.
    pub(super) fn lesser_role(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let ex = &trace.steps[f];
        let (reply, sent, k) = (ex.replies.first()?, ex.sent.first()?, ex.instance?);
        if !reply.ok() {
            return None;
        }
        let action = seq.steps[f].call.action();
        let roles = &self.plan.model.roles;
        let role = roles.iter().find(|r| r.restricted().iter().any(|a| a == action))?;
        // The recording saw this action refused to users outside the role.
        let refused_to_others = role.withheld.iter().any(|a| a == action);
        let inst = &trace.instances[k];
        let noun = singular(&self.plan.resources[inst.resource].name);
        let after = trace.after(f, k)?;
        let effect = if seq.steps[f].call.creates == Some(inst.resource) {
            let exists = after.ok() && after.json.as_ref().is_some_and(|j| holds_id(j, &inst.id));
            if !exists {
                return None;
            }
            format!("the read-back shows the new {noun} {}", inst.id)
        } else {
            let changed = changes(trace.before(f, k)?, after, inst.resource, self.noise);
            if changed.is_empty() {
                return None;
            }
            format!("the owner's read-back of {noun} {} changed: {}", inst.id, changed.join(", "))
        };
        let actor = sent.user.clone().unwrap_or_default();
        let users = role.users.join(", ");
        let mut evidence = vec![
            format!("as {actor}: {} {} answered {}", sent.method, sent.url, reply.status),
            effect,
            format!("the recording shows {action} accepted only for {users}"),
        ];
        if refused_to_others {
            evidence.push(format!(
                "the recording shows {action} refused (403) to users outside `{}`",
                role.name
            ));
        }
        Some(Verdict {
            oracle: OracleKind::FunctionLevelAuth,
            confidence: if refused_to_others { Confidence::Medium } else { Confidence::Low },
            step: f,
            summary: format!(
                "{actor}, not `{}`, was allowed {action}, which the recording shows only for `{}` users",
                role.name, role.name
            ),
            evidence, check: None, })
    }
}
