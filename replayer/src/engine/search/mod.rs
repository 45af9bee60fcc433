//! Exploration: a systematic search of the learned state graph from the
//! states the recording reached.
//!
//! A path starts as a recorded prefix cut down to what one of its writes
//! needs (a create, the first of each action on an instance, a write that
//! names none), and grows one model action at a time ([`moves`]), each
//! bound to the path's live answers: an action on an instance its start
//! touched or it made since, a child's create under it, a write that names
//! no instance, a logout. Every path is one sequence run from the start
//! (after the reset, when there is one), its last step judged by the oracle
//! that fits it: a step after its user's logout by the stale-token oracle,
//! on a deleted instance by the after-delete oracle, any other by the
//! unexpected-accept oracle; server errors and invariants always.
//!
//! Pruning: an action the recording never saw accepted in the instance's
//! state is not tried unless `try_disabled` (and then after the others); a
//! path the target refused, or whose state (the fingerprint of its
//! read-backs, volatile values left out) another path reached, is not
//! extended; an oracle's finding ends its path; depth and budgets bound it.
//! At each new state the mutation families run their tests on the path
//! (a test another path already ran, by its key, is not run again, unless
//! a lesser role's action found nothing there: then it is tried from up to
//! [`TRIES`] paths), so a state no recording reached is tested like a
//! recorded one.
//!
//! Branching: with `[explore] checkpoint` and `rollback` hooks, or a
//! `database` it saves and restores itself ([`Checkpoints`]), the state a
//! new path reached is saved right after it ran (before the families' tests
//! reset the target), and each of its children rolls back to it and sends
//! only its own move, bound to the saved run's answers; without
//! them, each child is a reset and a replay of the whole path.

mod coverage;
mod fingerprint;
mod frontier;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

pub use crate::report::exploration::{Exploration, Transition};

use super::{entry_in, Explorer, Progress};
use crate::error::Error;
use crate::mutate::generation::path_cases;
use crate::mutate::moves::{moves, Enabled, Move};
use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::{inst_key, needed, relevant};
use crate::oracle::Checked;
use crate::run::calibrate::Baseline;
use crate::run::checkpoint::Checkpoints;
use crate::run::sequence::{Role, SeqStep, Sequence};
use crate::setup::config::Explore;
use coverage::Coverage;
use fingerprint::fingerprint;
use frontier::{Frontier, Open};

/// How a finding of exploration is named, whichever oracle made it.
pub(crate) const EXPLORE: &str = "explore";

/// `idem_salt` of a move: its position added, so no two moves of a path
/// share an `Idempotency-Key` (the families use salts below it).
const MOVE_SALT: u32 = 1_000;

/// Paths a family test is tried from before it is given up, when it does
/// not reach its focus as the path's own run did.
const TRIES: u8 = 3;

/// A path that ran and was accepted: its state is tested, and extended
/// when no other path reached it.
struct Node {
    /// It reached a state no other path had: its next actions are tried.
    extend: bool,
    /// The checkpoint saved after its path, its children's start.
    saved: Option<Arc<Saved>>,
    path: Sequence,
    /// The root's last step: moves act on what it and later steps touched.
    from: usize,
    /// Steps before this one are other journeys'.
    world: u32,
    baseline: Baseline,
    depth: usize,
    /// It reached a state or took a transition the recording never showed.
    new: bool,
}

/// A state saved by the checkpoint hook after a path ran.
#[derive(Debug)]
pub(super) struct Saved {
    /// The checkpoint's name (`{name}` in the hooks).
    pub name: String,
    /// The run of the path, whose answers the next steps are bound to.
    pub trace: crate::run::execute::Trace,
}

/// One exploration in progress.
struct Search<'s, 'a, P> {
    explorer: &'s Explorer<'a, P>,
    /// Exploration is all the run does: a budget that stops it leaves the
    /// run incomplete.
    whole_run: bool,
    options: &'s Explore,
    /// The families whose tests run at each new state.
    families: &'s [Mutation],
    /// When exploration's own time runs out (never after the run's).
    deadline: Instant,
    /// The request count past which it stops.
    request_limit: u64,
    frontier: Frontier,
    /// Fingerprints of the states reached.
    states: HashSet<u64>,
    /// The family tests tried, by key: how many times, and whether one
    /// reached its focus as the path's own run did (then it is done).
    tests: HashMap<String, (u8, bool)>,
    /// Invariants each root journey's plain run already breaks.
    broken: HashMap<usize, HashSet<String>>,
    coverage: Coverage,
    /// How states are saved and put back; `None`: reset and replay.
    checkpoints: Option<Checkpoints>,
    out: Exploration,
}

