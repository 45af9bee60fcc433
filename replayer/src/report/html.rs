//! The HTML report (`--html FILE`): one page a person opens from a CI
//! artifact. It holds the run's summary, every finding with its minimal
//! sequence (each request and answer behind a disclosure), and each
//! resource's learned state machine drawn as SVG, the transitions a finding
//! crossed in red and linked to it; each finding links back to its machine.
//!
//! The page is self-contained and inert: inline CSS, inline SVG, no script,
//! no font, image or stylesheet from anywhere, and a Content-Security-Policy
//! that forbids loading any. Every text from the run goes through the
//! escaper in `markup`, so a body holding `<script>` is shown, never run;
//! credentials and secret fields are blanked (see `secrets`).
//!
//! Anchors: `#summary`, `#finding-N` (N as in every report), `#machine-NAME`.

mod crossed;
mod findings;
mod graph;
mod layout;
mod machines;
mod secrets;

use std::fmt::Write as _;

use venomqa_learner::Model;

use super::markup::escape_text;
use super::{confidence_counts, rate_limited_line, seconds, summary_line, ReportContext};
use crate::oracle::finding::{Finding, OracleKind};
use findings::write_findings;
use machines::{write_machines, Machine};

/// Renders the whole page.
pub fn render_html(findings: &[Finding], ctx: &ReportContext, model: &Model) -> String {
    let machines = Machine::all(model, findings, ctx.exploration.as_ref());
    let mut page = String::with_capacity(16 * 1024);
    let title = match ctx.target.as_str() {
        "" => "venomqa report".to_string(),
        target => format!("venomqa report: {target}"),
    };
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape_text(&title)
    );
    write_summary(&mut page, findings, ctx);
    page.push_str("<main>\n");
    write_findings(&mut page, findings, ctx, model, &machines);
    write_machines(&mut page, &machines);
    let _ = write!(
        page,
        "</main>\n<footer>venomqa {} · every secret value is shown as <code>{}</code></footer>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        secrets::HIDDEN
    );
    page
}

