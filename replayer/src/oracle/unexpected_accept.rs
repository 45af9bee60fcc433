//! The unexpected-accept oracle: a mutated step accepted in a state where
//! the recording never saw it accepted, and the resource changed. Low
//! confidence, since the recording may simply not have tried it there;
//! medium when the recording saw it refused there as a conflict (`409`,
//! `423`).

use crate::oracle::diff::changes;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::{Role, Sequence};

impl Oracles<'_> {
    /// A mutated step accepted in a state where the model never saw it
    /// accepted, and the resource changed.
    pub(super) fn unexpected_accept(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        for (f, step) in seq.steps.iter().enumerate().filter(|(_, s)| s.role == Role::Focus) {
            let ex = trace.steps.get(f)?;
            let (Some(k), Some(reply)) = (ex.instance, ex.replies.first()) else { continue };
            if !reply.ok() {
                continue;
            }
            let resource = trace.instances[k].resource;
            let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) else {
                continue;
            };
            let Some(state) = before.state(&self.plan.resources[resource]) else { continue };
            let now = after.state(&self.plan.resources[resource]);
            if !self.plan.unexpected_in(resource, &state, step.call.action(), now.as_deref()) {
                continue;
            }
            let changed = changes(before, after, resource, self.noise);
            if changed.is_empty() {
                continue;
            }
            let info = &self.plan.resources[resource];
            let mut seen: Vec<&str> = info
                .accepted
                .iter()
                .filter(|(_, a)| a.contains(step.call.action()))
                .map(|(s, _)| s.as_str())
                .collect();
            seen.sort_unstable();
            // The recording saw the API refuse it in this very state.
            let refused =
                info.conflicts.get(&state).is_some_and(|a| a.contains(step.call.action()));
            let mut evidence = vec![
                format!(
                    "answered {}; the owner's read-back changed: {}",
                    reply.status,
                    changed.join(", ")
                ),
                format!(
                    "the recording saw it accepted only in: {}",
                    if seen.is_empty() { "no state".to_string() } else { seen.join(", ") }
                ),
            ];
            if refused {
                evidence.push(format!(
                    "the recording saw it refused in `{state}` for the state (409, 423, or 400 or 422 to a request that sent nothing)"
                ));
            }
            return Some(Verdict {
                oracle: OracleKind::UnexpectedAccept,
                confidence: if refused { Confidence::Medium } else { Confidence::Low },
                step: f,
                summary: format!(
                    "{} was accepted on {} that is `{state}`, where the recording never saw it accepted",
                    step.call.action(),
                    with_article(&singular(&info.name))
                ),
                evidence, check: None, });
        }
        None
    }
}

/// `an order`, `a refund`: the noun with its indefinite article.
fn with_article(noun: &str) -> String {
    let vowel = noun.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}
