//! Journeys: each session as an ordered list of actions with the bindings
//! that tie its requests to earlier responses, so the replayer can run it
//! again against a fresh environment with live values.
//!
//! Sessions that followed exactly the same shape (same actions, statuses and
//! bindings) are one journey with a count: a QA team runs the same scenario
//! many times, and replaying it once per mutation is enough. At most
//! `max_journeys` distinct shapes are kept; the rest are counted as dropped.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::flow::{Locations, RawBinding};
use crate::model::{Binding, Journey, Step};

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
        JourneyAcc { max, kept: Vec::new(), by_shape: HashMap::new(), dropped: 0, sessions: 0 }
    }

    /// Adds a finished session.
    pub(crate) fn add(&mut self, session: String, steps: Vec<RawStep>) {
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
        match same {
            Some(i) => {
                let kept = &mut self.kept[i];
                kept.sessions += 1;
                // Keep the earliest session as the example, whatever order sessions end in.
                if steps[0].exchange < kept.steps[0].exchange {
                    kept.session = session;
                    kept.steps = steps;
                }
            }
            None if self.kept.len() < self.max => {
                self.by_shape.entry(hash).or_default().push(self.kept.len());
                self.kept.push(Kept { session, sessions: 1, steps });
            }
            None => self.dropped += 1,
        }
    }

    /// Distinct journeys, in the order their first exchange happened.
    pub(crate) fn finish(&self, action_ids: &[String], locations: &Locations) -> Vec<Journey> {
        let mut kept: Vec<&Kept> = self.kept.iter().collect();
        kept.sort_by_key(|k| k.steps.first().map(|s| s.exchange));
        kept.into_iter()
            .map(|k| Journey {
                session: k.session.clone(),
                sessions: k.sessions,
                steps: k
                    .steps
                    .iter()
                    .map(|s| Step {
                        action: action_ids.get(s.action as usize).cloned().unwrap_or_default(),
                        exchange: s.exchange,
                        status: s.status,
                        bindings: {
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
                            bindings
                        },
                    })
                    .collect(),
            })
            .collect()
    }
}
