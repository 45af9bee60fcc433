//! A run, phase by phase: plan the journeys (consumers behind their
//! producers), calibrate each one, generate the mutated cases, run and
//! check them within the budgets (in parallel when nothing resets between
//! sequences; `exercise` counts which reached their focus as calibrated),
//! shrink each new failure, and keep one finding per bug.

mod exercise;
mod search;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use venomqa_learner::Model;

use crate::error::Error;
use crate::mutate::cases;
use crate::mutate::mutation::Mutation;
use crate::oracle::diff::{normalize, Noise};
use crate::oracle::finding::{Check, Finding, OracleKind, SentRequest};
use crate::oracle::{rank, Oracles, Verdict};
use crate::report::{confirming_script, without_live_credentials, Confirm, ScriptTls, Secrets};
use crate::run::calibrate::{calibrate, Baseline};
use crate::run::client::Client;
use crate::run::divergence::Divergence;
use crate::run::execute::{Runner, Trace};
use crate::run::sequence::Sequence;
use crate::setup::config::{Config, ResetScope};
use crate::setup::consumes::run_producers_first;
use crate::setup::plan::Plan;
use crate::setup::recorded::Recorded;
use crate::shrink::{shrink, state_before, Shrunk};
pub use search::{Exploration, Transition};

/// Sequences a single shrink may run.
const SHRINK_RUNS: u64 = 200;

/// What a run found and did.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// One per distinct bug.
    pub findings: Vec<Finding>,
    /// What it took: sequences, requests, time, and the JUnit testcases.
    pub stats: RunStats,
    /// What exploration reached, when it ran.
    pub exploration: Option<Exploration>,
}

/// Counts of a run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Sequences sent (calibration, cases, counterparts, shrinking).
    pub sequences: u64,
    /// HTTP requests sent (probes and resets included).
    pub requests: u64,
    /// Answers that asked to wait (`429`, or `503` with `Retry-After`): each
    /// was waited out and its request sent again (counted in `requests`).
    pub rate_limited: u64,
    /// Wall-clock time of the whole run.
    pub seconds: f64,
    /// Journeys replayed.
    pub journeys: usize,
    /// Mutated cases generated (after deduplication) and checked.
    pub cases_generated: usize,
    /// Cases that ran before the budgets stopped exploration.
    pub cases_run: usize,
    /// Tests planned: the mutated cases after deduplication (each test
    /// keeps a few equivalent cases to fall back on).
    pub cases_planned: usize,
    /// Planned tests whose case reached its focus the way calibration did:
    /// the only ones that tested anything.
    pub cases_exercised: usize,
    /// Planned tests not exercised, by reason: `prefix_diverged` (no
    /// equivalent case reached its focus as calibrated), `budget`,
    /// `already_found` (its family had found a bug on the same focus).
    pub cases_skipped: BTreeMap<String, usize>,
    /// Which budget stopped exploration early, if one did.
    pub stopped_by: Option<String>,
    /// Every journey was calibrated and every planned test tried before a
    /// budget ran out: only then does "no findings" mean the plan was tested.
    pub complete: bool,
    /// Journeys replayed unmutated before the time budget ran out (a
    /// journey not calibrated has none of its cases planned).
    pub journeys_calibrated: usize,
    /// One entry per journey × mutation family that ran (JUnit testcases);
    /// `mutation` is `replay` for the unmutated journey.
    pub testcases: Vec<TestcaseStats>,
}

/// What one journey × mutation family did.
#[derive(Clone, Debug, PartialEq)]
pub struct TestcaseStats {
    /// The journey's name (its recorded session).
    pub journey: String,
    /// The family's name, or `replay` for the unmutated journey.
    pub mutation: String,
    /// Cases of this family run on this journey.
    pub sequences: u64,
    /// Seconds spent running and checking them (shrinking included).
    pub seconds: f64,
    /// Indexes into [`RunOutcome::findings`] of the findings it produced.
    pub findings: Vec<usize>,
    /// Tests of this family planned with this journey's case first.
    pub planned: usize,
    /// Of those, the ones exercised.
    pub exercised: usize,
    /// Why this journey × family tested nothing, when it did not.
    pub skipped: Option<String>,
    /// Its planned tests not exercised, by reason (`prefix_diverged`, ...).
    pub skipped_by: BTreeMap<String, usize>,
}

