//! Reports of a run: the same findings rendered for a person at a terminal,
//! for machines (JSON), for CI test reporters (JUnit XML), as one HTML page
//! to open from a CI artifact, and as runnable bash + curl reproducers
//! (which reach an `https://` target trusting what the run trusted).
//!
//! Every renderer takes the findings plus a [`ReportContext`] with the run's
//! numbers (the HTML page also the model, to draw its state machines), and
//! returns the text (or JSON value); writing files is the caller's business,
//! except for [`write_reproducers`], whose whole job it is.
//!
//! ```
//! use venomqa_replayer::report::{render_terminal, ReportContext};
//!
//! let ctx = ReportContext { requests: 1234, seconds: 3.2, ..ReportContext::default() };
//! assert_eq!(render_terminal(&[], &ctx, false).lines().last(), Some("0 findings in 1234 requests, 3.2 s"));
//! ```
//!
//! A finding's number (`#3`) is its position in the slice, counted from 1, in
//! every report; the reproducer file of finding `#3` starts with `03-`.

mod confirm;
pub(crate) mod exploration;
mod html;
mod json;
mod junit;
mod markup;
mod reproducer;
mod script_tls;
mod script_vars;
mod secrets;
mod shell;
mod terminal;

use std::path::PathBuf;

pub use confirm::Confirm;
pub use html::render_html;
pub use json::render_json;
pub use junit::{render_junit, render_junit_error};
pub use reproducer::{confirming_script, curl_script, finding_script, write_reproducers};
pub use script_tls::ScriptTls;
pub(crate) use secrets::without_live_credentials;
pub use secrets::Secrets;
pub use terminal::render_terminal;

use crate::oracle::finding::{Confidence, Finding, SentRequest};

/// What the reports need to know about the run besides its findings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportContext {
    /// The target's base URL, as given to the run.
    pub target: String,
    /// Sequences executed (mutated journeys, explorations, shrink re-runs).
    pub sequences: u64,
    /// HTTP requests sent to the target.
    pub requests: u64,
    /// Answers that asked the run to wait (a rate limit), each waited out
    /// and its request sent again.
    pub rate_limited: u64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// One entry per journey × mutation family that was tried, failing or not:
    /// the JUnit report's test cases. Findings no test case points at get a
    /// test case of their own there, so none is ever left out.
    pub testcases: Vec<TestCase>,
    /// Where each finding's reproducer was written, in the order of the
    /// findings ([`write_reproducers`] returns exactly this); empty when none
    /// were written.
    pub reproducer_files: Vec<PathBuf>,
    /// How many mutated cases were planned, exercised and skipped.
    pub cases: CaseCounts,
    /// Why the run did not test everything it planned (a budget ran out),
    /// said for a person; `None` when it did.
    pub incomplete: Option<String>,
    /// What exploration reached, when it ran.
    pub exploration: Option<exploration::Exploration>,
}

/// The mutated cases of a run: a case that never reached its focus the way
/// the unmutated journey did tested nothing, and is counted as skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseCounts {
    /// Tests planned (distinct mutated cases).
    pub planned: usize,
    /// Tests that reached their focus as calibrated.
    pub exercised: usize,
    /// Tests not exercised, by reason (`prefix_diverged`, `budget`, ...).
    pub skipped: std::collections::BTreeMap<String, usize>,
}

/// One journey × mutation family that was tried: a JUnit test case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestCase {
    /// The journey (session key) that was mutated.
    pub journey: String,
    /// The mutation family: `duplicate`, `as-other-user`, ...
    pub mutation: String,
    /// Indexes into the findings this test case exposed; empty when it passed.
    /// Several, when one journey × mutation showed more than one bug.
    pub findings: Vec<usize>,
    /// Seconds spent on it (0 when not measured).
    pub seconds: f64,
    /// Why it tested nothing (the family fits no step of the journey, its
    /// cases never reached their focus, a budget ran out); `None` when it ran.
    pub skipped: Option<String>,
}

/// How many findings of each confidence: (high, medium, low).
pub(crate) fn confidence_counts(findings: &[Finding]) -> (usize, usize, usize) {
    let count = |c: Confidence| findings.iter().filter(|f| f.confidence == c).count();
    (count(Confidence::High), count(Confidence::Medium), count(Confidence::Low))
}

