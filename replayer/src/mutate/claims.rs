//! The double-claim family: a create that names an instance in its body
//! (a hold on a book) repeated until the target refuses it (nothing of
//! the book is left to hold), then a create of another kind naming the
//! same instance (a loan of that book), by the same user. The refusal says
//! the instance was used up; the oracle reports the second kind accepted
//! only when its answer names the same child of the instance (copy 3) as
//! a first-kind instance that still holds it.

use std::sync::Arc;

use venomqa_learner::Location;

use crate::mutate::journey::Journey;
use crate::mutate::relevance::InstKey;
use crate::run::sequence::{Bind, Call, SeqStep, Sequence};

/// How many times the first create is sent in all, to use up what the
/// instance has (copies of a book): an instance with more is not judged.
pub(crate) const CLAIMS_TO_EXHAUST: u32 = 6;

impl Journey<'_> {
    /// For each own create naming an instance in its body, repeated, each
    /// other create action whose recorded body names an instance of the
    /// same resource, sent after it about the same instance.
    pub(super) fn double_claim(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        let mut actions: Vec<&String> = self.plan.catalog.keys().collect();
        actions.sort();
        for (h, s) in self.steps().iter().enumerate() {
            if !self.own(s) || s.call.creates.is_none() || !self.names_in_body(h) {
                continue;
            }
            for x in self.named_in_body(h) {
                let Some(named_at) = body_bind(&s.call, &x) else { continue };
                for action in &actions {
                    if action.as_str() == s.call.action() {
                        continue;
                    }
                    let Some(call) = self.claim_of(action, h, s, &x, &named_at) else { continue };
                    let mut steps = self.steps()[..=h].to_vec();
                    let origin = self.seq.fresh_origin();
                    for n in 1..CLAIMS_TO_EXHAUST {
                        let mut again = s.clone();
                        again.origin = origin + n - 1;
                        again.call.idem_salt = n;
                        steps.push(again);
                    }
                    steps.push(SeqStep::plain(origin + CLAIMS_TO_EXHAUST, call).focus());
                    out.push(self.new_seq(steps));
                }
            }
        }
        out
    }

    /// `action` as a create naming `x` where its recorded body names an
    /// instance of `x`'s resource, sent by the user of step `h`.
    fn claim_of(
        &self,
        action: &str,
        h: usize,
        first: &SeqStep,
        x: &InstKey,
        named_at: &Location,
    ) -> Option<Call> {
        let (_, cj, cs) = self.plan.catalog.get(action)?;
        let src_seq = &self.plan.journeys.get(*cj)?.sequence;
        let src = &src_seq.steps.get(*cs)?.call;
        if src.creates.is_none() || src.login || src.acts_on.is_some() {
            return None;
        }
        // Where its body names an instance of the same resource.
        let to = src.binds.iter().find_map(|b| {
            let producer = src_seq.steps.iter().find(|p| p.origin == b.origin)?;
            let resource =
                producer.call.creates.or_else(|| self.plan.answered_by(producer.call.action()));
            let in_body = matches!(b.to, Location::Body { .. } | Location::Query { .. });
            (in_body && resource == Some(x.resource)).then(|| b.to.clone())
        })?;
        let mut call = self.catalog_call(action, h + 1, None, first.call.user)?;
        call.binds.retain(|b| b.to != to);
        call.binds.push(Bind { to: to.clone(), origin: x.origin, from: x.from.clone() });
        call.template =
            Arc::new(call.template.recording_as(&to, &first.call.template, named_at)?);
        Some(call)
    }
}

/// Where `call`'s body (or query) takes the value that names `x`.
fn body_bind(call: &Call, x: &InstKey) -> Option<Location> {
    let b = call.binds.iter().find(|b| b.origin == x.origin && b.from == x.from)?;
    matches!(b.to, Location::Body { .. } | Location::Query { .. }).then(|| b.to.clone())
}
