//! Journeys that consume another journey's values (one user issues a code,
//! another user or role redeems it): the model says which step of which
//! journey produced the value. Such a journey is planned with the
//! producer's steps up to the producing one in front of its own, so the
//! producer always runs first, under the same reset, and the consumed
//! value is bound from the producer's live answer, never the recorded one.
//!
//! Origins stay positions: the producer's steps keep theirs, the
//! consumer's (and their bindings) move past them, and the catalogue's
//! entries into the consumer move with them.

use std::collections::{BTreeMap, HashMap};

use venomqa_learner::{Consumption, Model};

use crate::run::sequence::{Bind, SeqStep};
use crate::setup::plan::Plan;

/// Puts each consumer's producers in front of it, producers of producers
/// first; of a cycle of consumers, the journey reached first keeps its
/// recorded steps.
pub(crate) fn run_producers_first(model: &Model, plan: &mut Plan) {
    // Journey → how many steps were put in front of it.
    let mut done: HashMap<usize, usize> = HashMap::new();
    for j in 0..plan.journeys.len() {
        prefix(model, plan, j, &mut done, &mut Vec::new());
    }
}

/// Plans journey `j` after its producers (depth first, `path` guarding
/// against cycles); records in `done` how many steps it put in front.
fn prefix(
    model: &Model,
    plan: &mut Plan,
    j: usize,
    done: &mut HashMap<usize, usize>,
    path: &mut Vec<usize>,
) {
    if done.contains_key(&j) || path.contains(&j) {
        return;
    }
    let Some(journey) = model.journeys.get(j) else { return };
    path.push(j);
    for c in &journey.consumes {
        prefix(model, plan, c.journey, done, path);
    }
    path.pop();
    done.insert(j, 0);
    // The producing journeys and, of each, the last step this one needs.
    let mut needed: BTreeMap<usize, usize> = BTreeMap::new();
    for c in journey.consumes.iter().filter(|c| c.journey != j && !path.contains(&c.journey)) {
        let last = needed.entry(c.journey).or_insert(c.journey_step);
        *last = (*last).max(c.journey_step);
    }
    let Front { mut steps, mut statuses, placed } = front(plan, &needed, done);
    if steps.is_empty() {
        return;
    }
    let offset = steps.len() as u32;
    let consumer = &mut plan.journeys[j];
    steps.extend(consumer.sequence.steps.iter().map(|s| shifted(s, offset)));
    statuses.extend_from_slice(&consumer.statuses);
    for c in &journey.consumes {
        bind_consumed(&mut steps, c, offset, &placed);
    }
    consumer.sequence.steps = steps;
    consumer.statuses = statuses;
    done.insert(j, offset as usize);
    for (_, cj, cs) in plan.catalog.values_mut() {
        if *cj == j {
            *cs += offset as usize;
        }
    }
}

/// The steps put in front of a consumer.
struct Front {
    steps: Vec<SeqStep>,
    statuses: Vec<u16>,
    /// Producer journey → where its own first recorded step sits here.
    placed: BTreeMap<usize, u32>,
}

/// Each producer's steps up to the last one `needed`, one after another.
fn front(plan: &Plan, needed: &BTreeMap<usize, usize>, done: &HashMap<usize, usize>) -> Front {
    let mut f = Front { steps: Vec::new(), statuses: Vec::new(), placed: BTreeMap::new() };
    for (&p, &last) in needed {
        let Some(producer) = plan.journeys.get(p) else { continue };
        // The producer's own producers are in front of it already: its
        // producing step sits that much further on.
        let shift = done.get(&p).copied().unwrap_or(0);
        let upto = last + shift;
        if upto >= producer.sequence.steps.len() {
            tracing::debug!(
                journey = p,
                step = last,
                "the producing step is not at hand; its consumers replay as recorded"
            );
            continue;
        }
        let offset = f.steps.len() as u32;
        f.placed.insert(p, offset + shift as u32);
        f.steps.extend(producer.sequence.steps[..=upto].iter().map(|s| shifted(s, offset)));
        f.statuses.extend(producer.statuses.iter().take(upto + 1));
    }
    f
}

/// `step` moved `by` positions on, with the bindings it has.
fn shifted(step: &SeqStep, by: u32) -> SeqStep {
    let mut step = step.clone();
    step.origin += by;
    let calls = std::iter::once(&mut step.call).chain(step.partner.as_mut());
    for call in calls {
        for b in &mut call.binds {
            b.origin += by;
        }
    }
    step
}

/// Binds the consumed value of `c` to its producer's step in front.
fn bind_consumed(
    steps: &mut [SeqStep],
    c: &Consumption,
    offset: u32,
    placed: &BTreeMap<usize, u32>,
) {
    let Some(&at) = placed.get(&c.journey) else { return };
    let Some(step) = steps.get_mut(offset as usize + c.step) else { return };
    let bind = Bind { to: c.to.clone(), origin: at + c.journey_step as u32, from: c.from.clone() };
    step.call.binds.retain(|b| b.to != bind.to);
    step.call.binds.push(bind);
}