impl<P: Fn(Progress) + Send + Sync> Explorer<'_, P> {
    /// Explores from the calibrated journeys until the frontier is empty or
    /// a budget runs out; what it finds joins the run's findings. When it
    /// is the `whole_run` (`venomqa explore`), a budget that stops it makes
    /// the run incomplete; after a replay that tested its plan, it does not.
    pub(super) async fn search(
        &self,
        options: &Explore,
        families: &[Mutation],
        whole_run: bool,
    ) -> Exploration {
        let started = Instant::now();
        let deadline = match options.seconds {
            Some(s) => self.deadline.min(started + std::time::Duration::from_secs(s)),
            None => self.deadline,
        };
        let sent = self.oracles.runner.client.sent();
        let request_limit = options.requests.map_or(u64::MAX, |r| sent.saturating_add(r));
        let checkpoints = match &options.branching {
            None => None,
            Some(branching) => match Checkpoints::open(branching).await {
                Ok(c) => Some(c),
                Err(e) => {
                    self.lock().error.get_or_insert(e);
                    return Exploration::default();
                }
            },
        };
        let mut search = Search {
            explorer: self,
            whole_run,
            options,
            families,
            deadline,
            request_limit,
            frontier: Frontier::new(options.strategy, options.seed),
            states: HashSet::new(),
            tests: HashMap::new(),
            broken: HashMap::new(),
            coverage: Coverage::new(&self.oracles.plan.model),
            checkpoints,
            out: Exploration {
                strategy: options.strategy.name().to_string(),
                max_depth: options.max_depth,
                ..Exploration::default()
            },
        };
        let roots = search.roots();
        search.out.roots = roots.len();
        search.frontier.extend(roots);
        search.run().await;
        if let Some(checkpoints) = search.checkpoints.take() {
            checkpoints.close().await;
        }
        let mut out = search.out;
        search.coverage.fill(&mut out, &write_actions(self.oracles.plan));
        out.requests = self.oracles.runner.client.sent() - sent;
        out
    }
}

