//! `venomqa learn` and `venomqa model show` through the real binary: the
//! shop's model from recorded traffic, the views, and every bad input.

mod common;

use common::{record_drive, run, start_recorder, start_shop, text};
use serde_json::Value;
use venomqa_testkit::TempStore;

/// Records `sessions` driven QA sessions of a correct shop into `store`.
fn record_shop_traffic(store: &str, sessions: &str) {
    let (_shop, shop_url) = start_shop("none");
    record_drive(&shop_url, store, &["--sessions", sessions]);
}

#[test]
fn the_shop_model_is_learned_deterministically_and_shown_in_every_format() {
    let temp = TempStore::new();
    let store = temp.arg();
    record_shop_traffic(store, "20");

    let first = temp.dir().join("first.json");
    let second = temp.dir().join("second.json");
    let learned = run(&["learn", "--store", store, "--out", first.to_str().unwrap()]);
    assert!(learned.status.success(), "{}", text(&learned.stderr));
    let summary = text(&learned.stdout);
    assert!(summary.contains("11 actions, 1 resources"), "{summary}");
    let again = run(&["learn", "--store", store, "--out", second.to_str().unwrap()]);
    assert!(again.status.success());
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
        "same store, same bytes"
    );

    let model: Value = serde_json::from_slice(&std::fs::read(&first).unwrap()).unwrap();
    let actions: Vec<&str> =
        model["actions"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(actions.len(), 11, "{actions:?}");
    assert!(actions.contains(&"POST /orders/{order_id}/refund"));

    let text_view = run(&["model", "show", first.to_str().unwrap()]);
    assert!(text(&text_view.stdout).contains("state machines"), "{}", text(&text_view.stdout));

    let mermaid =
        text(&run(&["model", "show", first.to_str().unwrap(), "--format", "mermaid"]).stdout);
    assert!(
        mermaid.starts_with("stateDiagram-v2\n"),
        "a bare diagram Mermaid's tools read: {mermaid}"
    );
    for line in [
        "[*] --> created",
        "created --> paid : POST /orders/{order_id}/pay",
        "paid --> shipped : POST /orders/{order_id}/ship",
        "shipped --> refunded : POST /orders/{order_id}/refund",
        "created --> cancelled : POST /orders/{order_id}/cancel",
    ] {
        assert!(mermaid.contains(line), "missing `{line}` in\n{mermaid}");
    }
    assert!(!mermaid.contains("created --> shipped"), "an unobserved transition: {mermaid}");
    assert!(!mermaid.contains("shipped --> cancelled"), "an unobserved transition: {mermaid}");

    let dot = text(&run(&["model", "show", first.to_str().unwrap(), "--format", "dot"]).stdout);
    assert_eq!(dot.matches("digraph").count(), 1, "one graph for `dot -Tpng`: {dot}");

    let openapi = run(&["model", "show", first.to_str().unwrap(), "--format", "openapi"]);
    let openapi: Value = serde_json::from_slice(&openapi.stdout).expect("openapi is JSON");
    assert_eq!(openapi["openapi"], "3.1.0");
    let created = &openapi["paths"]["/orders"]["post"]["responses"]["201"];
    let links = created["links"].as_object().expect("POST /orders 201 has links");
    assert!(
        links.values().any(|l| l["parameters"]["order_id"] == "$response.body#/id"),
        "the order id link is an OpenAPI Link Object: {links:?}"
    );

    let unknown = run(&[
        "model",
        "show",
        first.to_str().unwrap(),
        "--format",
        "mermaid",
        "--resource",
        "carts",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("orders"),
        "names the resources there are: {}",
        text(&unknown.stderr)
    );
    // Every format honours `--resource`, and refuses an unknown one.
    for format in ["text", "dot", "openapi", "mermaid"] {
        let args = ["model", "show", first.to_str().unwrap(), "--format", format];
        let shown = run(&[&args[..], &["--resource", "orders"]].concat());
        assert!(shown.status.success(), "{format}: {}", text(&shown.stderr));
        if format == "text" || format == "openapi" {
            let all = run(&args);
            assert!(shown.stdout.len() < all.stdout.len(), "{format}: the login is not orders'");
        }
        let unknown = run(&[&args[..], &["--resource", "carts"]].concat());
        assert_eq!(unknown.status.code(), Some(2), "{format}");
    }
}

#[test]
fn an_empty_store_cannot_be_learned_from_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("empty.har");
    std::fs::write(
        &har,
        r#"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[]}}"#,
    )
    .unwrap();
    let store = dir.path().join("store");
    assert!(run(&["import", har.to_str().unwrap(), "--store", store.to_str().unwrap()])
        .status
        .success());
    let out = run(&[
        "learn",
        "--store",
        store.to_str().unwrap(),
        "--out",
        dir.path().join("m.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("traffic is empty"), "{}", text(&out.stderr));
    assert!(!dir.path().join("m.json").exists(), "no model is written");
}

#[test]
fn a_store_holding_only_upstream_errors_cannot_be_learned_from() {
    let temp = TempStore::new();
    let store = temp.arg();
    // Nothing listens on the upstream: every request is a recorded 502.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (recorder, recorder_url) = start_recorder(&format!("http://{unused}"), store, &[]);
    let drive = run(&["sample", "drive", "--base", &recorder_url, "--sessions", "1"]);
    assert_eq!(drive.status.code(), Some(3), "the driver cannot log in through a dead upstream");
    assert!(text(&drive.stderr).contains("unexpected"), "{}", text(&drive.stderr));
    recorder.stop_cleanly();

    let out =
        run(&["learn", "--store", store, "--out", temp.dir().join("m.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("errors without a response") && stderr.contains("refused"), "{stderr}");
}

#[test]
fn broken_or_foreign_model_files_are_refused_with_the_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "broken.json",
            "{\n  \"format\": \"venomqa-model\",\n  \"version\": 1,\n  \"actions\": [\n}",
            "line 5",
        ),
        ("future.json", r#"{"format": "venomqa-model", "version": 99}"#, "model version 99"),
        ("foreign.json", r#"{"openapi": "3.1.0"}"#, "not a venomqa model"),
    ];
    for (name, content, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = run(&["model", "show", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(needle) && stderr.contains(name), "{name}: {stderr}");
    }
    let missing = run(&["model", "show", dir.path().join("absent.json").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(text(&missing.stderr).contains("venomqa learn"), "{}", text(&missing.stderr));
}

#[test]
fn a_bad_ignore_pattern_is_a_usage_error() {
    let out = run(&["learn", "--ignore", "([unclosed", "--store", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--ignore"), "{}", text(&out.stderr));
}
