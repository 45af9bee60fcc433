//! A recorder killed with SIGKILL under load leaves a store that reopens,
//! holding every exchange captured before its last flush.

mod common;

use std::time::Duration;

use common::{run, start_recorder, start_shop, text};
use serde_json::Value;
use venomqa_testkit::TempStore;

/// `"6 sessions, 61 requests (2xx 61), ..."` → 61.
fn requests_in(report: &str) -> u64 {
    let before = report.split(" requests").next().unwrap_or_default();
    before
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {report:?}"))
}

#[test]
fn a_recorder_killed_under_load_leaves_a_store_that_reopens_with_all_flushed_exchanges() {
    let temp = TempStore::new();
    let store = temp.arg();
    let (shop, shop_url) = start_shop("all");
    let (proxy, proxy_url) = start_recorder(&shop_url, store, &[]);

    // Load that finishes, then more than a flush interval of quiet.
    let first = run(&["sample", "drive", "--base", &proxy_url, "--sessions", "6", "--seed", "1"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let flushed = requests_in(&text(&first.stdout));
    std::thread::sleep(Duration::from_millis(1500));

    // Load that is still running when the recorder dies.
    let mut second = common::venomqa()
        .args([
            "sample",
            "drive",
            "--base",
            &proxy_url,
            "--sessions",
            "200",
            "--seed",
            "2",
            "--concurrency",
            "4",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    proxy.signal("KILL");
    let (code, _) = proxy.wait_exit();
    assert_eq!(code, None, "killed by a signal");
    let _ = second.kill();
    let _ = second.wait();

    let listed = run(&["sessions", "--store", store, "--json"]);
    assert!(
        listed.status.success(),
        "the store reopens after a hard kill: {}",
        text(&listed.stderr)
    );
    let sessions: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let total: u64 =
        sessions.as_array().unwrap().iter().map(|s| s["exchanges"].as_u64().unwrap()).sum();
    assert!(total >= flushed, "{total} exchanges reopened, {flushed} were flushed before the kill");

    // Every stored record decodes: a full export reads them all.
    let har = temp.dir().join("all.har");
    let exported = run(&["export", "--har", har.to_str().unwrap(), "--store", store]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(
        text(&exported.stdout).contains(&format!("exported {total} exchanges")),
        "{}",
        text(&exported.stdout)
    );

    // A new recording continues the killed one's sessions: the states of
    // sessions its last batches touched were only logged, and the new
    // writer folds that log before it reads them.
    let last = sessions
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|s| s["last_ns"].as_u64().unwrap_or(0))
        .unwrap()
        .clone();
    let key = last["key"].as_str().unwrap().to_string();
    let header = key.strip_prefix("x-session:").expect("sessions by X-Session").to_string();
    let (proxy, proxy_url) = start_recorder(&shop_url, store, &[]);
    let sent = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-H", &format!("X-Session: {header}")])
        .arg(format!("{proxy_url}/health"))
        .status()
        .unwrap();
    assert!(sent.success());
    proxy.signal("INT");
    proxy.wait_exit();
    let listed = run(&["sessions", "--store", store, "--json"]);
    let after: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let same = after.as_array().unwrap().iter().find(|s| s["key"] == key.as_str()).unwrap();
    assert_eq!(
        same["exchanges"].as_u64(),
        last["exchanges"].as_u64().map(|n| n + 1),
        "the request joined {key}: {after}"
    );
    assert_eq!(
        after.as_array().unwrap().len(),
        sessions.as_array().unwrap().len(),
        "no new session"
    );
    shop.signal("TERM");
}