impl<P: Fn(Progress) + Send + Sync> Search<'_, '_, P> {
    /// The paths exploration starts from: in each calibrated journey, the
    /// recorded prefix up to each of its own writes that calibration saw
    /// accepted (a create, the first of each action on an instance, a write
    /// that names none), cut to what that write needs: an item added to a
    /// list starts where the books it names exist. Two roots whose own steps
    /// are the same actions are one, whoever sent them: the other journeys'
    /// steps in front (the world they found) differ more than they matter.
    fn roots(&mut self) -> Vec<Open> {
        let plan = self.explorer.oracles.plan;
        let mut seen: HashSet<Vec<String>> = HashSet::new();
        let mut actions: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        for (j, journey) in plan.journeys.iter().enumerate() {
            let Some(baseline) = self.explorer.calibrated.get(j).and_then(Option::as_ref) else {
                continue;
            };
            self.broken.insert(j, baseline.broken.clone());
            let steps =
                &journey.sequence.steps[..baseline.usable().min(journey.sequence.steps.len())];
            let mut instances = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let call = &step.call;
                if step.origin < journey.world || call.login || call.logout || call.is_read() {
                    continue;
                }
                match inst_key(plan, step).map(|x| (x, call.action().to_string())) {
                    Some(first) if !instances.contains(&first) => instances.push(first),
                    Some(_) => continue,
                    // A write that names no instance: once per action.
                    None if !actions.insert(call.action().to_string()) => continue,
                    None => {}
                }
                let accepted = baseline.trace.steps.get(i).and_then(|e| e.reply());
                if !accepted.is_some_and(|r| r.ok()) {
                    continue;
                }
                let mut prefix = Sequence { journey: j, steps: steps[..=i].to_vec() };
                prefix.steps[i].role = Role::Focus;
                let Some((full, world)) = cut(&prefix, &relevant(plan, &prefix), journey.world)
                else {
                    continue;
                };
                let shape: Vec<String> =
                    full.steps.iter().skip(world as usize).map(SeqStep::label).collect();
                if !seen.insert(shape) {
                    continue;
                }
                // The world's steps the write does not depend on are left
                // out, unless the write is then refused.
                let tight = cut(&prefix, &needed(plan, &prefix), journey.world)
                    .filter(|(t, _)| t.steps.len() < full.steps.len());
                tracing::debug!(journey = %journey.name, steps = ?full.labels(), tight = ?tight.as_ref().map(|t| t.0.labels()), "exploration root");
                let open = |(path, world): (Sequence, u32), fallback| Open {
                    resume: None,
                    from: path.steps.len().saturating_sub(1),
                    path,
                    world,
                    fallback,
                    depth: 0,
                    novelty: 0,
                    judge: None,
                    disabled: false,
                };
                out.push(match tight {
                    Some(tight) => open(tight, Some((full, world))),
                    None => open((full, world), None),
                });
            }
        }
        out
    }

    /// Runs open paths until none is left or a budget stops it.
    async fn run(&mut self) {
        while let Some(open) = self.frontier.next() {
            if let Some(why) = self.spent() {
                let left = 1 + self.frontier.len() as u64;
                *self.out.pruned.entry("budget".to_string()).or_default() += left;
                self.out.stopped_by = Some(why.clone());
                // Exploration's own limits bound the search as its depth
                // does. The run's make it incomplete only when exploration
                // is the whole run: after a replay, the plan was tested.
                if self.whole_run && !why.starts_with("explore.") {
                    self.explorer.lock().stopped_by.get_or_insert(why);
                }
                return;
            }
            let depth = open.depth;
            let node = match self.run_path(open).await {
                Ok(node) => node,
                Err(e) => {
                    self.explorer.lock().error.get_or_insert(e);
                    return;
                }
            };
            self.out.depth_reached = self.out.depth_reached.max(depth);
            let Some(node) = node else { continue };
            if let Err(e) = self.probe(&node).await {
                self.explorer.lock().error.get_or_insert(e);
                return;
            }
            if !node.extend {
                continue;
            }
            if node.depth < self.options.max_depth {
                self.expand(&node);
            } else {
                *self.out.pruned.entry("depth".to_string()).or_default() += 1;
            }
        }
    }

    /// The budget that has run out, if one has: the run's, or exploration's own.
    fn spent(&self) -> Option<String> {
        let explorer = self.explorer;
        let s = explorer.lock();
        if s.error.is_some() {
            return Some("error".to_string());
        }
        if let Some(why) = &s.stopped_by {
            return Some(why.clone());
        }
        let sent = explorer.oracles.runner.client.sent();
        let budget = explorer.config.budget;
        let now = Instant::now();
        let why = if s.runs >= budget.sequences {
            "sequences"
        } else if sent >= budget.requests {
            "requests"
        } else if now >= explorer.deadline {
            "seconds"
        } else if sent >= self.request_limit {
            "explore.requests"
        } else if now >= self.deadline {
            "explore.seconds"
        } else {
            return None;
        };
        Some(why.to_string())
    }

    /// Runs one path and judges its last step. The path becomes a node
    /// when its last step was accepted (extended only when it reached a
    /// state no path had).
    async fn run_path(&mut self, open: Open) -> Result<Option<Node>, Error> {
        let (mut seq, world) = (open.path, open.world);
        let last = seq.steps.len().saturating_sub(1);
        if open.depth > 0 {
            seq.steps[last].role = Role::Focus;
        }
        let broken = self.broken.get(&seq.journey).cloned().unwrap_or_default();
        let oracles = self.explorer.oracles;
        let checking = async {
            match (&open.resume, &mut self.checkpoints) {
                (Some(saved), Some(checkpoints)) => {
                    checkpoints.restore(oracles.runner, &saved.name).await?;
                    self.out.rollbacks += 1;
                    let prefix = (&saved.trace, saved.trace.steps.len());
                    oracles.check_resumed(open.judge, &seq, &broken, prefix).await
                }
                _ => oracles.check(open.judge, &seq, &broken).await,
            }
        };
        let Ok(checked) = tokio::time::timeout_at(self.deadline.into(), checking).await else {
            *self.out.pruned.entry("budget".to_string()).or_default() += 1;
            return Ok(None);
        };
        let Checked { verdict, trace, runs, .. } = checked?;
        self.out.paths += 1;
        self.count(&seq, runs);
        let new = trace.complete() && self.cover(&seq, &trace);
        if let Some(v) = verdict {
            *self.out.pruned.entry("finding".to_string()).or_default() += 1;
            self.explorer.found_as(EXPLORE, open.judge, &seq, v, trace, &broken).await?;
            return Ok(None);
        }
        let accepted = trace.steps.get(last).and_then(|e| e.reply()).is_some_and(|r| r.ok());
        tracing::debug!(
            depth = open.depth,
            steps = seq.steps.len(),
            last = %seq.steps.get(last).map_or_else(String::new, SeqStep::label),
            status = trace.steps.get(last).and_then(|e| e.reply()).map_or(0, |r| r.status),
            aborted = ?trace.aborted,
            "exploration path"
        );
        if !trace.complete() || !accepted {
            if let Some((path, world)) = open.fallback {
                let from = path.steps.len().saturating_sub(1);
                let longer = Open { path, world, from, fallback: None, ..open };
                return Box::pin(self.run_path(longer)).await;
            }
            *self.out.pruned.entry("refused".to_string()).or_default() += 1;
            return Ok(None);
        }
        // A state another path reached is not extended, nor tested again;
        // but a root is a recorded write, and the families test it even
        // when it shows no state of its own (a password change: yet
        // another user may send it).
        let extend = self.states.insert(fingerprint(&seq, &trace, self.explorer.oracles.noise));
        if !extend {
            *self.out.pruned.entry("same_state".to_string()).or_default() += 1;
            if open.depth > 0 {
                return Ok(None);
            }
        }
        seq.steps[last].role = Role::Plain;
        // Saved before anything else runs (the families' tests reset the
        // target), when a next action will branch from it.
        let saved = match &mut self.checkpoints {
            Some(checkpoints) if extend && open.depth < self.options.max_depth => {
                let name = format!("venomqa-{}", self.out.checkpoints + 1);
                checkpoints.save(self.explorer.oracles.runner, &name).await?;
                self.out.checkpoints += 1;
                Some(Arc::new(Saved { name, trace: trace.clone() }))
            }
            _ => None,
        };
        let steps = trace.steps.len();
        let baseline =
            Baseline { trace, flaky: vec![false; steps], broken, noise: Default::default() };
        let from = open.from;
        Ok(Some(Node { path: seq, from, world, baseline, depth: open.depth, new, saved, extend }))
    }

    /// Counts a sequence run and says where the search is.
    fn count(&mut self, seq: &Sequence, runs: u64) {
        let plan = self.explorer.oracles.plan;
        let findings = {
            let mut s = self.explorer.lock();
            s.runs += runs;
            entry_in(&mut s, seq.journey, plan, EXPLORE).sequences += runs;
            s.findings.len()
        };
        let (states, transitions) = self.coverage.counts();
        (self.explorer.progress)(Progress::Searched {
            depth: self.out.depth_reached,
            paths: self.out.paths,
            open: self.frontier.len(),
            states,
            transitions,
            requests: self.explorer.oracles.runner.client.sent(),
            findings,
        });
    }

    /// Records the states `trace` showed and the transitions its steps
    /// made; whether its last step made one the recording never showed.
    fn cover(&mut self, seq: &Sequence, trace: &crate::run::execute::Trace) -> bool {
        let plan = self.explorer.oracles.plan;
        let mut new = false;
        for (i, e) in trace.steps.iter().enumerate() {
            if e.reply().is_some_and(|r| r.ok()) {
                self.coverage.accepted(seq.steps[i].call.action());
            }
        }
        for p in &trace.probes {
            let Some(inst) = trace.instances.get(p.instance) else { continue };
            let info = &plan.resources[inst.resource];
            if let Some(state) = p.snapshot.state(info) {
                self.coverage.state(&info.name, &state);
            }
        }
        let last = trace.steps.len().saturating_sub(1);
        for i in 0..trace.steps.len() {
            new |= self.cover_step(seq, trace, i) && i == last;
        }
        new
    }

    /// Records the transition step `i` made, when it was accepted, sent
    /// alone, and its instance was read back right before and after it;
    /// whether the recording never showed it.
    fn cover_step(&mut self, seq: &Sequence, trace: &crate::run::execute::Trace, i: usize) -> bool {
        let plan = self.explorer.oracles.plan;
        let e = &trace.steps[i];
        let Some(k) = e.instance.filter(|_| e.reply().is_some_and(|r| r.ok())) else {
            return false;
        };
        if seq.steps[i].is_concurrent() {
            return false;
        }
        // Read back after an earlier step, and only reads since: nothing
        // else moved it in between.
        let last_read =
            trace.probes.iter().filter(|p| p.instance == k && p.after < i).map(|p| p.after).max();
        let fresh = last_read.is_some_and(|a| seq.steps[a + 1..i].iter().all(|s| s.call.is_read()));
        let info = &plan.resources[trace.instances[k].resource];
        let from = trace.before(i, k).filter(|_| fresh).and_then(|s| s.state(info));
        let to = trace.after(i, k).and_then(|s| s.state(info));
        let (Some(from), Some(to)) = (from, to) else { return false };
        let action = seq.steps[i].call.action().to_string();
        self.coverage.transition(Transition { resource: info.name.clone(), from, action, to })
    }

    /// Runs the families' tests that the node's path brings that no other
    /// path brought (the tests of the state it reached).
    async fn probe(&mut self, node: &Node) -> Result<(), Error> {
        let plan = self.explorer.oracles.plan;
        let concurrency = self.explorer.config.mutations.concurrency;
        let path = (&node.path, node.world);
        let cases = path_cases(plan, path, &node.baseline, self.families, concurrency);
        for (key, case) in cases {
            // A test that did not reach its focus from one path may from
            // another, a few times.
            let tried = self.tests.entry(key.clone()).or_insert((0, false));
            if tried.1 || tried.0 >= TRIES {
                continue;
            }
            tried.0 += 1;
            if self.spent().is_some() {
                return Ok(());
            }
            let Some(f) = case.seq.focus() else { continue };
            let label = super::bucket_label(Some(case.family), &case.seq, f);
            if self.explorer.lock().covered.contains(&(case.family.name().to_string(), label)) {
                continue;
            }
            let mut tries = vec![&case.seq];
            if case.full.steps.len() != case.seq.steps.len() {
                tries.push(&case.full);
            }
            for seq in tries {
                let checking =
                    self.explorer.oracles.check(Some(case.family), seq, &node.baseline.broken);
                let Ok(checked) = tokio::time::timeout_at(self.deadline.into(), checking).await
                else {
                    return Ok(());
                };
                let checked = checked?;
                self.out.probes += 1;
                self.count(seq, checked.runs);
                if let Some(focus) = seq.focus().filter(|_| checked.trace.complete()) {
                    self.cover_step(seq, &checked.trace, focus);
                }
                let diverged = node.baseline.diverges(seq, &checked.trace);
                let focus_status = seq
                    .focus()
                    .and_then(|f| checked.trace.steps.get(f))
                    .and_then(|e| e.reply())
                    .map_or(0, |r| r.status);
                tracing::debug!(
                    family = %case.family,
                    steps = ?seq.labels(),
                    focus_status,
                    diverged = ?diverged,
                    verdict = ?checked.verdict.as_ref().map(|v| v.oracle),
                    "exploration probe"
                );
                if diverged.is_some() {
                    continue;
                }
                // Done, unless a role-only action sent by a lesser role found
                // nothing there (404, 410: a book this path had withdrawn):
                // that tested no role, and another path may have the
                // instance. (For the other families a 404 is an answer: the
                // other user's order is not found, the deleted one is gone.)
                let gone = matches!(focus_status, 404 | 410);
                let untested = gone && case.family == Mutation::AsLesserRole;
                if checked.verdict.is_some() || !untested {
                    if let Some(tried) = self.tests.get_mut(&key) {
                        tried.1 = true;
                    }
                }
                if let Some(v) = checked.verdict {
                    let broken = &node.baseline.broken;
                    self.explorer
                        .found_as(EXPLORE, Some(case.family), seq, v, checked.trace, broken)
                        .await?;
                }
                break;
            }
        }
        Ok(())
    }

    /// Opens the node's children: one per move, the disabled ones only
    /// when asked for.
    fn expand(&mut self, node: &Node) {
        let plan = self.explorer.oracles.plan;
        let mut children = Vec::new();
        for m in moves(plan, &node.path, &node.baseline, node.from) {
            let disabled = m.enabled == Enabled::Unseen;
            if disabled && !self.options.try_disabled {
                *self.out.pruned.entry("precondition".to_string()).or_default() += 1;
                continue;
            }
            let judge = judge_of(&node.path, &node.baseline, &m);
            let novelty = match &m {
                Move { enabled: Enabled::Unseen, .. } => 0,
                Move { on: Some((r, Some(state))), call, .. }
                    if !call.logout
                        && !self.coverage.known(&plan.resources[*r].name, state, call.action())
                        && !plan.resources[*r]
                            .accepted
                            .get(state)
                            .is_some_and(|a| a.contains(call.action())) =>
                {
                    0
                }
                _ if node.new => 1,
                _ => 2,
            };
            let mut path = node.path.clone();
            for mut call in m.reads.into_iter().chain(std::iter::once(m.call)) {
                let origin = u32::try_from(path.steps.len()).unwrap_or(u32::MAX);
                // Each move is a request of its own: a second pay on the
                // path carries a fresh `Idempotency-Key`, not the first's.
                call.idem_salt = MOVE_SALT + origin;
                path.steps.push(SeqStep::plain(origin, call));
            }
            children.push(Open {
                path,
                resume: node.saved.clone(),
                world: node.world,
                from: node.from,
                fallback: None,
                depth: node.depth + 1,
                novelty,
                judge,
                disabled,
            });
        }
        self.frontier.extend(children);
    }
}