fn write_summary(page: &mut String, findings: &[Finding], ctx: &ReportContext) {
    let verdict = match (findings.is_empty(), &ctx.incomplete) {
        (false, _) => "found",
        (true, Some(_)) => "incomplete",
        (true, None) => "clean",
    };
    let _ = write!(
        page,
        "<header id=\"summary\">\n<h1>venomqa report</h1>\n<p class=\"verdict {verdict}\">{}</p>\n",
        escape_text(&summary_line(findings, ctx))
    );
    // A run that found nothing but did not test all it planned says so first.
    if let Some(why) = &ctx.incomplete {
        let _ =
            writeln!(page, "<p class=\"verdict incomplete\">incomplete: {}</p>", escape_text(why));
    }
    page.push_str("<dl>\n");
    let mut facts: Vec<(&str, String)> = Vec::new();
    if !ctx.target.is_empty() {
        facts.push(("target", format!("<code>{}</code>", escape_text(&ctx.target))));
    }
    let (high, medium, low) = confidence_counts(findings);
    facts.push((
        "findings",
        format!(
            "{} — <span class=\"confidence high\">{high} high</span>, \
             <span class=\"confidence medium\">{medium} medium</span>, \
             <span class=\"confidence low\">{low} low</span>",
            findings.len()
        ),
    ));
    let by_oracle: Vec<String> = OracleKind::ALL
        .iter()
        .map(|&oracle| (oracle, findings.iter().filter(|f| f.oracle == oracle).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(oracle, n)| format!("{} {n}", oracle.name()))
        .collect();
    if !by_oracle.is_empty() {
        facts.push(("by oracle", escape_text(&by_oracle.join(", "))));
    }
    facts.push(("requests", ctx.requests.to_string()));
    if ctx.rate_limited > 0 {
        facts.push(("rate-limited", escape_text(&rate_limited_line(ctx).unwrap_or_default())));
    }
    facts.push(("sequences", ctx.sequences.to_string()));
    facts.push(("seconds", format!("{:.1}", seconds(ctx.seconds))));
    for (name, value) in facts {
        let _ = writeln!(page, "<dt>{name}</dt><dd>{value}</dd>");
    }
    page.push_str("</dl>\n");
    if ctx.cases.planned > 0 {
        write_cases(page, ctx);
    }
    if let Some(e) = &ctx.exploration {
        write_exploration(page, e);
    }
    page.push_str("</header>\n");
}

/// What exploration reached: coverage against the recording and what
/// pruning saved.
fn write_exploration(page: &mut String, e: &crate::report::exploration::Exploration) {
    let learned_states = e.states_reached.len() + e.states_missed.len();
    let pairs = |items: &[(String, String)]| -> String {
        let shown: Vec<String> = items.iter().map(|(r, s)| format!("{r}: {s}")).collect();
        escape_text(&shown.join(", "))
    };
    let mut rows: Vec<(&str, String)> = vec![
        (
            "explored",
            format!(
                "{} paths from {} starts, {} strategy, depth {} of {}; {} family tests at new states; {} requests",
                e.paths, e.roots, escape_text(&e.strategy), e.depth_reached, e.max_depth, e.probes, e.requests
            ),
        ),
        ("learned states reached", format!("{} of {learned_states}", e.states_reached.len())),
        (
            "learned transitions taken",
            format!("{} of {}", e.transitions_reached.len(), e.transitions_learned),
        ),
        ("new states", format!("<span class=\"new-state\">{}</span>", pairs(&e.states_new))),
        ("new transitions", e.transitions_new.len().to_string()),
    ];
    if !e.states_missed.is_empty() {
        rows.push(("learned states not reached", pairs(&e.states_missed)));
    }
    if !e.actions_never_enabled.is_empty() {
        rows.push(("actions never accepted", escape_text(&e.actions_never_enabled.join(", "))));
    }
    let pruned: Vec<String> =
        e.pruned.iter().map(|(why, n)| format!("{n} {}", why.replace('_', " "))).collect();
    rows.push((
        "pruning",
        format!(
            "{} paths instead of {:.0} (a naive search: {} starts × {} actions to depth {}); not extended: {}",
            e.paths,
            e.naive_sequences,
            e.roots,
            e.actions,
            e.max_depth,
            escape_text(&pruned.join(", "))
        ),
    ));
    if let Some(why) = &e.stopped_by {
        rows.push(("stopped by", format!("the <code>{}</code> budget", escape_text(why))));
    }
    page.push_str("<table class=\"exploration\" id=\"exploration\">\n<tr><th>exploration</th><th></th></tr>\n");
    for (name, value) in rows {
        let _ = writeln!(page, "<tr><td>{name}</td><td>{value}</td></tr>");
    }
    page.push_str("</table>\n");
}

/// Cases planned, exercised and not, with each reason: a run that
/// exercised little tested little, however clean it looks.
fn write_cases(page: &mut String, ctx: &ReportContext) {
    page.push_str("<table class=\"cases\">\n<tr><th>cases</th><th>count</th></tr>\n");
    let _ = writeln!(page, "<tr><td>planned</td><td>{}</td></tr>", ctx.cases.planned);
    let _ = writeln!(page, "<tr><td>exercised</td><td>{}</td></tr>", ctx.cases.exercised);
    for (reason, n) in &ctx.cases.skipped {
        let _ = writeln!(
            page,
            "<tr><td>not exercised: {}</td><td>{n}</td></tr>",
            escape_text(&reason.replace('_', " "))
        );
    }
    page.push_str("</table>\n");
}

/// The page's only style: readable on screen and on paper, no fonts fetched.
const STYLE: &str = "
:root { color-scheme: light; --red: #c62828; --amber: #b26a00; --teal: #00796b; --ink: #1d2330; --muted: #5b6475; --line: #d7dbe3; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 32px 0 12px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { margin: 0 0 6px; font-size: 17px; }
h4 { margin: 10px 0 4px; font-size: 14px; color: var(--muted); }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
a { color: #1a56b0; }
.verdict { font-size: 17px; font-weight: 600; margin: 4px 0 12px; }
.verdict.clean { color: var(--teal); } .verdict.found { color: var(--red); } .verdict.incomplete { color: var(--amber, #a15c00); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 12px; }
dt { color: var(--muted); } dd { margin: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f9; }
.confidence { font-weight: 600; } .confidence.high { color: var(--red); } .confidence.medium { color: var(--amber); } .confidence.low { color: var(--teal); }
.finding { border: 1px solid var(--line); border-left: 5px solid var(--red); border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.finding:target, .machine:target { box-shadow: 0 0 0 3px #ffd54f; }
.facts { color: var(--muted); margin: 2px 0 8px; }
.summary { margin: 4px 0; font-weight: 500; }
.steps { margin: 6px 0; padding-left: 28px; } .steps li { margin: 3px 0; }
.status { font-weight: 600; font-family: ui-monospace, Menlo, Consolas, monospace; }
.s2xx { color: var(--teal); } .s4xx { color: var(--amber); } .s5xx, .none { color: var(--red); }
.user { color: var(--muted); }
details { margin: 2px 0 6px; } summary { cursor: pointer; color: var(--muted); font-size: 13px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; max-height: 360px; }
.off-machine { border-left: 3px solid var(--amber); padding-left: 8px; }
.evidence li { margin: 2px 0; }
.machine { margin: 16px 0 28px; padding: 8px 12px; border: 1px solid var(--line); border-radius: 6px; }
.new-state { color: var(--teal); font-weight: 600; }
.machine figcaption { color: var(--muted); margin-bottom: 8px; } .machine figcaption h3 { color: var(--ink); }
.drawing { overflow-x: auto; }
svg.machine { max-width: none; border: 0; margin: 0; padding: 0; }
svg .state rect { fill: #eef3fb; stroke: #3d5a80; stroke-width: 1.5; }
svg .state.initial rect { stroke-width: 2.5; } svg .state.final rect.inner { fill: none; }
svg .state text { fill: var(--ink); }
svg .start { fill: var(--ink); }
svg .edge .line { fill: none; stroke: #7a8394; stroke-width: 1.4; } svg .edge .head { fill: #7a8394; }
svg .edge text { fill: var(--muted); }
svg .edge.crossed .line { stroke: var(--red); stroke-width: 2.6; } svg .edge.crossed .head { fill: var(--red); }
svg .edge.crossed text { fill: var(--red); font-weight: 700; text-decoration: underline; }
svg .edge.unlearned .line { stroke-dasharray: 6 4; }
tr.crossed td { background: #fdecea; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::oracle::finding::{Confidence, SentRequest};

    const TARGET: &str = "http://127.0.0.1:9000";

    /// The shop's orders as the learner sees them.
    fn shop_model() -> Model {
        let mut model = Model::empty();
        model.resources = serde_json::from_value(json!([{
            "name": "orders", "collection": "/orders", "id_param": "order_id",
            "create": "POST /orders", "id_pointer": "/id",
            "read": ["GET /orders/{order_id}"], "update": [], "delete": ["DELETE /orders/{order_id}"],
            "other": ["POST /orders/{order_id}/pay", "POST /orders/{order_id}/refund", "POST /orders/{order_id}/ship"],
            "ownership": {"instances": 3, "created": 3, "foreign_accepted": 0, "foreign_rejected": 0}
        }]))
        .unwrap();
        let t = |from: &str, action: &str, to: &str, count: u64| json!({"from": from, "action": action, "to": to, "count": count, "statuses": {"200": count}});
        let states: Vec<_> = ["created", "paid", "shipped", "refunded", "deleted"]
            .map(|name| json!({"name": name, "accepted": {}, "rejected": {}}))
            .into();
        model.machines = serde_json::from_value(json!([{
            "resource": "orders", "basis": "field", "field": "status", "initial": {"created": 33},
            "states": states,
            "transitions": [
                t("created", "POST /orders/{order_id}/pay", "paid", 26),
                t("created", "PATCH /orders/{order_id}", "created", 8),
                t("created", "DELETE /orders/{order_id}", "deleted", 5),
                t("paid", "POST /orders/{order_id}/ship", "shipped", 14),
                t("paid", "POST /orders/{order_id}/refund", "refunded", 3),
                t("shipped", "POST /orders/{order_id}/refund", "refunded", 6),
            ]
        }]))
        .unwrap();
        model
    }

    fn sent(
        action: &str,
        path: &str,
        status: u16,
        body: Option<&str>,
        response: &str,
    ) -> SentRequest {
        let method = action.split(' ').next().unwrap_or("GET");
        SentRequest {
            action: action.to_string(),
            user: Some("alice".to_string()),
            method: method.to_string(),
            url: format!("{TARGET}{path}"),
            headers: vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("authorization".to_string(), "Bearer tok-alice-s3cr3t".to_string()),
            ],
            body: body.map(str::to_string),
            copies: 1,
            at_once_with_previous: false,
            linked: Vec::new(),
            status: Some(status),
            response_body: Some(response.to_string()),
        }
    }

    /// A double refund: pay, refund, refund again.
    fn double_refund(summary: &str) -> Finding {
        let requests = vec![
            sent(
                "POST /login",
                "/login",
                200,
                Some(r#"{"username":"alice","password":"alice-pw-1"}"#),
                r#"{"token":"tok-alice-s3cr3t"}"#,
            ),
            sent(
                "POST /orders",
                "/orders",
                201,
                Some(r#"{"amount":100}"#),
                r#"{"id":"ord_7","status":"created"}"#,
            ),
            sent(
                "POST /orders/{order_id}/pay",
                "/orders/ord_7/pay",
                200,
                None,
                r#"{"status":"paid"}"#,
            ),
            sent(
                "POST /orders/{order_id}/refund",
                "/orders/ord_7/refund",
                200,
                None,
                r#"{"status":"refunded"}"#,
            ),
            sent(
                "POST /orders/{order_id}/refund",
                "/orders/ord_7/refund",
                200,
                None,
                "<script>alert(2)</script>",
            ),
        ];
        Finding {
            oracle: OracleKind::Invariant,
            mutation: "duplicate".to_string(),
            actions: requests.iter().map(|r| r.action.clone()).collect(),
            confidence: Confidence::High,
            summary: summary.to_string(),
            evidence: vec!["read back as alice: refunded 200 of amount 100 <b>".to_string()],
            journey: "x-session:qa-1".to_string(),
            requests,
            reproducer: String::new(),
            reproduced: None,
        }
    }

    fn context() -> ReportContext {
        ReportContext {
            target: TARGET.to_string(),
            requests: 1234,
            seconds: 3.2,
            reproducer_files: vec!["out/01-invariant-post-orders-order-id-refund.sh".into()],
            ..ReportContext::default()
        }
    }

    #[test]
    fn a_summary_holding_a_script_tag_is_shown_escaped_never_run() {
        let page =
            render_html(&[double_refund("<script>alert(1)</script>")], &context(), &shop_model());
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(2)&lt;/script&gt;"), "the answer's body too");
        assert!(page.contains("amount 100 &lt;b&gt;"), "evidence too");
        assert!(!page.to_lowercase().contains("<script"), "no script element at all");
    }

    #[test]
    fn a_clean_but_incomplete_run_says_so_first() {
        let ctx = ReportContext {
            incomplete: Some("the `seconds` budget ran out; 6 planned tests not run".into()),
            ..context()
        };
        let page = render_html(&[], &ctx, &shop_model());
        let said = "<p class=\"verdict incomplete\">incomplete: the `seconds` budget ran out";
        assert!(page.contains(said), "{page}");
        assert!(page.contains("<p class=\"verdict incomplete\">0 findings"), "{page}");
        let clean = render_html(&[], &context(), &shop_model());
        assert!(!clean.contains("class=\"verdict incomplete\""), "{clean}");
    }

    #[test]
    fn a_transition_the_finding_crossed_is_red_and_links_to_the_finding() {
        let page = render_html(&[double_refund("refunded twice")], &context(), &shop_model());
        let crossed = |title: &str| {
            let link = format!("<a href=\"#finding-1\" class=\"edge crossed\"><title>{title} — crossed by #1</title>");
            page.contains(&link)
        };
        assert!(crossed("created → paid: POST /orders/{order_id}/pay ×26"), "{page}");
        assert!(crossed("paid → refunded: POST /orders/{order_id}/refund ×3"), "{page}");
        assert!(crossed("created in created: POST /orders ×33"), "the create enters the machine");
        assert!(
            page.contains(
                "<g class=\"edge\"><title>paid → shipped: POST /orders/{order_id}/ship ×14</title>"
            ),
            "{page}"
        );
        assert!(page.contains(
            "<tr class=\"crossed\"><td>paid</td><td><code>POST /orders/{order_id}/refund</code>"
        ));
        // The second refund has no learned transition from refunded: that is the bug.
        assert!(
            page.contains(
                "Step 5 left the learned machine of <a href=\"#machine-orders\">orders</a>"
            ),
            "{page}"
        );
        assert!(
            page.contains("was accepted in <b>refunded</b>, which the recording never showed"),
            "{page}"
        );
        assert!(
            page.contains("state machine: <a href=\"#machine-orders\">orders</a>"),
            "the finding links to its graph"
        );
        assert!(page.contains("<figure class=\"machine\" id=\"machine-orders\">"));
        assert!(page.contains("<code>out/01-invariant-post-orders-order-id-refund.sh</code>"));
    }

    #[test]
    fn a_move_no_recorded_session_made_is_drawn_dashed_and_the_walk_goes_on_from_its_answer() {
        let mut finding = double_refund("shipped unpaid");
        finding.requests.truncate(2);
        for (step, status) in [("ship", "shipped"), ("refund", "refunded")] {
            let answer = format!(r#"{{"id":"ord_7","status":"{status}"}}"#);
            let action = format!("POST /orders/{{order_id}}/{step}");
            finding.requests.push(sent(
                &action,
                &format!("/orders/ord_7/{step}"),
                200,
                None,
                &answer,
            ));
        }
        finding.actions = finding.requests.iter().map(|r| r.action.clone()).collect();
        let page = render_html(&[finding], &context(), &shop_model());
        let unlearned = "<a href=\"#finding-1\" class=\"edge crossed unlearned\"><title>created → shipped: \
                         POST /orders/{order_id}/ship, which no recorded session did — crossed by #1</title>";
        assert!(page.contains(unlearned), "{page}");
        assert!(page.contains("POST …/ship — never recorded</text>"));
        assert!(
            page.contains(
                "<a href=\"#finding-1\" class=\"edge crossed\"><title>shipped → refunded"
            ),
            "{page}"
        );
        assert!(page.contains("<td>created</td><td><code>POST /orders/{order_id}/ship</code></td><td>shipped</td><td>0</td><td>never recorded</td>"));
        assert!(page.contains("was accepted in <b>created</b> and left it in <b>shipped</b>"));
    }

    #[test]
    fn what_exploration_added_is_marked_new_on_the_machine_and_counted_in_the_summary() {
        let transition =
            |from: &str, action: &str, to: &str| crate::report::exploration::Transition {
                resource: "orders".into(),
                from: from.into(),
                action: action.into(),
                to: to.into(),
            };
        let exploration = crate::report::exploration::Exploration {
            strategy: "coverage".into(),
            max_depth: 4,
            depth_reached: 4,
            roots: 3,
            paths: 120,
            states_reached: vec![("orders".into(), "paid".into())],
            states_new: vec![("orders".into(), "on_hold".into())],
            transitions_learned: 5,
            transitions_reached: vec![transition("created", "POST /orders/{order_id}/pay", "paid")],
            transitions_new: vec![transition("paid", "POST /orders/{order_id}/cancel", "created")],
            pruned: [("same_state".to_string(), 7)].into(),
            actions: 4,
            naive_sequences: 1023.0,
            ..Default::default()
        };
        let ctx = ReportContext { exploration: Some(exploration), ..context() };
        let page = render_html(&[], &ctx, &shop_model());
        assert!(page.contains("id=\"exploration\""), "{page}");
        assert!(page.contains("120 paths instead of 1023"), "{page}");
        assert!(
            page.contains("<tr><td>learned transitions taken</td><td>1 of 5</td></tr>"),
            "{page}"
        );
        assert!(page.contains("<span class=\"new-state\">orders: on_hold</span>"), "{page}");
        // The new transition: a dashed arrow no finding crossed, and a row saying so.
        assert!(page.contains("class=\"edge unlearned\""), "{page}");
        assert!(page.contains("never recorded; new, by exploration"), "{page}");
        assert!(page.contains(
            "reached states it never showed: <strong class=\"new-state\">on_hold</strong>"
        ));
    }

    #[test]
    fn a_run_without_findings_still_draws_every_state_machine() {
        let ctx = ReportContext {
            cases: crate::report::CaseCounts {
                planned: 10,
                exercised: 8,
                skipped: [("budget".to_string(), 2)].into(),
            },
            ..context()
        };
        let page = render_html(&[], &ctx, &shop_model());
        assert!(page.contains("No findings."));
        assert!(page.contains("<svg class=\"machine\""), "{page}");
        for state in ["created", "paid", "shipped", "refunded", "deleted"] {
            assert!(
                page.contains(&format!("dominant-baseline=\"middle\">{state}</text>")),
                "{state} drawn"
            );
        }
        assert!(page.contains("no finding crossed a transition of it"));
        assert!(!page.contains("edge crossed"));
        assert!(page.contains("<tr><td>not exercised: budget</td><td>2</td></tr>"), "{page}");
        assert!(page.contains("0 findings in 1234 requests, 3.2 s"));
    }

    #[test]
    fn the_answers_a_rate_limit_made_the_run_wait_out_are_counted_on_the_page() {
        let quiet = render_html(&[], &context(), &shop_model());
        assert!(!quiet.contains("rate-limited"), "no line when nothing was limited");
        let limited =
            render_html(&[], &ReportContext { rate_limited: 12, ..context() }, &shop_model());
        assert!(
            limited.contains("<dt>rate-limited</dt><dd>the target rate-limited 12 answers (429, or 503 with Retry-After)"),
            "{limited}"
        );
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let page = render_html(&[double_refund("refunded twice")], &context(), &shop_model());
        let lower = page.to_lowercase();
        for loader in [
            "src=",
            "url(",
            "@import",
            "<link",
            "<script",
            "<img",
            "<iframe",
            "<object",
            "<embed",
            "xlink:href",
            "srcset",
        ] {
            assert!(!lower.contains(loader), "{loader} in the page");
        }
        for href in lower.split("href=\"").skip(1) {
            assert!(
                href.starts_with('#'),
                "only anchors in the page: href=\"{}",
                &href[..href.len().min(40)]
            );
        }
        for scheme in ["http://", "https://"] {
            for (at, _) in lower.match_indices(scheme) {
                assert!(
                    lower[at..].starts_with(TARGET),
                    "only the target's URL, shown as text: {}",
                    &lower[at..at + 40]
                );
            }
        }
        assert!(
            page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""),
            "the browser enforces it too"
        );
    }

    #[test]
    fn credentials_and_secret_fields_never_reach_the_page() {
        let page = render_html(&[double_refund("refunded twice")], &context(), &shop_model());
        assert!(
            !page.contains("tok-alice-s3cr3t"),
            "the token, in headers and in the login's answer"
        );
        assert!(!page.contains("alice-pw-1"), "the password of the login's body");
        assert!(page.contains("authorization: Bearer [redacted]"), "{page}");
        assert!(
            page.contains("&quot;username&quot;: &quot;alice&quot;")
                || page.contains("\"username\": \"alice\""),
            "{page}"
        );
    }
}