/// Where a run is, for a progress line.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Progress {
    /// A journey was replayed unmutated twice.
    Calibrated {
        /// Journeys calibrated so far.
        done: usize,
        /// Journeys in all.
        of: usize,
    },
    /// A mutated case was checked.
    Explored {
        /// Cases run so far.
        cases: usize,
        /// Cases generated.
        of: usize,
        /// Requests sent so far.
        requests: u64,
        /// Findings so far.
        findings: usize,
    },
    /// A failure is being shrunk.
    Shrinking {
        /// The oracle that found the failure.
        oracle: OracleKind,
        /// The mutation family that exposed it.
        mutation: String,
        /// The focus step's action.
        action: String,
    },
    /// Exploration ran a path.
    Searched {
        /// The deepest path so far (actions after its start).
        depth: usize,
        /// Paths run so far.
        paths: u64,
        /// Paths waiting to run.
        open: usize,
        /// States reached.
        states: usize,
        /// Transitions taken.
        transitions: usize,
        /// Requests sent so far.
        requests: u64,
        /// Findings so far.
        findings: usize,
    },
    /// A new finding, shrunk and confirmed.
    Found(Box<Finding>),
}

impl RunOutcome {
    /// What the reports need besides the findings, for a run against `target`.
    pub fn report_context(&self, target: &str) -> crate::report::ReportContext {
        crate::report::ReportContext {
            target: target.to_string(),
            sequences: self.stats.sequences,
            requests: self.stats.requests,
            rate_limited: self.stats.rate_limited,
            seconds: self.stats.seconds,
            testcases: self
                .stats
                .testcases
                .iter()
                .map(|t| crate::report::TestCase {
                    journey: t.journey.clone(),
                    mutation: t.mutation.clone(),
                    findings: t.findings.clone(),
                    seconds: t.seconds,
                    skipped: t.skipped.clone(),
                })
                .collect(),
            reproducer_files: Vec::new(),
            cases: crate::report::CaseCounts {
                planned: self.stats.cases_planned,
                exercised: self.stats.cases_exercised,
                skipped: self.stats.cases_skipped.clone(),
            },
            incomplete: self.incomplete(),
            exploration: self.exploration.clone(),
        }
    }

    /// Why the run tested less than it planned, for a person; `None` when
    /// it tested it all.
    pub fn incomplete(&self) -> Option<String> {
        let budget = self.stats.stopped_by.as_deref().filter(|_| !self.stats.complete)?;
        let mut why = format!("the `{budget}` budget ran out");
        let (calibrated, journeys) = (self.stats.journeys_calibrated, self.stats.journeys);
        if calibrated < journeys {
            why.push_str(&format!(
                "; {calibrated} of {journeys} journeys calibrated (the others' cases were never planned)"
            ));
        }
        let not_run = self.stats.cases_skipped.get("budget").copied().unwrap_or(0);
        if not_run > 0 {
            let tests = if not_run == 1 { "test" } else { "tests" };
            why.push_str(&format!("; {not_run} planned {tests} not run"));
        }
        Some(why)
    }
}

