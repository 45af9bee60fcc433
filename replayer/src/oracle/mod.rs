//! The oracles: checking a sequence by the state the target shows, not by its
//! status codes alone. Every suspicious 2xx is checked against the owner's
//! read-back (noise left out), and reads that "leak" are checked against a
//! control request (a made-up id, a made-up token) so a target that answers
//! 2xx to anything yields no finding.
//!
//! [`Oracles`] holds what they look at; `check` runs a sequence and asks
//! the oracles its mutation family calls for, each in its own file
//! (`server_error`, `cross_user`, `after_delete`, `stale_token`,
//! `idempotency`, `stale_write`, `unexpected_accept`, `race`, and the user
//! invariants in `invariant/`), and for the families that need more of the
//! model: `dead_create`, and by family in `by_model`: `interleaved`,
//! `child_after`, `injection`, `enumeration`, `lesser_role`, `final_state`, `double_claim`. `control`
//! sends the control requests, `diff` compares JSON read-backs, `evidence`
//! says what shows a step's effect (a read-back, a list, a parent, the
//! step's answer), `credential` probes logins after a credential change,
//! `finding` is what a run reports.

mod after_delete;
mod by_model;
mod check;
mod child_after;
mod consumed;
mod control;
mod credential;
mod cross_user;
mod dead_create;
pub(crate) mod diff;
mod double_claim;
mod enumeration;
mod evidence;
pub(crate) mod final_state;
pub(crate) mod finding;
mod idempotency;
mod injection;
mod interleaved;
pub(crate) mod invariant;
mod lesser_role;
mod race;
mod refused_as_recorded;
mod server_error;
mod stale_token;
mod stale_write;
mod unexpected_accept;

use serde_json::Value;

use crate::oracle::diff::Noise;
use crate::oracle::finding::{Check, Confidence, OracleKind, SentRequest};
use crate::oracle::invariant::Invariant;
use crate::run::execute::{snippet, Runner, Snapshot, Trace};
use crate::setup::plan::Plan;

/// What an oracle concluded about one step of a sequence.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub oracle: OracleKind,
    pub confidence: Confidence,
    /// The step it is about (the focus for shrinking).
    pub step: usize,
    pub summary: String,
    pub evidence: Vec<String>,
    /// The check a reproducer makes to confirm it, when no status shows it.
    pub check: Option<Check>,
}

/// A checked sequence: its verdict, if an oracle found something, and its trace.
#[derive(Debug)]
pub(crate) struct Checked {
    pub verdict: Option<Verdict>,
    pub trace: Trace,
    /// Sequences run (the case and its sequential counterparts).
    pub runs: u64,
    /// The case could not have found its bug with the values it sent (a
    /// concurrent step every sequential order accepts in full): an
    /// equivalent case with other values may.
    pub inconclusive: bool,
}

/// The oracles, with everything they look at: the plan, the runner (for
/// counterparts and control requests), the calibrated noise, the invariants.
pub(crate) struct Oracles<'a> {
    pub plan: &'a Plan,
    pub runner: &'a Runner<'a>,
    pub noise: &'a Noise,
    pub invariants: &'a [Invariant],
    /// Reset before each sequence.
    pub reset: bool,
}

impl Oracles<'_> {
    /// The instance's own read as its probe sent it, for a reproducer to
    /// send again: only when the instance's reader is the user who sent
    /// step `step` (the script has that session), with that user's name.
    pub(crate) fn read_for_script(
        &self,
        trace: &Trace,
        read: &Snapshot,
        instance: usize,
        step: usize,
    ) -> Option<SentRequest> {
        let reader = trace.instances.get(instance)?.reader?;
        let user = self.plan.users.get(reader)?.name.clone();
        if trace.steps.get(step)?.sent.first()?.user.as_ref() != Some(&user) {
            return None;
        }
        let mut request = read.read.clone()?;
        request.user = Some(user);
        Some(request)
    }
}

/// Which oracle wins when several fire: the most specific first.
pub(crate) fn rank(o: OracleKind) -> u8 {
    match o {
        OracleKind::ServerError => 0,
        OracleKind::Invariant => 2,
        OracleKind::UnexpectedAccept => 3,
        _ => 1,
    }
}

/// JSON on one line, cut to a readable length.
pub(crate) fn compact(value: &Value) -> String {
    snippet(&value.to_string())
}
