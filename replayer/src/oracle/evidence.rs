//! What shows that a step changed an instance: the owner's view before and
//! after it (the instance's read, its item in a list when the read answers
//! 404, or its item in its parent's read), and, only where that view cannot
//! be had, the step's own answer compared with the last view of the
//! instance before it — weaker evidence, so a finding it backs has low
//! confidence.

use serde_json::Value;

use crate::oracle::diff::{changes, flatten, holds_id, normalize};
use crate::oracle::finding::Confidence;
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
        let resource = trace.instances.get(k)?.resource;
        let (before, after) = (trace.before(f, k), trace.after(f, k));
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
    use super::*;
    use serde_json::json;

    #[test]
    fn only_fields_both_views_hold_count_and_quiet_ones_never() {
        let before = json!({"id": 4, "status": "returned", "due": "d1", "at": 1});
        let after = json!({"id": 4, "status": "active", "at": 2, "extra": true});
        let quiet = |p: &str| p == "/at";
        assert_eq!(common_changes(&before, &after, &quiet), ["status: \"returned\" → \"active\""]);
        assert!(common_changes(&before, &before, &quiet).is_empty());
    }
}
