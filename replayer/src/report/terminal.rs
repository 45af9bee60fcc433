//! The terminal report: findings grouped by oracle, each as a title line, the
//! minimal sequence as numbered steps, the evidence and where its reproducer
//! is; then one summary line. Written for a person reading a CI log or a
//! terminal: no JSON, no bodies, every line short.
//!
//! ```text
//! race — 1 finding
//!   #4 race · high · POST /orders/{order_id}/refund
//!      Two concurrent refunds of one order were both accepted.
//!      mutation: concurrent · journey: alice-1 · reproduced 7 of 10 runs
//!      1. POST /login → 200
//!      2. POST /orders → 201
//!      3. POST /orders/{order_id}/pay → 200
//!      4. 2x POST /orders/{order_id}/refund → 200
//!      evidence:
//!        - read back as alice: refunded 200 of amount 100
//!      reproducer: out/04-race-post-orders-order-id-refund.sh
//!
//! 1 finding (1 high) in 1234 requests, 3.2 s
//! ```

use std::fmt::Write as _;

use super::{
    cases_line, confidence_name, headline_action, one_line, rate_limited_line, steps, summary_line,
    ReportContext,
};
use crate::oracle::finding::{Confidence, Finding, OracleKind};

/// Longest evidence or summary line printed; the JSON report has it whole.
const MAX_LINE: usize = 160;

/// ANSI styles, or nothing when colour is off.
struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    fn confidence(&self, confidence: Confidence) -> String {
        let code = match confidence {
            Confidence::High => "1;31",
            Confidence::Medium => "33",
            Confidence::Low => "36",
        };
        self.paint(code, confidence_name(confidence))
    }
}

/// Renders the findings for a terminal; ANSI colours only when `color`.
pub fn render_terminal(findings: &[Finding], ctx: &ReportContext, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    if !findings.is_empty() {
        let target = if ctx.target.is_empty() {
            String::new()
        } else {
            format!(" against {}", one_line(&ctx.target, MAX_LINE))
        };
        let _ = writeln!(out, "{}{target}\n", style.bold("venomqa findings"));
    }
    for oracle in OracleKind::ALL {
        // Within a group: the surest first, then in finding order.
        let mut group: Vec<(usize, &Finding)> =
            findings.iter().enumerate().filter(|(_, f)| f.oracle == oracle).collect();
        if group.is_empty() {
            continue;
        }
        group.sort_by_key(|(i, f)| (std::cmp::Reverse(f.confidence), *i));
        let noun = if group.len() == 1 { "finding" } else { "findings" };
        let _ = writeln!(out, "{} — {} {noun}", style.bold(oracle.name()), group.len());
        for (index, finding) in group {
            render_finding(&mut out, &style, index, finding, ctx);
        }
    }
    if let Some(e) = &ctx.exploration {
        for line in exploration_lines(e) {
            out.push_str(&style.dim(&line));
            out.push('\n');
        }
    }
    if let Some(line) = cases_line(&ctx.cases) {
        out.push_str(&style.dim(&line));
        out.push('\n');
    }
    if let Some(line) = rate_limited_line(ctx) {
        out.push_str(&style.dim(&line));
        out.push('\n');
    }
    if let Some(why) = &ctx.incomplete {
        out.push_str(&style.paint("1;33", &format!("incomplete: {why}")));
        out.push('\n');
    }
    let summary = summary_line(findings, ctx);
    let summary = match findings.iter().map(|f| f.confidence).max() {
        None => style.paint("32", &summary),
        Some(top) => style.paint(
            match top {
                Confidence::High => "1;31",
                Confidence::Medium => "1;33",
                Confidence::Low => "1;36",
            },
            &summary,
        ),
    };
    out.push_str(&summary);
    out.push('\n');
    out
}