/// The report name of a confidence: `high`, `medium`, `low`.
pub(crate) fn confidence_name(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// `9 findings (7 high, 1 medium, 1 low) in 1234 requests, 3.2 s`.
pub(crate) fn summary_line(findings: &[Finding], ctx: &ReportContext) -> String {
    let (high, medium, low) = confidence_counts(findings);
    let mut parts = Vec::new();
    for (n, name) in [(high, "high"), (medium, "medium"), (low, "low")] {
        if n > 0 {
            parts.push(format!("{n} {name}"));
        }
    }
    let noun = if findings.len() == 1 { "finding" } else { "findings" };
    let by_confidence =
        if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) };
    let requests = if ctx.requests == 1 { "request" } else { "requests" };
    format!(
        "{} {noun}{by_confidence} in {} {requests}, {:.1} s",
        findings.len(),
        ctx.requests,
        seconds(ctx.seconds)
    )
}

/// `the target rate-limited 12 answers: …`, or nothing when it did not.
pub(crate) fn rate_limited_line(ctx: &ReportContext) -> Option<String> {
    let answers = if ctx.rate_limited == 1 { "answer" } else { "answers" };
    (ctx.rate_limited > 0).then(|| {
        format!(
            "the target rate-limited {} {answers} (429, or 503 with Retry-After): each request \
             was sent again after the wait it asked for",
            ctx.rate_limited
        )
    })
}

/// `412 of 430 cases exercised; 18 not: 12 prefix diverged, 6 budget`, or
/// nothing when no case was planned.
pub(crate) fn cases_line(cases: &CaseCounts) -> Option<String> {
    if cases.planned == 0 {
        return None;
    }
    let mut line = format!("{} of {} cases exercised", cases.exercised, cases.planned);
    let not: usize = cases.skipped.values().sum();
    if not > 0 {
        let reasons: Vec<String> = cases
            .skipped
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(why, n)| format!("{n} {}", why.replace('_', " ")))
            .collect();
        line.push_str(&format!("; {not} not: {}", reasons.join(", ")));
    }
    Some(line)
}

/// Non-negative, finite seconds: what a report can print.
pub(crate) fn seconds(s: f64) -> f64 {
    if s.is_finite() && s > 0.0 {
        s
    } else {
        0.0
    }
}

/// One step of a finding's minimal sequence, with what it was answered.
pub(crate) struct Step<'a> {
    /// `POST /login`, or `2x POST /orders/{order_id}/refund`.
    pub label: &'a str,
    /// The request sent for it, when the finding carries one.
    pub request: Option<&'a SentRequest>,
    /// Whether to say who sent it: only when the sequence mixes users.
    pub show_user: bool,
}

impl Step<'_> {
    /// `POST /login → 200`, `→ no response`; `(as bob)` after it when the
    /// sequence mixes users.
    pub fn line(&self, arrow: &str) -> String {
        let Some(r) = self.request else {
            return self.label.to_string();
        };
        let status = r.status.map_or("no response".to_string(), |s| s.to_string());
        match (&r.user, self.show_user) {
            (Some(user), true) => format!("{} {arrow} {status} (as {user})", self.label),
            _ => format!("{} {arrow} {status}", self.label),
        }
    }
}

/// The minimal sequence as steps: each action paired with the request sent
/// for it. Requests are matched to actions in order by their action name (a
/// `2x ` prefix stripped), so a finding whose requests are fewer or more than
/// its actions still lines up where it can.
pub(crate) fn steps(finding: &Finding) -> Vec<Step<'_>> {
    let mut users = finding.requests.iter().filter_map(|r| r.user.as_deref());
    let first_user = users.next();
    let show_user = users.any(|u| Some(u) != first_user);
    let mut next = 0;
    finding
        .actions
        .iter()
        .map(|label| {
            let action = strip_copies(label);
            let found = finding.requests[next.min(finding.requests.len())..]
                .iter()
                .position(|r| r.action == action)
                .map(|offset| next + offset);
            let request = found.map(|k| {
                next = k + 1;
                &finding.requests[k]
            });
            Step { label, request, show_user }
        })
        .collect()
}

/// `2x POST /orders/{id}/refund` → `POST /orders/{id}/refund`.
pub(crate) fn strip_copies(label: &str) -> &str {
    match label.split_once("x ") {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => label,
    }
}

/// The action a finding is about: the last step of its sequence.
pub(crate) fn headline_action(finding: &Finding) -> String {
    finding.bucket().1
}

/// Text from the target (evidence, bodies) made safe for one line of a
/// report: control characters (a terminal escape sequence in a response
/// body, say) shown escaped, and long text cut.
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars + 8));
    for (count, c) in text.chars().enumerate() {
        if count >= max_chars {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}