/// The steps of `seq` that `keep` names, unfocused and numbered by
/// position, with how many of them are before origin `world`.
fn cut(seq: &Sequence, keep: &HashSet<usize>, world: u32) -> Option<(Sequence, u32)> {
    let steps: Vec<SeqStep> = seq
        .steps
        .iter()
        .enumerate()
        .filter(|(k, _)| keep.contains(k))
        .map(|(_, s)| SeqStep { role: Role::Plain, ..s.clone() })
        .collect();
    let in_world = steps.iter().filter(|s| s.origin < world).count();
    let cut = Sequence { journey: seq.journey, steps }.renumbered()?;
    Some((cut, u32::try_from(in_world).ok()?))
}

/// The family whose oracle judges move `m` at the end of `path`: after a
/// logout of its user, the stale-token oracle; on a deleted instance, the
/// after-delete oracle; a create, none (server errors and invariants);
/// any other write, the unexpected-accept oracle (a reordering family's).
fn judge_of(path: &Sequence, baseline: &Baseline, m: &Move) -> Option<Mutation> {
    let user = m.call.user;
    let logged_out = path.steps.iter().enumerate().rev().find_map(|(i, s)| {
        if s.call.user != user {
            return None;
        }
        let ok = baseline.trace.steps.get(i).and_then(|e| e.reply()).is_some_and(|r| r.ok());
        if s.call.logout && ok {
            Some(true)
        } else if s.call.login {
            Some(false)
        } else {
            None
        }
    });
    if logged_out == Some(true) && !m.call.logout {
        return Some(Mutation::AfterLogout);
    }
    if m.on.as_ref().is_some_and(|(_, state)| state.as_deref() == Some("deleted")) {
        return Some(Mutation::AfterDelete);
    }
    if m.call.creates.is_some() || m.call.logout {
        return None;
    }
    Some(Mutation::Swap)
}

/// The model's actions that change something: a naive search's choices.
fn write_actions(plan: &crate::setup::plan::Plan) -> Vec<String> {
    let mut actions: Vec<String> = plan
        .catalog
        .iter()
        .filter(|(_, (t, _, _))| {
            t.method != reqwest::Method::GET && t.method != reqwest::Method::HEAD
        })
        .map(|(a, _)| a.clone())
        .filter(|a| plan.login.as_ref().is_none_or(|l| &*l.action != a))
        .collect();
    actions.sort();
    actions
}
