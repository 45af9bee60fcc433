//! Identities made inside journeys, on the sample library (members sign up
//! in their first session, then log in by email with a nested JSON body or
//! a form; a failed login answers `200 {"ok": false}`): `init` asks only for
//! the staff, replay signs members up again with fresh accounts and logs
//! them in with the secret it signed them up with, and a login that answers
//! 2xx without a credential fails calibration, saying so.

use std::path::Path;

use venomqa_learner::{learn, LearnOptions, Model};
use venomqa_replayer::{replay, starter_config_from, Config, Error, Recorded};
use venomqa_samples::{spawn_library, LibraryBug, LibraryBugSet, LibraryConfig, STAFF};
use venomqa_testkit::record_library_sessions;

/// The library's QA run recorded and learned.
async fn recorded_library() -> (Model, Recorded) {
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none() })
        .await
        .expect("start the library");
    let exchanges = record_library_sessions(&library.base_url(), 8, 7).await;
    library.shutdown().await;
    let model =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learn").model;
    (model, Recorded::from_exchanges(exchanges))
}

/// `init`'s configuration for `target`, with `secret` giving each staff
/// variable its value (the variable names the staff member's table).
fn config(text: &str, secret: impl Fn(&str) -> Option<String>) -> Config {
    Config::parse_with_env(text, Path::new("qa/venomqa.toml"), secret).expect("config parses")
}

/// The staff's real passwords, by the variable `init` named for them.
fn staff_secret(var: &str) -> Option<String> {
    STAFF
        .iter()
        .find(|s| var.contains(&s.email.split('@').next().unwrap_or("").to_ascii_uppercase()))
        .map(|s| s.password.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_asks_only_for_the_staff_and_lists_signed_up_members_as_generated() {
    let (model, recorded) = recorded_library().await;
    let text = starter_config_from(&model, &recorded, "store", "http://127.0.0.1:1", None);
    let tables: Vec<&str> = text.lines().filter(|l| l.starts_with("[users.")).collect();
    assert_eq!(tables, ["[users.librarian]", "[users.desk]"], "{text}");
    let variables = text.lines().filter(|l| !l.starts_with('#') && l.contains("env = ")).count();
    assert_eq!(variables, 2, "one secret each for the staff: {text}");
    assert!(text.contains("# Generated: these accounts were signed up"), "{text}");
    let generated = text.lines().filter(|l| l.starts_with("#   ") && l.contains("@members.test"));
    assert_eq!(generated.count(), 4, "the four members: {text}");
    // A form login's email is given decoded, as the user would type it.
    assert!(text.contains("email = \"desk@library.test\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_sign_up_again_and_log_in_with_what_they_signed_up_with() {
    let (model, recorded) = recorded_library().await;
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none() })
        .await
        .expect("start the library");
    let text =
        starter_config_from(&model, &recorded, "store", &library.base_url(), Some("POST /__reset"));
    let mut config = config(&text, staff_secret);
    config.mutations.enabled.clear();
    // Every journey calibrates: a member's login that failed would stop the run.
    let outcome = replay(&model, &recorded, &config, |_| {}).await.expect("replay runs");
    assert_eq!(outcome.stats.sequences, 2 * outcome.stats.journeys as u64);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);

    // Without a reset the recorded accounts exist after the first sequence:
    // each sequence signs up an account of its own.
    config.reset = None;
    let outcome = replay(&model, &recorded, &config, |_| {}).await.expect("replay runs");
    assert_eq!(outcome.stats.sequences, 2 * outcome.stats.journeys as u64);
    library.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_login_answered_200_without_a_session_fails_calibration_saying_so() {
    let (model, recorded) = recorded_library().await;
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none() })
        .await
        .expect("start the library");
    let text =
        starter_config_from(&model, &recorded, "store", &library.base_url(), Some("POST /__reset"));
    let config = config(&text, |var| {
        if var.contains("DESK") {
            Some("not-the-password".into())
        } else {
            staff_secret(var)
        }
    });
    let err = replay(&model, &recorded, &config, |_| {}).await.expect_err("refused");
    assert!(
        matches!(&err, Error::Login { user, status: Some(200), .. } if user == "desk"),
        "{err:?}"
    );
    let said = err.to_string();
    assert!(said.contains("no credential") && said.contains("failed login"), "{said}");
    assert!(said.contains("wrong email or password"), "the answer is shown: {said}");
    library.shutdown().await;
}

/// Runs only the `family` mutations of the recorded library against one with `bugs`.
async fn findings_of(
    model: &Model,
    recorded: &Recorded,
    family: &str,
    bugs: LibraryBugSet,
) -> Vec<venomqa_replayer::Finding> {
    let library = spawn_library(LibraryConfig { bugs }).await.expect("start the library");
    let text =
        starter_config_from(model, recorded, "store", &library.base_url(), Some("POST /__reset"));
    let mut config = config(&text, staff_secret);
    config.mutations.enabled.retain(|m| m.name() == family);
    let outcome = replay(model, recorded, &config, |_| {}).await.expect("replay runs");
    library.shutdown().await;
    outcome.findings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signed_up_in_the_sequence_changes_another_members_password() {
    // The intruder is a member too: an identity the journeys make, signed
    // up in the case. The victim's id (from their own login's answer) stays
    // in the path, and both logins that prove the change send the accounts
    // this sequence made.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::CrossMemberPassword);
    let found = findings_of(&model, &recorded, "as-other-user", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a.ends_with("/password")))
        .unwrap_or_else(|| panic!("the password change is found: {found:#?}"));
    assert!(f.summary.contains("credentials"), "{}", f.summary);
    assert!(
        f.actions.iter().filter(|a| *a == "POST /api/v1/members").count() >= 2,
        "{:?}",
        f.actions
    );
    assert!(f.evidence.iter().any(|e| e.contains("with a session")), "{:?}", f.evidence);
    // A library that refuses it: nothing.
    let none = findings_of(&model, &recorded, "as-other-user", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_under_a_members_dead_session_is_read_back_by_a_login_of_the_same_member() {
    // The member was made in the sequence: the probe's own login after the
    // logout sends the account and secret this sequence made for them.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::CreateAfterLogout);
    let found = findings_of(&model, &recorded, "after-logout", bug).await;
    let members_create = ["POST /api/v1/loans", "POST /api/v1/holds", "POST /api/v1/lists"];
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| members_create.contains(&a.as_str())))
        .unwrap_or_else(|| panic!("a member's dead create is found: {found:#?}"));
    assert!(f.summary.contains("with the token of a session that had logged out"), "{}", f.summary);
    assert!(f.evidence.iter().any(|e| e.contains("read-back shows")), "{:?}", f.evidence);
    let none = findings_of(&model, &recorded, "after-logout", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}
