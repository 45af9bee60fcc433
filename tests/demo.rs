//! `venomqa demo` is the newcomer's first command: it must work with nothing set up.

mod common;

use common::{run, text};

#[test]
fn the_demo_records_qa_traffic_and_prints_a_session_table() {
    let out = run(&["demo", "--sessions", "8"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed: {}\n{stdout}", text(&out.stderr));
    assert!(stdout.contains("sample shop"), "{stdout}");
    assert!(stdout.contains("8 sessions"), "{stdout}");
    assert!(stdout.contains("0 captures dropped"), "{stdout}");
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("SESSION"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), 9, "a header and eight session rows:\n{stdout}");
    assert!(table[1..].iter().all(|row| row.starts_with("x-session:qa-")), "{stdout}");
    assert!(
        stdout.contains("11 actions, 1 resources"),
        "the demo learns the shop's model:\n{stdout}"
    );
    assert!(stdout.contains("POST /orders/{order_id}/refund"), "{stdout}");
    assert!(stdout.contains("stateDiagram-v2"), "the order state machine is drawn:\n{stdout}");
    assert!(stdout.contains("created --> paid : POST /orders/{order_id}/pay"), "{stdout}");
}

#[test]
fn the_demo_explores_a_shop_on_sqlite_branching_from_copies_of_its_file() {
    let out = run(&["demo", "--sessions", "8", "--explore", "--color", "never"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed: {}\n{stdout}", text(&out.stderr));
    let explored = stdout
        .split_once("7. venomqa explore against a second shop keeping its state in ")
        .unwrap_or_else(|| panic!("no exploration step:\n{stdout}"))
        .1;
    assert!(explored.lines().next().is_some_and(|l| l.contains("shop.db")), "{explored}");
    let branching = explored
        .lines()
        .find(|l| l.trim_start().starts_with("branching: "))
        .unwrap_or_else(|| panic!("no branching line:\n{explored}"));
    let saved: u64 = branching.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap();
    assert!(saved > 0, "{branching}");
    assert!(
        explored.contains("mutation: explore"),
        "exploration finds the shop's bugs:\n{explored}"
    );
}

#[test]
fn the_demo_over_https_records_through_tls_and_finds_the_bugs_on_an_https_target() {
    let out = run(&["demo", "--sessions", "8", "--https", "--color", "never"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed: {}\n{stdout}", text(&out.stderr));
    assert!(stdout.contains("1. sample shop (all bugs planted) on https://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("2. venomqa record on https://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("8 sessions") && stdout.contains("0 captures dropped"), "{stdout}");
    assert!(stdout.contains("0 upstream errors"), "the proxy trusted the shop's CA:\n{stdout}");
    let findings = stdout
        .lines()
        .find(|l| l.contains(" findings (") && l.contains(" requests"))
        .unwrap_or_else(|| panic!("no findings line:\n{stdout}"));
    let count: usize = findings.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(count >= 9, "the shop's nine bugs over HTTPS: {findings}");
}
