//! What exploration reached, against what the recording showed: states and
//! transitions of each learned state machine, the ones the recording never
//! showed, the actions never accepted, and what pruning saved.

use std::collections::BTreeSet;

use venomqa_learner::Model;

use crate::report::exploration::{Exploration, Transition};

/// The learned machines, and what exploration has reached so far.
#[derive(Debug, Default)]
pub(super) struct Coverage {
    learned_states: BTreeSet<(String, String)>,
    learned_transitions: BTreeSet<Transition>,
    states: BTreeSet<(String, String)>,
    transitions: BTreeSet<Transition>,
    accepted: BTreeSet<String>,
}

impl Coverage {
    /// The machines of `model` whose states a read shows (a state
    /// named after the last action says nothing new when reached).
    pub fn new(model: &Model) -> Coverage {
        let mut c = Coverage::default();
        for m in model.machines.iter().filter(|m| m.basis.shown_by_reads()) {
            for s in &m.states {
                c.learned_states.insert((m.resource.clone(), s.name.clone()));
            }
            for t in &m.transitions {
                c.learned_transitions.insert(Transition {
                    resource: m.resource.clone(),
                    from: t.from.clone(),
                    action: t.action.clone(),
                    to: t.to.clone(),
                });
            }
        }
        c
    }

    /// A state an instance was seen in.
    pub fn state(&mut self, resource: &str, state: &str) {
        self.states.insert((resource.to_string(), state.to_string()));
    }

    /// An accepted action that took an instance from `from` to `to`;
    /// whether the recording never showed it.
    pub fn transition(&mut self, t: Transition) -> bool {
        let new = !self.learned_transitions.contains(&t);
        self.transitions.insert(t);
        new
    }

    /// Whether the recording showed `resource` going from `from` by `action`.
    pub fn known(&self, resource: &str, from: &str, action: &str) -> bool {
        self.learned_transitions
            .iter()
            .any(|t| t.resource == resource && t.from == from && t.action == action)
            || self
                .transitions
                .iter()
                .any(|t| t.resource == resource && t.from == from && t.action == action)
    }

    /// An action answered 2xx somewhere.
    pub fn accepted(&mut self, action: &str) {
        self.accepted.insert(action.to_string());
    }

    /// How many states and transitions it has reached.
    pub fn counts(&self) -> (usize, usize) {
        (self.states.len(), self.transitions.len())
    }

    /// The figures, for `write_actions` (the model's write actions).
    pub fn fill(&self, out: &mut Exploration, write_actions: &[String]) {
        out.states_reached = self.states.intersection(&self.learned_states).cloned().collect();
        out.states_missed = self.learned_states.difference(&self.states).cloned().collect();
        out.states_new = self.states.difference(&self.learned_states).cloned().collect();
        out.transitions_reached =
            self.transitions.intersection(&self.learned_transitions).cloned().collect();
        out.transitions_new =
            self.transitions.difference(&self.learned_transitions).cloned().collect();
        out.transitions_learned = self.learned_transitions.len();
        out.actions_never_enabled =
            write_actions.iter().filter(|a| !self.accepted.contains(*a)).cloned().collect();
        out.actions = write_actions.len();
        let per_root: f64 =
            (0..=out.max_depth).map(|d| (write_actions.len() as f64).powi(d as i32)).sum();
        out.naive_sequences = out.roots as f64 * per_root;
    }
}
