//! Which steps of a sequence matter to its focus, and what makes two cases
//! the same test: the resource instance each step acts on, as a journey
//! names it (created by one step, or a value one step's answer produced).

use std::collections::{HashMap, HashSet};

use venomqa_learner::Location;

use crate::mutate::mutation::Mutation;
use crate::run::request::Segment;
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

/// Indexes of the steps that matter to the focus steps: the focus, the
/// mutation's inserted steps, and (transitively) every step whose effects a
/// kept step depends on: the producers of its bound values, and the earlier
/// writes on any instance it names; and the other journeys' steps planned
/// in front of the journey (the instances it found there). A step names its own instance, the
/// parents in its path and the instances its body or query refers to, so a
/// debit keeps the credit on its account (created in the journey or seeded
/// before it), a parent's transition keeps the creates of its children,
/// and a child keeps its parent's writes.
pub(crate) fn relevant(plan: &Plan, seq: &Sequence) -> HashSet<usize> {
    let logins: HashSet<u32> =
        seq.steps.iter().filter(|s| s.call.login).map(|s| s.origin).collect();
    let named: Vec<Vec<Ident>> = seq.steps.iter().map(|s| idents(plan, s, &logins)).collect();
    let mut work: Vec<usize> = seq
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Focus)
        .map(|(i, _)| i)
        .collect();
    let last = work.iter().copied().max().unwrap_or(0);
    // Every inserted step before the last focus: they are the mutation.
    work.extend((0..last).filter(|&i| seq.steps[i].origin >= INSERTED));
    // Other journeys' steps in front: the world the journey's own steps found.
    let world = plan.journeys.get(seq.journey).map_or(0, |j| j.world);
    work.extend((0..last).filter(|&i| seq.steps[i].origin < world));
    let mut keep: HashSet<usize> = HashSet::new();
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
        // Reads change nothing: they stay only when something binds to them.
        let earlier_writes = (0..i).filter(|&k| {
            !seq.steps[k].call.is_read() && named[k].iter().any(|x| named[i].contains(x))
        });
        work.extend(earlier_writes);
    }
    keep
}

/// An instance as the dependency closure tells instances apart: a value
/// one step's answer produced (whatever resource it names), or a value the
/// recording put in a path (a seeded instance, a client-chosen key), told
/// apart by the parameter that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ident {
    Produced(u32, Location),
    Literal { param: String, value: String },
}

/// The instances `step` names: the one it creates, those in its path (its
/// own and its parents'), and those its body or query refers to.
/// Credentials (values from a login's answer) name no instance.
fn idents(plan: &Plan, step: &SeqStep, logins: &HashSet<u32>) -> Vec<Ident> {
    let mut out = Vec::new();
    let calls = std::iter::once(&step.call).chain(step.partner.as_ref());
    for call in calls {
        if call.login || call.logout {
            continue;
        }
        if let Some(r) = call.creates {
            out.push(Ident::Produced(step.origin, plan.resources[r].id_from.clone()));
        }
        for seg in &call.template.segments {
            let Segment::Param { name, recorded } = seg else { continue };
            let to = Location::Path { name: name.clone() };
            out.push(match call.binds.iter().find(|b| b.to == to) {
                Some(b) => Ident::Produced(b.origin, b.from.clone()),
                None => Ident::Literal { param: name.clone(), value: recorded.clone() },
            });
        }
        let in_body = call
            .binds
            .iter()
            .filter(|b| matches!(b.to, Location::Body { .. } | Location::Query { .. }))
            .filter(|b| !logins.contains(&b.origin));
        out.extend(in_body.map(|b| Ident::Produced(b.origin, b.from.clone())));
    }
    out
}
