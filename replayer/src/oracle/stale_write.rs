//! The stale-write oracle: a conditional write whose validator (`If-Match`)
//! an earlier write had made stale was accepted and took effect.

use crate::oracle::diff::changes;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// A conditional write whose validator another write made stale was
    /// accepted and took effect.
    pub(super) fn stale_write(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let w = f.checked_sub(1)?;
        if seq.steps[w].call.action() != seq.steps[f].call.action() {
            return None;
        }
        let k = trace.steps[f].instance?;
        let resource = trace.instances[k].resource;
        let (first, second) = (trace.steps[w].replies.first()?, trace.steps[f].replies.first()?);
        if !first.ok() || !second.ok() {
            return None;
        }
        // The first write must really have moved the resource on.
        let moved = changes(trace.before(w, k)?, trace.after(w, k)?, resource, self.noise);
        let changed = changes(trace.before(f, k)?, trace.after(f, k)?, resource, self.noise);
        if moved.is_empty() || changed.is_empty() {
            return None;
        }
        let sent = trace.steps[f].sent.first()?;
        let validator = sent
            .headers
            .iter()
            .find(|(n, _)| n.starts_with("if-"))
            .map(|(n, v)| format!("{n}: {v}"))?;
        Some(Verdict {
            oracle: OracleKind::StaleWrite,
            confidence: Confidence::High,
            step: f,
            summary: format!(
                "{} was accepted with a validator an earlier write had made stale",
                sent.action
            ),
            evidence: vec![
                format!(
                    "the first {} answered {} and changed: {}",
                    sent.action,
                    first.status,
                    moved.join(", ")
                ),
                format!("then {validator} (the same, now stale) answered {}", second.status),
                format!("and the owner's read-back changed again: {}", changed.join(", ")),
            ],
            check: None,
        })
    }
}
