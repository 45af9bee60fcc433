//! The library's QA driver: realistic happy-path sessions to record.
//!
//! A run is planned from its seed (`plan`), then played in three parts:
//! the librarian stocks the catalogue (`staff`); members play their
//! sessions (`journeys`, with `auth` and `profile`) in waves, up to
//! `concurrency` at a time, each member once a wave; the desk redeems the
//! pickup codes members were issued, in batches of [`DESK_BATCH`]
//! (`staff`). `--sessions` counts the member sessions, so a run plays one
//! more session before them and at least one after.
//!
//! Members sign up in their first session with an email made unique by the
//! run (as book slugs are), so two runs can share a library without a
//! reset; a member changes their password only in their last session. The
//! driver goes through `HTTP_PROXY` when it is set, like the shop's, and
//! never triggers a planted bug: a library with every bug planted answers
//! each of its requests with the status a correct one gives, and the same
//! body, except the message of a failed login (`login-enumeration` lives
//! in that message).

mod auth;
mod journeys;
pub(crate) mod plan;
mod profile;
mod staff;
mod visit;

use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::JoinSet;

use crate::driver::http;
use crate::driver::text::sample_base;
use crate::driver::{DriveError, DriveOptions, DriveReport};
use crate::ids::random_chars;
use auth::Account;
use plan::{RunPlan, MEMBER_NAMES, SURNAMES};
use visit::{Visit, VisitLog};

/// Pickup codes the desk redeems in one session.
pub const DESK_BATCH: usize = 5;

/// Everything a run's sessions share.
pub(crate) struct Run {
    client: reqwest::Client,
    base: String,
    plan: RunPlan,
    /// Makes this run's emails, slugs and `X-Session` values its own.
    run_id: String,
    /// Pickup codes members were issued, waiting for the desk.
    codes: Mutex<Vec<String>>,
}

impl Run {
    /// The slug of the run's `k`th book: its title's words and the run id.
    fn slug(&self, k: usize) -> String {
        format!("{}-{}", self.plan.books[k].slug_stem, self.run_id)
    }

    /// The account member `k` signs up with.
    fn member(&self, k: usize) -> Account {
        let name = MEMBER_NAMES[k];
        let lower = name.to_ascii_lowercase();
        Account {
            email: format!("{lower}.{}@members.test", self.run_id),
            password: format!("{lower}-reads-{}", self.run_id),
            name: name.to_string(),
        }
    }

    /// Member `k`'s account after their password change.
    fn member_renewed(&self, k: usize) -> Account {
        let lower = MEMBER_NAMES[k].to_ascii_lowercase();
        Account { password: format!("{lower}-rereads-{}", self.run_id), ..self.member(k) }
    }

    /// The name member `k` gives their profile: first name and surname.
    fn full_name(&self, k: usize) -> String {
        format!("{} {}", MEMBER_NAMES[k], SURNAMES[k])
    }

    fn hand_to_desk(&self, code: String) {
        self.codes.lock().unwrap_or_else(PoisonError::into_inner).push(code);
    }

    fn session_id(&self, index: usize) -> String {
        format!("lib-{}-{index:02}", self.run_id)
    }
}

/// Plays a library QA run against `opts.base`: `opts.users` members (1 to
/// 12) in `opts.sessions` member sessions, plus the staff's sessions.
///
/// Unexpected answers are reported, not errors; the run fails only when it
/// cannot start or a request gets no answer at all.
pub async fn drive_library(opts: DriveOptions) -> Result<DriveReport, DriveError> {
    let base = validate(&opts)?;
    let agent = concat!("venomqa-library-driver/", env!("CARGO_PKG_VERSION"));
    let client = http::client(agent, &opts.trust)?;
    let run = Arc::new(Run {
        client,
        base,
        plan: plan::plan(opts.seed, opts.users, opts.sessions),
        run_id: random_chars(6),
        codes: Mutex::new(Vec::new()),
    });

    let mut logs = vec![play(Arc::clone(&run), 0, Part::Catalogue).await?];
    logs.extend(play_members(&run, opts.users, opts.concurrency).await?);
    logs.extend(play_desk(&run).await?);
    Ok(report(&run, logs))
}

