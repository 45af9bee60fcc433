//! `venomqa init` and `venomqa run qa/` through the real binary, as CI uses
//! them: a configuration written from the recording, secrets from the
//! environment, exit codes 0 clean, 1 findings, 2 configuration, 3 target.

mod common;

use common::{recorded_and_initialised, run_qa, start_shop, text, venomqa};
use serde_json::Value;

/// The `time` attribute of every `<testcase>` element of a JUnit report, in seconds.
fn testcase_times(junit: &str) -> Vec<f64> {
    junit
        .split("<testcase ")
        .skip(1)
        .map(|element| {
            let attributes = element.split('>').next().unwrap_or("");
            let time = attributes
                .split(" time=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("a testcase without a time: {attributes}"));
            time.parse().unwrap_or_else(|_| panic!("time=\"{time}\" is not a number"))
        })
        .collect()
}

#[test]
fn init_then_run_finds_the_planted_bugs_and_reports_them_for_ci() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("all");
    let config = recorded_and_initialised(dir.path(), &shop_url);
    assert!(config.contains("store = \"../store\""), "the store is relative to qa/: {config}");
    assert!(config.contains("password = { env = \"VENOMQA_ALICE_PASSWORD\" }"), "{config}");
    assert!(!config.contains("alice-pw"), "no recorded secret is written: {config}");

    let qa = dir.path().join("qa");
    let json = dir.path().join("findings.json");
    let junit = dir.path().join("junit.xml");
    let out = dir.path().join("repro");
    let ran = run_qa(&[
        "run",
        qa.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = text(&ran.stdout);
    assert_eq!(ran.status.code(), Some(1), "findings exit 1:\n{stdout}\n{}", text(&ran.stderr));
    assert!(stdout.contains("cross-user"), "{stdout}");

    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let oracles: Vec<&str> = findings.iter().map(|f| f["oracle"].as_str().unwrap()).collect();
    for oracle in ["cross-user", "after-delete", "stale-token", "idempotency", "stale-write"] {
        assert!(oracles.contains(&oracle), "{oracle} missing from {oracles:?}");
    }
    for finding in findings {
        for field in ["oracle", "mutation", "actions", "confidence", "reproducer"] {
            assert!(!finding[field].is_null(), "{field} in {finding}");
        }
        assert_eq!(finding["actions"][0], "POST /login", "{finding}");
    }
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.starts_with("<?xml") && junit.contains("<testsuite name=\"venomqa\""), "{junit}");
    assert!(junit.contains("<failure"), "{junit}");
    // Each testcase (journey × mutation) carries the time its cases took.
    let times = testcase_times(&junit);
    assert!(times.len() > 5, "a testcase per journey and mutation: {junit}");
    assert!(times.iter().all(|t| *t >= 0.0), "{times:?}");
    assert!(times.iter().any(|t| *t > 0.0), "real per-testcase times, not all 0.000: {junit}");
    let scripts = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(scripts, findings.len(), "one reproducer a finding");
    shop.signal("TERM");
}

#[test]
fn a_correct_target_gives_exit_code_0_and_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("none");
    recorded_and_initialised(dir.path(), &shop_url);
    let qa = dir.path().join("qa");
    let ran = run_qa(&["run", qa.to_str().unwrap()]);
    let stdout = text(&ran.stdout);
    assert_eq!(ran.status.code(), Some(0), "{stdout}\n{}", text(&ran.stderr));
    assert!(stdout.contains("0 findings"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "no colour into a pipe: {stdout:?}");
    // `--color always` colours a pipe too, over NO_COLOR (set for every test run).
    let coloured = run_qa(&["run", qa.to_str().unwrap(), "--color", "always"]);
    assert!(text(&coloured.stdout).contains("\x1b[32m"), "{:?}", text(&coloured.stdout));
    shop.signal("TERM");
}

#[test]
fn configuration_and_target_problems_get_their_exit_codes_and_name_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("none");
    let config = recorded_and_initialised(dir.path(), &shop_url);
    let qa = dir.path().join("qa");
    let qa_arg = qa.to_str().unwrap();
    let file = qa.join("venomqa.toml");

    // A secret's variable that is not set.
    let ran = venomqa().args(["run", qa_arg]).output().unwrap();
    assert_eq!(ran.status.code(), Some(2));
    assert!(text(&ran.stderr).contains("VENOMQA_"), "{}", text(&ran.stderr));

    // A misspelt key: exit 2, the file and line named.
    std::fs::write(&file, config.replacen("[target]", "[target]\nurll = \"http://x\"", 1)).unwrap();
    let ran = run_qa(&["run", qa_arg]);
    assert_eq!(ran.status.code(), Some(2), "{}", text(&ran.stderr));
    let stderr = text(&ran.stderr);
    assert!(stderr.contains("venomqa.toml:") && stderr.contains("urll"), "{stderr}");

    // An invariant that does not parse: exit 2, the invariant and position named.
    let bad_cel = format!("{config}\n[[invariants]]\nname = \"broken\"\nresource = \"orders\"\nexpr = \"order.amount <=\"\n");
    std::fs::write(&file, bad_cel).unwrap();
    let ran = run_qa(&["run", qa_arg]);
    assert_eq!(ran.status.code(), Some(2), "{}", text(&ran.stderr));
    assert!(text(&ran.stderr).contains("\"broken\""), "{}", text(&ran.stderr));

    // A target that is down: exit 3 with a clear message.
    std::fs::write(&file, &config).unwrap();
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let ran = run_qa(&["run", qa_arg, "--target", &format!("http://{unused}")]);
    assert_eq!(ran.status.code(), Some(3), "{}", text(&ran.stderr));
    assert!(text(&ran.stderr).contains("refused"), "{}", text(&ran.stderr));

    // No target anywhere: run refuses rather than guessing.
    let no_target: String =
        config.lines().filter(|l| !l.starts_with("url =")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, no_target).unwrap();
    let ran = run_qa(&["run", qa_arg]);
    assert_eq!(ran.status.code(), Some(2), "{}", text(&ran.stderr));
    assert!(text(&ran.stderr).contains("no target"), "{}", text(&ran.stderr));

    // No configuration at all says how to make one.
    let nowhere = dir.path().join("nowhere");
    let ran = run_qa(&["run", nowhere.to_str().unwrap()]);
    assert_eq!(ran.status.code(), Some(2));
    let hint = format!("`venomqa init {} --target URL`", nowhere.display());
    assert!(text(&ran.stderr).contains(&hint), "{}", text(&ran.stderr));
    shop.signal("TERM");
}
