//! The QA driver: realistic happy-path sessions against the shop, to record.
//!
//! A run is planned from its seed (`plan`), then its sessions are played
//! (`session`), up to `concurrency` at a time, so the traffic of different
//! users interleaves the way a team of testers' would. The driver goes
//! through `HTTP_PROXY` when it is set (and `NO_PROXY` does not exclude the
//! target), so it can also be pointed at a forward proxy, and reaches an
//! `https://` sample with the trust its options give (`http.rs`).
//!
//! The driver never triggers a planted bug: a shop with every bug planted
//! answers each of its requests exactly like a correct one.

pub(crate) mod http;
pub(crate) mod plan;
mod session;
pub(crate) mod text;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde::Serialize;
use venomqa_tls::ClientTrust;

use crate::ids::random_chars;
use crate::shop::USERS;
use plan::SessionPlan;
use session::{SessionLog, SessionRun};
use text::sample_base;

/// What to drive and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveOptions {
    /// The shop, or a recording proxy in front of it: `http://127.0.0.1:8080`
    /// (or `https://…`, trusted as `trust` says).
    pub base: String,
    /// How many of the shop's users take part, 1 to 4 (alice, bob, carol, dave in that order).
    pub users: usize,
    /// How many sessions to play.
    pub sessions: usize,
    /// The same seed plays the same sessions.
    pub seed: u64,
    /// Sessions played at the same time (at least 1).
    pub concurrency: usize,
    /// Which certificates an `https://` base may show: the Mozilla roots
    /// by default, plus a private CA (a sample's, `sample serve
    /// --tls-ca-out`), or any (`insecure`).
    pub trust: ClientTrust,
}

/// What a run sent and how the shop answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriveReport {
    /// Sessions played.
    pub sessions: usize,
    /// Requests sent.
    pub requests: usize,
    /// Answers by status class.
    pub by_class: StatusClasses,
    /// The `X-Session` value of each session, by session index.
    pub session_ids: Vec<String>,
    /// Every request in session order (sessions by index, then in the order sent).
    pub steps: Vec<DriveStep>,
    /// Answers the happy path did not expect; empty against a healthy shop.
    pub unexpected: Vec<UnexpectedAnswer>,
}

/// Answers counted by the first digit of their status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusClasses {
    /// 2xx.
    pub success: usize,
    /// 3xx.
    pub redirection: usize,
    /// 4xx.
    pub client_error: usize,
    /// 5xx.
    pub server_error: usize,
    /// 1xx or outside 100–599.
    pub other: usize,
}

impl StatusClasses {
    fn count(&mut self, status: u16) {
        match status {
            200..=299 => self.success += 1,
            300..=399 => self.redirection += 1,
            400..=499 => self.client_error += 1,
            500..=599 => self.server_error += 1,
            _ => self.other += 1,
        }
    }
}

/// One request of a session and the status it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriveStep {
    /// Session index, from 0.
    pub session: usize,
    /// Which of the session's orders the request concerns (from 0, in the
    /// order they were created); `None` for login, listing and logout.
    pub order: Option<usize>,
    /// Method and path template, e.g. `POST /orders/{id}/pay`.
    pub endpoint: String,
    /// The status it got.
    pub status: u16,
}

/// An answer the happy path did not expect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnexpectedAnswer {
    /// The `X-Session` value of the session that got it.
    pub session_id: String,
    /// Method and path template.
    pub endpoint: String,
    /// The path actually requested.
    pub path: String,
    /// The status the happy path expects.
    pub expected: u16,
    /// The status that came.
    pub status: u16,
    /// What was wrong, with the start of the body.
    pub problem: String,
}

/// Why a run could not be played.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// The options make no sense; the message says which and why.
    #[error("invalid drive options: {0}")]
    Options(String),
    /// The HTTP client could not be built (for example a malformed
    /// `HTTP_PROXY`, or a CA file that holds no certificate).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The shop (or the proxy) could not be reached or broke off an answer.
    #[error("{method} {url} failed: {reason}")]
    Request {
        /// The request's method.
        method: String,
        /// The URL it went to.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
}

impl DriveError {
    /// A request that failed on the way: its method, URL and the causes.
    pub(crate) fn request(method: &reqwest::Method, url: &str, err: &reqwest::Error) -> DriveError {
        DriveError::Request {
            method: method.to_string(),
            url: url.to_string(),
            reason: http::failure(err),
        }
    }
}

