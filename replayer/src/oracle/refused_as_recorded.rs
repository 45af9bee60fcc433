//! Refusals the recording explains, accepted on replay: a journey replayed
//! unmutated sends what the recording saw refused, and the target accepts
//! it. Most such flips say nothing (another environment, other data); two
//! say what was refused and why, from the journey itself, with nothing
//! but reads between the cause and the refusal:
//! - **refused again**: the very same request (same values, same
//!   instances) was accepted just before (a second refund of a refunded
//!   invoice, a second pay of a paid one): an unexpected accept;
//! - **refused after a delete**: the request names an instance the journey
//!   had just deleted (an invoice for a deleted customer, by its id in a
//!   form field): an after-delete.

use venomqa_learner::Location;

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

/// Where a request names an instance: `body field customer`, `path
/// {customer_id}`, `query customer`.
fn place(at: &Location) -> String {
    match at {
        Location::Body { pointer } => format!("body field {}", pointer.trim_start_matches('/')),
        Location::Path { name } => format!("path {{{name}}}"),
        Location::Query { key } => format!("query {key}"),
        other => format!("{other:?}"),
    }
}

/// Refusals of a request naming a deleted instance: for the state, or
/// because what it names is gone (`404`).
fn refused_as_gone(status: u16) -> bool {
    status == 404 || refused_for_the_state(status)
}

impl Oracles<'_> {
    /// The first step of `seq` the recording saw refused for a cause the
    /// journey shows, that the target accepted.
    pub(super) fn refused_as_recorded(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        self.refused_again(seq, trace).or_else(|| self.refused_after_delete(seq, trace))
    }

    /// The first step of `seq` that the recording saw refused right after
    /// the same request was accepted, and that the target accepted.
    fn refused_again(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
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

    /// The first step of `seq` that the recording saw refused after the
    /// journey deleted an instance it names (bound to the same answer as
    /// the delete's path), that the target accepted.
    fn refused_after_delete(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        let recorded = &self.plan.journeys.get(seq.journey)?.statuses;
        let status_of = |origin: u32| {
            (origin < INSERTED).then(|| recorded.get(origin as usize).copied()).flatten()
        };
        let ok = |i: usize| trace.steps.get(i).and_then(|e| e.reply()).is_some_and(|r| r.ok());
        for (i, step) in seq.steps.iter().enumerate() {
            let Some(refused) = status_of(step.origin).filter(|s| refused_as_gone(*s)) else {
                continue;
            };
            if step.call.is_read() || step.is_concurrent() || !ok(i) {
                continue;
            }
            // The latest write before it that the recording saw accepted:
            // a delete, with nothing but reads since.
            let Some(d) = seq.steps[..i].iter().rposition(|s| {
                !s.call.is_read() && status_of(s.origin).is_none_or(|st| (200..300).contains(&st))
            }) else {
                continue;
            };
            let delete = &seq.steps[d].call;
            let Some(r) = self
                .plan
                .resources
                .iter()
                .position(|r| r.deletes.iter().any(|a| a == delete.action()))
            else {
                continue;
            };
            if !ok(d) || status_of(seq.steps[d].origin).is_none() {
                continue;
            }
            let id_param = &self.plan.resources[r].id_param;
            let Some(named) = delete
                .binds
                .iter()
                .find(|b| matches!(&b.to, Location::Path { name } if name == id_param))
            else {
                continue;
            };
            let Some(via) =
                step.call.binds.iter().find(|b| b.origin == named.origin && b.from == named.from)
            else {
                continue;
            };
            let reply = trace.steps[i].reply()?;
            let noun = crate::oracle::invariant::singular(&self.plan.resources[r].name);
            let action = step.call.action();
            return Some(Verdict {
                oracle: OracleKind::AfterDelete,
                confidence: Confidence::High,
                step: i,
                summary: format!(
                    "{action} was accepted naming a {noun} the journey had deleted, where the \
                     recording saw it refused ({refused})"
                ),
                evidence: vec![
                    format!(
                        "recorded: {} accepted, then {action} naming that {noun} (its {}) \
                         refused ({refused})",
                        delete.action(),
                        place(&via.to)
                    ),
                    format!(
                        "replayed unmutated: the delete answered {}, {action} {} {}",
                        trace.steps[d].reply().map_or(0, |r| r.status),
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
