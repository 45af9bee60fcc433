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
    let table: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("SESSION")).collect();
    assert_eq!(table.len(), 9, "a header and eight session rows:\n{stdout}");
    assert!(table[1..].iter().all(|row| row.starts_with("x-session:qa-")), "{stdout}");
}
