//! The JUnit XML report (`--junit FILE`), in the shape Jenkins, GitLab and
//! the GitHub test-report actions all read:
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <testsuites name="venomqa" tests="40" failures="1" errors="0" time="3.200">
//!   <testsuite name="venomqa" tests="40" failures="1" errors="0" skipped="0" time="3.200">
//!     <properties><property name="target" value="http://127.0.0.1:9000"/>...</properties>
//!     <testcase classname="alice-1" name="duplicate" time="0.081"/>
//!     <testcase classname="alice-1" name="concurrent" time="0.120">
//!       <failure message="Two concurrent refunds..." type="race">sequence, evidence, reproducer</failure>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//!
//! One test case per journey × mutation family (`classname` = journey,
//! `name` = family). Several findings in one test case make one `<failure>`
//! (readers disagree on several): its message joins their summaries, its type
//! their oracles. Findings no test case points at get test cases of their
//! own, so a finding is never missing from CI.
//!
//! XML is written by hand, every value through the escaper in `markup`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::markup::{escape_attr, escape_text};
use super::{confidence_name, headline_action, seconds, steps, ReportContext, TestCase};
use crate::oracle::finding::Finding;

/// Renders the run as one JUnit `<testsuite name="venomqa">`.
pub fn render_junit(findings: &[Finding], ctx: &ReportContext) -> String {
    let cases = testcases(findings, ctx);
    let tests = cases.len();
    let failures = cases.iter().filter(|c| !c.findings.is_empty()).count();
    let skipped = cases.iter().filter(|c| c.findings.is_empty() && c.skipped.is_some()).count();
    let time = format!("{:.3}", seconds(ctx.seconds));

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"venomqa\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time}\">"
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"venomqa\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\">"
    );
    xml.push_str("    <properties>\n");
    for (name, value) in [
        ("target", ctx.target.clone()),
        ("sequences", ctx.sequences.to_string()),
        ("requests", ctx.requests.to_string()),
        ("findings", findings.len().to_string()),
        ("complete", ctx.incomplete.is_none().to_string()),
    ] {
        let _ = writeln!(
            xml,
            "      <property name=\"{}\" value=\"{}\"/>",
            escape_attr(name),
            escape_attr(&value)
        );
    }
    xml.push_str("    </properties>\n");
    for case in &cases {
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape_attr(&case.journey),
            escape_attr(&case.mutation),
            seconds(case.seconds)
        );
        let failing: Vec<(usize, &Finding)> =
            case.findings.iter().filter_map(|&i| findings.get(i).map(|f| (i, f))).collect();
        if failing.is_empty() {
            match &case.skipped {
                Some(why) => {
                    let _ = writeln!(
                        xml,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape_attr(why)
                    );
                }
                None => xml.push_str("/>\n"),
            }
            continue;
        }
        let message = if let [(_, only)] = failing.as_slice() {
            only.summary.clone()
        } else {
            let summaries: Vec<&str> = failing.iter().map(|(_, f)| f.summary.as_str()).collect();
            format!("{} findings: {}", failing.len(), summaries.join("; "))
        };
        let mut kinds: Vec<&str> = Vec::new();
        for (_, f) in &failing {
            if !kinds.contains(&f.oracle.name()) {
                kinds.push(f.oracle.name());
            }
        }
        let text: Vec<String> = failing.iter().map(|(i, f)| failure_text(*i, f, ctx)).collect();
        let _ = write!(
            xml,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            escape_attr(&message),
            escape_attr(&kinds.join(", ")),
            escape_text(&text.join("\n\n"))
        );
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// The JUnit report of a run that could not test anything (the target
/// down, not the recorded API, a reset failing): one testcase in error,
/// its message the reason, so a CI "publish test results" step shows it.
pub fn render_junit_error(target: &str, message: &str) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(
        "<testsuites name=\"venomqa\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"0.000\">\n",
    );
    xml.push_str("  <testsuite name=\"venomqa\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n");
    let _ = writeln!(
        xml,
        "    <properties>\n      <property name=\"target\" value=\"{}\"/>\n    </properties>",
        escape_attr(target)
    );
    let _ = writeln!(
        xml,
        "    <testcase classname=\"venomqa\" name=\"run\" time=\"0.000\">\n      <error message=\"{}\" type=\"venomqa\">{}</error>\n    </testcase>",
        escape_attr(message),
        escape_text(message)
    );
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// The test cases to report: the run's, then one per (journey, mutation) of
/// the findings no test case of the run points at. Indexes out of range are
/// dropped rather than trusted.
fn testcases(findings: &[Finding], ctx: &ReportContext) -> Vec<TestCase> {
    let mut cases: Vec<TestCase> = ctx
        .testcases
        .iter()
        .map(|t| TestCase {
            findings: t.findings.iter().copied().filter(|&i| i < findings.len()).collect(),
            ..t.clone()
        })
        .collect();
    let covered: std::collections::HashSet<usize> =
        cases.iter().flat_map(|c| c.findings.iter().copied()).collect();
    let mut orphans: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if !covered.contains(&i) {
            orphans.entry((f.journey.clone(), f.mutation.clone())).or_default().push(i);
        }
    }
    for ((journey, mutation), indexes) in orphans {
        match cases.iter_mut().find(|c| c.journey == journey && c.mutation == mutation) {
            Some(case) => case.findings.extend(indexes),
            None => cases.push(TestCase {
                journey,
                mutation,
                findings: indexes,
                seconds: 0.0,
                skipped: None,
            }),
        }
    }
    cases
}

/// The body of a `<failure>`: title, sequence, evidence, reproducer.
fn failure_text(index: usize, f: &Finding, ctx: &ReportContext) -> String {
    let mut text = format!(
        "#{} {} · {} · {}\n{}\n",
        index + 1,
        f.oracle.name(),
        confidence_name(f.confidence),
        headline_action(f),
        f.summary
    );
    if let Some((hits, runs)) = f.reproduced {
        let _ = writeln!(text, "reproduced {hits} of {runs} runs");
    }
    text.push_str("sequence:\n");
    for (n, step) in steps(f).iter().enumerate() {
        let _ = writeln!(text, "  {}. {}", n + 1, step.line("→"));
    }
    if !f.evidence.is_empty() {
        text.push_str("evidence:\n");
        for line in &f.evidence {
            let _ = writeln!(text, "  - {line}");
        }
    }
    if let Some(path) = ctx.reproducer_files.get(index) {
        let _ = writeln!(text, "reproducer: {}", path.display());
    }
    if !f.reproducer.is_empty() {
        let _ = write!(text, "reproducer script:\n{}", f.reproducer);
    }
    text.trim_end().to_string()
}
