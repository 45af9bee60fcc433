//! Reports as specifications: the terminal summary a person reads, the JSON
//! field names machines rely on, JUnit XML a CI parser accepts, and curl
//! reproducers that bash accepts and that really replay a sequence against a
//! live server on loopback, capturing the ids and tokens it hands out.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use venomqa_replayer::report::{
    confirming_script, curl_script, finding_script, render_json, render_junit, render_terminal,
    write_reproducers, Confirm, ReportContext, ScriptTls, TestCase,
};
use venomqa_replayer::{Confidence, Finding, OracleKind, ResetHow, SentRequest};

const RECORDED_TARGET: &str = "http://127.0.0.1:9000";
const TRICKY_BODY: &str =
    r#"{"amount":100,"note":"it's \"quoted\" $HOME `id` \\ 100% done; rm -rf / #"}"#;

fn req(
    action: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    status: u16,
    response: &str,
) -> SentRequest {
    SentRequest {
        action: action.to_string(),
        user: Some("alice".to_string()),
        method: method.to_string(),
        url: format!("{RECORDED_TARGET}{path}"),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.map(str::to_string),
        copies: 1,
        at_once_with_previous: false,
        linked: Vec::new(),
        status: Some(status),
        response_body: Some(response.to_string()),
    }
}

/// The double refund as the replayer saw it, with recorded ids and tokens.
fn double_refund_requests() -> Vec<SentRequest> {
    let json = ("Content-Type", "application/json");
    let auth = ("Authorization", "Bearer tok-rec-1a2b3c4d");
    vec![
        req(
            "POST /login",
            "POST",
            "/login",
            &[json, ("Accept-Encoding", "gzip"), ("Content-Length", "999")],
            Some(r#"{"username":"alice","password":"pa'ss"}"#),
            200,
            r#"{"token":"tok-rec-1a2b3c4d","user":"alice"}"#,
        ),
        req(
            "POST /orders",
            "POST",
            "/orders",
            &[json, auth],
            Some(r#"{"sku":"A-1","amount":100}"#),
            201,
            r#"{"id":"o-rec9","sku":"A-1","amount":100,"status":"new"}"#,
        ),
        req(
            "POST /orders/{order_id}/pay",
            "POST",
            "/orders/o-rec9/pay",
            &[auth, ("If-Match", "\"v1\"")],
            None,
            200,
            r#"{"id":"o-rec9","status":"paid"}"#,
        ),
        req(
            "POST /orders/{order_id}/refund",
            "POST",
            "/orders/o-rec9/refund",
            &[json, auth],
            Some(TRICKY_BODY),
            200,
            r#"{"id":"o-rec9","refunded":100}"#,
        ),
        req(
            "POST /orders/{order_id}/refund",
            "POST",
            "/orders/o-rec9/refund",
            &[json, auth],
            Some(TRICKY_BODY),
            200,
            r#"{"id":"o-rec9","refunded":200}"#,
        ),
    ]
}

fn actions(requests: &[SentRequest]) -> Vec<String> {
    requests
        .iter()
        .map(
            |r| if r.copies > 1 { format!("{}x {}", r.copies, r.action) } else { r.action.clone() },
        )
        .collect()
}

fn finding(
    oracle: OracleKind,
    mutation: &str,
    confidence: Confidence,
    summary: &str,
    requests: Vec<SentRequest>,
) -> Finding {
    Finding {
        oracle,
        mutation: mutation.to_string(),
        actions: actions(&requests),
        confidence,
        summary: summary.to_string(),
        evidence: vec!["read back as alice: refunded 200 of amount 100".to_string()],
        journey: "alice-1".to_string(),
        reproducer: curl_script(&requests, RECORDED_TARGET),
        requests,
        reproduced: None,
    }
}

/// Four findings of four oracles and every confidence.
fn findings() -> Vec<Finding> {
    let double = finding(
        OracleKind::Invariant,
        "duplicate",
        Confidence::High,
        "invariant \"refund within amount\" broken: order.refunded <= order.amount",
        double_refund_requests(),
    );
    let mut concurrent_requests = double_refund_requests();
    concurrent_requests.pop();
    concurrent_requests[3].copies = 2;
    let mut race = finding(
        OracleKind::Race,
        "concurrent",
        Confidence::High,
        "2 concurrent refunds were both accepted",
        concurrent_requests,
    );
    race.reproduced = Some((7, 10));
    let mut cross = finding(
        OracleKind::CrossUser,
        "as-other-user",
        Confidence::Medium,
        "bob read alice's order <o-rec9> & got \"200\"",
        double_refund_requests()[..3].to_vec(),
    );
    cross.requests[2].user = Some("bob".to_string());
    cross.journey = "alice-<2>&'x'".to_string();
    let mut unexpected = finding(
        OracleKind::UnexpectedAccept,
        "drop",
        Confidence::Low,
        "refund accepted before pay",
        double_refund_requests()[..2].to_vec(),
    );
    unexpected.journey = "bob-3".to_string();
    vec![double, race, cross, unexpected]
}

fn context() -> ReportContext {
    ReportContext {
        target: RECORDED_TARGET.to_string(),
        sequences: 120,
        requests: 1234,
        seconds: 3.2,
        testcases: vec![
            TestCase {
                journey: "alice-1".into(),
                mutation: "duplicate".into(),
                findings: vec![0],
                seconds: 0.25,
                skipped: None,
            },
            TestCase {
                journey: "alice-1".into(),
                mutation: "concurrent".into(),
                findings: vec![1],
                seconds: 0.5,
                skipped: None,
            },
            TestCase {
                journey: "alice-1".into(),
                mutation: "drop".into(),
                findings: vec![],
                seconds: 0.125,
                skipped: None,
            },
            TestCase {
                journey: "alice-<2>&'x'".into(),
                mutation: "as-other-user".into(),
                findings: vec![2],
                seconds: 0.0,
                skipped: None,
            },
        ],
        reproducer_files: Vec::new(),
        ..ReportContext::default()
    }
}

// ---------------------------------------------------------------- terminal

#[test]
fn terminal_report_groups_by_oracle_numbers_the_sequence_and_ends_with_the_summary() {
    let mut ctx = context();
    ctx.reproducer_files = (1..=4).map(|i| PathBuf::from(format!("out/0{i}-x.sh"))).collect();
    let text = render_terminal(&findings(), &ctx, false);
    assert!(!text.contains('\x1b'), "no colour unless asked:\n{text}");
    assert_eq!(
        text.lines().last(),
        Some("4 findings (2 high, 1 medium, 1 low) in 1234 requests, 3.2 s"),
        "{text}"
    );
    // Groups in oracle order, each with its count.
    let groups: Vec<&str> = text.lines().filter(|l| l.contains(" — ")).collect();
    assert_eq!(
        groups,
        [
            "invariant — 1 finding",
            "cross-user — 1 finding",
            "race — 1 finding",
            "unexpected-accept — 1 finding"
        ]
    );
    // The title line: number, oracle, confidence, action.
    assert!(text.contains("  #1 invariant · high · POST /orders/{order_id}/refund\n"), "{text}");
    assert!(text.contains("  #2 race · high · 2x POST /orders/{order_id}/refund\n"), "{text}");
    assert!(text.contains("  #4 unexpected-accept · low · POST /orders\n"), "{text}");
    // The minimal sequence, numbered, with statuses; a concurrent step as such.
    for line in [
        "     1. POST /login → 200",
        "     2. POST /orders → 201",
        "     3. POST /orders/{order_id}/pay → 200",
        "     4. POST /orders/{order_id}/refund → 200",
        "     5. POST /orders/{order_id}/refund → 200",
        "     4. 2x POST /orders/{order_id}/refund → 200",
        // Users are named only where the sequence mixes them.
        "     3. POST /orders/{order_id}/pay → 200 (as bob)",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(
        text.contains("mutation: concurrent · journey: alice-1 · reproduced 7 of 10 runs"),
        "{text}"
    );
    assert!(text.contains("       - read back as alice: refunded 200 of amount 100\n"), "{text}");
    assert!(text.contains("     reproducer: out/02-x.sh\n"), "{text}");
    // No JSON bodies in the terminal.
    assert!(!text.contains("\"sku\""), "{text}");
}

#[test]
fn terminal_report_of_a_clean_run_is_one_line() {
    let ctx = context();
    assert_eq!(render_terminal(&[], &ctx, false), "0 findings in 1234 requests, 3.2 s\n");
    let colored = render_terminal(&[], &ctx, true);
    assert_eq!(colored, "\x1b[32m0 findings in 1234 requests, 3.2 s\x1b[0m\n");
}

#[test]
fn terminal_report_colours_only_when_asked_and_never_passes_control_bytes_through() {
    let mut all = findings();
    all[0].evidence.push("body: \x1b[2J\x1b]0;pwned\x07 gone".to_string());
    let plain = render_terminal(&all, &context(), false);
    assert!(!plain.contains('\x1b') && !plain.contains('\x07'), "{plain}");
    assert!(plain.contains(r"body: \u{1b}[2J\u{1b}]0;pwned\u{7} gone"), "{plain}");
    let colored = render_terminal(&all, &context(), true);
    assert!(colored.contains("\x1b[1;31mhigh\x1b[0m"), "{colored}");
    assert!(!colored.contains("\x1b[2J"), "{colored}");
    let one = render_terminal(&all[3..], &context(), false);
    assert_eq!(one.lines().last(), Some("1 finding (1 low) in 1234 requests, 3.2 s"));
}

// -------------------------------------------------------------------- JSON

#[test]
fn json_report_has_the_public_field_names_and_values() {
    let mut ctx = context();
    ctx.reproducer_files = vec![PathBuf::from("out/01-invariant-post-orders-order-id-refund.sh")];
    let all = findings();
    let json = render_json(&all, &ctx);
    let top: BTreeSet<&str> =
        json.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["findings", "stats", "exploration"]));
    assert!(json["exploration"].is_null(), "no exploration ran");

    let first = &json["findings"][0];
    let keys: BTreeSet<&str> =
        first.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "oracle",
            "mutation",
            "actions",
            "confidence",
            "summary",
            "evidence",
            "journey",
            "requests",
            "reproduced",
            "reproducer",
            "reproducer_file"
        ])
    );
    assert_eq!(first["id"], 1);
    assert_eq!(first["oracle"], "invariant");
    assert_eq!(first["mutation"], "duplicate");
    assert_eq!(first["confidence"], "high");
    assert_eq!(
        first["actions"],
        serde_json::json!([
            "POST /login",
            "POST /orders",
            "POST /orders/{order_id}/pay",
            "POST /orders/{order_id}/refund",
            "POST /orders/{order_id}/refund"
        ])
    );
    assert_eq!(first["reproduced"], serde_json::Value::Null);
    assert_eq!(first["reproducer"], all[0].reproducer.as_str());
    assert_eq!(first["reproducer_file"], "out/01-invariant-post-orders-order-id-refund.sh");
    assert_eq!(first["evidence"][0], "read back as alice: refunded 200 of amount 100");
    let request = &first["requests"][0];
    let keys: BTreeSet<&str> =
        request.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "action",
            "user",
            "method",
            "url",
            "headers",
            "body",
            "copies",
            "status",
            "response_body"
        ])
    );
    assert_eq!(
        request["headers"][0],
        serde_json::json!({"name": "Content-Type", "value": "application/json"})
    );
    assert_eq!(request["status"], 200);
    assert_eq!(first["requests"][2]["body"], serde_json::Value::Null);

    let race = &json["findings"][1];
    assert_eq!(race["oracle"], "race");
    assert_eq!(race["actions"][3], "2x POST /orders/{order_id}/refund");
    assert_eq!(race["reproduced"], serde_json::json!({"times": 7, "runs": 10}));
    assert_eq!(race["reproducer_file"], serde_json::Value::Null);
    assert_eq!(json["findings"][2]["confidence"], "medium");
    assert_eq!(json["findings"][3]["oracle"], "unexpected-accept");

    assert_eq!(
        json["stats"],
        serde_json::json!({
            "target": RECORDED_TARGET,
            "findings": 4,
            "high": 2,
            "medium": 1,
            "low": 1,
            "by_oracle": {"invariant": 1, "race": 1, "cross-user": 1, "unexpected-accept": 1},
            "sequences": 120,
            "requests": 1234,
            "rate_limited": 0,
            "seconds": 3.2,
            "testcases": 4,
            "failed_testcases": 3,
            "cases_planned": 0,
            "cases_exercised": 0,
            "cases_skipped": {},
            "complete": true,
            "incomplete": null
        })
    );
    let clean = render_json(&[], &ctx);
    assert_eq!(clean["findings"], serde_json::json!([]));
    assert_eq!(clean["stats"]["findings"], 0);
}

