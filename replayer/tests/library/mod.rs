//! The sample library as the replay tests use it: its QA run recorded and
//! learned, `init`'s configuration with the staff's secrets, and runs of
//! one mutation family against a library with chosen bugs.
#![allow(dead_code)]

use std::path::Path;

use venomqa_learner::{learn, LearnOptions, Model};
use venomqa_replayer::{replay, starter_config_from, Config, Finding, Recorded};
use venomqa_samples::{spawn_library, LibraryBugSet, LibraryConfig, STAFF};
use venomqa_testkit::record_library_sessions;

/// The library's QA run recorded and learned.
pub async fn recorded_library() -> (Model, Recorded) {
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none(), tls: None })
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
pub fn config(text: &str, secret: impl Fn(&str) -> Option<String>) -> Config {
    Config::parse_with_env(text, Path::new("qa/venomqa.toml"), secret).expect("config parses")
}

/// The staff's real passwords, by the variable `init` named for them.
pub fn staff_secret(var: &str) -> Option<String> {
    STAFF
        .iter()
        .find(|s| var.contains(&s.email.split('@').next().unwrap_or("").to_ascii_uppercase()))
        .map(|s| s.password.to_string())
}

/// Runs only the `family` mutations of the recorded library against one with `bugs`.
pub async fn findings_of(
    model: &Model,
    recorded: &Recorded,
    family: &str,
    bugs: LibraryBugSet,
) -> Vec<Finding> {
    let library =
        spawn_library(LibraryConfig { bugs, tls: None }).await.expect("start the library");
    let text =
        starter_config_from(model, recorded, "store", &library.base_url(), Some("POST /__reset"));
    let mut config = config(&text, staff_secret);
    config.mutations.enabled.retain(|m| m.name() == family);
    let outcome = replay(model, recorded, &config, |_| {}).await.expect("replay runs");
    library.shutdown().await;
    outcome.findings
}
