//! The cross-user oracle: another user read or changed someone's resource,
//! or changed someone's credentials.
//!
//! Only an owner the model lets us know counts (see `run::track`): an
//! instance whose owner is unknown yields no verdict, and a read of a
//! public resource is no leak.

use crate::error::Error;
use crate::oracle::control::bogus;
use crate::oracle::diff::holds_id;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::{snippet, Trace};
use crate::setup::plan::names_any;

impl Oracles<'_> {
    /// As another user: a read that returns the victim's resource (and a
    /// made-up id is refused), a change to the victim's credentials (their
    /// secret no longer logs them in, the one sent does), or a write whose
    /// effect the owner sees.
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
        let Some(owner_index) = inst.owner else { return Ok(None) };
        let actor = sent.user.clone().unwrap_or_default();
        let owner = self.plan.users.get(owner_index).map(|u| u.name.clone()).unwrap_or_default();
        if !reply.ok() || actor == owner || self.let_in_by_name(trace, f) {
            return Ok(None);
        }
        let resource = &self.plan.resources[inst.resource];
        let what = format!("{}'s {} {}", owner, singular(&resource.name), inst.id);
        if sent.method == "GET" {
            // Public, in the state it is in (a published page; a draft one
            // may still be its author's alone).
            let before = trace.before(f, k);
            let state = before.and_then(|b| b.state(resource));
            let public_now = (resource.public_in.is_empty()
                || state.is_none_or(|s| resource.public_in.contains(&s)))
                && resource.public_as_shown(before.and_then(|b| b.json.as_ref()));
            if resource.public && public_now {
                return Ok(None);
            }
            return self.leaked_read(trace, f, &actor, &what).await;
        }
        if let Some(verdict) = self.credential_change(trace, f, owner_index, &actor, &owner).await?
        {
            return Ok(Some(verdict));
        }
        let Some(effect) = self.effect(trace, f, k) else { return Ok(None) };
        Ok(Some(Verdict {
            oracle: OracleKind::CrossUser,
            confidence: effect.confidence,
            step: f,
            summary: format!("{actor} changed {what} with {}", sent.action),
            evidence: vec![
                format!("as {actor}: {} {} answered {}", sent.method, sent.url, reply.status),
                effect.describe(),
            ],
            check: None,
        }))
    }

    /// Whether a write accepted before step `f` named its sender's account
    /// (`PUT /orgs/acme/members/bob`, `{"share_with": "bob"}`): let in by
    /// name, their access is the owner's doing, not a leak.
    fn let_in_by_name(&self, trace: &Trace, f: usize) -> bool {
        let Some(actor) = trace.steps[f].sent.first().and_then(|s| s.user.as_deref()) else {
            return false;
        };
        let Some(user) = self.plan.users.iter().position(|u| u.name == actor) else {
            return false;
        };
        let accounts = self.plan.accounts_of(user);
        // A login or sign-up names its own user: no one let them in.
        let auth = &self.plan.auth;
        let own = |action: &str| {
            auth.login.as_deref() == Some(action) || auth.sign_up.as_deref() == Some(action)
        };
        trace.steps[..f].iter().flat_map(|e| e.sent.iter().zip(&e.replies)).any(|(sent, reply)| {
            let named = |text: &str| names_any(text, &accounts);
            sent.method != "GET"
                && !own(&sent.action)
                && reply.ok()
                && (named(&sent.url) || sent.body.as_deref().is_some_and(named))
        })
    }

    /// A read as `actor` that answered the instance, while the same request
    /// for a made-up id is refused.
    async fn leaked_read(
        &self,
        trace: &Trace,
        f: usize,
        actor: &str,
        what: &str,
    ) -> Result<Option<Verdict>, Error> {
        let ex = &trace.steps[f];
        let (Some(k), Some(reply), Some(sent)) = (ex.instance, ex.replies.first(), ex.sent.first())
        else {
            return Ok(None);
        };
        let id = &trace.instances[k].id;
        let leaked = reply.json.as_ref().is_some_and(|j| holds_id(j, id));
        if !leaked || !sent.url.contains(id.as_str()) {
            return Ok(None);
        }
        let bogus = bogus(id);
        let control =
            self.control(sent, &sent.url.replace(id.as_str(), &bogus), &sent.headers).await?;
        if control.ok() {
            return Ok(None);
        }
        Ok(Some(Verdict {
            oracle: OracleKind::CrossUser,
            confidence: Confidence::High,
            step: f,
            summary: format!("{actor} read {what} ({})", sent.action),
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
            check: None,
        }))
    }
}
