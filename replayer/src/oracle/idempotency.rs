//! The idempotency oracle: a retry with the same `Idempotency-Key` changed
//! state again, made a second instance (a create answering another id), or
//! answered differently from the first request.

use serde_json::Value;

use crate::oracle::diff::{changes, differing, normalize};
use crate::oracle::finding::{Check, Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Snapshot, Trace};
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// A retry with the same `Idempotency-Key` changed state again or answered differently.
    pub(super) fn idempotency(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let o = f.checked_sub(1)?;
        let (first, retry) = (&seq.steps[o].call, &seq.steps[f].call);
        if first.action() != retry.action() || first.idem_salt != retry.idem_salt {
            return None;
        }
        let (a, b) = (trace.steps[o].replies.first()?, trace.steps[f].replies.first()?);
        if !a.ok() || b.status == 0 {
            return None;
        }
        let key = trace.steps[f]
            .sent
            .first()?
            .headers
            .iter()
            .find(|(n, _)| n == "idempotency-key")?
            .1
            .clone();
        let mut evidence =
            vec![format!("Idempotency-Key {key}: first answer {}, retry {}", a.status, b.status)];
        // A create's id differs on every call (noise to the answers'
        // comparison below), except on a retry that the key made the same.
        let made = (trace.steps[o].instance, trace.steps[f].instance);
        if let (Some(r), Some(x), Some(y), true) = (first.creates, made.0, made.1, b.ok()) {
            if x != y {
                let noun = crate::oracle::invariant::singular(&self.plan.resources[r].name);
                let ids = (&trace.instances[x].id, &trace.instances[y].id);
                evidence
                    .push(format!("the first made {noun} {}, the retry another: {}", ids.0, ids.1));
                let what = format!("made a second {noun}");
                return Some(self.idempotency_verdict(f, retry.action(), &what, evidence));
            }
        }
        if let Some(k) = trace.steps[f].instance {
            if let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) {
                let changed = changes(before, after, trace.instances[k].resource, self.noise);
                if !changed.is_empty() {
                    evidence.push(format!(
                        "the retry changed the owner's read-back again: {}",
                        changed.join(", ")
                    ));
                    let mut verdict = self.idempotency_verdict(
                        f,
                        retry.action(),
                        "changed state again",
                        evidence,
                    );
                    verdict.check = self.reads_differ(trace, o, f, k, before, after);
                    return Some(verdict);
                }
            }
        }
        let differs = a.status / 100 != b.status / 100 || {
            let quiet =
                |p: &String| self.noise.response.contains(&(retry.action().to_string(), p.clone()));
            let diff = differing(a.json.as_ref(), b.json.as_ref());
            diff.iter().any(|p| !quiet(p))
        };
        if differs {
            evidence.push(format!("first: {}", snippet(&a.body)));
            evidence.push(format!("retry: {}", snippet(&b.body)));
            return Some(self.idempotency_verdict(
                f,
                retry.action(),
                "answered differently",
                evidence,
            ));
        }
        None
    }

    fn idempotency_verdict(
        &self,
        f: usize,
        action: &str,
        what: &str,
        evidence: Vec<String>,
    ) -> Verdict {
        Verdict {
            oracle: OracleKind::Idempotency,
            confidence: Confidence::High,
            step: f,
            summary: format!("a retry of {action} with the same Idempotency-Key {what}"),
            evidence,
            check: None,
        }
    }

    /// The reproducer's check of a retry that changed state again: the
    /// owner's read after the first request (step `o`) and after the retry
    /// (`f`), compared in the top-level scalar fields that changed (noise
    /// left out). Only when both reads are the instance's own and its reader
    /// sent the retry (the script has that session).
    fn reads_differ(
        &self,
        trace: &Trace,
        o: usize,
        f: usize,
        instance: usize,
        before: &Snapshot,
        after: &Snapshot,
    ) -> Option<Check> {
        before.read.as_ref()?;
        let request = self.read_for_script(trace, after, instance, f)?;
        let (Some(Value::Object(a)), Some(Value::Object(b))) = (&before.json, &after.json) else {
            return None;
        };
        let resource = trace.instances[instance].resource;
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        let fields: Vec<String> = b
            .iter()
            .filter(|(k, v)| {
                scalar(v)
                    && a.get(*k).is_some_and(|w| scalar(w) && w != *v)
                    && !self.noise.resource.contains(&(resource, normalize(&format!("/{k}"))))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if fields.is_empty() {
            return None;
        }
        Some(Check::ReadsDiffer { request, after: [o, f], fields })
    }
}
