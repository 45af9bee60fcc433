//! Shrinking a failing sequence to a minimal one that still fails the same
//! way (same oracle, same focus action, and for an unexpected accept the
//! same state it was accepted in: a second pay of a paid invoice must not
//! shrink into a pay of a draft, another bug): first the steps that cannot matter
//! (not bound to, not on the focus's instance) in one try, then delta
//! debugging over the remaining steps, then fewer concurrent copies; then
//! re-runs to confirm, and for a race to count how often it reproduces.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::error::Error;
use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::relevant;
use crate::oracle::finding::OracleKind;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::sequence::{Role, Sequence};
use crate::setup::plan::Plan;

/// A confirmed minimal failure.
#[derive(Debug)]
pub(crate) struct Shrunk {
    pub seq: Sequence,
    pub verdict: Verdict,
    pub trace: Trace,
    /// Races: reproduced N times out of M re-runs.
    pub reproduced: Option<(u32, u32)>,
    /// Sequences run while shrinking.
    pub runs: u64,
}

struct Shrinker<'a, 'b> {
    oracles: &'a Oracles<'b>,
    family: Option<Mutation>,
    broken: &'a HashSet<String>,
    oracle: OracleKind,
    label: String,
    /// An unexpected accept's state before the focus: the bug it shows.
    state: Option<String>,
    tries: u32,
    budget: u64,
    /// The run's time budget: past it, no candidate is tried (the
    /// smallest failing sequence so far stands).
    deadline: Instant,
    runs: u64,
    cache: HashMap<Vec<(u32, u32)>, bool>,
    best: Option<(Verdict, Trace)>,
}

#[allow(clippy::too_many_arguments)]
/// Shrinks `seq`, which `verdict` checked failing; `None` when the failure
/// does not reproduce on a confirming run (flaky beyond what a race allows).
pub(crate) async fn shrink(
    oracles: &Oracles<'_>,
    family: Option<Mutation>,
    seq: &Sequence,
    verdict: Verdict,
    trace: Trace,
    broken: &HashSet<String>,
    repeat: u32,
    (budget, deadline): (u64, Instant),
) -> Result<Option<Shrunk>, Error> {
    let seq = focused_at(seq, verdict.step);
    let race = verdict.oracle == OracleKind::Race;
    let state = (verdict.oracle == OracleKind::UnexpectedAccept)
        .then(|| state_before(oracles.plan, &trace, verdict.step))
        .flatten();
    let mut sh = Shrinker {
        oracles,
        family,
        broken,
        oracle: verdict.oracle,
        label: seq.steps[verdict.step].label(),
        state,
        tries: if race { 3 } else { 1 },
        budget,
        deadline,
        runs: 0,
        cache: HashMap::new(),
        best: Some((verdict, trace)),
    };
    let seq = sh.minimise(seq).await?;
    sh.confirm(seq, if race { repeat.max(1) } else { 1 }).await
}

/// `seq` cut after `step`, which becomes its only focus: nothing after the
/// step a verdict is about matters.
fn focused_at(seq: &Sequence, step: usize) -> Sequence {
    let mut seq = seq.clone();
    seq.steps.truncate(step + 1);
    for (i, s) in seq.steps.iter_mut().enumerate() {
        s.role = if i == step { Role::Focus } else { Role::Plain };
    }
    seq
}

impl Shrinker<'_, '_> {
    /// The smallest sequence found that still fails the same way.
    async fn minimise(&mut self, mut seq: Sequence) -> Result<Sequence, Error> {
        // 1. Everything the focus cannot depend on, in one try.
        let keep = relevant(self.oracles.plan, &seq);
        if keep.len() < seq.steps.len() {
            let candidate = subset(&seq, |i| keep.contains(&i));
            if self.fails(&candidate).await? {
                seq = candidate;
            }
        }
        // 2. Delta debugging (complements) over the context steps.
        let context: Vec<usize> = seq
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.role != Role::Focus)
            .map(|(i, _)| i)
            .collect();
        let keep = ddmin(context, &mut Steps { shrinker: self, seq: &seq }).await?;
        seq = subset(&seq, |i| keep.contains(&i));
        // 3. Fewer copies at once.
        if let Some(f) = seq.focus() {
            while seq.steps[f].copies > 2 {
                let mut candidate = seq.clone();
                candidate.steps[f].copies -= 1;
                if !self.fails(&candidate).await? {
                    break;
                }
                seq = candidate;
            }
        }
        Ok(seq)
    }

    /// Runs the shrunk `seq` `runs` times: a failure must reproduce; a race
    /// counts how often it does.
    async fn confirm(mut self, seq: Sequence, runs: u32) -> Result<Option<Shrunk>, Error> {
        let race = self.oracle == OracleKind::Race;
        let mut reproduced = 0;
        let mut confirmed = None;
        for _ in 0..runs {
            let checked = self.oracles.check(self.family, &seq, self.broken).await?;
            self.runs += checked.runs;
            if let Some(v) = checked.verdict.filter(|v| self.matches(&seq, v, &checked.trace)) {
                reproduced += 1;
                confirmed.get_or_insert((v, checked.trace));
            }
        }
        let Some((verdict, trace)) = confirmed.or(if race { self.best.take() } else { None })
        else {
            tracing::info!(oracle = %self.oracle, action = %self.label, "a failure did not reproduce after shrinking; dropped");
            return Ok(None);
        };
        if race && reproduced == 0 {
            return Ok(None);
        }
        Ok(Some(Shrunk {
            seq,
            verdict,
            trace,
            reproduced: race.then_some((reproduced, runs)),
            runs: self.runs,
        }))
    }
}