// ------------------------------------------------------------------- JUnit

#[test]
fn junit_is_well_formed_counts_right_and_escapes_everything() {
    let all = findings();
    let mut ctx = context();
    ctx.reproducer_files = (1..=4).map(|i| PathBuf::from(format!("out/0{i}.sh"))).collect();
    let xml = render_junit(&all, &ctx);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("venomqa"));
    // 4 test cases of the run + 1 for the finding no test case pointed at.
    assert_eq!(suite.attribute("tests"), Some("5"));
    assert_eq!(suite.attribute("failures"), Some("4"));
    assert_eq!(suite.attribute("errors"), Some("0"));
    assert_eq!(suite.attribute("time"), Some("3.200"));
    assert_eq!(root.attribute("tests"), Some("5"));
    assert_eq!(root.attribute("failures"), Some("4"));

    let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    let ids: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c.attribute("classname").unwrap_or(""), c.attribute("name").unwrap_or("")))
        .collect();
    assert_eq!(
        ids,
        [
            ("alice-1", "duplicate"),
            ("alice-1", "concurrent"),
            ("alice-1", "drop"),
            ("alice-<2>&'x'", "as-other-user"),
            ("bob-3", "drop"),
        ]
    );
    assert_eq!(cases[0].attribute("time"), Some("0.250"));
    let failures: Vec<_> =
        cases.iter().map(|c| c.children().find(|n| n.has_tag_name("failure"))).collect();
    assert!(failures[2].is_none(), "the passing test case has no failure");
    let cross = failures[3].expect("cross-user failure");
    assert_eq!(cross.attribute("message"), Some("bob read alice's order <o-rec9> & got \"200\""));
    assert_eq!(cross.attribute("type"), Some("cross-user"));
    let text = cross.text().unwrap_or("");
    assert!(text.starts_with("#3 cross-user · medium · POST /orders/{order_id}/pay\n"), "{text}");
    assert!(text.contains("  3. POST /orders/{order_id}/pay → 200 (as bob)\n"), "{text}");
    assert!(text.contains("evidence:\n  - read back as alice"), "{text}");
    assert!(text.contains("reproducer: out/03.sh\n"), "{text}");
    // The script survives the round trip through XML byte for byte.
    assert!(text.ends_with(all[2].reproducer.trim_end()), "{text}");
    let race = failures[1].expect("race failure");
    assert!(race.text().unwrap_or("").contains("reproduced 7 of 10 runs"));
    assert_eq!(failures[4].and_then(|f| f.attribute("type")), Some("unexpected-accept"));
    // Escaped in the raw text, not just parseable.
    assert!(xml.contains("classname=\"alice-&lt;2&gt;&amp;&apos;x&apos;\""), "{xml}");
    assert!(
        xml.contains(
            "message=\"bob read alice&apos;s order &lt;o-rec9&gt; &amp; got &quot;200&quot;\""
        ),
        "{xml}"
    );
    assert!(xml.contains("\nbob read alice's order &lt;o-rec9&gt; &amp; got \"200\"\n"), "{xml}");
}

