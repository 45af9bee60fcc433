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
    let world = plan.journeys.get(seq.journey).map_or(0, |j| j.world);
    let mut work = starts(seq);
    let last = work.iter().copied().max().unwrap_or(0);
    // Other journeys' steps in front: the world the journey's own steps found.
    work.extend((0..last).filter(|&i| seq.steps[i].origin < world));
    let mut keep = HashSet::new();
    closure(plan, seq, work, &mut keep);
    keep
}

/// Like [`relevant`], but of the other journeys' steps in front only those
/// a kept step depends on, and for a kept read of a list the creates of
/// what it lists with the writes on those instances (a loan's list of
/// books keeps the books and their copies, not the other members'
/// sessions). The least a step needs; it may still not reach the step as
/// the journey did, so a caller checks the cut run against the journey's.
pub(crate) fn needed(plan: &Plan, seq: &Sequence) -> HashSet<usize> {
    let mut keep = HashSet::new();
    let mut work = starts(seq);
    let last = work.iter().copied().max().unwrap_or(0);
    loop {
        closure(plan, seq, work, &mut keep);
        let listed: HashSet<usize> = keep
            .iter()
            .map(|&i| &seq.steps[i].call)
            .filter(|c| c.is_read())
            .filter_map(|c| plan.answered_by(c.action()))
            .collect();
        let kept_creates: HashSet<u32> = keep
            .iter()
            .map(|&i| &seq.steps[i])
            .filter(|s| s.call.creates.is_some())
            .map(|s| s.origin)
            .collect();
        work = (0..last)
            .filter(|k| !keep.contains(k))
            .filter(|&k| {
                let c = &seq.steps[k].call;
                let lists_it = c.creates.is_some_and(|r| listed.contains(&r));
                let on_kept = c.binds.iter().any(|b| {
                    matches!(b.to, Location::Path { .. }) && kept_creates.contains(&b.origin)
                });
                !c.is_read() && !c.login && !c.logout && (lists_it || on_kept)
            })
            .collect();
        if work.is_empty() {
            return keep;
        }
    }
}

/// The focus steps, and every inserted step before the last (the mutation).
fn starts(seq: &Sequence) -> Vec<usize> {
    let mut work: Vec<usize> = seq
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Focus)
        .map(|(i, _)| i)
        .collect();
    let last = work.iter().copied().max().unwrap_or(0);
    work.extend((0..last).filter(|&i| seq.steps[i].origin >= INSERTED));
    work
}

/// Adds to `keep` the steps of `work` and (transitively) every step they
/// depend on.
fn closure(plan: &Plan, seq: &Sequence, mut work: Vec<usize>, keep: &mut HashSet<usize>) {
    let logins: HashSet<u32> =
        seq.steps.iter().filter(|s| s.call.login).map(|s| s.origin).collect();
    let named: Vec<Vec<Ident>> = seq.steps.iter().map(|s| idents(plan, s, &logins)).collect();
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
