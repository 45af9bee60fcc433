//! The JSON report (`--json FILE`): what machines read. Its field names are
//! a public contract; add fields, never rename or remove them.
//!
//! ```json
//! {
//!   "findings": [{
//!     "id": 1,
//!     "oracle": "race",
//!     "mutation": "concurrent",
//!     "actions": ["POST /login", "POST /orders", "POST /orders/{order_id}/pay",
//!                 "2x POST /orders/{order_id}/refund"],
//!     "confidence": "high",
//!     "summary": "...",
//!     "evidence": ["..."],
//!     "journey": "alice-1",
//!     "requests": [{"action": "POST /login", "user": "alice", "method": "POST",
//!                   "url": "http://...", "headers": [{"name": "...", "value": "..."}],
//!                   "body": "...", "copies": 1, "status": 200, "response_body": "..."}],
//!     "reproduced": {"times": 7, "runs": 10},
//!     "reproducer": "#!/usr/bin/env bash\n...",
//!     "reproducer_file": "out/01-race-post-orders-order-id-refund.sh"
//!   }],
//!   "stats": {"target": "...", "findings": 1, "high": 1, "medium": 0, "low": 0,
//!             "by_oracle": {"race": 1}, "sequences": 120, "requests": 1234,
//!             "rate_limited": 0, "seconds": 3.2, "testcases": 40, "failed_testcases": 1,
//!             "cases_planned": 430, "cases_exercised": 412,
//!             "cases_skipped": {"prefix_diverged": 12, "budget": 6},
//!             "complete": false,
//!             "incomplete": "the `seconds` budget ran out: 6 planned tests not run"}
//! }
//! ```
//!
//! With exploration (`venomqa explore`, or `[explore] enabled`), a top-level
//! `exploration` object says what it reached (`null` otherwise):
//!
//! ```json
//! "exploration": {"strategy": "coverage", "max_depth": 6, "depth_reached": 6,
//!   "roots": 3, "paths": 1198, "probes": 270, "requests": 20964,
//!   "states_reached": [{"resource": "orders", "state": "paid"}], "states_missed": [],
//!   "states_new": [], "transitions_learned": 13,
//!   "transitions_reached": [{"resource": "orders", "from": "created",
//!                            "action": "POST /orders/{order_id}/pay", "to": "paid"}],
//!   "transitions_new": [], "actions_never_enabled": [],
//!   "pruned": {"precondition": 861, "refused": 257, "same_state": 122, "finding": 456, "depth": 106},
//!   "actions": 8, "naive_sequences": 299592.0, "sequences_saved": 298394.0, "stopped_by": null}
//! ```
//!
//! `reproduced` is `null` unless the finding was re-run to measure how often
//! it reproduces (races); `reproducer` is the script itself, `reproducer_file`
//! where it was written (`null` when it was not); `body`, `status`, `user`
//! and `response_body` are `null` when absent. A case is exercised when it
//! reached its focus the way the unmutated journey did; `cases_skipped`
//! says why the others were not (`prefix_diverged`, `budget`,
//! `already_found`). `complete` is false when a budget ran out before every
//! journey was calibrated and every planned test tried (`incomplete` then
//! says which budget and what was left); `venomqa run` then exits 4 if it
//! found nothing.

use serde_json::{json, Map, Value};

use super::{confidence_counts, confidence_name, seconds, ReportContext};
use crate::oracle::finding::{Finding, OracleKind, SentRequest};

/// Renders `{"findings": [...], "stats": {...}}`.
pub fn render_json(findings: &[Finding], ctx: &ReportContext) -> Value {
    let items: Vec<Value> =
        findings.iter().enumerate().map(|(i, f)| finding_json(i, f, ctx)).collect();
    let (high, medium, low) = confidence_counts(findings);
    let mut by_oracle = Map::new();
    for oracle in OracleKind::ALL {
        let n = findings.iter().filter(|f| f.oracle == oracle).count();
        if n > 0 {
            by_oracle.insert(oracle.name().to_string(), json!(n));
        }
    }
    let failed_testcases = ctx.testcases.iter().filter(|t| !t.findings.is_empty()).count();
    json!({
        "findings": items,
        "stats": {
            "target": ctx.target,
            "findings": findings.len(),
            "high": high,
            "medium": medium,
            "low": low,
            "by_oracle": by_oracle,
            "sequences": ctx.sequences,
            "requests": ctx.requests,
            "rate_limited": ctx.rate_limited,
            "seconds": seconds(ctx.seconds),
            "testcases": ctx.testcases.len(),
            "failed_testcases": failed_testcases,
            "cases_planned": ctx.cases.planned,
            "cases_exercised": ctx.cases.exercised,
            "cases_skipped": ctx.cases.skipped,
            "complete": ctx.incomplete.is_none(),
            "incomplete": ctx.incomplete,
        },
        "exploration": ctx.exploration.as_ref().map_or(Value::Null, exploration_json),
    })
}

/// What exploration reached (`venomqa explore`, or `[explore] enabled`).
fn exploration_json(e: &crate::report::exploration::Exploration) -> Value {
    let pairs = |items: &[(String, String)]| -> Vec<Value> {
        items
            .iter()
            .map(|(resource, state)| json!({"resource": resource, "state": state}))
            .collect()
    };
    let transitions = |items: &[crate::report::exploration::Transition]| -> Vec<Value> {
        items
            .iter()
            .map(
                |t| json!({"resource": t.resource, "from": t.from, "action": t.action, "to": t.to}),
            )
            .collect()
    };
    json!({
        "strategy": e.strategy,
        "max_depth": e.max_depth,
        "depth_reached": e.depth_reached,
        "roots": e.roots,
        "paths": e.paths,
        "probes": e.probes,
        "requests": e.requests,
        "states_reached": pairs(&e.states_reached),
        "states_missed": pairs(&e.states_missed),
        "states_new": pairs(&e.states_new),
        "transitions_learned": e.transitions_learned,
        "transitions_reached": transitions(&e.transitions_reached),
        "transitions_new": transitions(&e.transitions_new),
        "actions_never_enabled": e.actions_never_enabled,
        "pruned": e.pruned,
        "actions": e.actions,
        "naive_sequences": e.naive_sequences,
        "sequences_saved": e.saved(),
        "stopped_by": e.stopped_by,
        "checkpoints": e.checkpoints,
        "rollbacks": e.rollbacks,
    })
}

fn finding_json(index: usize, f: &Finding, ctx: &ReportContext) -> Value {
    let reproduced = match f.reproduced {
        Some((times, runs)) => json!({"times": times, "runs": runs}),
        None => Value::Null,
    };
    let reproducer_file = ctx
        .reproducer_files
        .get(index)
        .map_or(Value::Null, |p| Value::String(p.display().to_string()));
    json!({
        "id": index + 1,
        "oracle": f.oracle.name(),
        "mutation": f.mutation,
        "actions": f.actions,
        "confidence": confidence_name(f.confidence),
        "summary": f.summary,
        "evidence": f.evidence,
        "journey": f.journey,
        "requests": f.requests.iter().map(request_json).collect::<Vec<_>>(),
        "reproduced": reproduced,
        "reproducer": f.reproducer,
        "reproducer_file": reproducer_file,
    })
}

fn request_json(r: &SentRequest) -> Value {
    let headers: Vec<Value> =
        r.headers.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
    json!({
        "action": r.action,
        "user": r.user,
        "method": r.method,
        "url": r.url,
        "headers": headers,
        "body": r.body,
        "copies": r.copies,
        "status": r.status,
        "response_body": r.response_body,
    })
}
