//! The refused-again oracle: a journey sent a request, it was accepted, and
//! the very same request sent again (same values, same instances, nothing
//! but reads between) was refused (`400`, `409`, `422`: a second refund of
//! a refunded invoice, a second pay of a paid one). Replayed unmutated, the
//! target accepted both: what the recording showed it refusing, it does
//! twice now.

use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};
use crate::run::sequence::{Sequence, INSERTED};

/// Refusals that say the request itself is wrong in the state it found,
/// not who sent it (`401`, `403`), what it named (`404`) or how often
/// (`429`).
fn refused_for_the_state(status: u16) -> bool {
    matches!(status, 400 | 402 | 409 | 410 | 412 | 422 | 423)
}

impl Oracles<'_> {
    /// The first step of `seq` that the recording saw refused right after
    /// the same request was accepted, and that the target accepted.
    pub(super) fn refused_again(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        let recorded = &self.plan.journeys.get(seq.journey)?.statuses;
        let status_of = |origin: u32| {
            (origin < INSERTED).then(|| recorded.get(origin as usize).copied()).flatten()
        };
        let accepted = |i: usize| {
            trace
                .steps
                .get(i)
                .is_some_and(|e| !e.replies.is_empty() && e.replies.iter().all(|r| r.ok()))
        };
        for (i, step) in seq.steps.iter().enumerate() {
            let Some(refused) = status_of(step.origin).filter(|s| refused_for_the_state(*s)) else {
                continue;
            };
            if step.call.is_read() || step.is_concurrent() || !accepted(i) {
                continue;
            }
            // The same request just before, with only reads (or what the
            // recording saw refused) between them.
            let Some(earlier) = seq.steps[..i].iter().rposition(|s| {
                !s.call.is_read() && status_of(s.origin).is_none_or(|st| (200..300).contains(&st))
            }) else {
                continue;
            };
            let first = &seq.steps[earlier];
            let same = first.call.action() == step.call.action()
                && first.call.binds == step.call.binds
                && first.call.template.same_values(&step.call.template)
                && !first.is_concurrent();
            let first_status = status_of(first.origin)?;
            if !same || !(200..300).contains(&first_status) || !accepted(earlier) {
                continue;
            }
            let reply = trace.steps[i].reply()?;
            let action = step.call.action();
            return Some(Verdict {
                oracle: OracleKind::UnexpectedAccept,
                confidence: Confidence::Medium,
                step: i,
                summary: format!(
                    "{action} was accepted a second time, where the recording saw the same \
                     request refused ({refused}) right after it was accepted"
                ),
                evidence: vec![
                    format!(
                        "recorded: accepted ({first_status}), then the same request refused \
                         ({refused})"
                    ),
                    format!(
                        "replayed unmutated: accepted both times; the second answered {} {}",
                        reply.status,
                        snippet(&reply.body)
                    ),
                ],
                check: None,
            });
        }
        None
    }
}
