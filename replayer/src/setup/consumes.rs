//! Journeys that need other journeys first: one consumes a value another's
//! answer produced (a pickup code issued to a member, redeemed at the
//! desk), or uses an instance another made without being handed it (a book
//! the staff added, found in a list or named by its slug). Such a journey
//! is planned with those journeys' steps in front of its own, as far as the
//! recording had seen them, producers of producers first and each once, so
//! under the same reset the world is as it was, and a consumed value is
//! bound from the producer's live answer, never the recorded one.
//!
//! Origins stay positions: steps in front take the positions they are
//! placed at, the journey's own steps (and their bindings) move past them,
//! and the catalogue's entries into the journey move with them. An identity
//! signed up in front is not signed up again: later steps bind to the
//! sign-up already there.

use std::collections::{BTreeMap, HashMap};

use venomqa_learner::Model;

use crate::run::sequence::{Bind, SeqStep};
use crate::setup::plan::Plan;
use crate::setup::planner::PlannedJourney;

/// A journey's plan before anything was put in front of it.
struct Original {
    steps: Vec<SeqStep>,
    statuses: Vec<u16>,
    lead: usize,
    made_at: HashMap<usize, usize>,
}

impl Original {
    fn of(journey: &PlannedJourney) -> Original {
        Original {
            steps: journey.sequence.steps.clone(),
            statuses: journey.statuses.clone(),
            lead: journey.lead,
            made_at: journey.made_at.clone(),
        }
    }

    /// Whether step `i` logs in or signs up: what it needs of other journeys
    /// is an identity, which the planner provides already.
    fn is_identity_step(&self, i: usize) -> bool {
        self.steps.get(i).is_some_and(|s| s.call.login) || self.made_at.values().any(|&at| at == i)
    }
}

/// Puts in front of each journey the steps of the journeys it needs.
pub(crate) fn run_producers_first(model: &Model, plan: &mut Plan) {
    let originals: Vec<Original> = plan.journeys.iter().map(Original::of).collect();
    for j in 0..plan.journeys.len() {
        let needed = needed(model, &originals, j);
        if needed.is_empty() {
            continue;
        }
        let mut world = World::default();
        for p in producers_first(model, &originals, &needed) {
            world.place(model, &originals, p, needed[&p]);
        }
        let front = world.steps.len() as u32;
        let at = world.place(model, &originals, j, usize::MAX);
        let journey = &mut plan.journeys[j];
        journey.sequence.steps = world.steps;
        journey.statuses = world.statuses;
        journey.world = front;
        for (_, cj, cs) in plan.catalog.values_mut() {
            if *cj == j {
                if let Some(Some(placed)) = at.get(*cs) {
                    *cs = *placed as usize;
                }
            }
        }
    }
}

/// What journey `q` needs of others within its first `steps` recorded
/// steps: (journey, how many of its recorded steps).
fn direct(model: &Model, originals: &[Original], q: usize, steps: usize) -> Vec<(usize, usize)> {
    let Some(journey) = model.journeys.get(q) else { return Vec::new() };
    let lead = originals[q].lead;
    let consumed =
        journey.consumes.iter().filter(|c| c.step < steps).map(|c| (c.journey, c.journey_step + 1));
    let depends = journey
        .depends_on
        .iter()
        .filter(|d| d.step < steps && !originals[q].is_identity_step(lead + d.step))
        .map(|d| (d.journey, d.after_steps));
    consumed.chain(depends).filter(|(p, _)| *p != q && *p < originals.len()).collect()
}

/// Every journey `j` needs, transitively, with how many recorded steps of each.
fn needed(model: &Model, originals: &[Original], j: usize) -> BTreeMap<usize, usize> {
    let mut needed: BTreeMap<usize, usize> = BTreeMap::new();
    let mut work = vec![(j, usize::MAX)];
    while let Some((q, steps)) = work.pop() {
        for (p, k) in direct(model, originals, q, steps) {
            if p == j {
                continue;
            }
            let have = needed.entry(p).or_insert(0);
            if k > *have {
                *have = k;
                work.push((p, k));
            }
        }
    }
    needed
}

/// The needed journeys, each after those it needs; of a cycle, the one
/// recorded first goes first.
fn producers_first(
    model: &Model,
    originals: &[Original],
    needed: &BTreeMap<usize, usize>,
) -> Vec<usize> {
    fn visit(
        p: usize,
        model: &Model,
        originals: &[Original],
        needed: &BTreeMap<usize, usize>,
        seen: &mut Vec<usize>,
        out: &mut Vec<usize>,
    ) {
        if seen.contains(&p) {
            return;
        }
        seen.push(p);
        for (q, _) in direct(model, originals, p, needed[&p]) {
            if needed.contains_key(&q) {
                visit(q, model, originals, needed, seen, out);
            }
        }
        out.push(p);
    }
    let (mut seen, mut out) = (Vec::new(), Vec::new());
    for &p in needed.keys() {
        visit(p, model, originals, needed, &mut seen, &mut out);
    }
    out
}

/// The steps placed so far.
#[derive(Default)]
struct World {
    steps: Vec<SeqStep>,
    statuses: Vec<u16>,
    /// Journey → where each of its original steps was placed.
    placed: HashMap<usize, Vec<Option<u32>>>,
    /// Identity → its sign-up's place.
    signed_up: HashMap<usize, u32>,
}

impl World {
    /// Places journey `p`'s steps up to its `steps`-th recorded one and binds
    /// what it consumed to the producers placed before it. Returns where
    /// each original step went.
    fn place(
        &mut self,
        model: &Model,
        originals: &[Original],
        p: usize,
        steps: usize,
    ) -> Vec<Option<u32>> {
        let o = &originals[p];
        let upto = o.lead.saturating_add(steps).min(o.steps.len());
        let mut at: Vec<Option<u32>> = vec![None; upto];
        for i in 0..upto {
            let made = o.made_at.iter().find(|(_, &pos)| pos == i).map(|(&m, _)| m);
            if let Some(&there) = made.and_then(|m| self.signed_up.get(&m)) {
                at[i] = Some(there);
                continue;
            }
            let origin = self.steps.len() as u32;
            if let Some(m) = made {
                self.signed_up.insert(m, origin);
            }
            let mut step = o.steps[i].clone();
            step.origin = origin;
            for call in std::iter::once(&mut step.call).chain(step.partner.as_mut()) {
                for b in &mut call.binds {
                    if let Some(Some(to)) = at.get(b.origin as usize) {
                        b.origin = *to;
                    }
                }
            }
            at[i] = Some(origin);
            self.steps.push(step);
            self.statuses.push(o.statuses.get(i).copied().unwrap_or(0));
        }
        let consumes = model.journeys.get(p).map_or(&[][..], |j| &j.consumes[..]);
        for c in consumes {
            let consumer = at.get(o.lead + c.step).copied().flatten();
            let producer = self.placed.get(&c.journey).and_then(|placed| {
                placed.get(originals[c.journey].lead + c.journey_step).copied().flatten()
            });
            let (Some(consumer), Some(producer)) = (consumer, producer) else { continue };
            let bind = Bind { to: c.to.clone(), origin: producer, from: c.from.clone() };
            let call = &mut self.steps[consumer as usize].call;
            call.binds.retain(|b| b.to != bind.to);
            call.binds.push(bind);
        }
        self.placed.insert(p, at.clone());
        at
    }
}
