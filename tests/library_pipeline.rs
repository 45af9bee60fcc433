//! End to end on the sample library, with the real binary on loopback:
//! serve → record the QA driver → learn → init → run. Members sign up
//! inside their journeys, so `init` asks only for the staff, who exist
//! before any journey, and `run` gets past setup with nothing else set.

mod common;

use std::path::Path;

use common::{run, start_library, start_recorder, text, venomqa};
use serde_json::Value;
use venomqa_samples::STAFF;
use venomqa_testkit::TempStore;

/// Records the library's QA driver (4 members, 12 sessions) into `store`
/// and learns `model`.
fn record_and_learn(store: &str, model: &Path) {
    let (_library, url) = start_library("none");
    let (recorder, recorder_url) = start_recorder(&url, store, &[]);
    let drive = run(&[
        "sample",
        "drive",
        "--app",
        "library",
        "--base",
        &recorder_url,
        "--users",
        "4",
        "--sessions",
        "12",
        // One session at a time: the same recording on every run, so what
        // the tests below find does not depend on how sessions interleaved.
        "--concurrency",
        "1",
    ]);
    assert!(drive.status.success(), "drive failed: {}", text(&drive.stderr));
    recorder.stop_cleanly();
    let learned = run(&["learn", "--store", store, "--out", model.to_str().unwrap()]);
    assert!(learned.status.success(), "{}", text(&learned.stderr));
}

/// A recorded, learned and initialised library: the store, the work
/// directory, the model, `qa/`, its configuration and what `init` printed.
struct Library {
    _store: TempStore,
    _work: tempfile::TempDir,
    model: std::path::PathBuf,
    qa: std::path::PathBuf,
    config: String,
    init: std::process::Output,
}

