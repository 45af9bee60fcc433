//! What an exploration reached, as every report shows it: the figures
//! `engine::search` fills in, kept here so the reports need nothing of the
//! engine.

use std::collections::BTreeMap;

/// What an exploration did and reached.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exploration {
    /// The strategy it searched with.
    pub strategy: String,
    /// Its depth limit: actions added after a path's start.
    pub max_depth: usize,
    /// The deepest path it ran.
    pub depth_reached: usize,
    /// Paths it started from: recorded prefixes up to a create (or the
    /// first step on an instance), one per distinct prefix.
    pub roots: usize,
    /// Paths it ran (roots included), each one sequence.
    pub paths: u64,
    /// Tests of the mutation families it ran on the states it reached.
    pub probes: u64,
    /// Requests it sent (probes and shrinking included).
    pub requests: u64,
    /// `(resource, state)` of the learned machines that it reached.
    pub states_reached: Vec<(String, String)>,
    /// Learned states it never reached.
    pub states_missed: Vec<(String, String)>,
    /// States it reached that the recording never showed.
    pub states_new: Vec<(String, String)>,
    /// Learned transitions it took.
    pub transitions_reached: Vec<Transition>,
    /// Transitions it took that the recording never showed.
    pub transitions_new: Vec<Transition>,
    /// How many transitions the learned machines have.
    pub transitions_learned: usize,
    /// Write actions of the model that no path of it saw accepted.
    pub actions_never_enabled: Vec<String>,
    /// Paths it did not extend, by why: `precondition` (the recording
    /// never saw the action accepted there, and disabled actions were not
    /// tried), `same_state` (a path already reached that state),
    /// `refused` (the target refused the action), `finding` (an oracle
    /// stopped the path), `depth`, `budget`.
    pub pruned: BTreeMap<String, u64>,
    /// Write actions the model has: the branching factor of a naive search.
    pub actions: usize,
    /// A naive search's sequences to the depth limit from the same roots:
    /// roots × Σ actions^d, d = 0..=max_depth.
    pub naive_sequences: f64,
    /// Why it stopped before running out of paths, if it did.
    pub stopped_by: Option<String>,
    /// States saved by the `checkpoint` hook.
    pub checkpoints: u64,
    /// Paths started by rolling back to one instead of a reset and a
    /// replay of the path.
    pub rollbacks: u64,
}

/// One transition of a state machine.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Transition {
    /// The resource.
    pub resource: String,
    /// State before.
    pub from: String,
    /// The action.
    pub action: String,
    /// State after.
    pub to: String,
}

impl Exploration {
    /// Sequences pruning saved against the naive count.
    pub fn saved(&self) -> f64 {
        (self.naive_sequences - self.paths as f64).max(0.0)
    }
}
