//! Identities made inside journeys, on the sample library (members sign up
//! in their first session, then log in by email with a nested JSON body or
//! a form; a failed login answers `200 {"ok": false}`): `init` asks only for
//! the staff, replay signs members up again with fresh accounts and logs
//! them in with the secret it signed them up with, and a login that answers
//! 2xx without a credential fails calibration, saying so.

mod library;

use library::{config, recorded_library, staff_secret};
use venomqa_replayer::{replay, starter_config_from, Error};
use venomqa_samples::{spawn_library, LibraryBugSet, LibraryConfig};

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
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none(), tls: None })
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
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none(), tls: None })
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
