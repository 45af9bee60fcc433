//! The steps exploration may add to a path it reached: each model action
//! on an instance the path holds, sent by the instance's owner; the create
//! of a child under it; a write that names no instance; a logout. Each is
//! bound into the path as the families' inserted steps are (its values
//! from the path's live answers), and labelled by what the recording says
//! of it in the instance's current state.

use crate::mutate::journey::Journey;
use crate::mutate::relevance::{inst_key, InstKey};
use crate::run::calibrate::Baseline;
use crate::run::sequence::{Call, Sequence};
use crate::setup::plan::Plan;

/// What the recording says of a move where the path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Enabled {
    /// Seen accepted in this state.
    Seen,
    /// Not tied to the state machine (an update, a child's create, a logout):
    /// accepted in any state the recording reached.
    Unguarded,
    /// Never seen accepted in this state (or on a deleted instance): the
    /// learned precondition says no; trying it is how "accepted when it
    /// should be refused" bugs are found.
    Unseen,
}

/// A step exploration may take.
#[derive(Clone, Debug)]
pub(crate) struct Move {
    /// Reads sent just before it because it carries what they answer (the
    /// `ETag` a conditional write sends back): a read changes nothing, so
    /// it is never a move of its own.
    pub reads: Vec<Call>,
    pub call: Call,
    pub enabled: Enabled,
    /// The resource of the instance it acts on (or creates a child under),
    /// and that instance's state before it.
    pub on: Option<(usize, Option<String>)>,
}

/// The moves from the end of `path` (steps numbered by position, as a
/// journey's are), whose one run is `baseline`, on the instances its steps
/// from `from` on touched (what the path is exploring: the root's last
/// step and the moves since; the world in front has roots of its own);
/// sorted by action, so the same path gives the same moves in the same order.
pub(crate) fn moves(plan: &Plan, path: &Sequence, baseline: &Baseline, from: usize) -> Vec<Move> {
    let g = Journey { plan, seq: path, baseline, usable: baseline.usable(), world: 0 };
    let end = g.steps().len();
    let mut actions: Vec<&String> = plan.catalog.keys().collect();
    actions.sort();
    let mut out = Vec::new();
    for (x, owner) in instances(&g, from) {
        let state = g.current_state(&x);
        let info = &plan.resources[x.resource];
        for action in &actions {
            if info.create.as_deref() == Some(action.as_str()) {
                continue;
            }
            let Some((reads, call)) = bound_with_reads(&g, action, Some(&x), owner) else {
                continue;
            };
            if call.login || call.logout || call.is_read() {
                continue;
            }
            let enabled = if call.acts_on == Some(x.resource) {
                enabled_in(plan, x.resource, state.as_deref(), action)
            } else if call.creates.is_some() && names_in_path(&call, &x, plan) {
                // A child's create under the instance.
                if state.as_deref() == Some("deleted") {
                    Enabled::Unseen
                } else {
                    Enabled::Unguarded
                }
            } else {
                continue;
            };
            out.push(Move { reads, call, enabled, on: Some((x.resource, state.clone())) });
        }
    }
    // Writes that name no instance (a checkout, a settings change), by the
    // path's first logged-in user; and each logged-in user's logout.
    let users: Vec<usize> = logged_in(&g);
    if let Some(&user) = users.first() {
        for action in &actions {
            let Some((reads, call)) = bound_with_reads(&g, action, None, Some(user)) else {
                continue;
            };
            if call.login || call.logout || call.is_read() || call.creates.is_some() {
                continue;
            }
            if call.acts_on.is_none() {
                out.push(Move { reads, call, enabled: Enabled::Unguarded, on: None });
            }
        }
    }
    if let Some(logout) = plan.logout.as_ref().map(|t| t.action.to_string()) {
        for user in users {
            if let Some(call) = g.catalog_call(&logout, end, None, Some(user)) {
                out.push(Move { reads: Vec::new(), call, enabled: Enabled::Unguarded, on: None });
            }
        }
    }
    out
}

/// `action` bound at the end of the path (on `x`, as `user`), after the
/// reads it needs.
fn bound_with_reads(
    g: &Journey<'_>,
    action: &str,
    x: Option<&InstKey>,
    user: Option<usize>,
) -> Option<(Vec<Call>, Call)> {
    let end = g.steps().len();
    let reads = needed_reads(g, action, end, x, user);
    if reads.is_empty() {
        return Some((reads, g.catalog_call(action, end, x, user)?));
    }
    let mut steps = g.steps().to_vec();
    for (k, read) in reads.iter().enumerate() {
        let origin = u32::try_from(end + k).ok()?;
        steps.push(crate::run::sequence::SeqStep::plain(origin, read.clone()));
    }
    let longer = Sequence { journey: g.seq.journey, steps };
    let usable = end + reads.len();
    let g = Journey { plan: g.plan, seq: &longer, baseline: g.baseline, usable, world: 0 };
    let call = g.catalog_call(action, usable, x, user)?;
    Some((reads, call))
}