/// The state the instance of `trace`'s `step` was in just before it, as
/// the run's reads showed it.
pub(crate) fn state_before(plan: &Plan, trace: &Trace, step: usize) -> Option<String> {
    let k = trace.steps.get(step)?.instance?;
    let resource = &plan.resources[trace.instances.get(k)?.resource];
    trace.before(step, k)?.state(resource)
}

/// The steps of `seq` whose index passes `keep` (the focus always stays).
fn subset(seq: &Sequence, keep: impl Fn(usize) -> bool) -> Sequence {
    Sequence {
        journey: seq.journey,
        steps: seq
            .steps
            .iter()
            .enumerate()
            .filter(|(i, s)| s.role == Role::Focus || keep(*i))
            .map(|(_, s)| s.clone())
            .collect(),
    }
}

impl Shrinker<'_, '_> {
    fn matches(&self, seq: &Sequence, v: &Verdict, trace: &Trace) -> bool {
        v.oracle == self.oracle
            && seq.focus() == Some(v.step)
            && seq.steps.get(v.step).is_some_and(|s| s.label() == self.label)
            && (self.state.is_none()
                || state_before(self.oracles.plan, trace, v.step) == self.state)
    }

    /// Whether `candidate` still fails the same way (a race gets a few tries).
    async fn fails(&mut self, candidate: &Sequence) -> Result<bool, Error> {
        if !candidate.buildable() || self.runs >= self.budget || Instant::now() >= self.deadline {
            return Ok(false);
        }
        let id: Vec<(u32, u32)> = candidate.steps.iter().map(|s| (s.origin, s.copies)).collect();
        if let Some(&known) = self.cache.get(&id) {
            return Ok(known);
        }
        let mut failed = false;
        for _ in 0..self.tries {
            let checked = self.oracles.check(self.family, candidate, self.broken).await?;
            self.runs += checked.runs;
            if let Some(v) = checked.verdict.filter(|v| self.matches(candidate, v, &checked.trace))
            {
                self.best = Some((v, checked.trace));
                failed = true;
                break;
            }
        }
        self.cache.insert(id, failed);
        Ok(failed)
    }
}

/// A test of a subset: does the failure still happen with only these items?
pub(crate) trait Test {
    fn fails(&mut self, keep: &[usize]) -> impl std::future::Future<Output = Result<bool, Error>>;
}

/// The context steps of a sequence as ddmin's items.
struct Steps<'s, 'a, 'b> {
    shrinker: &'s mut Shrinker<'a, 'b>,
    seq: &'s Sequence,
}

impl Test for Steps<'_, '_, '_> {
    async fn fails(&mut self, keep: &[usize]) -> Result<bool, Error> {
        let candidate = subset(self.seq, |i| keep.contains(&i));
        self.shrinker.fails(&candidate).await
    }
}

/// Zeller's ddmin, testing complements: a 1-minimal subset of `items`
/// (removing any one more item makes the failure go away).
pub(crate) async fn ddmin(
    mut items: Vec<usize>,
    test: &mut impl Test,
) -> Result<Vec<usize>, Error> {
    let mut n = 2usize;
    while !items.is_empty() {
        let chunk = items.len().div_ceil(n).max(1);
        let mut reduced = false;
        let mut start = 0;
        while start < items.len() {
            let end = (start + chunk).min(items.len());
            let complement: Vec<usize> =
                items[..start].iter().chain(&items[end..]).copied().collect();
            if test.fails(&complement).await? {
                items = complement;
                n = n.saturating_sub(1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if chunk <= 1 {
                break;
            }
            n = (n * 2).min(items.len());
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when every item of `needed` is kept; counts the tests.
    struct Needs(Vec<usize>, usize);

    impl Test for Needs {
        async fn fails(&mut self, keep: &[usize]) -> Result<bool, Error> {
            self.1 += 1;
            Ok(self.0.iter().all(|n| keep.contains(n)))
        }
    }

    fn run(items: usize, needed: &[usize]) -> (Vec<usize>, usize) {
        let mut test = Needs(needed.to_vec(), 0);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let kept = rt.block_on(ddmin((0..items).collect(), &mut test)).expect("no error");
        (kept, test.1)
    }

    #[test]
    fn ddmin_keeps_exactly_what_the_failure_needs() {
        assert_eq!(run(20, &[3, 17]).0, [3, 17]);
        assert_eq!(run(8, &[]).0, Vec::<usize>::new());
        assert_eq!(run(5, &[0, 1, 2, 3, 4]).0, [0, 1, 2, 3, 4]);
        assert_eq!(run(1, &[0]).0, [0]);
    }

    #[test]
    fn ddmin_needs_few_tests_for_a_long_context() {
        let (kept, tests) = run(64, &[5, 40]);
        assert_eq!(kept, [5, 40]);
        assert!(tests < 64, "{tests} tests");
    }
}
