//! The idempotency oracle: a retry with the same `Idempotency-Key` changed
//! state again or answered differently from the first request.

use crate::oracle::diff::{changes, differing};
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};
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
        if let Some(k) = trace.steps[f].instance {
            if let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) {
                let changed = changes(before, after, trace.instances[k].resource, self.noise);
                if !changed.is_empty() {
                    evidence.push(format!(
                        "the retry changed the owner's read-back again: {}",
                        changed.join(", ")
                    ));
                    return Some(self.idempotency_verdict(
                        f,
                        retry.action(),
                        "changed state again",
                        evidence,
                    ));
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
}