/// Reads the model and the store named by `config`, then [`replay`]s.
pub async fn run(
    config: &Config,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunOutcome, Error> {
    let (model, recorded) = model_and_recording(config)?;
    replay(&model, &recorded, config, progress).await
}

/// The model and the recorded exchanges `config` names.
fn model_and_recording(config: &Config) -> Result<(Model, Recorded), Error> {
    config.target_url()?;
    let text = std::fs::read_to_string(&config.model)
        .map_err(|e| Error::Model { path: config.model.clone(), source: e.into() })?;
    let model = Model::from_json(&text)
        .map_err(|e| Error::Model { path: config.model.clone(), source: e.into() })?;
    let recorded = Recorded::open(&config.store, &model)?;
    Ok((model, recorded))
}

/// What the tasks of a run share: the findings so far and the counts.
#[derive(Default)]
struct Shared {
    findings: Vec<Finding>,
    buckets: HashSet<(OracleKind, String, String)>,
    /// Minimal sequences already reported → index of their finding.
    sequences: HashMap<Vec<String>, usize>,
    /// (family, focus label) pairs that already gave a finding.
    covered: HashSet<(String, String)>,
    testcases: BTreeMap<(usize, String), TestcaseStats>,
    runs: u64,
    cases_run: usize,
    exercised: usize,
    skipped: BTreeMap<String, usize>,
    stopped_by: Option<String>,
    error: Option<Error>,
}

/// Reads the model and the store named by `config`, then [`explore`]s.
pub async fn run_explore(
    config: &Config,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunOutcome, Error> {
    let (model, recorded) = model_and_recording(config)?;
    explore(&model, &recorded, config, progress).await
}

/// Replays the model's journeys, mutated, against `config`'s target; then
/// explores when `config.explore.enabled`.
pub async fn replay(
    model: &Model,
    recorded: &Recorded,
    config: &Config,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunOutcome, Error> {
    let phases = Phases { mutate: true, explore: config.explore.enabled };
    replay_phases(model, recorded, config, phases, progress).await
}

/// Explores the learned state graph from the calibrated journeys (no
/// mutated recorded journeys: the families test the states it reaches).
pub async fn explore(
    model: &Model,
    recorded: &Recorded,
    config: &Config,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunOutcome, Error> {
    let phases = Phases { mutate: false, explore: true };
    replay_phases(model, recorded, config, phases, progress).await
}

/// Which phases of a run run, after calibration.
#[derive(Clone, Copy, Debug)]
struct Phases {
    /// The families' cases on the recorded journeys.
    mutate: bool,
    /// The state-graph search.
    explore: bool,
}

async fn replay_phases(
    model: &Model,
    recorded: &Recorded,
    config: &Config,
    phases: Phases,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunOutcome, Error> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(config.budget.seconds);
    let url = config.target_url()?.to_string();
    let mut plan = Plan::new(model, recorded, config)?;
    run_producers_first(model, &mut plan);
    let plan = plan;
    if plan.journeys.iter().all(|j| j.sequence.steps.is_empty()) {
        return Err(Error::Setup(
            "the model has no journeys whose recorded exchanges are at hand: record traffic and learn again".into(),
        ));
    }
    let client = Client::new(&url, config.target.timeout, config.target.trust())?;
    let runner =
        Runner { plan: &plan, client: &client, reset: config.reset.as_ref(), dir: &config.dir };
    let per_sequence = config.reset.as_ref().is_some_and(|r| r.scope == ResetScope::Sequence);
    if config.reset.as_ref().is_some_and(|r| r.scope == ResetScope::Run) {
        runner.reset().await?;
    }
    // A global reset serialises sequences; otherwise each creates its own resources.
    let parallel = if per_sequence { 1 } else { config.target.parallel.max(1) };

    let calibration = Calibration { runner: &runner, config, per_sequence, parallel, deadline };
    let (calibrated, noise) = calibration.all(&plan, &progress).await?;
    let uncalibrated = calibrated.iter().filter(|b| b.is_none()).count();
    let mut divergence = Divergence::default();
    for (journey, baseline) in plan.journeys.iter().zip(&calibrated) {
        if let Some(b) = baseline {
            divergence.add(&plan, journey, &b.trace);
        }
    }
    divergence.verdict(&url)?;
    let oracles = Oracles {
        plan: &plan,
        runner: &runner,
        noise: &noise,
        invariants: &config.invariants,
        reset: per_sequence,
    };
    let stopped_by = (uncalibrated > 0).then(|| "seconds".to_string());
    let explorer = Explorer {
        oracles: &oracles,
        shared: Mutex::new(Shared {
            runs: 2 * plan.journeys.len() as u64,
            stopped_by,
            ..Shared::default()
        }),
        progress: &progress,
        config,
        url: &url,
        calibrated: &calibrated,
        deadline,
        secrets: config.secrets(),
    };
    explorer.check_plain_journeys().await?;
    let all = if phases.mutate {
        cases(&plan, &calibrated, &config.mutations.enabled, config.mutations.concurrency)
    } else {
        Vec::new()
    };
    let total = all.len();
    explorer.explore(all, parallel, deadline).await;
    let exploration = if phases.explore && explorer.lock().error.is_none() {
        let whole_run = !phases.mutate;
        Some(explorer.search(&config.explore, &config.mutations.enabled, whole_run).await)
    } else {
        None
    };

    let mut s = explorer.shared.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(e) = s.error.take() {
        return Err(e);
    }
    let families: &[Mutation] = if phases.mutate { &config.mutations.enabled } else { &[] };
    let testcases = every_testcase(&mut s, &plan, &calibrated, families, phases.explore);
    Ok(RunOutcome {
        findings: s.findings,
        stats: RunStats {
            sequences: s.runs,
            requests: client.sent(),
            rate_limited: client.rate_limited(),
            seconds: started.elapsed().as_secs_f64(),
            journeys: plan.journeys.len(),
            cases_generated: total,
            cases_run: s.cases_run,
            cases_planned: total,
            cases_exercised: s.exercised,
            cases_skipped: s.skipped,
            complete: s.stopped_by.is_none(),
            stopped_by: s.stopped_by,
            journeys_calibrated: plan.journeys.len() - uncalibrated,
            testcases,
        },
        exploration,
    })
}

/// Calibrating every journey before any mutation.
struct Calibration<'a> {
    runner: &'a Runner<'a>,
    config: &'a Config,
    per_sequence: bool,
    parallel: usize,
    deadline: Instant,
}

impl Calibration<'_> {
    /// Each journey replayed twice (`parallel` at a time): its baseline, and
    /// the noise of all of them with the model's volatile values. A journey
    /// whose calibration the time budget cut has none (`None`).
    async fn all(
        &self,
        plan: &Plan,
        progress: &(impl Fn(Progress) + Send + Sync),
    ) -> Result<(Vec<Option<Baseline>>, Noise), Error> {
        let of = plan.journeys.len();
        let done = AtomicUsize::new(0);
        let invariants = &self.config.invariants;
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let baselines: Vec<Option<Result<Baseline, Error>>> = stream::iter(plan.journeys.iter())
            .map(|j| {
                let done = &done;
                async move {
                    let calibrating =
                        calibrate(self.runner, plan, j, invariants, self.per_sequence);
                    let b = tokio::time::timeout_at(deadline, calibrating).await.ok();
                    let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress::Calibrated { done, of });
                    b
                }
            })
            .buffered(self.parallel)
            .collect()
            .await;
        let mut noise = volatile_noise(plan);
        let mut calibrated = Vec::with_capacity(baselines.len());
        for b in baselines {
            let b = b.transpose()?;
            if let Some(b) = &b {
                noise.merge(b.noise.clone());
            }
            calibrated.push(b);
        }
        Ok((calibrated, noise))
    }
}

/// Running and checking the cases, shrinking and keeping what they find.
struct Explorer<'a, P> {
    oracles: &'a Oracles<'a>,
    shared: Mutex<Shared>,
    progress: &'a P,
    config: &'a Config,
    url: &'a str,
    calibrated: &'a [Option<Baseline>],
    /// When the time budget runs out.
    deadline: Instant,
    /// The users' secrets, which no finding may hold.
    secrets: Secrets,
}

