//! What a run reports: one [`Finding`] per distinct bug, with the minimal
//! sequence that shows it, the evidence, and a runnable reproducer.

use serde::{Deserialize, Serialize};

/// The named oracles; the kebab-case name is what reports and users see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OracleKind {
    /// A 5xx answer.
    ServerError,
    /// A user invariant evaluated to false.
    Invariant,
    /// Another user's resource read or changed with a 2xx.
    CrossUser,
    /// A write on a deleted resource accepted.
    AfterDelete,
    /// A request with a logged-out token accepted.
    StaleToken,
    /// Concurrent duplicates accepted more often than the sequential run allows,
    /// or an invariant broken only under concurrency.
    Race,
    /// A retry with the same `Idempotency-Key` changed state again or answered differently.
    Idempotency,
    /// A write with an outdated validator (`If-Match`) accepted.
    StaleWrite,
    /// A mutated step accepted where the model only saw it rejected or never
    /// saw it, and the resource's observed state changed. Lower confidence.
    UnexpectedAccept,
    /// A field no request of the recording sent, added to a create or an
    /// update, was stored: mass assignment.
    MassAssignment,
    /// A login with an unknown account and one with a known account and a
    /// wrong secret were answered differently. Lower confidence.
    Enumeration,
    /// An action the recording shows only for one role was accepted, with
    /// its effect, from a user of another role.
    FunctionLevelAuth,
}

impl OracleKind {
    /// Every oracle, in the order reports list them.
    pub const ALL: [OracleKind; 12] = [
        OracleKind::ServerError,
        OracleKind::Invariant,
        OracleKind::CrossUser,
        OracleKind::AfterDelete,
        OracleKind::StaleToken,
        OracleKind::Race,
        OracleKind::Idempotency,
        OracleKind::StaleWrite,
        OracleKind::UnexpectedAccept,
        OracleKind::MassAssignment,
        OracleKind::Enumeration,
        OracleKind::FunctionLevelAuth,
    ];

    /// The name used in reports and configuration: `cross-user`, `stale-token`, ...
    pub fn name(self) -> &'static str {
        match self {
            OracleKind::ServerError => "server-error",
            OracleKind::Invariant => "invariant",
            OracleKind::CrossUser => "cross-user",
            OracleKind::AfterDelete => "after-delete",
            OracleKind::StaleToken => "stale-token",
            OracleKind::Race => "race",
            OracleKind::Idempotency => "idempotency",
            OracleKind::StaleWrite => "stale-write",
            OracleKind::UnexpectedAccept => "unexpected-accept",
            OracleKind::MassAssignment => "mass-assignment",
            OracleKind::Enumeration => "enumeration",
            OracleKind::FunctionLevelAuth => "function-level-auth",
        }
    }
}

impl std::fmt::Display for OracleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How sure venomqa is that a finding is a real bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// The model never saw the step accepted there, but it may be allowed.
    Low,
    /// A race: it depends on timing, so it may not reproduce every time.
    Medium,
    /// The state the target shows proves it.
    High,
}

/// One HTTP request of a minimal sequence as it was really sent, and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentRequest {
    /// `POST /orders/{order_id}/refund`: the learned action.
    pub action: String,
    /// The test user it was sent as, if any.
    pub user: Option<String>,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The full URL as sent, with live values bound.
    pub url: String,
    /// Headers as sent (secrets included: this is a test environment).
    pub headers: Vec<(String, String)>,
    /// The request body as sent, if any.
    pub body: Option<String>,
    /// How many copies were sent at once (1 unless concurrent).
    pub copies: u32,
    /// Sent at the same moment as the request before it (the two calls of
    /// an interleaved step), not after its answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_once_with_previous: bool,
    /// The values in it that the model's links took from earlier answers
    /// (ids, codes, tokens): what a reproducer captures live whatever they
    /// look like. Not in reports.
    #[serde(skip)]
    pub linked: Vec<String>,
    /// The answer's status; `None` when nothing answered.
    pub status: Option<u16>,
    /// The answer's body, if any.
    pub response_body: Option<String>,
}

/// How a reproducer confirms a bug that no status shows: the check the
/// oracle made, in a form a shell script can make again.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// After the sequence the script sends the owner's read again; the bug
    /// shows when the answer holds `field` = `value` (what the client
    /// should not have been able to set).
    ReadBack {
        /// The owner's read as the oracle's probe sent it.
        request: SentRequest,
        /// A top-level field of the read's JSON answer.
        field: String,
        /// The value the bug leaves there.
        value: serde_json::Value,
    },
    /// The first and the last step's answers differ in one of these
    /// top-level fields, once each step's `accounts` entry (the account
    /// its request named) is taken out of its answer: the unknown account
    /// and the wrong secret of an enumeration.
    AnswersDiffer {
        /// Top-level fields of the JSON answers.
        fields: Vec<String>,
        /// The account the first and the last request named.
        accounts: (String, String),
    },
    /// The owner's read after step `after[0]` (the first request) and again
    /// after step `after[1]` (its retry): the bug shows when one of
    /// `fields` differs between the two (a retry that changed state again).
    ReadsDiffer {
        /// The owner's read as the oracle's probe sent it.
        request: SentRequest,
        /// Steps of the sequence (0-based) each read follows.
        after: [usize; 2],
        /// Top-level scalar fields of the read's JSON answer that changed.
        fields: Vec<String>,
    },
    /// The owner's read after step `after`, and a user invariant evaluated
    /// on it by the script itself (an awk expression).
    Invariant {
        /// The owner's read as the oracle's probe sent it.
        request: SentRequest,
        /// The step of the sequence (0-based) the read follows.
        after: usize,
        /// The invariant's name and CEL text, for the script's messages.
        name: String,
        /// The CEL expression as the user wrote it.
        expr: String,
        /// The expression as awk evaluates it.
        awk: crate::oracle::invariant::AwkCheck,
    },
}

impl Check {
    /// The requests the check sends besides the sequence (the reads).
    pub fn reads_mut(&mut self) -> Option<&mut SentRequest> {
        match self {
            Check::ReadBack { request, .. }
            | Check::ReadsDiffer { request, .. }
            | Check::Invariant { request, .. } => Some(request),
            Check::AnswersDiffer { .. } => None,
        }
    }
}

/// One distinct bug: deduplicated by oracle + action + mutation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The oracle that found it.
    pub oracle: OracleKind,
    /// The mutation family that exposed it: `duplicate`, `as-other-user`, ...
    pub mutation: String,
    /// The minimal sequence as `"METHOD /template"` strings; a concurrent step
    /// is `"2x POST /orders/{order_id}/refund"`.
    pub actions: Vec<String>,
    /// How sure venomqa is that it is a bug.
    pub confidence: Confidence,
    /// One sentence: what went wrong.
    pub summary: String,
    /// What was observed that backs the claim (read-backs, state before and after).
    pub evidence: Vec<String>,
    /// The journey (session key) the sequence came from.
    pub journey: String,
    /// The requests and responses of the minimal sequence.
    pub requests: Vec<SentRequest>,
    /// A runnable bash + curl script that replays the minimal sequence.
    pub reproducer: String,
    /// For flaky (concurrent) findings: reproduced N times of M re-runs.
    pub reproduced: Option<(u32, u32)>,
}

impl Finding {
    /// The deduplication key: one finding per oracle, action and mutation.
    pub fn bucket(&self) -> (OracleKind, String, String) {
        let action = self.actions.last().cloned().unwrap_or_default();
        (self.oracle, action, self.mutation.clone())
    }
}
