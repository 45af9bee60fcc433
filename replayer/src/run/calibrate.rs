//! Calibration: each journey replayed unmutated twice before any mutation,
//! to learn what differs between identical runs (ids, timestamps, request
//! ids: never a change), which steps answer differently from run to run,
//! and which invariants the plain journey already breaks.

use std::collections::HashSet;

use crate::error::Error;
use crate::oracle::diff::{differing, Noise};
use crate::oracle::invariant::Invariant;
use crate::run::divergence::Divergence;
use crate::run::execute::{Executed, Runner, Trace, SETTLE};
use crate::run::request::Reply;
use crate::run::sequence::{Sequence, INSERTED};
use crate::setup::identities::looks_failed;
use crate::setup::plan::{Plan, PlannedJourney};

/// What the unmutated journey does.
#[derive(Debug)]
pub(crate) struct Baseline {
    /// The first run.
    pub trace: Trace,
    /// Per step: the two runs answered with different statuses.
    pub flaky: Vec<bool>,
    /// Invariants false somewhere in the first run.
    pub broken: HashSet<String>,
    /// Values that differed between the runs (or between two reads in a row).
    pub noise: Noise,
}

impl Baseline {
    /// How many steps ran in both runs (the rest cannot be built live).
    pub fn usable(&self) -> usize {
        self.trace.steps.len().min(self.flaky.len())
    }

    /// The first step the recording saw accepted (2xx) that calibration did
    /// not (answered otherwise, or never sent because a value was missing).
    pub fn unexpected(&self, recorded: &[u16]) -> Option<usize> {
        recorded.iter().enumerate().position(|(i, status)| {
            let calibrated = self.trace.steps.get(i).and_then(|e| e.reply()).map(|r| r.status);
            class(*status) == 2 && calibrated.is_none_or(|s| class(s) != 2)
        })
    }

    /// Where a run of `seq` (a case of this journey) left the calibrated
    /// path before its focus: the first journey step before the focus whose
    /// answer is of another class (2xx, 4xx, ...) than calibration's, or the
    /// step where the run stopped before reaching the focus. Inserted steps
    /// (the mutation) and steps whose answer varied between the two
    /// calibration runs are not compared.
    pub fn diverges(&self, seq: &Sequence, trace: &Trace) -> Option<usize> {
        let focus = seq.focus()?;
        if trace.steps.len() <= focus {
            return Some(trace.steps.len());
        }
        (0..focus).find(|&i| {
            let origin = seq.steps[i].origin;
            if origin >= INSERTED || self.flaky.get(origin as usize) != Some(&false) {
                return false;
            }
            let status = |e: &Executed| e.reply().map_or(0, |r| r.status);
            let calibrated = self.trace.steps.get(origin as usize).map_or(0, status);
            class(calibrated) != class(status(&trace.steps[i]))
        })
    }
}

/// The class of a status: 2 for 2xx, 4 for 4xx, 0 for no answer.
fn class(status: u16) -> u16 {
    status / 100
}

/// Replays `journey` twice and compares.
pub(crate) async fn calibrate(
    runner: &Runner<'_>,
    plan: &Plan,
    journey: &PlannedJourney,
    invariants: &[Invariant],
    reset: bool,
) -> Result<Baseline, Error> {
    let seq = &journey.sequence;
    let first = runner.run(seq, reset, true).await?;
    if let Err(refused) = check_logins(plan, journey, &first) {
        // HTML where JSON was recorded: the wrong service, not the password.
        let mut divergence = Divergence::default();
        divergence.add(plan, journey, &first);
        divergence.other_kind(runner.client.base())?;
        return Err(refused);
    }
    let second = runner.run(seq, reset, true).await?;

    let mut noise = Noise::default();
    let steps = first.steps.len().min(second.steps.len());
    let mut flaky = Vec::with_capacity(steps);
    for i in 0..steps {
        let (a, b) = (&first.steps[i], &second.steps[i]);
        let statuses = |e: &Executed| e.replies.iter().map(|r| r.status).collect::<Vec<_>>();
        flaky.push(statuses(a) != statuses(b));
        let action = seq.steps[i].call.action();
        for (ra, rb) in a.replies.iter().zip(&b.replies) {
            for p in differing(ra.json.as_ref(), rb.json.as_ref()) {
                noise.response.insert((action.to_string(), p));
            }
        }
    }
    // Read-backs at the same point of both runs, and two reads in a row.
    for pa in &first.probes {
        let resource = first.instances[pa.instance].resource;
        let same_point =
            second.probes.iter().find(|pb| pb.after == pa.after && pb.instance == pa.instance);
        if let Some(pb) = same_point {
            for p in differing(pa.snapshot.json.as_ref(), pb.snapshot.json.as_ref()) {
                noise.resource.insert((resource, p));
            }
        }
        if pa.after == SETTLE {
            let again =
                first.probes.iter().find(|q| q.after == SETTLE + 1 && q.instance == pa.instance);
            if let Some(q) = again {
                for p in differing(pa.snapshot.json.as_ref(), q.snapshot.json.as_ref()) {
                    noise.resource.insert((resource, p));
                }
            }
        }
    }
    let mut broken = HashSet::new();
    for probe in &first.probes {
        let (Some(json), true) = (&probe.snapshot.json, probe.snapshot.ok()) else { continue };
        let name = &plan.resources[first.instances[probe.instance].resource].name;
        for inv in invariants.iter().filter(|i| &i.resource == name) {
            if inv.check(json) == Ok(false) {
                broken.insert(inv.name.clone());
            }
        }
    }
    let baseline = Baseline { trace: first, flaky, broken, noise };
    tracing::debug!(
        journey = %journey.name,
        steps = seq.steps.len(),
        usable = baseline.usable(),
        unexpected = ?baseline.unexpected(&journey.statuses),
        "calibrated"
    );
    Ok(baseline)
}

/// A user whose login is refused stops the run: nothing after it means
/// anything. Refused is a non-2xx answer, or a 2xx one without a credential
/// or shaped like the model's failed login (`200 {"ok": false}`), where the
/// recording saw the login succeed.
fn check_logins(plan: &Plan, journey: &PlannedJourney, trace: &Trace) -> Result<(), Error> {
    for ((step, executed), recorded) in
        journey.sequence.steps.iter().zip(&trace.steps).zip(&journey.statuses)
    {
        if !step.call.login || !(200..300).contains(recorded) {
            continue;
        }
        let Some(reply) = executed.replies.first() else { continue };
        let Some(why) = refused(plan, reply) else { continue };
        let user = step.call.user.and_then(|u| plan.users.get(u)).map_or("?", |u| u.name.as_str());
        let snippet = crate::run::execute::snippet(&reply.body);
        return Err(Error::Login {
            user: user.to_string(),
            action: step.call.action().to_string(),
            status: (reply.status != 0).then_some(reply.status),
            body: if why.is_empty() { snippet } else { format!("{why}: {snippet}") },
        });
    }
    Ok(())
}

/// Why a login's answer refused it (empty: its status says so), or `None`.
fn refused(plan: &Plan, reply: &Reply) -> Option<String> {
    if !reply.ok() {
        return Some(String::new());
    }
    if let Some(shape) = looks_failed(reply.json.as_ref(), &plan.auth) {
        return Some(format!("no credential: the answer is a failed login ({shape})"));
    }
    let credential = plan.auth_binds.iter().any(|(_, from)| reply.extract(from).is_some());
    if !plan.auth_binds.is_empty() && !credential {
        return Some("no credential in the answer, so it is a failed login".into());
    }
    None
}