impl<P: Fn(Progress) + Send + Sync> Explorer<'_, P> {
    /// The unmutated journeys: server errors and invariants they already break.
    async fn check_plain_journeys(&self) -> Result<(), Error> {
        let plan = self.oracles.plan;
        for (j, b) in self.calibrated.iter().enumerate() {
            let Some(b) = b else { continue };
            let seq = &plan.journeys[j].sequence;
            entry_in(&mut self.lock(), j, plan, "replay").sequences += 2;
            if let Some(v) = self.oracles.check_plain(seq, &b.trace) {
                self.found(None, seq, v, b.trace.clone(), &HashSet::new()).await?;
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A failure: shrink it unless its bucket is known, and keep it as a
    /// finding unless its minimal sequence is already one.
    async fn found(
        &self,
        family: Option<Mutation>,
        seq: &Sequence,
        verdict: Verdict,
        trace: Trace,
        broken: &HashSet<String>,
    ) -> Result<(), Error> {
        let mutation = family.map_or("replay", Mutation::name);
        self.found_as(mutation, family, seq, verdict, trace, broken).await
    }

    /// [`Explorer::found`], the finding named `mutation` (`explore`), its
    /// check and shrinking `family`'s.
    async fn found_as(
        &self,
        mutation: &str,
        family: Option<Mutation>,
        seq: &Sequence,
        verdict: Verdict,
        trace: Trace,
        broken: &HashSet<String>,
    ) -> Result<(), Error> {
        let mutation = mutation.to_string();
        let mut label = bucket_label(family, seq, verdict.step);
        if mutation == search::EXPLORE && verdict.oracle == OracleKind::UnexpectedAccept {
            // The search tries an action in every state it reaches: each
            // state it was wrongly accepted in is a bug of its own (a
            // pickup of a cancelled hold, of a collected one). When the
            // step names its instance only in its body, the family that
            // sent it tells them apart instead.
            let state = state_before(self.oracles.plan, &trace, verdict.step);
            if let Some(detail) =
                state.map(|s| format!("in `{s}`")).or_else(|| family.map(|f| format!("by {f}")))
            {
                label = format!("{label} {detail}");
            }
        }
        if !self.lock().buckets.insert((verdict.oracle, label.clone(), mutation.clone())) {
            tracing::debug!(oracle = %verdict.oracle, %label, %mutation, "a finding of a bucket already found");
            return Ok(());
        }
        (self.progress)(Progress::Shrinking {
            oracle: verdict.oracle,
            mutation: mutation.clone(),
            action: label.clone(),
        });
        let repeat = self.config.mutations.repeat;
        let limits = (SHRINK_RUNS, self.deadline);
        let shrunk =
            shrink(self.oracles, family, seq, verdict, trace, broken, repeat, limits).await?;
        let Some(Shrunk { seq, verdict, trace, reproduced, runs }) = shrunk else { return Ok(()) };
        let plan = self.oracles.plan;
        // Secrets become their variables everywhere; the reproducer logs in
        // for itself, so reports show live credentials as placeholders.
        let mut requests: Vec<SentRequest> =
            trace.steps.iter().flat_map(|e| e.sent.iter().cloned()).collect();
        requests.iter_mut().for_each(|r| self.secrets.hide_in(r));
        let summary = self.secrets.hide(&verdict.summary);
        let mut check = verdict.check.clone();
        if let Some(read) = check.as_mut().and_then(Check::reads_mut) {
            self.secrets.hide_in(read);
        }
        let step_ends = trace
            .steps
            .iter()
            .scan(0, |sent, e| {
                *sent += e.sent.len();
                Some(*sent)
            })
            .collect();
        let confirm = Confirm {
            reset: self.config.reset.as_ref().map(|r| r.how.clone()),
            qa_dir: self.config.dir.clone(),
            oracle: Some(verdict.oracle),
            summary: summary.clone(),
            check,
            step_ends,
            tls: ScriptTls::for_target(&self.config.target),
        };
        let reproducer = confirming_script(&requests, self.url, &confirm);
        requests.iter_mut().for_each(without_live_credentials);
        let finding = Finding {
            oracle: verdict.oracle,
            mutation: mutation.clone(),
            actions: seq.labels(),
            confidence: verdict.confidence,
            summary,
            evidence: verdict.evidence.iter().map(|e| self.secrets.hide(e)).collect(),
            journey: plan.journeys[seq.journey].name.clone(),
            reproducer,
            requests,
            reproduced,
        };
        let mut s = self.lock();
        s.runs += runs;
        if let Some(f) = family {
            s.covered.insert((f.name().to_string(), label));
        }
        // The same minimal sequence is the same bug, whichever family found it:
        // keep the most specific oracle's finding.
        if let Some(&known) = s.sequences.get(&finding.actions) {
            if rank(finding.oracle) < rank(s.findings[known].oracle) {
                s.findings[known] = finding.clone();
                entry_in(&mut s, seq.journey, plan, &mutation).findings.push(known);
            }
            return Ok(());
        }
        let index = s.findings.len();
        s.sequences.insert(finding.actions.clone(), index);
        entry_in(&mut s, seq.journey, plan, &mutation).findings.push(index);
        s.findings.push(finding.clone());
        drop(s);
        (self.progress)(Progress::Found(Box::new(finding)));
        Ok(())
    }
}

/// One testcase per journey × (the unmutated replay and every enabled
/// family), in plan order, whatever was found: a dashboard sees the same
/// set every run. Those that tested nothing say why.
fn every_testcase(
    s: &mut Shared,
    plan: &Plan,
    calibrated: &[Option<Baseline>],
    enabled: &[Mutation],
    explored: bool,
) -> Vec<TestcaseStats> {
    let mutations: Vec<&str> = std::iter::once("replay")
        .chain(enabled.iter().map(|m| m.name()))
        .chain(explored.then_some(search::EXPLORE))
        .collect();
    let mut out = Vec::with_capacity(plan.journeys.len() * mutations.len());
    for j in 0..plan.journeys.len() {
        let was_calibrated = calibrated.get(j).is_some_and(Option::is_some);
        for mutation in &mutations {
            let mut t = entry_in(s, j, plan, mutation).clone();
            if t.findings.is_empty() {
                t.skipped = skip_reason(&t, was_calibrated, s.stopped_by.as_deref());
            }
            out.push(t);
        }
    }
    out
}

/// Why a testcase with no finding tested nothing, or `None` when it ran.
fn skip_reason(t: &TestcaseStats, calibrated: bool, stopped_by: Option<&str>) -> Option<String> {
    if !calibrated {
        let budget = stopped_by.unwrap_or("seconds");
        return Some(format!(
            "not run: the `{budget}` budget ran out before this journey was calibrated"
        ));
    }
    if t.mutation == "replay" || t.exercised > 0 {
        return None;
    }
    if t.mutation == search::EXPLORE {
        return (t.sequences == 0).then(|| {
            "not explored: no path starts in this journey (its creates and instances are another journey's, or the budget ran out first)".to_string()
        });
    }
    if t.planned == 0 {
        return Some(format!(
            "no test of its own: `{}` fits no step of this journey, or its cases are another journey's tests",
            t.mutation
        ));
    }
    let mut reasons: Vec<String> =
        t.skipped_by.iter().map(|(why, n)| format!("{n} {}", why.replace('_', " "))).collect();
    reasons.sort();
    Some(format!("not exercised: {}", reasons.join(", ")))
}

/// The testcase (JUnit) entry of `journey` × `mutation`, made on first use.
fn entry_in<'a>(
    s: &'a mut Shared,
    journey: usize,
    plan: &Plan,
    mutation: &str,
) -> &'a mut TestcaseStats {
    s.testcases.entry((journey, mutation.to_string())).or_insert_with(|| TestcaseStats {
        journey: plan.journeys[journey].name.clone(),
        mutation: mutation.to_string(),
        sequences: 0,
        seconds: 0.0,
        findings: Vec::new(),
        planned: 0,
        exercised: 0,
        skipped: None,
        skipped_by: BTreeMap::new(),
    })
}

/// What makes two failures the same bug besides their oracle and family:
/// the focus step's actions; after a logout, any request with the dead token
/// is the one bug "the logout did not end the session".
fn bucket_label(
    family: Option<Mutation>,
    seq: &crate::run::sequence::Sequence,
    step: usize,
) -> String {
    if family == Some(Mutation::AfterLogout) {
        if let Some(logout) = seq.steps[..step].iter().rev().find(|s| s.call.logout) {
            return format!("any request after {}", logout.call.action());
        }
    }
    seq.steps[step].label()
}

/// The model's volatile response values, as noise of the probe reads.
fn volatile_noise(plan: &Plan) -> Noise {
    let mut noise = Noise::default();
    for (action, pointer) in &plan.volatile {
        noise.response.insert((action.clone(), normalize(pointer)));
        for (r, info) in plan.resources.iter().enumerate() {
            if info.read.as_ref().is_some_and(|t| &*t.action == action) {
                noise.resource.insert((r, normalize(pointer)));
            }
        }
    }
    noise
}
