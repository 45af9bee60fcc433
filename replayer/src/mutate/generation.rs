//! Mutating journeys: every family applied systematically to every step it
//! fits, each result a [`Case`] with its focus step marked and cut down to
//! what the focus depends on (`relevance`). Cases whose cut is the same are
//! the same test and are planned once, so hundreds of recorded sessions
//! cost little more than the few shapes they share; a few equivalent cases
//! are kept behind the first, those whose journey calibrated cleanly in
//! front, so a test whose first case cannot be exercised tries the next.

use std::collections::HashMap;

use crate::mutate::journey::Journey;
use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::{key, relevant};
use crate::run::calibrate::Baseline;
use crate::run::sequence::{Sequence, INSERTED};
use crate::setup::plan::Plan;

/// Equivalent cases kept for one test: the first that can be exercised stands for all.
pub(crate) const EQUIVALENTS: usize = 8;

/// One mutated sequence to run and check.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub family: Mutation,
    /// The steps the focus depends on.
    pub seq: Sequence,
    /// The family's sequence uncut (the journey's steps up to the mutation),
    /// to fall back on when the cut one does not reach the focus as calibrated.
    pub full: Sequence,
    /// Its journey calibrated without an unexpected non-2xx before the focus.
    pub clean: bool,
}

/// One test: equivalent cases, the cleanly calibrated first.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub cases: Vec<Case>,
}

/// Every test of the enabled families over the calibrated journeys,
/// interleaved family by family so a budget spreads over all of them.
pub(crate) fn cases(
    plan: &Plan,
    baselines: &[Option<Baseline>],
    enabled: &[Mutation],
    concurrency: u32,
) -> Vec<Planned> {
    let per_family: Vec<Vec<Planned>> =
        enabled.iter().map(|&f| family_cases(plan, baselines, f, concurrency)).collect();
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

/// The tests of one family, each with up to [`EQUIVALENTS`] cases.
fn family_cases(
    plan: &Plan,
    baselines: &[Option<Baseline>],
    family: Mutation,
    concurrency: u32,
) -> Vec<Planned> {
    let mut tests: Vec<Planned> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (j, journey) in plan.journeys.iter().enumerate() {
        let Some(baseline) = baselines.get(j).and_then(Option::as_ref) else { continue };
        let usable = baseline.usable();
        let g = Journey { plan, seq: &journey.sequence, baseline, usable, world: journey.world };
        let unexpected = baseline.unexpected(&journey.statuses);
        for (k, case) in keyed_cases(&g, family, concurrency, unexpected) {
            match by_key.get(&k) {
                Some(&t) => keep_equivalent(&mut tests[t].cases, case),
                None => {
                    by_key.insert(k, tests.len());
                    tests.push(Planned { cases: vec![case] });
                }
            }
        }
    }
    tracing::debug!(family = %family, tests = tests.len(), "planned");
    for t in &mut tests {
        // Stable: among equally clean cases the first generated stays first.
        t.cases.sort_by_key(|c| !c.clean);
        t.cases.truncate(EQUIVALENTS);
    }
    tests
}

/// The cases of `family` on journey `g`, each with the key that names its
/// test.
fn keyed_cases(
    g: &Journey<'_>,
    family: Mutation,
    concurrency: u32,
    unexpected: Option<usize>,
) -> Vec<(String, Case)> {
    let mut out = Vec::new();
    for full in g.family(family, concurrency) {
        let Some(focus) = full.focus() else { continue };
        // A step of another journey in front of this one is that journey's test.
        if !full.buildable() || !g.own(&full.steps[focus]) {
            continue;
        }
        // Run only what matters to the focus: the same test from
        // another journey is then recognised, and it costs less.
        let seq = cut(g.plan, &full);
        let k = match family {
            // These change the history itself: it is part of the test.
            Mutation::Drop | Mutation::Swap | Mutation::MoveLater => None,
            _ => g.state_key(family, &seq),
        };
        let clean = calibrated_cleanly(&seq, unexpected);
        let case = Case { family, seq, full, clean };
        // Public by a field (`visibility: public`): which value the focus's
        // instance shows is part of the test, like its state.
        let focus_origin = case.seq.focus().map(|f| case.seq.steps[f].origin);
        let shown = focus_origin
            .filter(|o| *o < INSERTED)
            .map(|o| g.visibility_after(o as usize))
            .unwrap_or_default();
        let k = format!("{}{shown}", k.unwrap_or_else(|| key(family, &case.seq)));
        out.push((k, case));
    }
    out
}

/// The cases of `families` on a path exploration reached (its steps
/// numbered by position, as a journey's are, those before `world` other
/// journeys'; `baseline` its one run), each with the key that names its
/// test: a path's cases that a shorter path already had are the same tests.
pub(crate) fn path_cases(
    plan: &Plan,
    (path, world): (&Sequence, u32),
    baseline: &Baseline,
    families: &[Mutation],
    concurrency: u32,
) -> Vec<(String, Case)> {
    let g = Journey { plan, seq: path, baseline, usable: baseline.usable(), world };
    families.iter().flat_map(|&f| keyed_cases(&g, f, concurrency, None)).collect()
}

/// `full` reduced to the steps its focus depends on.
fn cut(plan: &Plan, full: &Sequence) -> Sequence {
    let keep = relevant(plan, full);
    let steps = full.steps.iter().enumerate().filter(|(i, _)| keep.contains(i));
    Sequence { journey: full.journey, steps: steps.map(|(_, s)| s.clone()).collect() }
}

/// Keeps `case` behind the test's first unless enough of its kind (clean
/// or not) are kept already.
fn keep_equivalent(cases: &mut Vec<Case>, case: Case) {
    let alike = cases.iter().filter(|c| c.clean == case.clean).count();
    if alike < EQUIVALENTS {
        cases.push(case);
    }
}

/// Whether every journey step before the focus comes before the journey's
/// first unexpected non-2xx in calibration.
fn calibrated_cleanly(seq: &Sequence, unexpected: Option<usize>) -> bool {
    let Some(u) = unexpected else { return true };
    let focus = seq.focus().unwrap_or(seq.steps.len());
    seq.steps[..focus].iter().all(|s| s.origin >= INSERTED || (s.origin as usize) < u)
}
