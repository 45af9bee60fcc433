//! The race oracle: a concurrent step (N copies of a request, or two
//! different requests at once) against the same step sent one after the
//! other in every order. A race is more requests accepted at once than any
//! sequential order accepts, leaving a state no sequential order leaves (for
//! creates: more instances) — or an invariant broken only when the requests
//! were sent at once.

use std::collections::HashSet;
use std::time::Duration;

use crate::error::Error;
use crate::oracle::diff::changes_across;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{compact, Oracles, Verdict};
use crate::run::execute::{Trace, SETTLE};
use crate::run::sequence::{Call, SeqStep, Sequence};

/// Runs of a concurrent step before concluding it does not race: both
/// launch orders, at once and staggered.
const RACE_ATTEMPTS: usize = 4;

/// How much later each further request of a staggered concurrent step leaves.
const RACE_STAGGER: Duration = Duration::from_millis(2);

/// What the sequential orders of a concurrent step did.
#[derive(Default)]
struct InOrder {
    /// The most requests any order accepted.
    most: usize,
    /// No order left the state the concurrent run left.
    states_differ: bool,
    /// Invariants some order broke.
    broken: HashSet<String>,
    /// Each order's statuses, for the evidence.
    statuses: Vec<String>,
}

impl Oracles<'_> {
    /// The race oracle over a few rounds: a race shows only when the
    /// requests interleave inside its window, so the concurrent step at `f`
    /// is sent again launching the other request first, and the later
    /// requests a moment after the first. `trace` is the first round's and
    /// ends as the last round's; returns the verdict, the runs it added,
    /// and whether the values could show no race: sent one after the
    /// other, every order accepted every request (a withdrawal of 300 from
    /// 1,250, twice), or none was ever accepted (more than the balance);
    /// another case of the test may tell more.
    pub(super) async fn race_rounds(
        &self,
        seq: &Sequence,
        trace: &mut Trace,
        f: usize,
    ) -> Result<(Option<Verdict>, u64, bool), Error> {
        let mut attempt = seq.clone();
        let mut in_order = None;
        let (mut runs, mut any_accepted) = (0, false);
        for round in 0..RACE_ATTEMPTS {
            if round > 0 {
                let step = &mut attempt.steps[f];
                if let Some(p) = step.partner.as_mut() {
                    std::mem::swap(&mut step.call, p);
                }
                step.stagger = if round % 3 == 0 { Duration::ZERO } else { RACE_STAGGER };
                *trace = self.runner.run(&attempt, self.reset, false).await?;
                runs += 1;
            }
            let at_once = trace.steps.get(f).map_or(&[][..], |e| &e.replies[..]);
            any_accepted |= at_once.iter().any(|r| r.ok());
            let (verdict, n) = self.race(&attempt, trace, f, &mut in_order).await?;
            runs += n;
            if verdict.is_some() {
                return Ok((verdict, runs, false));
            }
        }
        let uncontended = in_order.as_deref().is_some_and(|traces| all_accepted(traces, f));
        Ok((None, runs, uncontended || !any_accepted))
    }

    /// Concurrent copies (or two actions) accepted more often than any
    /// sequential order allows, leaving a state no sequential order leaves;
    /// or an invariant broken only under concurrency.
    async fn race(
        &self,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
        in_order: &mut Option<Vec<Trace>>,
    ) -> Result<(Option<Verdict>, u64), Error> {
        let st = &seq.steps[f];
        // A round re-run may stop before the focus (a step before it failed).
        let Some(ex) = trace.steps.get(f) else { return Ok((None, 0)) };
        let (Some(k), true) = (ex.instance, st.is_concurrent()) else { return Ok((None, 0)) };
        let accepted = ex.replies.iter().filter(|r| r.ok()).count();
        let broken_at_once: Vec<String> =
            self.violations(trace, &HashSet::new(), f).into_iter().map(|(_, n)| n).collect();
        if accepted < 2 && broken_at_once.is_empty() {
            return Ok((None, 0));
        }
        let mut runs = 0;
        if in_order.is_none() {
            let (traces, n) = self.in_order(seq, f).await?;
            runs += n;
            *in_order = Some(traces);
        }
        let Some(traces) = in_order.as_ref().filter(|t| !t.is_empty()) else {
            return Ok((None, runs));
        };
        let at_once = trace.after(f, k);
        let InOrder { most, states_differ, broken: broken_in_order, statuses } =
            self.compare_in_order(trace, k, f, traces);
        // Creates at once leave one instance per acceptance: more of them
        // than any order made is a state no order leaves.
        let states_differ = match (st.call.creates, &st.partner) {
            (Some(r), None) => self.created_apart(ex, r) >= accepted,
            _ => states_differ,
        };
        let at_once_statuses: Vec<String> =
            ex.replies.iter().map(|r| r.status.to_string()).collect();
        let label = st.label();
        if accepted > most && states_differ {
            let mut evidence = vec![
                format!("sent at once: {}", at_once_statuses.join(", ")),
                format!("one after the other: {}", statuses.join("; in the other order: ")),
            ];
            if let Some(a) = at_once.and_then(|s| s.json.as_ref()) {
                evidence.push(format!(
                    "the owner's read-back after the concurrent step: {}",
                    compact(a)
                ));
            }
            let summary = format!(
                "{label}: {accepted} accepted at once where one after the other allows {most}"
            );
            return Ok((Some(race_verdict(f, summary, evidence)), runs));
        }
        if accepted > most && st.partner.is_none() {
            let (verdict, n) = self.race_elsewhere(seq, f, most, &statuses).await?;
            runs += n;
            if verdict.is_some() {
                return Ok((verdict, runs));
            }
        }
        if let Some(name) = broken_at_once.iter().find(|n| !broken_in_order.contains(*n)) {
            let summary = format!("{label}: invariant \"{name}\" breaks only when sent at once");
            let evidence = vec![
                format!("sent at once: {}", at_once_statuses.join(", ")),
                format!("one after the other: {}", statuses.join("; in the other order: ")),
            ];
            return Ok((Some(race_verdict(f, summary, evidence)), runs));
        }
        Ok((None, runs))
    }

    /// Copies accepted at once more often than in order, leaving their own
    /// instance as one would (an invoice `paid` either way), may have left
    /// another as none would: a customer's balance debited twice for one
    /// payment. The step is sent at once again and in order, each run cut
    /// after it and every instance the sequence made before it read back
    /// at the end; one that reads otherwise after the concurrent run is
    /// the race's mark.
    async fn race_elsewhere(
        &self,
        seq: &Sequence,
        f: usize,
        most: usize,
        statuses: &[String],
    ) -> Result<(Option<Verdict>, u64), Error> {
        let st = &seq.steps[f];
        let cut = Sequence { journey: seq.journey, steps: seq.steps[..=f].to_vec() };
        let at_once = self.runner.run(&cut, self.reset, true).await?;
        let accepted =
            at_once.steps.get(f).map_or(0, |e| e.replies.iter().filter(|r| r.ok()).count());
        if accepted <= most {
            return Ok((None, 1));
        }
        let mut steps = seq.steps[..f].to_vec();
        steps.extend((0..st.copies).map(|_| SeqStep::plain(st.origin, st.call.clone())));
        let in_order = Sequence { journey: seq.journey, steps };
        let sequential = self.runner.run(&in_order, self.reset, true).await?;
        let focus = at_once.steps[f].instance;
        for (k, made) in at_once.instances.iter().enumerate() {
            // Made before the step, in both runs: the same instance by its making.
            let Some(at) = made.created_at.filter(|at| *at < f && Some(k) != focus) else {
                continue;
            };
            let Some(j) = sequential
                .instances
                .iter()
                .position(|i| i.created_at == Some(at) && i.resource == made.resource)
            else {
                continue;
            };
            let (Some(a), Some(b)) = (settled(&at_once, k), settled(&sequential, j)) else {
                continue;
            };
            let ids = (&sequential.instances[j].id, &made.id);
            let changed = changes_across(b, a, made.resource, self.noise, ids.0, ids.1);
            if changed.is_empty() {
                continue;
            }
            let noun = crate::oracle::invariant::singular(&self.plan.resources[made.resource].name);
            // `balance: 2600 at once, 3800 one after the other`.
            let value = |s: &crate::run::execute::Snapshot, field: &str| {
                let pointer = format!("/{}", field.replace('.', "/"));
                s.json.as_ref().and_then(|j| j.pointer(&pointer)).map_or("-".into(), compact)
            };
            let changed: Vec<String> = changed
                .iter()
                .take(3)
                .map(|f| {
                    format!("{f}: {} at once, {} one after the other", value(a, f), value(b, f))
                })
                .collect();
            let at_once_statuses: Vec<String> =
                at_once.steps[f].replies.iter().map(|r| r.status.to_string()).collect();
            let label = st.label();
            let summary = format!(
                "{label}: {accepted} accepted at once where one after the other allows \
                 {most}, and the {noun} it touched reads otherwise"
            );
            let evidence = vec![
                format!("sent at once: {}", at_once_statuses.join(", ")),
                format!("one after the other: {}", statuses.join("; in the other order: ")),
                format!("the {noun}'s read-back after them: {}", changed.join("; ")),
            ];
            return Ok((Some(race_verdict(f, summary, evidence)), 2));
        }
        Ok((None, 2))
    }

    /// How many distinct instances of `resource` the accepted answers of a
    /// concurrent create named.
    fn created_apart(&self, ex: &crate::run::execute::Executed, resource: usize) -> usize {
        let id_from = &self.plan.resources[resource].id_from;
        let ids: HashSet<String> = ex
            .replies
            .iter()
            .filter(|r| r.ok())
            .filter_map(|r| r.extract(id_from))
            .map(|v| crate::run::request::text_of(&v))
            .collect();
        ids.len()
    }

    /// What the one-after-the-other runs of the step at `f` did, against the
    /// concurrent run's instance `k`.
    fn compare_in_order(&self, trace: &Trace, k: usize, f: usize, traces: &[Trace]) -> InOrder {
        let resource = trace.instances[k].resource;
        let at_once = trace.after(f, k);
        let mut seen = InOrder { states_differ: true, ..InOrder::default() };
        for t in traces {
            let replies: Vec<u16> =
                t.steps[f..].iter().flat_map(|e| e.replies.iter().map(|r| r.status)).collect();
            seen.most = seen.most.max(replies.iter().filter(|s| (200..300).contains(*s)).count());
            seen.statuses.push(replies.iter().map(u16::to_string).collect::<Vec<_>>().join(", "));
            seen.broken.extend(self.violations(t, &HashSet::new(), f).into_iter().map(|(_, n)| n));
            let last = t.steps.len() - 1;
            let same_state =
                match (at_once, t.steps[last].instance.and_then(|kk| t.after(last, kk))) {
                    (Some(a), Some(b)) => {
                        let (ia, ib) = (
                            &trace.instances[k].id,
                            &t.instances[t.steps[last].instance.unwrap_or(0)].id,
                        );
                        changes_across(b, a, resource, self.noise, ib, ia).is_empty()
                    }
                    _ => true,
                };
            if same_state {
                seen.states_differ = false;
            }
        }
        seen
    }

    /// The concurrent step of `seq` sent one request after the other, in
    /// every order; empty when one of those runs is inconclusive (cut
    /// short, no answer, a 5xx).
    async fn in_order(&self, seq: &Sequence, f: usize) -> Result<(Vec<Trace>, u64), Error> {
        let st = &seq.steps[f];
        let mut orders: Vec<Vec<SeqStep>> = Vec::new();
        let single = |call: &Call, origin: u32| SeqStep::plain(origin, call.clone());
        match &st.partner {
            Some(p) => {
                let other = seq.fresh_origin();
                orders.push(vec![single(&st.call, st.origin), single(p, other)]);
                orders.push(vec![single(p, other), single(&st.call, st.origin)]);
            }
            None => orders.push((0..st.copies).map(|_| single(&st.call, st.origin)).collect()),
        }
        let mut traces = Vec::new();
        let mut runs = 0;
        for order in orders {
            let mut steps = seq.steps[..f].to_vec();
            let n = order.len();
            steps.extend(order);
            let counterpart = Sequence { journey: seq.journey, steps };
            let t = self.runner.run(&counterpart, self.reset, false).await?;
            runs += 1;
            let answered = t
                .steps
                .iter()
                .skip(f)
                .flat_map(|e| &e.replies)
                .all(|r| r.status != 0 && r.status < 500);
            if !t.complete() || t.steps.len() < f + n || !answered {
                return Ok((Vec::new(), runs));
            }
            traces.push(t);
        }
        Ok((traces, runs))
    }
}

/// A race found at step `f`: medium, since it depends on timing.
fn race_verdict(f: usize, summary: String, evidence: Vec<String>) -> Verdict {
    Verdict {
        oracle: OracleKind::Race,
        confidence: Confidence::Medium,
        step: f,
        summary,
        evidence,
        check: None,
    }
}

/// The last settling read-back of instance `k` in `t`.
fn settled(t: &Trace, k: usize) -> Option<&crate::run::execute::Snapshot> {
    t.probes.iter().rev().find(|p| p.instance == k && p.after == SETTLE + 1).map(|p| &p.snapshot)
}

/// Every one-after-the-other run accepted every request from the step at
/// `f` on: nothing the values allow was held back, so nothing could race.
fn all_accepted(traces: &[Trace], f: usize) -> bool {
    !traces.is_empty()
        && traces.iter().all(|t| t.steps.iter().skip(f).flat_map(|e| &e.replies).all(|r| r.ok()))
}
