//! Which steps of a sequence matter to its focus, and what makes two cases
//! the same test: the resource instance each step acts on, as a journey
//! names it (created by one step, or a value one step's answer produced).

use std::collections::{HashMap, HashSet};

use venomqa_learner::Location;

use crate::mutate::mutation::Mutation;
use crate::run::sequence::{Role, SeqStep, Sequence, INSERTED};
use crate::setup::plan::Plan;

/// A resource instance as a journey names it: created by one step, or the
/// value one step's answer produced.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct InstKey {
    pub resource: usize,
    pub origin: u32,
    pub from: Location,
}

pub(crate) fn inst_key(plan: &Plan, step: &SeqStep) -> Option<InstKey> {
    let call = &step.call;
    if let Some(r) = call.acts_on {
        let id = Location::Path { name: plan.resources[r].id_param.clone() };
        let b = call.binds.iter().find(|b| b.to == id)?;
        return Some(InstKey { resource: r, origin: b.origin, from: b.from.clone() });
    }
    let r = call.creates?;
    Some(InstKey { resource: r, origin: step.origin, from: plan.resources[r].id_from.clone() })
}

/// The identity of a case: its family and its steps (already reduced to
/// the relevant ones), with users numbered by appearance.
pub(crate) fn key(family: Mutation, seq: &Sequence) -> String {
    let mut users: HashMap<usize, usize> = HashMap::new();
    let mut key = String::from(family.name());
    for s in &seq.steps {
        let n = users.len();
        let u = s.call.user.map_or(usize::MAX, |u| *users.entry(u).or_insert(n));
        key.push_str(&format!(
            "|{}#{u}{}{}{}",
            s.label(),
            if s.role == Role::Focus { "*" } else { "" },
            if s.call.marker { "m" } else { "" },
            s.call.idem_salt
        ));
    }
    key
}

/// Indexes of the steps that matter to the focus steps: the focus, earlier
/// writes on its instances, the mutation's inserted steps, and
/// (transitively) every step those bind to.
pub(crate) fn relevant(plan: &Plan, seq: &Sequence) -> HashSet<usize> {
    let mut keep: HashSet<usize> = HashSet::new();
    let mut work: Vec<usize> = seq
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Focus)
        .map(|(i, _)| i)
        .collect();
    let focus_insts: Vec<InstKey> =
        work.iter().filter_map(|&i| inst_key(plan, &seq.steps[i])).collect();
    let last = work.iter().copied().max().unwrap_or(0);
    for (i, s) in seq.steps.iter().enumerate().take(last) {
        // Earlier writes on the focus's instances (reads change nothing: they
        // stay only if something binds to them), and every inserted step:
        // they are the mutation.
        let write_on_focus =
            !s.call.is_read() && inst_key(plan, s).is_some_and(|k| focus_insts.contains(&k));
        if write_on_focus || s.origin >= INSERTED {
            work.push(i);
        }
    }
    while let Some(i) = work.pop() {
        if !keep.insert(i) {
            continue;
        }
        let step = &seq.steps[i];
        let calls = std::iter::once(&step.call).chain(step.partner.as_ref());
        for o in calls.flat_map(|c| c.needs()) {
            if let Some(k) = seq.steps[..i].iter().rposition(|s| s.origin == o) {
                work.push(k);
            }
        }
    }
    keep
}
