//! End to end: the real binary records QA traffic through its proxy into a
//! store, and the store reads back as sessions, exchanges and HAR.

mod common;

use common::{all_bytes_under, contains, login_har, run, start_recorder, start_shop, text};
use serde_json::Value;
use venomqa_testkit::TempStore;

#[test]
fn driven_qa_sessions_are_recorded_listed_shown_and_exported() {
    let temp = TempStore::new();
    let store = temp.arg();
    let (_shop, shop_url) = start_shop("all");
    let (proxy, proxy_url) = start_recorder(&shop_url, store, &[]);

    let drive = run(&["sample", "drive", "--base", &proxy_url, "--users", "3", "--sessions", "6"]);
    assert!(drive.status.success(), "drive failed: {}", text(&drive.stderr));

    proxy.signal("INT");
    let (code, out) = proxy.wait_exit();
    assert_eq!(code, Some(0), "record exits cleanly on SIGINT; printed {out:?}");
    let summary = out.iter().find(|l| l.contains("stopped")).expect("record prints a summary");
    assert!(summary.contains("in 6 sessions"), "summary: {summary}");
    assert!(summary.contains("0 captures dropped"), "summary: {summary}");

    let listed = run(&["sessions", "--store", store, "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let sessions: Value = serde_json::from_slice(&listed.stdout).expect("sessions --json is JSON");
    let sessions = sessions.as_array().expect("a list");
    assert_eq!(sessions.len(), 6);
    for session in sessions {
        assert!(session["key"].as_str().unwrap().starts_with("x-session:"), "{session}");
        assert!(session["exchanges"].as_u64().unwrap() >= 3, "{session}");
        assert!(session["first"].as_str().unwrap() <= session["last"].as_str().unwrap());
        let endpoints = session["endpoints"].as_array().unwrap();
        assert!(
            endpoints.iter().any(|e| e == "POST /login"),
            "each journey starts at its login: {session}"
        );
    }

    let table = run(&["sessions", "--store", store]);
    let table = text(&table.stdout);
    assert!(table.starts_with("SESSION"), "{table}");
    assert_eq!(table.lines().count(), 7, "a header and one row a session:\n{table}");

    let key = sessions[0]["key"].as_str().unwrap();
    let shown = run(&["show", key, "--store", store, "--json"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let exchanges = shown["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len() as u64, sessions[0]["exchanges"].as_u64().unwrap());
    assert_eq!(exchanges[0]["method"], "POST");
    assert_eq!(exchanges[0]["url"], "/login");
    assert_eq!(exchanges[0]["status"], 200);

    let har = temp.dir().join("out.har");
    let exported = run(&["export", "--har", har.to_str().unwrap(), "--store", store]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let document: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    assert_eq!(document["log"]["version"], "1.2");
    let total: u64 = sessions.iter().map(|s| s["exchanges"].as_u64().unwrap()).sum();
    assert_eq!(document["log"]["entries"].as_array().unwrap().len() as u64, total);

    let copy = temp.dir().join("copy");
    let imported = run(&["import", har.to_str().unwrap(), "--store", copy.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let relisted = run(&["sessions", "--store", copy.to_str().unwrap(), "--json"]);
    let relisted: Value = serde_json::from_slice(&relisted.stdout).unwrap();
    assert_eq!(
        &relisted,
        &Value::Array(sessions.clone()),
        "a HAR round trip keeps every session as it was"
    );
}

#[test]
fn secrets_sent_through_the_proxy_never_reach_the_store_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (_shop, shop_url) = start_shop("all");
    let (proxy, proxy_url) = start_recorder(&shop_url, store.to_str().unwrap(), &[]);

    let drive = run(&["sample", "drive", "--base", &proxy_url, "--users", "4", "--sessions", "4"]);
    assert!(drive.status.success(), "drive failed: {}", text(&drive.stderr));
    // The shop's passwords are `<user>-pw`; the driver logs in with them.
    proxy.signal("TERM");
    let (code, _) = proxy.wait_exit();
    assert_eq!(code, Some(0));

    let bytes = all_bytes_under(&store);
    assert!(contains(&bytes, b"/login"), "the store does hold the traffic");
    for password in ["alice-pw", "bob-pw", "carol-pw", "dave-pw"] {
        assert!(!contains(&bytes, password.as_bytes()), "{password} is on disk");
    }
    assert!(contains(&bytes, b"~r:"), "secrets are replaced by pseudonyms");
}

#[test]
fn a_store_in_use_by_a_running_recorder_is_refused_with_exit_code_3() {
    let temp = TempStore::new();
    let store = temp.arg();
    let (_shop, shop_url) = start_shop("all");
    let (_proxy, _) = start_recorder(&shop_url, store, &[]);

    let listed = run(&["sessions", "--store", store]);
    assert_eq!(listed.status.code(), Some(3));
    assert!(text(&listed.stderr).contains("in use by another venomqa"), "{}", text(&listed.stderr));
}

#[test]
fn reading_a_store_that_does_not_exist_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let listed = run(&["sessions", "--store", missing.to_str().unwrap()]);
    assert_eq!(listed.status.code(), Some(3));
    let stderr = text(&listed.stderr);
    assert!(stderr.contains("no venomqa store"), "{stderr}");
    assert!(stderr.contains("venomqa record"), "{stderr}");
    assert!(!missing.exists(), "reading never creates a store");
}

#[test]
fn a_recorder_pointed_at_itself_refuses_to_start_and_creates_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // A port free a moment ago, named as both the listening address and the upstream.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for upstream in [format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}/api")] {
        let listen = format!("127.0.0.1:{port}");
        let out = run(&[
            "record",
            "--upstream",
            &upstream,
            "--listen",
            &listen,
            "--store",
            store.to_str().unwrap(),
        ]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{upstream}: {stderr}");
        assert!(stderr.contains("is this proxy's own address"), "{stderr}");
        assert!(!store.exists(), "no store is made for a proxy that cannot run");
    }
}

#[test]
fn bad_flags_are_usage_errors_with_exit_code_2() {
    let temp = TempStore::new();
    let store = temp.arg();
    let cases: &[(&[&str], &str)] = &[
        (
            &["record", "--upstream", "http://127.0.0.1:1", "--session-by", "ip", "--store", store],
            "session-by",
        ),
        (&["record", "--upstream", "ftp://x", "--store", store], "http://"),
        (
            &["record", "--upstream", "http://127.0.0.1:1", "--body-cap", "lots", "--store", store],
            "size",
        ),
        (&["sample", "serve", "--bugs", "everything"], "bugs"),
        (&["import", "/definitely/not/here.har", "--store", store], "cannot open"),
    ];
    for (args, needle) in cases {
        let out = run(args);
        let stderr = text(&out.stderr);
        let code = out.status.code();
        assert!(
            code == Some(2) || (code == Some(3) && needle == &"cannot open"),
            "{args:?} exited {code:?}: {stderr}"
        );
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn importing_a_file_that_is_not_a_har_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let bad = dir.path().join("bad.har");
    std::fs::write(&bad, b"{\"log\": {\"entries\": 7}}").unwrap();
    let out = run(&["import", bad.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bad.har"), "{}", text(&out.stderr));
    assert!(!store.exists(), "a refused import creates no store");
}

#[test]
fn importing_one_har_twice_adds_nothing_unless_duplicates_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (store, har) = (store.to_str().unwrap(), login_har(dir.path()));
    let har = har.to_str().unwrap();
    let count = || text(&run(&["sessions", "--store", store]).stdout).lines().count() - 1;

    let first = run(&["import", har, "--store", store]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("imported 1 exchanges"), "{}", text(&first.stdout));
    let again = run(&["import", har, "--store", store]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let said = text(&again.stdout);
    assert!(said.contains("imported 0 exchanges") && said.contains("skipped 1"), "{said}");
    assert_eq!(count(), 1, "still one session of one exchange");

    let kept = run(&["import", har, "--store", store, "--allow-duplicates"]);
    assert!(text(&kept.stdout).contains("imported 1 exchanges"), "{}", text(&kept.stdout));
}

#[test]
fn an_exported_har_tells_the_length_of_the_redacted_body_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (store, har) = (store.to_str().unwrap(), login_har(dir.path()));
    assert!(run(&["import", har.to_str().unwrap(), "--store", store]).status.success());
    let out = dir.path().join("out.har");
    let exported = run(&["export", "--store", store, "--har", out.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let request = &doc["log"]["entries"][0]["request"];
    let body = request["postData"]["text"].as_str().unwrap();
    assert!(!body.contains("hunter2"), "the password is redacted: {body}");
    let length = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "content-length")
        .and_then(|h| h["value"].as_str())
        .unwrap();
    assert_eq!(length, body.len().to_string(), "content-length is the written body's");
}