/// Records and learns the library's QA driver, then `venomqa init qa`
/// against a correct library.
fn recorded_library() -> Library {
    let store = TempStore::new();
    let work = tempfile::tempdir().expect("tempdir");
    let model = work.path().join("model.json");
    record_and_learn(store.arg(), &model);
    let qa = work.path().join("qa");
    let (_library, url) = start_library("none");
    let init = run(&[
        "init",
        "--target",
        &url,
        "--reset",
        "POST /__reset",
        "--store",
        store.arg(),
        "--model",
        model.to_str().unwrap(),
        qa.to_str().unwrap(),
    ]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    let config = std::fs::read_to_string(qa.join("venomqa.toml")).expect("init wrote it");
    Library { _store: store, _work: work, model, qa, config, init }
}

/// The environment variable `init` named for the secret of the staff
/// account `email`: the `env` of the `[users.*]` table holding that email.
fn staff_variable(config: &str, email: &str) -> Option<String> {
    let table = config.split("\n[").find(|t| t.starts_with("users.") && t.contains(email))?;
    let after = table.split("env = \"").nth(1)?;
    Some(after.split('"').next()?.to_string())
}

/// `venomqa ARGS --target URL --json FILE` against a library with `bugs`,
/// the staff's secrets set as `init` asked; the exit code, the report and
/// what it printed.
fn against(qa: &Path, config: &str, bugs: &str, args: &[&str]) -> (Option<i32>, Value, String) {
    let (_library, url) = start_library(bugs);
    let report = qa.join(format!("{}-{bugs}.json", args[0]));
    let mut command = venomqa();
    command.args(args).args(["--target", &url, "--json"]).arg(&report);
    for staff in STAFF {
        let var = staff_variable(config, staff.email).expect("a variable for each staff account");
        command.env(var, staff.password);
    }
    let ran = command.output().expect("venomqa runs");
    let said = format!("{}{}", text(&ran.stdout), text(&ran.stderr));
    let json = std::fs::read(&report).unwrap_or_else(|e| panic!("no report ({e}): {said}"));
    (ran.status.code(), serde_json::from_slice(&json).expect("the report is JSON"), said)
}

/// `venomqa run qa` against a library with `bugs`: the exit code and the report.
fn run_against(qa: &Path, config: &str, bugs: &str) -> (Option<i32>, Value) {
    let (code, report, said) = against(qa, config, bugs, &["run", qa.to_str().unwrap()]);
    assert!(matches!(code, Some(0 | 1)), "run did not get past setup: {said}");
    (code, report)
}

/// `oracle / mutation: actions` of each finding, to print.
fn findings(report: &Value) -> Vec<String> {
    let list = report["findings"].as_array().expect("findings");
    list.iter().map(|f| format!("{} / {}: {}", f["oracle"], f["mutation"], f["actions"])).collect()
}

#[test]
fn the_library_runs_end_to_end_with_only_the_staff_configured() {
    let Library { init, model, qa, config, .. } = &recorded_library();
    let (model, qa) = (model.as_path(), qa.as_path());
    // Only the staff are asked for: the members are made by their journeys.
    let asked = text(&init.stdout);
    let variables: Vec<&str> = asked
        .lines()
        .find_map(|l| l.split("before `venomqa run").nth(1))
        .and_then(|l| l.split("`: ").nth(1))
        .map(|l| l.split(", ").collect())
        .unwrap_or_default();
    assert_eq!(variables.len(), STAFF.len(), "{asked}");
    for staff in STAFF {
        let var = staff_variable(config, staff.email).expect("a table for each staff account");
        assert!(variables.contains(&var.as_str()), "{var} in {asked}");
    }
    assert!(config.contains("# Generated: these accounts were signed up"), "{config}");
    assert!(config.contains("@members.test\n"), "the members are listed as generated: {config}");
    assert!(!config.contains("[users.ada"), "no table for a member: {config}");
    assert!(config.contains("\ntries = 3\n"), "{config}");

    let learned: Value =
        serde_json::from_slice(&std::fs::read(model).expect("model")).expect("model JSON");
    let journeys = learned["journeys"].as_array().map_or(0, Vec::len) as u64;
    assert!(journeys > 10, "the librarian's, the members' and the desk's: {journeys}");
    for bugs in ["all", "none"] {
        let (code, report) = run_against(qa, config, bugs);
        let stats = &report["stats"];
        // Every journey calibrated (replayed twice) before any mutation.
        assert!(stats["sequences"].as_u64().unwrap_or(0) >= 2 * journeys, "{stats}");
        let found = findings(&report);
        eprintln!("--bugs {bugs}: exit {code:?}, {stats}\n  {}", found.join("\n  "));
        if bugs == "none" {
            // A correct library: not one false finding.
            assert_eq!(code, Some(0), "{found:?}");
            assert!(found.is_empty(), "false findings on a correct library: {found:?}");
        } else {
            assert_eq!(code, Some(1), "planted bugs are found: {stats}");
            assert!(!found.is_empty(), "{stats}");
        }
    }
}

/// `venomqa explore --config qa` against a library with `bugs`: the exit
/// code and the report.
fn explore_against(qa: &Path, config: &str, bugs: &str) -> (Option<i32>, Value) {
    // A sequence budget bounds it, not the clock: the same search on a slow
    // machine as on a fast one; twice `init`'s, as the library's 27 starts
    // and 20 actions need before every bug's path is reached.
    let budget = config.find("\nsequences = ").expect("init writes a sequence budget");
    let end = budget + 1 + config[budget + 1..].find('\n').unwrap();
    let explore_config = format!("{}\nsequences = 4000{}", &config[..budget], &config[end..]);
    let file = qa.join("explore.toml");
    std::fs::write(&file, explore_config).unwrap();
    let args = ["explore", "--config", file.to_str().unwrap(), "--budget-seconds", "900"];
    let (code, report, _) = against(qa, config, bugs, &args);
    (code, report)
}

/// Each library bug `--bugs all` can show, as the finding that shows it:
/// its oracle and the actions its minimal sequence ends with.
/// create-after-logout does not show with every bug planted: the
/// session-after-logout bug lets every request of a dead session through,
/// so the create that only the first lets through is that same finding.
const LIBRARY_BUGS: [(&str, &str, &[&str]); 16] = [
    ("login-enumeration", "enumeration", &["POST /api/v1/session"]),
    ("session-after-logout", "stale-token", &[]),
    ("edit-after-withdraw", "after-delete", &["PATCH /api/v1/books/{slug}"]),
    ("loan-after-withdraw", "after-delete", &["POST /api/v1/loans"]),
    ("role-injection", "mass-assignment", &["PUT /api/v1/me"]),
    ("concurrent-borrow", "race", &[]),
    ("feature-by-member", "function-level-auth", &["POST /api/v1/books/{slug}/feature"]),
    ("cross-member-loan", "cross-user", &["POST /api/v1/loans/{loan_id}/return"]),
    // A password change shows no state of its own (its path reaches a state
    // another path had), yet it is tested: by another member.
    ("cross-member-password", "cross-user", &["PUT /api/v1/members/{member_id}/password"]),
    ("borrow-held-copy", "unexpected-accept", &["POST /api/v1/holds", "POST /api/v1/loans"]),
    ("stale-preferences", "stale-write", &["PUT /api/v1/me/preferences"]),
    ("stale-patch-after-put", "stale-write", &["PATCH /api/v1/me/preferences"]),
    (
        "renew-after-return",
        "unexpected-accept",
        &["POST /api/v1/loans/{loan_id}/return", "POST /api/v1/loans/{loan_id}/renew"],
    ),
    (
        "item-after-publish",
        "unexpected-accept",
        &["POST /api/v1/lists/{list_id}/publish", "POST /api/v1/lists/{list_id}/items"],
    ),
    (
        "double-pickup",
        "unexpected-accept",
        &["POST /api/v1/desk/pickups", "POST /api/v1/desk/pickups"],
    ),
    (
        "pickup-after-cancel",
        "unexpected-accept",
        &["POST /api/v1/holds/{hold_id}/cancel", "POST /api/v1/desk/pickups"],
    ),
];

#[test]
fn exploration_alone_finds_the_library_bugs_of_each_kind_and_nothing_on_a_correct_library() {
    let Library { qa, config, .. } = &recorded_library();
    let qa = qa.as_path();

    let (code, report) = explore_against(qa, config, "all");
    let found = findings(&report);
    eprintln!("explore --bugs all: exit {code:?}\n  {}", found.join("\n  "));
    assert_eq!(code, Some(1), "{}", report["exploration"]);
    let shown: Vec<(&str, Vec<&str>)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let actions = f["actions"].as_array().unwrap();
            (f["oracle"].as_str().unwrap(), actions.iter().map(|a| a.as_str().unwrap()).collect())
        })
        .collect();
    for (bug, oracle, ending) in LIBRARY_BUGS {
        assert!(
            shown.iter().any(|(o, actions)| *o == oracle && actions.ends_with(ending)),
            "{bug}: no {oracle} finding ending {ending:?} in {found:#?}"
        );
    }
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["mutation"], "explore", "{f}");
    }

    let (code, report) = explore_against(qa, config, "none");
    let found = findings(&report);
    assert!(found.is_empty(), "false findings on a correct library: {found:#?}");
    assert!(matches!(code, Some(0 | 4)), "clean, or incomplete by budget: {}", report["stats"]);
    assert!(report["exploration"]["paths"].as_u64().unwrap() > 50, "{}", report["exploration"]);
}
