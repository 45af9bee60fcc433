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

/// A step the recording saw refused and the target accepted, with its
/// cause: the latest write before it that the recording saw accepted
/// (nothing but reads, or what the recording saw refused, between them),
/// accepted on replay too.
struct Flip {
    step: usize,
    refused: u16,
    cause: usize,
    cause_status: u16,
}

/// Each step of `seq` the recording saw refused with a status `refused`
/// takes, accepted on replay (alone, not in a burst), with its cause.
fn flips(recorded: &[u16], seq: &Sequence, trace: &Trace, refused: fn(u16) -> bool) -> Vec<Flip> {
    let status_of =
        |origin: u32| (origin < INSERTED).then(|| recorded.get(origin as usize).copied()).flatten();
    let accepted = |i: usize| {
        trace
            .steps
            .get(i)
            .is_some_and(|e| !e.replies.is_empty() && e.replies.iter().all(|r| r.ok()))
    };
    let mut out = Vec::new();
    for (i, step) in seq.steps.iter().enumerate() {
        let Some(status) = status_of(step.origin).filter(|s| refused(*s)) else { continue };
        if step.call.is_read() || step.is_concurrent() || !accepted(i) {
            continue;
        }
        let cause = seq.steps[..i].iter().rposition(|s| {
            !s.call.is_read() && status_of(s.origin).is_none_or(|st| (200..300).contains(&st))
        });
        let Some(cause) = cause.filter(|c| !seq.steps[*c].is_concurrent() && accepted(*c)) else {
            continue;
        };
        // An inserted step has no recorded status: it explains nothing.
        let Some(cause_status) = status_of(seq.steps[cause].origin) else { continue };
        out.push(Flip { step: i, refused: status, cause, cause_status });
    }
    out
}

impl Oracles<'_> {
    /// The first step of `seq` the recording saw refused for a cause the
    /// journey shows, that the target accepted.
    pub(super) fn refused_as_recorded(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        let recorded = &self.plan.journeys.get(seq.journey)?.statuses;
        let again = flips(recorded, seq, trace, refused_for_the_state);
        let gone = flips(recorded, seq, trace, refused_as_gone);
        again
            .iter()
            .find_map(|f| self.refused_again(seq, trace, f))
            .or_else(|| gone.iter().find_map(|f| self.refused_after_delete(seq, trace, f)))
    }

    /// The flip whose cause was the very same request.
    fn refused_again(&self, seq: &Sequence, trace: &Trace, flip: &Flip) -> Option<Verdict> {
        let (first, step) = (&seq.steps[flip.cause].call, &seq.steps[flip.step].call);
        let same = first.action() == step.action()
            && first.binds == step.binds
            && first.template.same_values(&step.template);
        if !same {
            return None;
        }
        let reply = trace.steps[flip.step].reply()?;
        let (action, refused, first_status) = (step.action(), flip.refused, flip.cause_status);
        Some(Verdict {
            oracle: OracleKind::UnexpectedAccept,
            confidence: Confidence::Medium,
            step: flip.step,
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
        })
    }

    /// The flip whose cause was a delete of an instance it names (bound to
    /// the same answer as the delete's path).
    fn refused_after_delete(&self, seq: &Sequence, trace: &Trace, flip: &Flip) -> Option<Verdict> {
        let (delete, step) = (&seq.steps[flip.cause].call, &seq.steps[flip.step].call);
        let r = self
            .plan
            .resources
            .iter()
            .position(|r| r.deletes.iter().any(|a| a == delete.action()))?;
        let id_param = &self.plan.resources[r].id_param;
        let named = delete
            .binds
            .iter()
            .find(|b| matches!(&b.to, Location::Path { name } if name == id_param))?;
        let via = step.binds.iter().find(|b| b.origin == named.origin && b.from == named.from)?;
        let reply = trace.steps[flip.step].reply()?;
        let noun = crate::oracle::invariant::singular(&self.plan.resources[r].name);
        let (action, refused) = (step.action(), flip.refused);
        Some(Verdict {
            oracle: OracleKind::AfterDelete,
            confidence: Confidence::High,
            step: flip.step,
            summary: format!(
                "{action} was accepted naming a {noun} the journey had deleted, where the \
                 recording saw it refused ({refused})"
            ),
            evidence: vec![
                format!(
                    "recorded: {} accepted, then {action} naming that {noun} (its {}) refused \
                     ({refused})",
                    delete.action(),
                    place(&via.to)
                ),
                format!(
                    "replayed unmutated: the delete answered {}, {action} {} {}",
                    trace.steps[flip.cause].reply().map_or(0, |r| r.status),
                    reply.status,
                    snippet(&reply.body)
                ),
            ],
            check: None,
        })
    }
}