#[test]
fn junit_marks_a_testcase_that_tested_nothing_skipped_and_a_failed_run_an_error() {
    let ctx = ReportContext {
        testcases: vec![
            TestCase {
                journey: "alice-1".into(),
                mutation: "drop".into(),
                skipped: Some("not exercised: 2 prefix diverged & <1> budget".into()),
                ..TestCase::default()
            },
            TestCase { journey: "alice-1".into(), mutation: "swap".into(), ..TestCase::default() },
        ],
        ..ReportContext::default()
    };
    let xml = render_junit(&[], &ctx);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = doc.root_element().first_element_child().expect("testsuite");
    assert_eq!(suite.attribute("skipped"), Some("1"), "{xml}");
    let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    let skipped = cases[0].first_element_child().expect("<skipped>");
    assert!(skipped.has_tag_name("skipped"));
    assert_eq!(skipped.attribute("message"), Some("not exercised: 2 prefix diverged & <1> budget"));
    assert!(cases[1].first_element_child().is_none(), "a testcase that ran and passed is empty");

    let xml = venomqa_replayer::report::render_junit_error("http://t", "target <down> & \"gone\"");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = doc.root_element().first_element_child().expect("testsuite");
    assert_eq!(suite.attribute("errors"), Some("1"));
    let error = doc.descendants().find(|n| n.has_tag_name("error")).expect("<error>");
    assert_eq!(error.attribute("message"), Some("target <down> & \"gone\""));
}

