//! What shows that a step changed an instance: the owner's view before and
//! after it (the instance's read, its item in a list when the read answers
//! 404, or its item in its parent's read); for the step that created it,
//! the owner's view showing it exists; and, only where that view cannot be
//! had, the step's own answer compared with the last view of the instance
//! before it — weaker evidence, so a finding it backs has low confidence.

use serde_json::Value;

use crate::oracle::diff::{changes, flatten, holds_id, normalize};
use crate::oracle::finding::Confidence;
use crate::oracle::invariant::singular;
use crate::oracle::Oracles;
use crate::run::execute::Trace;

/// A change step `f` made to an instance, and what shows it.
#[derive(Debug)]
pub(crate) struct Effect {
    /// One line per changed field (`status: "open" → "closed"`).
    pub changed: Vec<String>,
    /// What showed it: `the owner's read-back`, a list, the step's answer.
    pub seen: String,
    /// High from the owner's view; low from the step's own answer.
    pub confidence: Confidence,
}

impl Effect {
    /// `<what showed it> changed: <changes>`, for a verdict's evidence.
    pub fn describe(&self) -> String {
        format!("{} changed: {}", self.seen, self.changed.join(", "))
    }
}

impl Oracles<'_> {
    /// What step `f` did to instance `k`: the change the owner's view shows,
    /// else, when the owner's view cannot show the instance before and
    /// after, what the step's own 2xx answer shows changed.
    pub(super) fn effect(&self, trace: &Trace, f: usize, k: usize) -> Option<Effect> {
        let inst = trace.instances.get(k)?;
        let resource = inst.resource;
        let (before, after) = (trace.before(f, k), trace.after(f, k));
        if let (None, Some(a), Some(true)) = (before, after, inst.created_at.map(|at| at == f)) {
            // A create: that the owner now sees the instance is its effect.
            let name = &self.plan.resources[resource].name;
            let changed = vec![format!("(nothing) → {} {}", singular(name), inst.id)];
            let seen = a.source();
            return a.shows().then_some(Effect { changed, seen, confidence: Confidence::High });
        }
        if let (Some(b), Some(a)) = (before, after) {
            let changed = changes(b, a, resource, self.noise);
            if !changed.is_empty() {
                let seen = a.source();
                return Some(Effect { changed, seen, confidence: Confidence::High });
            }
            if b.shows() && a.shows() {
                return None; // the owner saw it before and after: unchanged
            }
        }
        self.answer_effect(trace, f, k)
    }

    /// The step's own 2xx answer, when it holds the instance, compared with
    /// the last view of the instance before the step: the fields both show
    /// whose values differ, noise left out.
    fn answer_effect(&self, trace: &Trace, f: usize, k: usize) -> Option<Effect> {
        let inst = trace.instances.get(k)?;
        let ex = trace.steps.get(f)?;
        let answer = ex.replies.iter().find(|r| r.ok())?.json.as_ref()?;
        if !holds_id(answer, &inst.id) {
            return None;
        }
        let action = &ex.sent.first()?.action;
        let (last, last_action) = self.last_view(trace, f, k)?;
        let quiet = |p: &str| {
            let p = normalize(p);
            self.noise.resource.contains(&(inst.resource, p.clone()))
                || self.noise.response.contains(&(action.clone(), p.clone()))
                || last_action
                    .as_ref()
                    .is_some_and(|a| self.noise.response.contains(&(a.clone(), p)))
        };
        let changed = common_changes(last, answer, &quiet);
        if changed.is_empty() {
            return None;
        }
        let seen = format!("its answer to {action} (no read-back shows it)");
        Some(Effect { changed, seen, confidence: Confidence::Low })
    }

    /// The last view of instance `k` before step `f`: the owner's latest
    /// read that showed it, or a later 2xx answer of a step on it (with
    /// that step's action, for its noise).
    fn last_view<'t>(
        &self,
        trace: &'t Trace,
        f: usize,
        k: usize,
    ) -> Option<(&'t Value, Option<String>)> {
        let probe = trace.probes.iter().rev().find(|p| p.instance == k && p.after < f);
        let probe = probe.filter(|p| p.snapshot.shows());
        let id = &trace.instances[k].id;
        let answered = (0..f).rev().find_map(|i| {
            let ex = &trace.steps[i];
            if ex.instance != Some(k) {
                return None;
            }
            let json = ex.replies.iter().find(|r| r.ok())?.json.as_ref()?;
            holds_id(json, id).then(|| (i, json, ex.sent.first().map(|s| s.action.clone())))
        });
        match (probe, answered) {
            (Some(p), Some((i, json, action))) if i > p.after => Some((json, action)),
            (Some(p), _) => p.snapshot.json.as_ref().map(|j| (j, None)),
            (None, Some((_, json, action))) => Some((json, action)),
            (None, None) => None,
        }
    }
}

