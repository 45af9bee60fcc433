//! The child-after-transition family: a child created under its parent
//! (the model's `children`) after the parent's transition to a state where
//! the recording never saw a child added — add a track to a playlist after
//! it was published, an item to an order after it was submitted. The
//! evidence: the journey created a child on the instance before the
//! transition, calibration saw the transition change the parent's state,
//! and no recorded journey created a child after that transition.

use venomqa_learner::{Model, Step};

use crate::mutate::journey::Journey;
use crate::mutate::relevance::inst_key;
use crate::run::sequence::{SeqStep, Sequence};

impl Journey<'_> {
    /// After each transition of a parent instance that followed a child
    /// create on it, another child create, unless some recorded journey
    /// already created a child after that transition.
    pub(super) fn child_after_transition(&self) -> Vec<Sequence> {
        let model = &self.plan.model;
        let mut out = Vec::new();
        for child in &model.children {
            for (j, s, x) in self.writes() {
                if self.plan.resources[x.resource].name != child.parent
                    || self.state_before(j) == self.state_after(j)
                    || self.state_after(j).is_none()
                    || accepted_after(model, s.call.action(), &child.create)
                {
                    continue;
                }
                let before = self.steps()[..j].iter();
                let mut before = before.filter(|b| b.call.action() == child.create);
                if !before.any(|b| inst_key(self.plan, b).as_ref() == Some(&x)) {
                    continue;
                }
                let Some(call) = self.catalog_call(&child.create, j + 1, Some(&x), s.call.user)
                else {
                    continue;
                };
                let mut steps = self.steps()[..=j].to_vec();
                steps.push(SeqStep::plain(self.seq.fresh_origin(), call).focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }
}

/// Whether a recorded journey had `action` accepted after an accepted
/// `transition` (a child created after its parent's): then the recording
/// shows it allowed there.
pub(crate) fn accepted_after(model: &Model, transition: &str, action: &str) -> bool {
    let ok = |s: &&Step| (200..300).contains(&s.status);
    model.journeys.iter().any(|j| {
        let t = j.steps.iter().position(|s| s.action == transition && ok(&s));
        t.is_some_and(|t| j.steps[t + 1..].iter().filter(ok).any(|s| s.action == action))
    })
}
