//! The cross-user oracle: another user read or changed someone's resource.

use crate::error::Error;
use crate::oracle::control::bogus;
use crate::oracle::diff::{changes, holds_id};
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};

impl Oracles<'_> {
    /// As another user: a read that returns the victim's resource (and a
    /// made-up id is refused), or a write the owner sees take effect.
    pub(super) async fn cross_user(
        &self,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let ex = &trace.steps[f];
        let (Some(k), Some(reply), Some(sent)) = (ex.instance, ex.replies.first(), ex.sent.first())
        else {
            return Ok(None);
        };
        let inst = &trace.instances[k];
        let actor = sent.user.clone().unwrap_or_default();
        let owner = inst
            .owner
            .and_then(|o| self.plan.users.get(o))
            .map(|u| u.name.clone())
            .unwrap_or_default();
        if !reply.ok() || actor == owner {
            return Ok(None);
        }
        let resource = &self.plan.resources[inst.resource];
        if sent.method == "GET" {
            let leaked = reply.json.as_ref().is_some_and(|j| holds_id(j, &inst.id));
            if !leaked || !sent.url.contains(&inst.id) {
                return Ok(None);
            }
            let bogus = bogus(&inst.id);
            let control =
                self.control(sent, &sent.url.replace(&inst.id, &bogus), &sent.headers).await?;
            if control.ok() {
                return Ok(None);
            }
            return Ok(Some(Verdict {
                oracle: OracleKind::CrossUser,
                confidence: Confidence::High,
                step: f,
                summary: format!(
                    "{actor} read {owner}'s {} {} ({})",
                    singular(&resource.name),
                    inst.id,
                    sent.action
                ),
                evidence: vec![
                    format!(
                        "as {actor}: {} {} answered {} with it: {}",
                        sent.method,
                        sent.url,
                        reply.status,
                        snippet(&reply.body)
                    ),
                    format!(
                        "control: the same request for a made-up id {bogus} answered {}",
                        control.status
                    ),
                ],
            }));
        }
        let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) else {
            return Ok(None);
        };
        let changed = changes(before, after, inst.resource, self.noise);
        if changed.is_empty() {
            return Ok(None);
        }
        Ok(Some(Verdict {
            oracle: OracleKind::CrossUser,
            confidence: Confidence::High,
            step: f,
            summary: format!(
                "{actor} changed {owner}'s {} {} with {}",
                singular(&resource.name),
                inst.id,
                sent.action
            ),
            evidence: vec![
                format!("as {actor}: {} {} answered {}", sent.method, sent.url, reply.status),
                format!("{owner}'s read-back changed: {}", changed.join(", ")),
            ],
        }))
    }
}
