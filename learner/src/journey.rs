//! Journeys: each session as an ordered list of actions with the bindings
//! that tie its requests to earlier responses, so the replayer can run it
//! again against a fresh environment with live values.
//!
//! Sessions that followed exactly the same shape (same actions, statuses and
//! bindings) are one journey with a count: a QA team runs the same scenario
//! many times, and replaying it once per mutation is enough. At most
//! `max_journeys` distinct shapes are kept; the rest are counted as dropped.
//! A journey also says which other journeys' values it consumed (a code
//! another session was issued), and which journeys made instances it found
//! by itself (a book in a list), so replay can run those first.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use crate::cross::{RawCross, RawDependency};
use crate::flow::RawBinding;
use crate::model::{Binding, Consumption, Dependency, Journey, Step};
use crate::wire::Locations;

/// One step as recorded while streaming: integers only.
#[derive(Debug)]
pub(crate) struct RawStep {
    pub action: u32,
    pub status: u16,
    pub exchange: u64,
    pub bindings: Box<[RawBinding]>,
}

impl RawStep {
    fn same_shape(&self, other: &RawStep) -> bool {
        self.action == other.action
            && self.status == other.status
            && self.bindings == other.bindings
    }
}

#[derive(Debug)]
struct Kept {
    session: String,
    sessions: u64,
    steps: Vec<RawStep>,
    cross: Vec<RawCross>,
    depends: Vec<RawDependency>,
}

/// A finished session, as the journeys take it.
#[derive(Debug)]
pub(crate) struct Finished {
    pub key: String,
    /// The session's number, as cross-session values name their producer.
    pub id: u32,
    pub steps: Vec<RawStep>,
    /// Its request values that other sessions produced.
    pub cross: Vec<RawCross>,
    /// Instances other sessions made that it used unhanded.
    pub depends: Vec<RawDependency>,
}

/// Distinct journeys seen so far.
#[derive(Debug)]
pub(crate) struct JourneyAcc {
    max: usize,
    kept: Vec<Kept>,
    by_shape: HashMap<u64, Vec<usize>>,
    /// Sessions whose shape was new when `max` shapes were already kept.
    pub dropped: u64,
    /// Sessions seen.
    pub sessions: u64,
    /// Per session number, the kept journey that session followed.
    placed: Vec<Option<u32>>,
}

fn shape_hash(steps: &[RawStep]) -> u64 {
    let mut h = DefaultHasher::new();
    for step in steps {
        (step.action, step.status, &step.bindings).hash(&mut h);
    }
    h.finish()
}

impl JourneyAcc {
    pub(crate) fn new(max: usize) -> JourneyAcc {
        JourneyAcc {
            max,
            kept: Vec::new(),
            by_shape: HashMap::new(),
            dropped: 0,
            sessions: 0,
            placed: Vec::new(),
        }
    }

    /// Adds a finished session.
    pub(crate) fn add(&mut self, finished: Finished) {
        let Finished { key: session, id, steps, cross, depends } = finished;
        if steps.is_empty() {
            return;
        }
        self.sessions += 1;
        let hash = shape_hash(&steps);
        let same = self.by_shape.get(&hash).and_then(|candidates| {
            candidates.iter().copied().find(|i| {
                let kept = &self.kept[*i].steps;
                kept.len() == steps.len() && kept.iter().zip(&steps).all(|(a, b)| a.same_shape(b))
            })
        });
        let placed = match same {
            Some(i) => {
                let kept = &mut self.kept[i];
                kept.sessions += 1;
                // Keep the earliest session as the example, whatever order sessions end in.
                if steps[0].exchange < kept.steps[0].exchange {
                    kept.session = session;
                    kept.steps = steps;
                    kept.cross = cross;
                    kept.depends = depends;
                }
                Some(i)
            }
            None if self.kept.len() < self.max => {
                self.by_shape.entry(hash).or_default().push(self.kept.len());
                self.kept.push(Kept { session, sessions: 1, steps, cross, depends });
                Some(self.kept.len() - 1)
            }
            None => {
                self.dropped += 1;
                None
            }
        };
        let id = id as usize;
        if self.placed.len() <= id {
            self.placed.resize(id + 1, None);
        }
        self.placed[id] = placed.map(|i| i as u32);
    }

    /// Distinct journeys, in the order their first exchange happened.
    pub(crate) fn finish(&self, action_ids: &[String], locations: &Locations) -> Vec<Journey> {
        let mut order: Vec<usize> = (0..self.kept.len()).collect();
        order.sort_by_key(|i| self.kept[*i].steps.first().map(|s| s.exchange));
        let mut position = vec![0; self.kept.len()];
        for (at, i) in order.iter().enumerate() {
            position[*i] = at;
        }
        order
            .iter()
            .map(|i| {
                let k = &self.kept[*i];
                Journey {
                    session: k.session.clone(),
                    sessions: k.sessions,
                    steps: k.steps.iter().map(|s| step(s, action_ids, locations)).collect(),
                    consumes: self.consumes(k, &position, locations),
                    depends_on: self.depends_on(k, position[*i], &position),
                }
            })
            .collect()
    }

    /// Which other journeys' values a kept journey consumed; a producer
    /// whose session was not kept as a journey is left out.
    fn consumes(&self, k: &Kept, position: &[usize], locations: &Locations) -> Vec<Consumption> {
        let mut out: Vec<Consumption> = k
            .cross
            .iter()
            .filter_map(|c| {
                let kept = self.placed.get(c.session as usize).copied().flatten()? as usize;
                Some(Consumption {
                    step: c.at_step as usize,
                    to: locations.get(c.to).clone(),
                    journey: position[kept],
                    journey_step: c.step as usize,
                    from: locations.get(c.from).clone(),
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The journeys whose instances a kept journey used unhanded: per
    /// making journey, its first using step and the most steps it needed.
    /// A maker whose session was not kept, or that is this journey's own
    /// shape, is left out.
    fn depends_on(&self, k: &Kept, own: usize, position: &[usize]) -> Vec<Dependency> {
        let mut by_journey: BTreeMap<usize, Dependency> = BTreeMap::new();
        for d in &k.depends {
            let Some(kept) = self.placed.get(d.session as usize).copied().flatten() else {
                continue;
            };
            let journey = position[kept as usize];
            if journey == own {
                continue;
            }
            let (step, after_steps) = (d.at_step as usize, d.after_steps as usize);
            let entry =
                by_journey.entry(journey).or_insert(Dependency { step, journey, after_steps });
            entry.step = entry.step.min(step);
            entry.after_steps = entry.after_steps.max(after_steps);
        }
        by_journey.into_values().collect()
    }
}

/// A recorded step as the model shows it.
fn step(s: &RawStep, action_ids: &[String], locations: &Locations) -> Step {
    let mut bindings: Vec<Binding> = s
        .bindings
        .iter()
        .map(|b| Binding {
            to: locations.get(b.to).clone(),
            step: b.step as usize,
            from: locations.get(b.from).clone(),
        })
        .collect();
    bindings.sort();
    Step {
        action: action_ids.get(s.action as usize).cloned().unwrap_or_default(),
        exchange: s.exchange,
        status: s.status,
        bindings,
    }
}
