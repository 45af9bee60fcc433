//! Bad input gets a clear error naming the problem, never a panic: empty
//! traffic, only upstream errors, only noise, and model files that are
//! broken, of another kind or of another version.

mod common;

use common::{call, shop::qa_traffic, Traffic};
use regex::Regex;
use serde_json::json;
use venomqa_learner::{Error, LearnOptions, Model};

#[test]
fn empty_traffic_is_refused() {
    let err = Traffic::new().try_learn(&LearnOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Empty));
    assert!(err.to_string().contains("no exchanges to learn from"), "{err}");
}

#[test]
fn traffic_of_only_upstream_errors_is_refused_with_the_error_kinds() {
    let mut t = Traffic::new();
    t.push(call("s", "GET", "/orders").failed("refused"));
    t.push(call("s", "GET", "/orders").failed("refused"));
    t.push(call("s", "POST", "/orders").failed("timeout"));
    let err = t.try_learn(&LearnOptions::default()).unwrap_err();
    assert!(matches!(err, Error::OnlyErrors { total: 3, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("all 3 exchanges are errors"), "{message}");
    assert!(message.contains("refused: 2, timeout: 1"), "{message}");
}

#[test]
fn traffic_of_only_noise_is_refused_with_the_reasons() {
    let mut t = Traffic::new();
    t.push(call("s", "GET", "/health").reply(json!({"ok": true})));
    t.push(call("s", "GET", "/metrics").reply_raw("text/plain", b"up 1"));
    let options = LearnOptions {
        ignore: vec![Regex::new("^GET /metrics$").unwrap()],
        ..LearnOptions::default()
    };
    let err = t.try_learn(&options).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("all 2 exchanges were ignored"), "{message}");
    assert!(message.contains("health-check: 1"), "{message}");
    assert!(message.contains("ignore /^GET /metrics$/: 1"), "{message}");
}

#[test]
fn user_ignore_rules_add_to_the_defaults() {
    let mut t = qa_traffic();
    t.push(call("x-session:s-1", "GET", "/metrics").reply_raw("text/plain", b"up 1"));
    let options = LearnOptions {
        ignore: vec![Regex::new("^GET /metrics").unwrap()],
        ..LearnOptions::default()
    };
    let learned = t.learn_with(&options);
    assert_eq!(learned.summary.ignored["ignore /^GET /metrics/"], 1);
    assert!(learned.model.action("GET /metrics").is_none());
    // Without the default rules, the health check is an action like any other.
    let raw =
        qa_traffic().learn_with(&LearnOptions { default_noise: false, ..LearnOptions::default() });
    assert!(raw.model.action("GET /health").is_some());
}

#[test]
fn error_exchanges_among_good_ones_are_counted_not_fatal() {
    let mut t = qa_traffic();
    t.push(call("x-session:s-1", "GET", "/orders").failed("reset"));
    let learned = t.learn();
    assert_eq!(learned.summary.ignored["no-response"], 1);
}

#[test]
fn a_model_round_trips_through_its_json() {
    let model = qa_traffic().learn().model;
    let back = Model::from_json(&model.to_json_pretty()).unwrap();
    assert_eq!(back, model);
}

#[test]
fn a_model_of_another_version_is_refused_naming_both_versions() {
    let text =
        qa_traffic().learn().model.to_json_pretty().replace("\"version\": 1,", "\"version\": 2,");
    let err = Model::from_json(&text).unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }));
    let message = err.to_string();
    assert!(message.contains("model version 2 is not supported"), "{message}");
    assert!(message.contains("reads model version 1"), "{message}");
}

#[test]
fn a_hand_broken_model_reports_line_and_column() {
    let text = qa_traffic().learn().model.to_json_pretty();
    // Drop the comma after the version: what a careless edit does.
    let broken = text.replacen("\"version\": 1,", "\"version\": 1", 1);
    let err = Model::from_json(&broken).unwrap_err();
    match &err {
        Error::InvalidJson { line, column, .. } => {
            assert_eq!(*line, 4);
            assert!(*column > 0);
        }
        other => panic!("expected InvalidJson, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with("the model file is not valid JSON at line 4, column"),
        "{err}"
    );
}

#[test]
fn json_that_is_not_a_model_is_refused() {
    let err = Model::from_json(r#"{"openapi": "3.1.0"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a venomqa model: `format` is missing, expected \"venomqa-model\""
    );
    let err = Model::from_json("[1, 2]").unwrap_err();
    assert!(matches!(err, Error::NotAModel { .. }));
}

#[test]
fn a_model_with_a_wrong_field_type_names_the_place() {
    let text = qa_traffic().learn().model.to_json_pretty();
    let broken = text.replacen("\"exchanges\": 51", "\"exchanges\": \"many\"", 1);
    let err = Model::from_json(&broken).unwrap_err();
    assert!(matches!(err, Error::InvalidModel { line: 5, .. }), "{err:?}");
    assert!(err.to_string().contains("invalid type: string \"many\""), "{err}");
}