/// Plays `opts.sessions` QA sessions against `opts.base` and reports what happened.
///
/// Unexpected answers are reported, not errors; the run fails only when it
/// cannot start or a request gets no answer at all.
pub async fn drive(opts: DriveOptions) -> Result<DriveReport, DriveError> {
    let base = validate(&opts)?;
    let agent = concat!("venomqa-sample-driver/", env!("CARGO_PKG_VERSION"));
    let client = http::client(agent, &opts.trust)?;

    let plans = plan::plan(opts.seed, opts.users, opts.sessions);
    // A fresh run id keeps the X-Session values of two runs apart in one store.
    let run_id = random_chars(6);
    let session_ids: Vec<String> =
        (0..plans.len()).map(|i| format!("qa-{run_id}-{i:02}")).collect();

    let shared = Arc::new(Shared {
        client,
        base,
        plans,
        session_ids,
        next: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency.min(shared.plans.len()) {
        workers.spawn(work(Arc::clone(&shared)));
    }

    let mut logs: Vec<(usize, SessionLog)> = Vec::with_capacity(shared.plans.len());
    let mut first_error = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(mut done)) => logs.append(&mut done),
            Ok(Err(err)) => {
                first_error.get_or_insert(err);
            }
            Err(err) => {
                first_error
                    .get_or_insert(DriveError::Client(format!("a driver task failed: {err}")));
            }
        }
    }
    if let Some(err) = first_error {
        return Err(err);
    }

    logs.sort_by_key(|(index, _)| *index);
    let mut report = DriveReport {
        sessions: logs.len(),
        session_ids: shared.session_ids.clone(),
        ..DriveReport::default()
    };
    for (_, log) in logs {
        for step in &log.steps {
            report.by_class.count(step.status);
        }
        report.requests += log.steps.len();
        report.steps.extend(log.steps);
        report.unexpected.extend(log.unexpected);
    }
    Ok(report)
}

/// What the workers share: the plans, and which session is next.
struct Shared {
    client: reqwest::Client,
    base: String,
    plans: Vec<SessionPlan>,
    session_ids: Vec<String>,
    next: AtomicUsize,
    /// Set by the first worker whose request got no answer, so the others stop starting sessions.
    failed: AtomicBool,
}

/// Plays sessions until none are left, or another worker failed.
async fn work(shared: Arc<Shared>) -> Result<Vec<(usize, SessionLog)>, DriveError> {
    let mut done = Vec::new();
    while !shared.failed.load(Ordering::Relaxed) {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(plan) = shared.plans.get(index) else { break };
        let run = SessionRun::new(&shared.client, &shared.base, index, &shared.session_ids[index]);
        match run.play(plan).await {
            Ok(log) => done.push((index, log)),
            Err(err) => {
                shared.failed.store(true, Ordering::Relaxed);
                return Err(err);
            }
        }
    }
    Ok(done)
}

/// Checks the options and returns the base URL without a trailing slash.
fn validate(opts: &DriveOptions) -> Result<String, DriveError> {
    if !(1..=USERS.len()).contains(&opts.users) {
        return Err(DriveError::Options(format!(
            "users must be 1 to {} (the shop has alice, bob, carol and dave), got {}",
            USERS.len(),
            opts.users
        )));
    }
    if opts.concurrency == 0 {
        return Err(DriveError::Options("concurrency must be at least 1".into()));
    }
    sample_base(&opts.base, "shop")
}

impl fmt::Display for DriveReport {
    /// One summary line, then one line per unexpected answer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.by_class;
        write!(f, "{} sessions, {} requests (2xx {}", self.sessions, self.requests, c.success)?;
        for (label, n) in [
            ("3xx", c.redirection),
            ("4xx", c.client_error),
            ("5xx", c.server_error),
            ("other", c.other),
        ] {
            if n > 0 {
                write!(f, ", {label} {n}")?;
            }
        }
        match self.unexpected.len() {
            0 => write!(f, "), no unexpected answers"),
            n => {
                write!(f, "), {n} unexpected answers:")?;
                for u in &self.unexpected {
                    write!(f, "\n  {} {} ({}): {}", u.session_id, u.endpoint, u.path, u.problem)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(base: &str, users: usize, concurrency: usize) -> DriveOptions {
        DriveOptions {
            base: base.to_string(),
            users,
            sessions: 1,
            seed: 1,
            concurrency,
            trust: ClientTrust::default(),
        }
    }

    #[test]
    fn options_are_checked_before_anything_is_sent() {
        assert_eq!(
            validate(&options("http://127.0.0.1:8080/", 3, 2)).ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            validate(&options("https://shop.example/", 1, 1)).ok().as_deref(),
            Some("https://shop.example")
        );
        for bad in [
            options("http://127.0.0.1:8080", 0, 1),
            options("http://127.0.0.1:8080", 5, 1),
            options("http://127.0.0.1:8080", 1, 0),
            options("127.0.0.1:8080", 1, 1),
            options("ftp://shop.example", 1, 1),
            options("http://shop.example/?x=1", 1, 1),
        ] {
            assert!(matches!(validate(&bad), Err(DriveError::Options(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_report_reads_as_one_line_when_all_went_well() {
        let mut report = DriveReport { sessions: 2, requests: 3, ..DriveReport::default() };
        report.by_class.success = 3;
        assert_eq!(report.to_string(), "2 sessions, 3 requests (2xx 3), no unexpected answers");
    }
}
