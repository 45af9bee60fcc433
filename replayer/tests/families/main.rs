//! The families that need more of the model than reordering, each against
//! a small project tracker on loopback: with its bug planted the family's
//! oracle finds it; with the tracker correct, the family stays silent.

mod record;
mod server;

use std::path::Path;

use record::{record, Learned};
use server::{start, Bugs};
use venomqa_replayer::{replay, Confidence, Config, Finding, OracleKind};

/// Runs only `family` against a tracker with `bugs`.
async fn run(learned: &Learned, family: &str, bugs: Bugs) -> Vec<Finding> {
    let tracker = start(bugs).await;
    let text = format!(
        r#"
[target]
url = "http://{addr}"
timeout = "5s"

[reset]
request = "POST /__reset"

[users.ann]
username = "ann"
password = "ann-pw"

[users.bo]
username = "bo"
password = "bo-pw"

[users.sam]
username = "sam"
password = "sam-pw"

[mutations]
enabled = ["{family}"]
"#,
        addr = tracker.addr
    );
    let config = Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| None)
        .expect("config parses");
    let outcome = replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("runs");
    assert!(outcome.stats.cases_run > 0, "{family} made no case");
    for f in &outcome.findings {
        assert_eq!(f.mutation, family, "{f:#?}");
    }
    outcome.findings
}

/// Runs a finding's reproducer with bash against a tracker with `bugs`:
/// its exit code (1 reproduced, 0 not) and what it printed.
async fn reproduce(f: &Finding, bugs: Bugs) -> (Option<i32>, String) {
    let tracker = start(bugs).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("reproduce.sh");
    std::fs::write(&script, &f.reproducer).unwrap();
    let target = format!("http://{}", tracker.addr);
    let ran = tokio::process::Command::new("bash")
        .arg(&script)
        .env("TARGET", &target)
        .output()
        .await
        .expect("bash runs");
    let out =
        String::from_utf8_lossy(&ran.stdout).to_string() + &String::from_utf8_lossy(&ran.stderr);
    (ran.status.code(), out)
}

fn show(findings: &[Finding]) -> Vec<(OracleKind, Vec<String>, String)> {
    findings.iter().map(|f| (f.oracle, f.actions.clone(), f.summary.clone())).collect()
}

