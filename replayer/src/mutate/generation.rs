//! Mutating journeys: every family applied systematically to every step it
//! fits, each result a [`Case`] with its focus step marked. Cases whose
//! relevant steps (the focus, what it binds to, and the earlier steps on
//! the same resource instance) are the same as an earlier case's are the
//! same test and are generated once, so hundreds of recorded sessions cost
//! little more than the few shapes they share.

use std::collections::HashSet;

use crate::mutate::journey::Journey;
use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::{key, relevant};
use crate::run::calibrate::Baseline;
use crate::run::sequence::Sequence;
use crate::setup::plan::Plan;

/// One mutated sequence to run and check.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub family: Mutation,
    pub seq: Sequence,
}

/// Every case of the enabled families over the calibrated journeys,
/// interleaved family by family so a budget spreads over all of them.
pub(crate) fn cases(
    plan: &Plan,
    baselines: &[Option<Baseline>],
    enabled: &[Mutation],
    concurrency: u32,
) -> Vec<Case> {
    let mut per_family: Vec<Vec<Case>> = Vec::new();
    let mut seen = HashSet::new();
    for &family in enabled {
        let mut list = Vec::new();
        for (j, journey) in plan.journeys.iter().enumerate() {
            let Some(baseline) = baselines.get(j).and_then(Option::as_ref) else { continue };
            let g = Journey { plan, seq: &journey.sequence, baseline, usable: baseline.usable() };
            for seq in g.family(family, concurrency) {
                if !seq.buildable() || seq.focus().is_none() {
                    continue;
                }
                // Run only what matters to the focus: the same test from
                // another journey is then recognised, and it costs less.
                let keep = relevant(plan, &seq);
                let seq = Sequence {
                    journey: seq.journey,
                    steps: seq
                        .steps
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| keep.contains(i))
                        .map(|(_, s)| s)
                        .collect(),
                };
                let k = match family {
                    // These change the history itself: it is part of the test.
                    Mutation::Drop | Mutation::Swap | Mutation::MoveLater => None,
                    _ => g.state_key(family, &seq),
                };
                if seen.insert(k.unwrap_or_else(|| key(family, &seq))) {
                    list.push(Case { family, seq });
                }
            }
        }
        per_family.push(list);
    }
    let mut out = Vec::new();
    let longest = per_family.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for list in &per_family {
            if let Some(c) = list.get(i) {
                out.push(c.clone());
            }
        }
    }
    out
}