#[test]
fn junit_puts_several_findings_of_one_test_case_in_one_failure_and_strips_bad_characters() {
    let mut all = findings();
    all[1].summary = "bell \x07 and\nnewline".to_string();
    let ctx = ReportContext {
        testcases: vec![TestCase {
            journey: "alice-1".into(),
            mutation: "duplicate".into(),
            findings: vec![0, 1, 99],
            seconds: 1.0,
            skipped: None,
        }],
        ..ReportContext::default()
    };
    let xml = render_junit(&all[..2], &ctx);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = doc.root_element().first_element_child().expect("testsuite");
    assert_eq!(suite.attribute("tests"), Some("1"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let failure = doc.descendants().find(|n| n.has_tag_name("failure")).expect("failure");
    assert_eq!(failure.attribute("type"), Some("invariant, race"));
    assert_eq!(
        failure.attribute("message"),
        Some(
            "2 findings: invariant \"refund within amount\" broken: order.refunded <= order.amount; \
             bell \u{FFFD} and\nnewline"
        )
    );
    let empty = render_junit(&[], &ReportContext::default());
    let doc = roxmltree::Document::parse(&empty).expect("empty report parses");
    let suite = doc.root_element().first_element_child().expect("testsuite");
    assert_eq!((suite.attribute("tests"), suite.attribute("failures")), (Some("0"), Some("0")));
}

// ------------------------------------------------------------- reproducers

fn bash_n(script: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("check.sh");
    std::fs::write(&path, script).expect("write");
    let out = Command::new("bash").arg("-n").arg(&path).output().expect("bash");
    assert!(out.status.success(), "bash -n: {}\n{script}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn curl_script_is_valid_bash_quotes_everything_and_captures_server_values() {
    let script = curl_script(&double_refund_requests(), RECORDED_TARGET);
    bash_n(&script);
    let mut lines = script.lines();
    assert_eq!(lines.next(), Some("#!/usr/bin/env bash"));
    assert!(script.contains("\nset -euo pipefail\n"), "{script}");
    assert!(script.contains("\nTARGET=\"${TARGET:-http://127.0.0.1:9000}\"\n"), "{script}");
    // Single quotes with '\'' for a quote inside.
    assert!(
        script.contains(r#"--data-binary '{"username":"alice","password":"pa'\''ss"}'"#),
        "{script}"
    );
    // The token and the order id come from the live responses (a
    // credential's recorded value is not written down)...
    assert!(script.contains("#   S1_TOKEN = \"token\" of step 1's response\n"), "{script}");
    assert!(!script.contains("tok-rec-1a2b3c4d"), "{script}");
    assert!(script.contains("#   S2_ID = \"id\" of step 2's response  [o-rec9]"), "{script}");
    assert!(script.contains(r#"-H 'Authorization: Bearer '"${S1_TOKEN}""#), "{script}");
    assert!(script.contains(r#""${TARGET}"'/orders/'"${S2_ID}"'/pay'"#), "{script}");
    assert!(!script.contains("o-rec9/"), "the recorded id is not in a URL:\n{script}");
    // ... but what the client chose itself (the sku it sent, echoed back) is not captured.
    assert!(!script.contains("_SKU"), "{script}");
    // Headers curl computes, or that would compress the body, are left out.
    assert!(!script.contains("Content-Length") && !script.contains("Accept-Encoding"), "{script}");
    assert!(script.contains(r#"-H 'If-Match: "v1"'"#), "{script}");
    assert!(script.contains(
        "printf '%s -> %s (recorded %s)\\n' '5. POST /orders/{order_id}/refund' \"$status\" '200'"
    ));
}

#[test]
fn a_code_of_letters_only_is_captured_when_a_link_put_it_in_the_request() {
    // A pickup code without a digit does not look like an id; the model's
    // link from the hold's answer to the pickup's body says it is one.
    let hold = req(
        "POST /holds",
        "POST",
        "/holds",
        &[],
        Some(r#"{"book":"dune"}"#),
        201,
        r#"{"id":7,"status":"ready","code":"PK-AXDNGCFQ"}"#,
    );
    let mut pickup = req(
        "POST /desk/pickups",
        "POST",
        "/desk/pickups",
        &[("Content-Type", "application/json")],
        Some(r#"{"code":"PK-AXDNGCFQ","status":"ready"}"#),
        201,
        "{}",
    );
    let literal = curl_script(&[hold.clone(), pickup.clone()], RECORDED_TARGET);
    assert!(literal.contains("PK-AXDNGCFQ\",\"status"), "no link, no capture:\n{literal}");
    pickup.linked = vec!["PK-AXDNGCFQ".to_string()];
    let script = curl_script(&[hold, pickup], RECORDED_TARGET);
    bash_n(&script);
    assert!(script.contains("S1_CODE=\"$(capture \"$WORK/1.body\" 'code' 1)\""), "{script}");
    assert!(script.contains(r#"'{"code":"'"${S1_CODE}"'","status":"ready"}'"#), "{script}");
    // A word the answer showed and the request repeats, with no link, stays literal.
    assert!(!script.contains("S1_STATUS"), "{script}");
}

#[test]
fn curl_script_reads_secrets_from_their_variables_and_keeps_sessions_in_a_cookie_jar() {
    let mut requests = double_refund_requests();
    requests[0].body =
        Some(r#"{"username":"alice","password":"${VENOMQA_ALICE_PASSWORD}"}"#.into());
    requests[1].headers.push(("Cookie".into(), "sid=live-session-7q".into()));
    let mut bob = requests[1].clone();
    bob.user = Some("bob".into());
    requests.push(bob);
    let script = curl_script(&requests, RECORDED_TARGET);
    bash_n(&script);
    assert!(
        script.contains(r#": "${VENOMQA_ALICE_PASSWORD:?set VENOMQA_ALICE_PASSWORD, the secret"#),
        "{script}"
    );
    assert!(
        script.contains(r#""password":"'"${JSON_VENOMQA_ALICE_PASSWORD}"'"}'"#),
        "the variable, escaped for JSON, in the body: {script}"
    );
    assert!(
        script
            .contains(r#"JSON_VENOMQA_ALICE_PASSWORD="$(json_string "$VENOMQA_ALICE_PASSWORD")""#),
        "{script}"
    );
    // Alice's session is read from the Set-Cookie of her earlier answers,
    // newest first; Bob's first request has no earlier answer of his and
    // keeps his cookie as sent.
    assert_eq!(script.matches("sid=live-session-7q").count(), 1, "{script}");
    assert!(script.contains(r#"C2_SID="$(set_cookie 'sid' 2 1)""#), "{script}");
    assert!(script.contains(r#"-H 'Cookie: sid='"${C2_SID}""#), "{script}");
    assert!(script.contains(r#"-D "$WORK/2.headers""#), "{script}");
    // Without the variable the script stops before sending anything.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.sh");
    std::fs::write(&path, &script).expect("write");
    let out = Command::new("bash")
        .arg(&path)
        .env_remove("VENOMQA_ALICE_PASSWORD")
        .env("TARGET", "http://127.0.0.1:9")
        .output()
        .expect("bash");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set VENOMQA_ALICE_PASSWORD"), "{stderr}");
    assert!(!stderr.contains("curl"), "nothing was sent: {stderr}");
}

#[test]
fn curl_script_sends_literals_when_no_response_produced_the_values() {
    let mut requests = double_refund_requests();
    for r in &mut requests {
        r.response_body = Some("<html>ok</html>".to_string());
    }
    let script = curl_script(&requests, "http://staging.test:8080/");
    bash_n(&script);
    assert!(script.contains("# Values: all sent literally as recorded"), "{script}");
    assert!(script.contains("TARGET=\"${TARGET:-http://staging.test:8080}\""), "{script}");
    // Another origin than the target: the URL stays whole.
    assert!(script.contains("'http://127.0.0.1:9000/orders/o-rec9/pay'"), "{script}");
    assert!(!script.contains("json_field"), "{script}");
}

#[test]
fn curl_script_survives_hostile_targets_and_values() {
    let mut requests = double_refund_requests();
    requests[0].headers.push(("X-Empty".to_string(), String::new()));
    requests[0].headers.push(("X-Evil".to_string(), "a\nb'c\"d$(reboot)`x`".to_string()));
    requests[0].action = "POST /login\n$(reboot)".to_string();
    let script = curl_script(&requests, "http://h:1/$(reboot)\"`x`}");
    bash_n(&script);
    assert!(script.contains("-H 'X-Empty;'"), "{script}");
    assert!(script.contains(r#"-H 'X-Evil: a b'\''c"d$(reboot)`x`'"#), "{script}");
    // The default target expands to itself, not to a command.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{}\nprintf '%s' \"$TARGET\"",
            script.lines().find(|l| l.starts_with("TARGET=")).unwrap_or("")
        ))
        .env_remove("TARGET")
        .output()
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "http://h:1/$(reboot)\"`x`}");
}

#[test]
fn write_reproducers_writes_one_executable_numbered_script_per_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("reproducers");
    let mut all = findings();
    all[3].reproducer = String::new(); // made from its requests instead
    let paths = write_reproducers(&all, &out).expect("written");
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "01-invariant-post-orders-order-id-refund.sh",
            "02-race-post-orders-order-id-refund.sh",
            "03-cross-user-post-orders-order-id-pay.sh",
            "04-unexpected-accept-post-orders.sh",
        ]
    );
    for (path, finding) in paths.iter().zip(&all) {
        let text = std::fs::read_to_string(path).expect("read");
        bash_n(&text);
        if !finding.reproducer.is_empty() {
            assert_eq!(text, finding.reproducer);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o755, "{}", path.display());
        }
    }
    let made = std::fs::read_to_string(&paths[3]).expect("read");
    assert!(made.starts_with("#!/usr/bin/env bash\n# venomqa finding: unexpected-accept · low · POST /orders (mutation: drop, journey: bob-3)\n# refund accepted before pay\n"), "{made}");
    // The origin of the first request is the default target.
    assert!(made.contains("TARGET=\"${TARGET:-http://127.0.0.1:9000}\""), "{made}");
    let script = finding_script(&all[1], RECORDED_TARGET);
    assert!(script.contains("# Reproduced 7 of 10 runs: run it more than once.\n"), "{script}");
}

/// `script` passes shellcheck (warnings and errors); skipped, loudly, when
/// there is no shellcheck unless VENOMQA_REQUIRE_SHELLCHECK=1.
fn shellcheck_clean(script: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("check.sh");
    std::fs::write(&path, script).expect("write");
    match Command::new("shellcheck").args(["-S", "warning"]).arg(&path).output() {
        Ok(out) => assert!(
            out.status.success(),
            "shellcheck:\n{}\n{script}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) if std::env::var("VENOMQA_REQUIRE_SHELLCHECK").as_deref() != Ok("1") => {
            eprintln!("SKIPPED shellcheck: no shellcheck on PATH");
        }
        Err(e) => panic!("shellcheck is required (VENOMQA_REQUIRE_SHELLCHECK=1): {e}"),
    }
}

#[test]
fn a_confirming_script_trusts_an_https_target_as_the_run_did() {
    let requests = double_refund_requests();
    let reset = ResetHow::Request { method: "POST".into(), path: "/__reset".into() };
    let confirm = |tls| Confirm {
        reset: Some(reset.clone()),
        oracle: Some(OracleKind::Invariant),
        summary: "refunded twice".into(),
        tls,
        ..Confirm::default()
    };
    let https = "https://staging.test:8443";
    // Every curl: the steps' and the reset's.
    let curls = |script: &str| script.matches(" -sS -g ").count();

    let ca = ScriptTls::Ca(PathBuf::from("/etc/staging ca/ca.pem"));
    let script = confirming_script(&requests, https, &confirm(ca.clone()));
    bash_n(&script);
    shellcheck_clean(&script);
    assert!(
        script.contains("\nVENOMQA_CA=\"${VENOMQA_CA:-/etc/staging ca/ca.pem}\"\n"),
        "{script}"
    );
    assert_eq!(curls(&script), requests.len() + 1, "{script}");
    assert_eq!(script.matches("curl --cacert \"$VENOMQA_CA\" -sS -g ").count(), curls(&script));

    let script = confirming_script(&requests, https, &confirm(ScriptTls::Insecure));
    bash_n(&script);
    shellcheck_clean(&script);
    assert!(script.contains("# `[target] insecure = true`: venomqa did not check"), "{script}");
    assert_eq!(script.matches("curl -k -sS -g ").count(), curls(&script), "{script}");
    assert!(!script.contains("VENOMQA_CA"), "{script}");

    // A plain http:// target has no certificate to trust.
    let script = confirming_script(&requests, RECORDED_TARGET, &confirm(ca));
    assert!(!script.contains("VENOMQA_CA") && !script.contains(" -k "), "{script}");
    assert_eq!(script.matches("curl -sS -g ").count(), requests.len() + 1, "{script}");
}

// ------------------------------------------- a real run against a live server

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A tiny shop: logins hand out fresh tokens, orders get fresh ids, nothing
/// like the recorded ones, so a script that replays recorded values fails.
async fn shop(
    req: hyper::Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, hyper::Error> {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path().to_string();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let n = {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.push(Seen {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        seen.len()
    };
    let authorized = parts.headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some("Bearer tok-live-7f3e");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (status, reply) = match (parts.method.as_str(), segments.as_slice()) {
        ("POST", ["login"]) => (200, r#"{"user":"alice","token":"tok-live-7f3e"}"#.to_string()),
        _ if !authorized => (401, r#"{"error":"unauthorized"}"#.to_string()),
        ("POST", ["orders"]) => (201, format!(r#"{{"id":"o-live{n}","sku":"A-1","amount":100}}"#)),
        ("POST", ["orders", id, "pay"]) if id.starts_with("o-live") => {
            (200, format!(r#"{{"id":"{id}","status":"paid"}}"#))
        }
        ("POST", ["orders", id, "refund"]) if id.starts_with("o-live") => {
            (200, format!(r#"{{"id":"{id}","refunded":100}}"#))
        }
        _ => (404, r#"{"error":"not found"}"#.to_string()),
    };
    let response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(reply)));
    Ok(response.unwrap_or_else(|_| hyper::Response::new(http_body_util::Full::default())))
}

/// The tiny shop on a loopback port: its address, what it saw, its task.
async fn start_shop() -> (std::net::SocketAddr, Arc<Mutex<Vec<Seen>>>, tokio::task::JoinHandle<()>)
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let server_seen = Arc::clone(&seen);
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            let seen = Arc::clone(&server_seen);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| shop(req, Arc::clone(&seen)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen, server)
}

/// A secret holding every character JSON, forms and URLs treat specially.
const AWKWARD_SECRET: &str = "p\"w\\x&y=é/ +%25#?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reproducer_sends_a_secret_encoded_as_each_place_needs() {
    let (addr, seen, server) = start_shop().await;
    let var = "${VENOMQA_ALICE_PASSWORD}";
    let json = ("Content-Type", "application/json");
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let requests = vec![
        req(
            "POST /login",
            "POST",
            "/login",
            &[json],
            Some(&format!(r#"{{"password":"{var}"}}"#)),
            200,
            "{}",
        ),
        req(
            "POST /login",
            "POST",
            "/login",
            &[form],
            Some(&format!("user=alice&password={var}")),
            200,
            "{}",
        ),
        req("GET /login", "GET", &format!("/login?password={var}"), &[], None, 200, "{}"),
        req("PUT /login", "PUT", "/login", &[("X-Secret", var)], None, 200, "{}"),
    ];
    let script = curl_script(&requests, RECORDED_TARGET);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.sh");
    std::fs::write(&path, &script).expect("write");
    let target = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(&path)
            .env("TARGET", target)
            .env("VENOMQA_ALICE_PASSWORD", AWKWARD_SECRET)
            .output()
            .expect("the script runs")
    })
    .await
    .expect("join");
    server.abort();
    assert!(output.status.success(), "{}\n{script}", String::from_utf8_lossy(&output.stderr));
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(seen.len(), 4, "{script}");
    let sent: serde_json::Value = serde_json::from_str(&seen[0].body).expect("JSON still");
    assert_eq!(sent["password"], AWKWARD_SECRET, "in JSON: {}", seen[0].body);
    let decode = |text: &str, key: &str| -> Option<String> {
        text.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| percent_decode(v))
        })
    };
    assert_eq!(
        decode(&seen[1].body, "password").as_deref(),
        Some(AWKWARD_SECRET),
        "{}",
        seen[1].body
    );
    assert_eq!(decode(&seen[1].body, "user").as_deref(), Some("alice"));
    assert_eq!(
        decode(&seen[2].query, "password").as_deref(),
        Some(AWKWARD_SECRET),
        "{}",
        seen[2].query
    );
    let header = seen[3].headers.iter().find(|(n, _)| n == "x-secret").map(|(_, v)| v.as_str());
    assert_eq!(header, Some(AWKWARD_SECRET), "a header as is");
}

/// `%XX` and `+` decoded, as a form or a query is read.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reproducer_replays_the_sequence_against_a_live_server_with_live_ids() {
    let (addr, seen, server) = start_shop().await;

    // The double refund, then the same refund twice at once.
    let mut requests = double_refund_requests();
    let mut concurrent = requests[4].clone();
    concurrent.copies = 2;
    requests.push(concurrent);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = findings().remove(0);
    f.reproducer = curl_script(&requests, RECORDED_TARGET);
    f.requests = requests;
    let paths = write_reproducers(&[f], dir.path()).expect("written");
    let script = paths[0].clone();

    let target = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&script).env("TARGET", target).output().expect("the script runs")
    })
    .await
    .expect("join");
    server.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert_eq!(
        stdout,
        "1. POST /login -> 200 (recorded 200)\n\
         2. POST /orders -> 201 (recorded 201)\n\
         3. POST /orders/{order_id}/pay -> 200 (recorded 200)\n\
         4. POST /orders/{order_id}/refund -> 200 (recorded 200)\n\
         5. POST /orders/{order_id}/refund -> 200 (recorded 200)\n\
         6. 2x POST /orders/{order_id}/refund -> 200 200 (recorded 200)\n",
        "stderr:\n{stderr}"
    );

    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let lines: Vec<String> = seen.iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(
        lines,
        [
            "POST /login",
            "POST /orders",
            "POST /orders/o-live2/pay",
            "POST /orders/o-live2/refund",
            "POST /orders/o-live2/refund",
            "POST /orders/o-live2/refund",
            "POST /orders/o-live2/refund",
        ]
    );
    assert_eq!(seen[0].body, r#"{"username":"alice","password":"pa'ss"}"#);
    assert_eq!(seen[1].body, r#"{"sku":"A-1","amount":100}"#);
    for s in &seen[3..] {
        assert_eq!(s.body, TRICKY_BODY, "the body survives shell quoting byte for byte");
    }
    let header =
        |s: &Seen, name: &str| s.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(header(&seen[0], "content-type").as_deref(), Some("application/json"));
    assert_eq!(header(&seen[0], "accept-encoding"), None);
    assert_eq!(header(&seen[0], "content-length").as_deref(), Some("39"));
    assert_eq!(header(&seen[2], "authorization").as_deref(), Some("Bearer tok-live-7f3e"));
    assert_eq!(header(&seen[2], "if-match").as_deref(), Some("\"v1\""));
}