/// The one finding of `oracle`, its actions ending with `last`.
fn only<'a>(findings: &'a [Finding], oracle: OracleKind, last: &str) -> &'a Finding {
    assert_eq!(findings.len(), 1, "{:#?}", show(findings));
    let f = &findings[0];
    assert_eq!(f.oracle, oracle, "{:#?}", show(findings));
    assert_eq!(f.actions.last().map(String::as_str), Some(last), "{:#?}", show(findings));
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_has_what_the_families_need() {
    let learned = record().await;
    let m = &learned.model;
    let staff = m.roles.iter().find(|r| r.name == "staff").expect("a staff role");
    assert_eq!(staff.only, ["POST /projects/{project_id}/approve"], "{:#?}", m.roles);
    assert!(m.roles.iter().any(|r| r.name == "member" && r.users.contains(&"ann".to_string())));
    let child = m.children.iter().find(|c| c.parent == "projects").expect("tasks are children");
    assert_eq!(child.create, "POST /projects/{project_id}/tasks");
    let machine = m.machine("projects").expect("a machine");
    assert!(machine.has_transition("draft", "POST /projects/{project_id}/submit", "submitted"));
    assert_eq!(m.auth.account.as_deref(), Some("/username"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_with_a_logged_out_token_is_found_by_the_instance_it_made() {
    let learned = record().await;
    let bug = Bugs { dead_create: true, ..Bugs::default() };
    let found = run(&learned, "after-logout", bug).await;
    let f = only(&found, OracleKind::StaleToken, "POST /projects");
    assert_eq!(f.actions, ["POST /login", "POST /logout", "POST /projects"]);
    assert!(
        f.evidence.iter().any(|e| e.contains("made-up token answered 401")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.evidence.iter().any(|e| e.contains("logged-out token answered 401")),
        "{:?}",
        f.evidence
    );
    assert!(run(&learned, "after-logout", Bugs::default()).await.is_empty());
    // A tracker that takes anonymous creates takes the made-up token too: not a logout bug.
    let open = Bugs { open_create: true, ..Bugs::default() };
    assert!(run(&learned, "after-logout", open).await.is_empty());
    // A token that works everywhere after the logout is one bug, shown by a
    // request on an instance rather than by the create.
    let everywhere = Bugs { token_after_logout: true, ..Bugs::default() };
    let found = run(&learned, "after-logout", everywhere).await;
    assert_eq!(found.len(), 1, "{:#?}", show(&found));
    assert_ne!(found[0].actions.last().map(String::as_str), Some("POST /projects"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_made_stale_by_another_write_is_found_only_interleaved() {
    let learned = record().await;
    let bug = Bugs { interleaved: true, ..Bugs::default() };
    let found = run(&learned, "interleaved-validator", bug).await;
    assert_eq!(found.len(), 2, "{:#?}", show(&found));
    assert!(found.iter().all(|f| f.oracle == OracleKind::StaleWrite), "{:#?}", show(&found));
    let on = |last: &str| found.iter().find(|f| f.actions.last().map(String::as_str) == Some(last));
    let patch = on("PATCH /projects/{project_id}").expect("a project's stale PATCH");
    let patches = patch.actions.iter().filter(|a| a.starts_with("PATCH")).count();
    assert!(patches >= 2, "{:?}", patch.actions);
    // The settings are a per-user singleton: their owner's read shows the
    // stale write, or (its fields enum-like, so left unmarked) the answer
    // carries a version of its own past the one the other write left.
    let put = on("PUT /me/settings").expect("the settings' stale PUT");
    let shown = |e: &String| e.contains("read-back now shows") || e.contains("made a new version");
    assert!(put.evidence.iter().any(shown), "{:?}", put.evidence);
    // The same tracker refuses the stale validator sent twice in a row.
    assert!(run(&learned, "stale-validator", bug).await.is_empty());
    assert!(run(&learned, "interleaved-validator", Bugs::default()).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_added_after_its_project_was_submitted_is_found() {
    let learned = record().await;
    let bug = Bugs { child_after: true, ..Bugs::default() };
    let found = run(&learned, "child-after-transition", bug).await;
    let f = only(&found, OracleKind::UnexpectedAccept, "POST /projects/{project_id}/tasks");
    assert_eq!(f.confidence, Confidence::Low);
    assert!(f.summary.contains("`submitted`"), "{}", f.summary);
    assert!(run(&learned, "child-after-transition", Bugs::default()).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_no_request_sent_and_the_server_stored_is_mass_assignment() {
    let learned = record().await;
    // A state set by the client, not by a transition, is tried first and sure to be a bug.
    let bug = Bugs { injected_status: true, injected_budget: true, ..Bugs::default() };
    let found = run(&learned, "field-injection", bug).await;
    let f = only(&found, OracleKind::MassAssignment, "POST /projects");
    assert!(f.summary.contains("`status`"), "{}", f.summary);
    assert_eq!(f.confidence, Confidence::High);
    // A number the server keeps is found too, with less confidence.
    let budget = Bugs { injected_budget: true, ..Bugs::default() };
    let found = run(&learned, "field-injection", budget).await;
    let f = only(&found, OracleKind::MassAssignment, "POST /projects");
    assert!(f.summary.contains("`budget` = 1000"), "{}", f.summary);
    assert_eq!(f.confidence, Confidence::Low);
    // Its reproducer reads the project back and looks for the budget sent.
    let (code, out) = reproduce(f, budget).await;
    assert_eq!(code, Some(1), "{out}\n{}", f.reproducer);
    assert!(out.contains("REPRODUCED: the read-back (step 3) shows `budget` = 1000"), "{out}");
    let (code, out) = reproduce(f, Bugs::default()).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("NOT REPRODUCED: the read-back"), "{out}");
    // A server that ignores fields it does not take stays silent.
    assert!(run(&learned, "field-injection", Bugs::default()).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_answered_otherwise_than_a_wrong_password_is_enumeration() {
    let learned = record().await;
    let bug = Bugs { enumeration: true, ..Bugs::default() };
    let found = run(&learned, "enumeration", bug).await;
    let f = only(&found, OracleKind::Enumeration, "POST /login");
    assert_eq!(f.confidence, Confidence::Low);
    assert!(f.summary.contains("status 404"), "{}", f.summary);
    // Its reproducer compares the two logins' statuses.
    let (code, out) = reproduce(f, bug).await;
    assert_eq!(code, Some(1), "{out}\n{}", f.reproducer);
    assert!(out.contains("unknown account: 404, wrong secret: 401"), "{out}");
    let (code, out) = reproduce(f, Bugs::default()).await;
    assert_eq!(code, Some(0), "{out}");
    // The same status with another message is told apart too.
    let by_body = Bugs { enumeration_body: true, ..Bugs::default() };
    let found = run(&learned, "enumeration", by_body).await;
    let f = only(&found, OracleKind::Enumeration, "POST /login");
    assert!(f.summary.contains("/error differ"), "{}", f.summary);
    // Its reproducer compares the two answers' `error`, accounts taken out.
    let (code, out) = reproduce(f, by_body).await;
    assert_eq!(code, Some(1), "{out}\n{}", f.reproducer);
    assert!(out.contains("unknown account / wrong secret: error:"), "{out}");
    let (code, out) = reproduce(f, Bugs::default()).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("answered alike in error"), "{out}");
    // A difference the script's shell cannot read (a boolean) is not
    // checked by it: it says it cannot confirm, never that it is fixed.
    let by_flag = Bugs { enumeration_flag: true, ..Bugs::default() };
    let found = run(&learned, "enumeration", by_flag).await;
    let f = only(&found, OracleKind::Enumeration, "POST /login");
    assert!(f.summary.contains("/known differ"), "{}", f.summary);
    let (code, out) = reproduce(f, by_flag).await;
    assert_eq!(code, Some(2), "{out}\n{}", f.reproducer);
    assert!(run(&learned, "enumeration", Bugs::default()).await.is_empty());
    // Answers that differ only by the account they name and a fresh request id are the same.
    let chatty = Bugs { chatty_logins: true, ..Bugs::default() };
    assert!(run(&learned, "enumeration", chatty).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_only_action_accepted_from_a_member_is_found_by_its_effect() {
    let learned = record().await;
    let bug = Bugs { lesser_role: true, ..Bugs::default() };
    let found = run(&learned, "as-lesser-role", bug).await;
    let f = only(&found, OracleKind::FunctionLevelAuth, "POST /projects/{project_id}/approve");
    // The whole journey is sent by a member, on a project of their own.
    for r in &f.requests {
        assert!(
            matches!(r.user.as_deref(), Some("ann" | "bo")),
            "{:?} sent as {:?}",
            r.action,
            r.user
        );
    }
    assert!(f.evidence.iter().any(|e| e.contains("approved")), "{:?}", f.evidence);
    assert!(run(&learned, "as-lesser-role", Bugs::default()).await.is_empty());
    // A 200 that changes nothing is no finding.
    let noop = Bugs { lesser_noop: true, ..Bugs::default() };
    assert!(run(&learned, "as-lesser-role", noop).await.is_empty());
}
