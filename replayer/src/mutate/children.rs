//! The child-after-transition family: a child created under its parent
//! (the model's `children`) after the parent's transition to a state where
//! the recording never saw a child added — add a track to a playlist after
//! it was published, an item to an order after it was submitted.

use venomqa_learner::{Child, StateMachine};

use crate::mutate::journey::Journey;
use crate::run::sequence::{SeqStep, Sequence};

impl Journey<'_> {
    /// After each transition of a parent instance into a state where its
    /// children were never created, a child create on that instance.
    pub(super) fn child_after_transition(&self) -> Vec<Sequence> {
        let model = &self.plan.model;
        let mut out = Vec::new();
        for child in &model.children {
            let Some(machine) = model.machine(&child.parent) else { continue };
            if !accepted_somewhere(machine, child) {
                continue;
            }
            for (j, s, x) in self.writes() {
                if self.plan.resources[x.resource].name != child.parent {
                    continue;
                }
                let (Some(from), Some(to)) = (self.state_before(j), self.state_after(j)) else {
                    continue;
                };
                if from == to || accepted_in(machine, &to, child) {
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

/// Whether the recording saw `child` created in some state of its parent:
/// its create is then a write the parent's state may gate.
fn accepted_somewhere(machine: &StateMachine, child: &Child) -> bool {
    machine.states.iter().any(|s| s.accepted.contains_key(&child.create))
}

/// Whether the recording saw `child` created while its parent was in `state`.
pub(crate) fn accepted_in(machine: &StateMachine, state: &str, child: &Child) -> bool {
    machine.states.iter().any(|s| s.name == state && s.accepted.contains_key(&child.create))
}
