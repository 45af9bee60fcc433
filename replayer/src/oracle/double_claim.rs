//! The double-claim oracle: a create naming an instance in its body (a
//! hold on a book) repeated until refused, so nothing of the instance was
//! left to claim; then a create of another kind naming the same instance
//! (a loan of the book) accepted, its answer naming the same child of the
//! instance (copy 3) under the child's name as an accepted first-kind
//! instance, which its owner still sees holding it, in the state it was
//! created in. One part given to two: the second create should have found
//! nothing left, or taken it from the first visibly.

use serde_json::Value;
use venomqa_learner::Location;

use crate::error::Error;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::request::text_of;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// The creates before `f` repeat one action until the last was refused;
    /// the create at `f` was accepted and names the same child of the
    /// instance both bodies name as one of the accepted ones, which still
    /// holds it.
    pub(super) async fn double_claim(
        &self,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let Some(last) = f.checked_sub(1) else { return Ok(None) };
        let action = seq.steps[last].call.action();
        let first = (0..=last).rev().take_while(|&j| seq.steps[j].call.action() == action).last();
        let Some(first) = first else { return Ok(None) };
        // Refused as used up: a 4xx, but not a rate limit (429), which says
        // nothing about what the instance has left.
        let refused = trace.steps[last]
            .reply()
            .is_some_and(|r| (400..500).contains(&r.status) && r.status != 429);
        let (Some(reply), Some(sent)) = (trace.steps[f].reply(), trace.steps[f].sent.first())
        else {
            return Ok(None);
        };
        let Some(json) = reply.json.as_ref().filter(|_| reply.ok() && refused) else {
            return Ok(None);
        };
        let Some(parent) = self.named_parent(seq, f) else { return Ok(None) };
        let fields = self.child_fields(parent);
        for j in first..last {
            let claim = &trace.steps[j];
            let (Some(k), Some(r), Some(claimed_by)) =
                (claim.instance, claim.reply(), claim.sent.first())
            else {
                continue;
            };
            let Some(ja) = r.json.as_ref().filter(|_| r.ok()) else { continue };
            if trace.instances[k].created_at != Some(j) {
                continue;
            }
            let same = fields.iter().find_map(|field| {
                let (a, b) = (scalar(ja.get(field)?)?, scalar(json.get(field)?)?);
                (a == b).then_some((field, a))
            });
            let Some((field, child)) = same else { continue };
            // The first-kind instance, as its owner sees it now.
            let inst = &trace.instances[k];
            let info = &self.plan.resources[inst.resource];
            let Some(state_field) = info.state_field.as_deref() else { continue };
            let Some(created_in) = ja.get(state_field).map(text_of) else { continue };
            let Some(now) = self.read_with(claimed_by, inst.resource, &inst.params).await? else {
                continue;
            };
            let still = now.json.as_ref().filter(|_| now.ok()).is_some_and(|j| {
                j.get(field).and_then(scalar).as_deref() == Some(child.as_str())
                    && j.get(state_field).map(text_of).as_deref() == Some(created_in.as_str())
            });
            if !still {
                continue;
            }
            let noun = singular(&info.name);
            let parent_noun = singular(&self.plan.resources[parent].name);
            let refusal = trace.steps[last].reply().map_or(0, |r| r.status);
            return Ok(Some(Verdict {
                oracle: OracleKind::UnexpectedAccept,
                confidence: Confidence::Medium,
                step: f,
                summary: format!(
                    "{} was given {field} {child} of a {parent_noun} that {noun} {} still holds (`{created_in}`), after {action} found nothing left",
                    sent.action, inst.id
                ),
                evidence: vec![
                    format!("{action} answered {} with {field} {child}", r.status),
                    format!("{action} again answered {refusal}: nothing of the {parent_noun} left"),
                    format!("then {} {} answered {} with {field} {child}", sent.method, sent.url, reply.status),
                    format!("the owner's read of {noun} {} still shows {field} {child}, `{created_in}`", inst.id),
                ], check: None, }));
        }
        Ok(None)
    }

    /// The resource of the instance step `f`'s body (or query) names by a
    /// value a list, a read or a create answered.
    fn named_parent(&self, seq: &Sequence, f: usize) -> Option<usize> {
        seq.steps[f].call.binds.iter().find_map(|b| {
            if !matches!(b.to, Location::Body { .. } | Location::Query { .. }) {
                return None;
            }
            let p = seq.steps[..f].iter().rfind(|s| s.origin == b.origin)?;
            p.call.creates.or_else(|| self.plan.answered_by(p.call.action()))
        })
    }

    /// The fields that name a child of `parent` in an answer: the child
    /// collection's singular (`copy`), and with `_id` (`copy_id`).
    fn child_fields(&self, parent: usize) -> Vec<String> {
        let name = &self.plan.resources[parent].name;
        let children = self.plan.model.children.iter().filter(|c| &c.parent == name);
        children
            .filter_map(|c| c.collection.rsplit('/').next().map(singular))
            .flat_map(|one| [format!("{one}_id"), one])
            .collect()
    }
}

/// A number or a string, as text; nothing else names a child.
fn scalar(value: &Value) -> Option<String> {
    matches!(value, Value::Number(_) | Value::String(_)).then(|| text_of(value))
}