/// The reads whose answers the recorded `action` carried outside its path
/// (a header, the body): of instance `x`, or of a per-user singleton when
/// there is no `x`; bound into the path at `end`.
fn needed_reads(
    g: &Journey<'_>,
    action: &str,
    end: usize,
    x: Option<&InstKey>,
    owner: Option<usize>,
) -> Vec<Call> {
    let Some((_, cj, cs)) = g.plan.catalog.get(action) else { return Vec::new() };
    let Some(src_seq) = g.plan.journeys.get(*cj).map(|j| &j.sequence) else { return Vec::new() };
    let Some(src) = src_seq.steps.get(*cs) else { return Vec::new() };
    let mut reads: Vec<Call> = Vec::new();
    for b in &src.call.binds {
        if matches!(b.to, venomqa_learner::Location::Path { .. }) {
            continue;
        }
        let Some(producer) = src_seq.steps.iter().find(|s| s.origin == b.origin) else { continue };
        let p = &producer.call;
        let reads_it = match x {
            Some(x) => p.acts_on == Some(x.resource),
            None => p.acts_on.is_none() && g.plan.singleton_of(p.action()).is_some(),
        };
        if p.login || !p.is_read() || !reads_it {
            continue;
        }
        if reads.iter().any(|r| r.action() == p.action()) {
            continue;
        }
        if let Some(read) = g.catalog_call(p.action(), end, x, owner) {
            reads.push(read);
        }
    }
    reads
}

/// What the recording says of `action` on an instance of `resource` in `state`.
fn enabled_in(plan: &Plan, resource: usize, state: Option<&str>, action: &str) -> Enabled {
    let info = &plan.resources[resource];
    match state {
        Some("deleted") => Enabled::Unseen,
        Some(state) if info.accepted.get(state).is_some_and(|a| a.contains(action)) => {
            Enabled::Seen
        }
        // It moves the state machine, and was never seen accepted here
        // (or this is a state the recording never reached).
        Some(_) if info.guarded.contains(action) => Enabled::Unseen,
        _ => Enabled::Unguarded,
    }
}

/// Whether `call` names instance `x` in its path (a child's create under it).
fn names_in_path(call: &Call, x: &InstKey, plan: &Plan) -> bool {
    let id = &plan.resources[x.resource].id_param;
    call.binds.iter().any(|b| {
        b.origin == x.origin
            && matches!(&b.to, venomqa_learner::Location::Path { name } if name == id)
    })
}

/// The instances the path's steps from `from` on touched, each with the
/// user it acts as: the creator, else the first user who acted on it.
fn instances(g: &Journey<'_>, from: usize) -> Vec<(InstKey, Option<usize>)> {
    let mut out: Vec<(InstKey, Option<usize>)> = Vec::new();
    for s in g.steps().iter().skip(from) {
        if s.call.login || s.call.logout {
            continue;
        }
        let Some(x) = inst_key(g.plan, s) else { continue };
        match out.iter_mut().find(|(k, _)| *k == x) {
            Some((_, owner)) if s.call.creates.is_none() => {
                *owner = owner.or(s.call.user);
            }
            Some(_) => {}
            None => out.push((x, s.call.user)),
        }
    }
    out
}

/// The users logged in on the path, in order of their first login.
fn logged_in(g: &Journey<'_>) -> Vec<usize> {
    let mut users = Vec::new();
    for s in g.steps().iter().filter(|s| s.call.login) {
        if let Some(u) = s.call.user.filter(|u| !users.contains(u)) {
            users.push(u);
        }
    }
    users
}

impl Journey<'_> {
    /// The state instance `x` is in at the end of the path, as its last
    /// read-back showed it.
    pub(super) fn current_state(&self, x: &InstKey) -> Option<String> {
        let trace = &self.baseline.trace;
        let end = trace.steps.len();
        let k = self
            .steps()
            .iter()
            .zip(&trace.steps)
            .filter(|(s, _)| inst_key(self.plan, s).as_ref() == Some(x))
            .find_map(|(_, e)| e.instance)?;
        let snap = trace.before(end, k)?;
        snap.state(&self.plan.resources[trace.instances[k].resource])
    }
}