/// The member sessions in waves of `members` (each member once a wave),
/// `concurrency` at a time; session `1 + k` plays the plan's `k`th.
async fn play_members(
    run: &Arc<Run>,
    members: usize,
    concurrency: usize,
) -> Result<Vec<(usize, VisitLog)>, DriveError> {
    let mut logs = Vec::new();
    let indexes: Vec<usize> = (1..=run.plan.sessions.len()).collect();
    for wave in indexes.chunks(members) {
        for group in wave.chunks(concurrency) {
            let mut set = JoinSet::new();
            for &index in group {
                set.spawn(play(Arc::clone(run), index, Part::Member(index - 1)));
            }
            while let Some(joined) = set.join_next().await {
                let failed = |err| DriveError::Client(format!("a driver task failed: {err}"));
                logs.push(joined.map_err(failed)??);
            }
        }
    }
    Ok(logs)
}

/// The desk's sessions, after every member's: [`DESK_BATCH`] codes each, at least one.
async fn play_desk(run: &Arc<Run>) -> Result<Vec<(usize, VisitLog)>, DriveError> {
    let codes = std::mem::take(&mut *run.codes.lock().unwrap_or_else(PoisonError::into_inner));
    let mut batches: Vec<Vec<String>> = codes.chunks(DESK_BATCH).map(<[String]>::to_vec).collect();
    if batches.is_empty() {
        batches.push(Vec::new());
    }
    let first = 1 + run.plan.sessions.len();
    let mut logs = Vec::new();
    for (index, batch) in (first..).zip(batches) {
        logs.push(play(Arc::clone(run), index, Part::Desk(batch)).await?);
    }
    Ok(logs)
}

/// Which journey a session plays.
enum Part {
    Catalogue,
    /// The index of the member session in the plan.
    Member(usize),
    Desk(Vec<String>),
}

async fn play(run: Arc<Run>, index: usize, part: Part) -> Result<(usize, VisitLog), DriveError> {
    let session_id = run.session_id(index);
    let mut visit = Visit::new(&run.client, &run.base, index, &session_id);
    match part {
        Part::Catalogue => staff::stock_catalogue(&mut visit, &run).await?,
        Part::Member(k) => {
            journeys::member_session(&mut visit, &run, &run.plan.sessions[k]).await?
        }
        Part::Desk(codes) => staff::redeem_pickups(&mut visit, &codes).await?,
    }
    Ok((index, visit.log))
}

fn report(run: &Run, mut logs: Vec<(usize, VisitLog)>) -> DriveReport {
    logs.sort_by_key(|(index, _)| *index);
    let mut report = DriveReport {
        sessions: logs.len(),
        session_ids: (0..logs.len()).map(|i| run.session_id(i)).collect(),
        ..DriveReport::default()
    };
    for (_, log) in logs {
        for step in &log.steps {
            let class = &mut report.by_class;
            match step.status {
                200..=299 => class.success += 1,
                300..=399 => class.redirection += 1,
                400..=499 => class.client_error += 1,
                500..=599 => class.server_error += 1,
                _ => class.other += 1,
            }
        }
        report.requests += log.steps.len();
        report.steps.extend(log.steps);
        report.unexpected.extend(log.unexpected);
    }
    report
}

/// Checks the options and returns the base URL without a trailing slash.
fn validate(opts: &DriveOptions) -> Result<String, DriveError> {
    if !(1..=MEMBER_NAMES.len()).contains(&opts.users) {
        return Err(DriveError::Options(format!(
            "users must be 1 to {} members for the library, got {}",
            MEMBER_NAMES.len(),
            opts.users
        )));
    }
    if opts.concurrency == 0 {
        return Err(DriveError::Options("concurrency must be at least 1".into()));
    }
    sample_base(&opts.base, "library")
}
