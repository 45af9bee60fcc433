//! `venomqa init` and `venomqa run qa/` through the real binary, as CI uses
//! them: a configuration written from the recording, secrets from the
//! environment, exit codes 0 clean, 1 findings, 2 configuration, 3 target.

mod common;

use common::{recorded_and_initialised, run_qa, shellcheck_clean, start_shop, text, venomqa};
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
    // The user's invariant: the double refund breaks it.
    let mut with_invariant = config.clone();
    with_invariant.push_str(
        "\n[[invariants]]\nname = \"refunds never exceed the amount\"\nresource = \"orders\"\nexpr = \"order.refunded <= order.amount\"\n",
    );
    std::fs::write(qa.join("venomqa.toml"), with_invariant).unwrap();
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
    for oracle in
        ["cross-user", "after-delete", "stale-token", "idempotency", "stale-write", "invariant"]
    {
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

    // No artifact holds a secret the run was given: each says its variable.
    let mut artifacts = vec![("stdout".to_string(), ran.stdout.clone())];
    artifacts.push(("stderr".to_string(), ran.stderr.clone()));
    artifacts.push(("json".to_string(), std::fs::read(&json).unwrap()));
    artifacts.push(("junit".to_string(), junit.clone().into_bytes()));
    for script in std::fs::read_dir(&out).unwrap() {
        let path = script.unwrap().path();
        artifacts.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    // And what the configuration writes besides: the HTML page, the model.
    let html = qa.join("report.html");
    assert!(html.exists(), "init turns the HTML report on");
    for path in [html, qa.join("model.json"), qa.join("venomqa.toml")] {
        artifacts.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    for (name, bytes) in &artifacts {
        for user in common::SHOP_USERS {
            let secret = format!("{user}-pw");
            assert!(!common::contains(bytes, secret.as_bytes()), "{secret} in {name}");
        }
    }
    let json_text = String::from_utf8(std::fs::read(&json).unwrap()).unwrap();
    assert!(json_text.contains("${VENOMQA_ALICE_PASSWORD}"), "the variable stands in for it");

    // A reproducer reads the secrets from the same variables, and logs in
    // for itself: run against the shop, it needs them and then runs.
    let mut scripts: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    scripts.sort();
    let script = scripts
        .iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("-cross-user-"))
        .expect("a cross-user reproducer");
    let text_of_script = std::fs::read_to_string(script).unwrap();
    assert!(text_of_script.contains(": \"${VENOMQA_"), "{text_of_script}");
    let bare = std::process::Command::new("bash").arg(script).env("TARGET", &shop_url).output();
    let bare = bare.unwrap();
    assert!(!bare.status.success(), "no secrets set: the script stops");
    assert!(text(&bare.stderr).contains("VENOMQA_"), "{}", text(&bare.stderr));

    // Every reproducer confirms its bug: REPRODUCED (exit 1) on the shop
    // with the bugs, NOT REPRODUCED (exit 0) on a correct shop. The
    // idempotency script compares the owner's read-backs around the retry,
    // the invariant's evaluates the invariant on the read-back, the race's
    // sends its two calls at once, starting from a random one (a race may
    // need more tries: curls mostly arrive in the order they start, and on
    // a loaded machine starting one can take longer than the race's 20 ms
    // window).
    let (correct, correct_url) = start_shop("none");
    let run_script = |script: &std::path::Path, target: &str| {
        let mut command = std::process::Command::new("bash");
        common::with_shop_secrets(command.arg(script).env("TARGET", target));
        let ran = command.output().unwrap();
        (ran.status.code(), text(&ran.stdout), text(&ran.stderr))
    };
    for script in &scripts {
        let name = script.file_name().unwrap().to_string_lossy().to_string();
        let tries = if name.contains("-race-") { 6 } else { 1 };
        let mut last = (None, String::new(), String::new());
        for _ in 0..tries {
            last = run_script(script, &shop_url);
            if last.0 == Some(1) {
                break;
            }
        }
        let (code, said, err) = last;
        assert_eq!(code, Some(1), "{name} on the shop with the bugs:\n{said}\n{err}");
        assert!(said.contains("\nREPRODUCED: "), "{name}: {said}");
        assert!(
            said.contains("-> 200 (recorded 200)"),
            "the login works from the variables: {said}"
        );
        let (code, said, err) = run_script(script, &correct_url);
        assert_eq!(code, Some(0), "{name} on a correct shop:\n{said}\n{err}");
        assert!(said.contains("\nNOT REPRODUCED: "), "{name}: {said}");
    }
    let named = |oracle: &str| {
        let script = scripts.iter().find(|p| p.to_string_lossy().contains(oracle));
        std::fs::read_to_string(script.unwrap_or_else(|| panic!("a {oracle} script"))).unwrap()
    };
    assert!(named("-idempotency-").contains("the retry changed the read-back again"));
    assert!(named("-invariant-").contains("LC_ALL=C awk "));
    assert!(named("-race-").contains("\nwait\n"), "{}", named("-race-"));
    // Its calls start from a random one, so that a rerun tries another order.
    assert!(named("-race-").contains("start=$((RANDOM % ${#launches[@]}))"), "{}", named("-race-"));
    correct.signal("TERM");
    shellcheck_clean(&out);
    shop.signal("TERM");
}

/// `junit` is valid against the Jenkins JUnit schema (the xunit plugin's
/// `junit-10.xsd`, which `.ci/run` takes from pytest's source release and
/// names in VENOMQA_JUNIT_XSD), checked by `xmllint`. Without the variable
/// the check is skipped, loudly; with it, a missing xmllint is an error.
fn valid_for_jenkins(junit: &str) {
    let Ok(xsd) = std::env::var("VENOMQA_JUNIT_XSD") else {
        eprintln!("SKIPPED the Jenkins JUnit schema check: VENOMQA_JUNIT_XSD names no schema (.ci/run fetches it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, junit).unwrap();
    let checked = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", &xsd])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint is required with VENOMQA_JUNIT_XSD: {e}; apt-get install -y libxml2-utils"
            )
        });
    assert!(checked.status.success(), "not valid for Jenkins:\n{}\n{junit}", text(&checked.stderr));
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

#[test]
fn a_budget_that_runs_out_before_the_plan_is_tested_exits_4_never_0() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("none");
    let config = recorded_and_initialised(dir.path(), &shop_url);
    let qa = dir.path().join("qa");
    let with_budget = |budget: &str| {
        let budget_table = config.find("[budget]").expect("init writes [budget]");
        let rest = &config[budget_table..];
        let end = rest.find("\n\n").map_or(config.len(), |n| budget_table + n);
        let text = format!("{}{budget}{}", &config[..budget_table], &config[end..]);
        std::fs::write(qa.join("venomqa.toml"), text).unwrap();
    };

    // Requests run out after calibration: every planned test is skipped.
    with_budget("[budget]\nrequests = 50");
    let json = dir.path().join("run.json");
    let ran = run_qa(&["run", qa.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    let stdout = text(&ran.stdout);
    assert_eq!(ran.status.code(), Some(4), "{stdout}\n{}", text(&ran.stderr));
    assert!(stdout.contains("incomplete: the `requests` budget ran out"), "{stdout}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let stats = &report["stats"];
    assert_eq!(stats["complete"], false, "{stats}");
    assert!(stats["cases_planned"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["cases_skipped"]["budget"], stats["cases_planned"], "{stats}");

    // No time at all: not even calibration; the JSON on stdout, the
    // summary on stderr.
    with_budget("[budget]\nseconds = 0");
    let ran = run_qa(&["run", qa.to_str().unwrap(), "--json", "-"]);
    assert_eq!(ran.status.code(), Some(4), "{}", text(&ran.stderr));
    let report: Value = serde_json::from_slice(&ran.stdout).expect("stdout is the JSON report");
    assert_eq!(report["stats"]["complete"], false);
    let incomplete = report["stats"]["incomplete"].as_str().unwrap();
    assert!(incomplete.contains("0 of 8 journeys calibrated"), "{incomplete}");
    assert!(text(&ran.stderr).contains("incomplete:"), "{}", text(&ran.stderr));

    // The default budget tests it all: complete, and 0.
    std::fs::write(qa.join("venomqa.toml"), &config).unwrap();
    let ran = run_qa(&["run", qa.to_str().unwrap(), "--junit", "-"]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    let junit = text(&ran.stdout);
    assert!(junit.contains("<property name=\"complete\" value=\"true\"/>"), "{junit}");
    shop.signal("TERM");
}

/// A web server on a free loopback port answering `200 text/html` to every
/// request (reading each request's head and body first), as a wrong
/// `--target` might: the port of a front end instead of the API.
fn spawn_html_server() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(n) = lower.strip_prefix("content-length:") {
                            length = n.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let page = "<!doctype html><html><body>Welcome to our shop</body></html>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{page}",
                        page.len()
                    );
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_target_that_is_not_the_recorded_api_exits_3_naming_the_calls() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("none");
    recorded_and_initialised(dir.path(), &shop_url);
    shop.signal("TERM");
    let qa = dir.path().join("qa");
    let web = spawn_html_server();
    let junit = dir.path().join("junit.xml");
    let ran = run_qa(&[
        "run",
        qa.to_str().unwrap(),
        "--target",
        &web,
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let stderr = text(&ran.stderr);
    assert_eq!(ran.status.code(), Some(3), "{}\n{stderr}", text(&ran.stdout));
    assert!(stderr.contains("does not answer like the recorded API"), "{stderr}");
    assert!(stderr.contains("POST /login: recorded 200 JSON, answered 200 text/html"), "{stderr}");
    assert!(!text(&ran.stdout).contains("0 findings"), "never a clean summary");
    // CI's "publish test results" still gets a report, saying why.
    let junit = std::fs::read_to_string(&junit).expect("a JUnit report on exit 3");
    assert!(
        junit.contains("errors=\"1\"") && junit.contains("<error message=\"the target"),
        "{junit}"
    );
    valid_for_jenkins(&junit);
}

#[test]
fn junit_has_the_same_testcases_whatever_was_found_and_says_why_one_tested_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (correct, correct_url) = start_shop("none");
    recorded_and_initialised(dir.path(), &correct_url);
    let (buggy, buggy_url) = start_shop("all");
    let qa = dir.path().join("qa");
    let junit_of = |target: &str| {
        let ran = run_qa(&["run", qa.to_str().unwrap(), "--target", target, "--junit", "-"]);
        assert!(matches!(ran.status.code(), Some(0 | 1)), "{}", text(&ran.stderr));
        text(&ran.stdout)
    };
    let names = |junit: &str| -> Vec<String> {
        junit
            .split("<testcase ")
            .skip(1)
            .map(|t| t.split(" time=").next().unwrap_or("").to_string())
            .collect()
    };
    let (clean, found) = (junit_of(&correct_url), junit_of(&buggy_url));
    assert!(found.contains("<failure"), "{found}");
    assert!(!clean.contains("<failure"), "{clean}");
    assert_eq!(names(&clean), names(&found), "the same testcases, found or not");
    valid_for_jenkins(&clean);
    valid_for_jenkins(&found);
    // Every journey has a testcase per family; those that tested nothing say why.
    assert!(names(&clean).iter().any(|n| n.contains("name=\"as-lesser-role\"")), "{clean}");
    assert!(clean.contains("<skipped message=\"no test of its own: `"), "{clean}");
    let skipped = clean.matches("<skipped ").count();
    assert!(clean.contains(&format!("skipped=\"{skipped}\"")), "{clean}");
    correct.signal("TERM");
    buggy.signal("TERM");
}