/// The scalar fields both `before` and `after` hold whose values differ,
/// one line each; `quiet` pointers left out.
fn common_changes(before: &Value, after: &Value, quiet: &dyn Fn(&str) -> bool) -> Vec<String> {
    let (fa, fb) = (flatten(before), flatten(after));
    fa.iter()
        .filter(|(k, _)| !k.is_empty() && !quiet(k))
        .filter_map(|(k, v)| {
            let w = fb.get(k)?;
            (w != v).then(|| format!("{}: {v} → {w}", k.trim_start_matches('/').replace('/', ".")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::oracle::diff::Noise;
    use crate::oracle::finding::SentRequest;
    use crate::run::client::Client;
    use crate::run::execute::{Executed, Instance, ProbeAt, Runner, Snapshot};
    use crate::run::request::Reply;
    use crate::setup::config::Config;
    use crate::setup::plan::Plan;
    use crate::setup::recorded::Recorded;

    #[test]
    fn only_fields_both_views_hold_count_and_quiet_ones_never() {
        let before = json!({"id": 4, "status": "returned", "due": "d1", "at": 1});
        let after = json!({"id": 4, "status": "active", "at": 2, "extra": true});
        let quiet = |p: &str| p == "/at";
        assert_eq!(common_changes(&before, &after, &quiet), ["status: \"returned\" → \"active\""]);
        assert!(common_changes(&before, &before, &quiet).is_empty());
    }

    /// A plan with one resource, `orders`, and nothing to replay.
    fn orders_plan() -> Plan {
        let model = json!({
            "format": "venomqa-model", "version": 1, "source": {"exchanges": 0, "used": 0, "sessions": 0},
            "actions": [], "links": [], "machines": [], "journeys": [], "volatile": [],
            "resources": [{"name": "orders", "collection": "/orders", "id_param": "order_id",
                "read": [], "update": [], "delete": [], "other": [],
                "ownership": {"instances": 0, "created": 0, "foreign_accepted": 0, "foreign_rejected": 0}}]
        });
        let model = venomqa_learner::Model::from_json(&model.to_string()).expect("a model");
        let config = Config::parse_with_env(
            "[target]\nurl = \"http://127.0.0.1:9\"\n",
            Path::new("qa/venomqa.toml"),
            |_| None,
        )
        .expect("a configuration");
        Plan::new(&model, &Recorded::from_exchanges([]), &config).expect("a plan")
    }

    /// A create (step 1, after a login) of order `o1`, then the owner's
    /// read-back after it answering `status`.
    fn created(status: u16) -> Trace {
        let reply = |status: u16, json: serde_json::Value| Reply {
            status,
            headers: Vec::new(),
            body: json.to_string(),
            json: Some(json),
        };
        let sent = SentRequest {
            action: "POST /orders".into(),
            user: Some("alice".into()),
            method: "POST".into(),
            url: "http://127.0.0.1:9/orders".into(),
            headers: Vec::new(),
            body: None,
            copies: 1,
            at_once_with_previous: false,
            linked: Vec::new(),
            status: Some(201),
            response_body: None,
        };
        let login =
            Executed { replies: vec![reply(200, json!({"token": "t"}))], ..Executed::default() };
        let create = Executed {
            sent: vec![sent],
            replies: vec![reply(201, json!({"id": "o1"}))],
            instance: Some(0),
            ..Executed::default()
        };
        let shown = (status == 200).then(|| json!({"id": "o1", "status": "new"}));
        Trace {
            steps: vec![login, create],
            instances: vec![Instance {
                resource: 0,
                id: "o1".into(),
                params: Vec::new(),
                owner: Some(0),
                reader: Some(0),
                created_at: Some(1),
            }],
            probes: vec![ProbeAt {
                after: 1,
                instance: 0,
                snapshot: Snapshot { status, json: shown, seen_in: None, read: None },
            }],
            aborted: None,
            nonce: 0,
        }
    }

    #[test]
    fn a_create_is_an_effect_only_when_the_owner_then_sees_the_instance() {
        let plan = orders_plan();
        let client = Client::new(
            "http://127.0.0.1:9",
            std::time::Duration::from_secs(1),
            Default::default(),
        )
        .expect("a client");
        let runner = Runner { plan: &plan, client: &client, reset: None, dir: Path::new(".") };
        let noise = Noise::default();
        let oracles =
            Oracles { plan: &plan, runner: &runner, noise: &noise, invariants: &[], reset: false };
        let effect = oracles.effect(&created(200), 1, 0).expect("the created order is seen");
        assert_eq!(effect.changed, ["(nothing) → order o1"]);
        assert_eq!(effect.confidence, Confidence::High);
        assert!(oracles.effect(&created(404), 1, 0).is_none(), "the owner does not see it");
    }
}
