//! Exercising the planned tests: each test's cases tried in order (the
//! cleanly calibrated first) until one reaches its focus the way the
//! unmutated journey did. A case whose steps before the focus answer
//! otherwise than in calibration is re-run with the journey's full prefix;
//! if it still diverges, it tested nothing and the next equivalent case is
//! tried; so is the next one after a case whose values could not show its
//! bug (a race on a step nothing held back). A test none of whose cases
//! could be exercised is counted as skipped, with its reason, never as
//! passed.

use std::time::Instant;

use super::{bucket_label, entry_in, Explorer, Progress};
use crate::error::Error;
use crate::mutate::generation::{Case, Planned};
use crate::oracle::Checked;
use crate::run::calibrate::Baseline;
use crate::run::sequence::{Sequence, INSERTED};

/// Why a planned test was not exercised, as the report names it.
pub(super) type Skip = &'static str;

/// Every case of the test failed to reach its focus as calibrated.
const PREFIX_DIVERGED: Skip = "prefix_diverged";

impl<P: Fn(Progress) + Send + Sync> Explorer<'_, P> {
    /// Every test, `parallel` at a time, until a budget or an error stops them.
    pub(super) async fn explore(&self, all: Vec<Planned>, parallel: usize, deadline: Instant) {
        use futures_util::stream::{self, StreamExt};
        let total = all.len();
        stream::iter(all)
            .for_each_concurrent(parallel, |test| self.run_test(test, total, deadline))
            .await;
    }

    /// Exercises one test and counts whether it was, or why not.
    async fn run_test(&self, test: Planned, total: usize, deadline: Instant) {
        let outcome = self.exercise_first(&test, total, deadline).await;
        let mut s = self.lock();
        let Some(first) = test.cases.first() else { return };
        let (journey, family) = (first.seq.journey, first.family.name());
        let entry = entry_in(&mut s, journey, self.oracles.plan, family);
        entry.planned += 1;
        match outcome {
            Ok(()) => {
                entry.exercised += 1;
                s.exercised += 1;
            }
            Err(why) => {
                *entry.skipped_by.entry(why.to_string()).or_default() += 1;
                *s.skipped.entry(why.to_string()).or_default() += 1;
            }
        }
    }

    /// Tries the test's cases in order until one is exercised; that one is
    /// checked, and what it finds shrunk and kept.
    async fn exercise_first(
        &self,
        test: &Planned,
        total: usize,
        deadline: Instant,
    ) -> Result<(), Skip> {
        let (mut started, mut exercised_any) = (false, false);
        for case in &test.cases {
            self.admit(case, deadline)?;
            let journey = case.seq.journey;
            let Some(baseline) = self.calibrated.get(journey).and_then(Option::as_ref) else {
                continue;
            };
            if !std::mem::replace(&mut started, true) {
                self.count_started(total);
            }
            let case_started = Instant::now();
            // The time budget holds to within the request in flight.
            let exercising = self.exercise(case, baseline);
            let exercised = match tokio::time::timeout_at(deadline.into(), exercising).await {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => {
                    self.lock().error.get_or_insert(e);
                    return Err("error");
                }
                Err(_elapsed) => {
                    self.lock().stopped_by.get_or_insert_with(|| "seconds".to_string());
                    return Err("budget");
                }
            };
            let Some((seq, checked)) = exercised else { continue };
            if checked.inconclusive {
                exercised_any = true;
                let seconds = case_started.elapsed().as_secs_f64();
                let mut s = self.lock();
                entry_in(&mut s, journey, self.oracles.plan, case.family.name()).seconds += seconds;
                drop(s);
                if self.refused_for_its_values(case) {
                    continue;
                }
                return Ok(());
            }
            if let Some(v) = checked.verdict {
                let found =
                    self.found(Some(case.family), seq, v, checked.trace, &baseline.broken).await;
                if let Err(e) = found {
                    self.lock().error.get_or_insert(e);
                }
            }
            let seconds = case_started.elapsed().as_secs_f64();
            let mut s = self.lock();
            entry_in(&mut s, journey, self.oracles.plan, case.family.name()).seconds += seconds;
            return Ok(());
        }
        if exercised_any {
            return Ok(());
        }
        Err(PREFIX_DIVERGED)
    }

    /// Whether the recording saw the focus action of `case` refused for
    /// its values or its instance's state (a `409`, a `422`; not a `401`,
    /// `403`, `404` or `429`): only then may another case's values show
    /// what these could not (a withdrawal of all of a balance).
    fn refused_for_its_values(&self, case: &Case) -> bool {
        let Some(f) = case.seq.focus() else { return false };
        let action = self.oracles.plan.model.action(case.seq.steps[f].call.action());
        action.is_some_and(|a| {
            a.responses.keys().any(|s| (400..500).contains(s) && ![401, 403, 404, 429].contains(s))
        })
    }

    /// Runs `case` and checks it: the cut sequence, then the full prefix if
    /// the cut one diverged. The sequence that reached its focus as
    /// calibrated, and its check; `None` when neither did.
    async fn exercise<'c>(
        &self,
        case: &'c Case,
        baseline: &Baseline,
    ) -> Result<Option<(&'c Sequence, Checked)>, Error> {
        let mut tries = vec![&case.seq];
        if case.full.steps.len() != case.seq.steps.len() {
            tries.push(&case.full);
        }
        for seq in tries {
            let checked = self.oracles.check(Some(case.family), seq, &baseline.broken).await?;
            self.count_run(case, &checked);
            match prefix_divergence(baseline, seq, &checked) {
                None => {
                    let focus = seq.focus().unwrap_or(0);
                    let answered = |i: usize| checked.trace.steps.get(i).and_then(|e| e.reply());
                    tracing::debug!(
                        family = %case.family,
                        journey = seq.journey,
                        steps = seq.steps.len(),
                        focus = %seq.steps.get(focus).map_or_else(String::new, |s| s.label()),
                        status = answered(focus).map_or(0, |r| r.status),
                        verdict = ?checked.verdict.as_ref().map(|v| v.oracle),
                        "exercised"
                    );
                    return Ok(Some((seq, checked)));
                }
                Some(at) => tracing::debug!(
                    family = %case.family,
                    journey = seq.journey,
                    step = at,
                    action = %seq.steps.get(at).map_or_else(String::new, |s| s.label()),
                    "the case left the calibrated path before its focus"
                ),
            }
        }
        Ok(None)
    }

    /// Counts one sequence run of `case`.
    fn count_run(&self, case: &Case, checked: &Checked) {
        let mut s = self.lock();
        s.runs += checked.runs;
        entry_in(&mut s, case.seq.journey, self.oracles.plan, case.family.name()).sequences += 1;
    }

    /// Counts a test that started (of `of`), and says so.
    fn count_started(&self, of: usize) {
        let (cases, findings) = {
            let mut s = self.lock();
            s.cases_run += 1;
            (s.cases_run, s.findings.len())
        };
        let requests = self.oracles.runner.client.sent();
        (self.progress)(Progress::Explored { cases, of, requests, findings });
    }

    /// Whether `case` may run: no error yet, no budget spent (the first one
    /// spent is recorded), and its family has not already found a bug on
    /// the same focus.
    fn admit(&self, case: &Case, deadline: Instant) -> Result<(), Skip> {
        let budget = self.config.budget;
        let mut s = self.lock();
        if s.error.is_some() {
            return Err("error");
        }
        if s.stopped_by.is_some() {
            return Err("budget");
        }
        let stop = if s.runs >= budget.sequences {
            Some("sequences")
        } else if self.oracles.runner.client.sent() >= budget.requests {
            Some("requests")
        } else if Instant::now() >= deadline {
            Some("seconds")
        } else {
            None
        };
        if let Some(which) = stop {
            s.stopped_by = Some(which.to_string());
            return Err("budget");
        }
        let Some(f) = case.seq.focus() else { return Err(PREFIX_DIVERGED) };
        let focus = (case.family.name().to_string(), bucket_label(Some(case.family), &case.seq, f));
        if s.covered.contains(&focus) {
            return Err("already_found");
        }
        Ok(())
    }
}

/// Where a checked run of `seq` left the calibrated path before its focus:
/// a journey step answered otherwise than in calibration, the run stopped
/// short of the focus, or a login the mutation inserted was refused.
fn prefix_divergence(baseline: &Baseline, seq: &Sequence, checked: &Checked) -> Option<usize> {
    if let Some(at) = baseline.diverges(seq, &checked.trace) {
        return Some(at);
    }
    let focus = seq.focus()?;
    (0..focus).find(|&i| {
        let step = &seq.steps[i];
        let refused = checked.trace.steps[i].reply().is_none_or(|r| !r.ok());
        step.origin >= INSERTED && step.call.login && refused
    })
}