/// What exploration covered, in a few lines: paths and depth, states and
/// transitions against the recording's, what pruning saved.
fn exploration_lines(e: &crate::report::exploration::Exploration) -> Vec<String> {
    let pairs = |items: &[(String, String)]| -> String {
        items.iter().map(|(r, s)| format!("{r}:{s}")).collect::<Vec<_>>().join(", ")
    };
    let mut lines = vec![format!(
        "explored {} paths from {} starts ({} strategy, depth {} of {}), {} family tests at new states, {} requests",
        e.paths, e.roots, e.strategy, e.depth_reached, e.max_depth, e.probes, e.requests
    )];
    let learned_states = e.states_reached.len() + e.states_missed.len();
    lines.push(format!(
        "  coverage: {} of {} learned states, {} of {} learned transitions; new (never recorded): {} states, {} transitions",
        e.states_reached.len(),
        learned_states,
        e.transitions_reached.len(),
        e.transitions_learned,
        e.states_new.len(),
        e.transitions_new.len()
    ));
    if !e.states_new.is_empty() {
        lines.push(format!("  new states: {}", one_line(&pairs(&e.states_new), MAX_LINE)));
    }
    if !e.transitions_new.is_empty() {
        let shown: Vec<String> = e
            .transitions_new
            .iter()
            .map(|t| format!("{}: {} --{}--> {}", t.resource, t.from, t.action, t.to))
            .collect();
        lines.push(format!("  new transitions: {}", one_line(&shown.join("; "), MAX_LINE)));
    }
    if !e.states_missed.is_empty() {
        lines.push(format!(
            "  learned states not reached: {}",
            one_line(&pairs(&e.states_missed), MAX_LINE)
        ));
    }
    if !e.actions_never_enabled.is_empty() {
        lines.push(format!(
            "  actions never accepted: {}",
            one_line(&e.actions_never_enabled.join(", "), MAX_LINE)
        ));
    }
    let pruned: Vec<String> =
        e.pruned.iter().map(|(why, n)| format!("{n} {}", why.replace('_', " "))).collect();
    lines.push(format!(
        "  pruning: {} paths run instead of {} (a naive search: {} starts × {} actions to depth {}); not extended: {}",
        e.paths,
        big(e.naive_sequences),
        e.roots,
        e.actions,
        e.max_depth,
        if pruned.is_empty() { "none".to_string() } else { pruned.join(", ") }
    ));
    if e.checkpoints > 0 {
        lines.push(format!(
            "  branching: {} states saved, {} paths started from one instead of a reset and a replay",
            e.checkpoints, e.rollbacks
        ));
    }
    if let Some(why) = &e.stopped_by {
        let open = e.pruned.get("budget").copied().unwrap_or(0);
        lines.push(format!(
            "  exploration stopped: the `{why}` budget ran out with {open} paths still open"
        ));
    }
    lines
}

/// A count that may be astronomically large, readable.
fn big(n: f64) -> String {
    if n < 1e9 {
        format!("{n:.0}")
    } else {
        format!("{n:.2e}")
    }
}

fn render_finding(
    out: &mut String,
    style: &Style,
    index: usize,
    finding: &Finding,
    ctx: &ReportContext,
) {
    let _ = writeln!(
        out,
        "  {} {} · {} · {}",
        style.bold(&format!("#{}", index + 1)),
        finding.oracle.name(),
        style.confidence(finding.confidence),
        style.bold(&one_line(&headline_action(finding), MAX_LINE)),
    );
    let pad = "     ";
    if !finding.summary.is_empty() {
        let _ = writeln!(out, "{pad}{}", one_line(&finding.summary, MAX_LINE));
    }
    let mut facts = vec![format!("mutation: {}", one_line(&finding.mutation, 60))];
    if !finding.journey.is_empty() {
        facts.push(format!("journey: {}", one_line(&finding.journey, 60)));
    }
    if let Some((hits, runs)) = finding.reproduced {
        facts.push(format!("reproduced {hits} of {runs} runs"));
    }
    let _ = writeln!(out, "{pad}{}", style.dim(&facts.join(" · ")));
    for (n, step) in steps(finding).iter().enumerate() {
        let _ = writeln!(out, "{pad}{}. {}", n + 1, one_line(&step.line("→"), MAX_LINE));
    }
    if !finding.evidence.is_empty() {
        let _ = writeln!(out, "{pad}evidence:");
        for line in &finding.evidence {
            let _ = writeln!(out, "{pad}  - {}", style.dim(&one_line(line, MAX_LINE)));
        }
    }
    if let Some(path) = ctx.reproducer_files.get(index) {
        let _ = writeln!(out, "{pad}reproducer: {}", one_line(&path.display().to_string(), 200));
    }
    out.push('\n');
}
