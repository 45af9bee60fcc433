//! The stale-token oracle on creates: a create sent with the credentials of
//! a session that had logged out was accepted, and the instance exists.
//! There is no "before" to compare: the instance itself is the effect, read
//! back by its owner with a live session of their own. A token that still
//! reads after the logout is the general logout bug, which the other
//! after-logout cases report; this oracle is about creates that skip the
//! session check.

use serde_json::Value;
use venomqa_learner::Location;

use crate::error::Error;
use crate::oracle::control::with_bogus_credentials;
use crate::oracle::diff::holds_id;
use crate::oracle::finding::{Confidence, OracleKind, SentRequest};
use crate::oracle::invariant::singular;
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;
use crate::run::request::Reply;
use crate::run::sequence::Sequence;

impl Oracles<'_> {
    /// A create with a logged-out session's credentials accepted, the new
    /// instance shown to its owner, and the same create with a made-up
    /// token refused (so the target does not simply take anonymous creates).
    pub(super) async fn dead_create(
        &self,
        seq: &Sequence,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let ex = &trace.steps[f];
        let (Some(reply), Some(sent)) = (ex.replies.first(), ex.sent.first()) else {
            return Ok(None);
        };
        let Some(resource) = seq.steps[f].call.creates else { return Ok(None) };
        if !ex.stale || !reply.ok() {
            return Ok(None);
        }
        let Some(k) = ex.instance.filter(|k| trace.instances[*k].resource == resource) else {
            return Ok(None);
        };
        let inst = &trace.instances[k];
        let Some(read) = trace.after(f, k) else { return Ok(None) };
        if !read.ok() || !read.json.as_ref().is_some_and(|j| holds_id(j, &inst.id)) {
            return Ok(None);
        }
        let headers = with_bogus_credentials(&sent.headers);
        let control = self.control(sent, &sent.url, &headers).await?;
        if control.ok() {
            return Ok(None);
        }
        // A token that still reads is the logout bug every request shows,
        // which the other after-logout cases report: here only a create
        // that skips the session check counts.
        let Some(dead_read) = self.read_with(sent, resource, &inst.params).await? else {
            return Ok(None);
        };
        if dead_read.ok() {
            return Ok(None);
        }
        let noun = singular(&self.plan.resources[resource].name);
        Ok(Some(Verdict {
            oracle: OracleKind::StaleToken,
            confidence: Confidence::High,
            step: f,
            summary: format!(
                "{} created {noun} {} with the token of a session that had logged out",
                sent.action, inst.id
            ),
            evidence: vec![
                format!("after the logout, {} {} answered {}", sent.method, sent.url, reply.status),
                format!("its owner's read-back shows {noun} {}: {}", inst.id, read.status),
                format!(
                    "control: the same create with a made-up token answered {}",
                    control.status
                ),
                format!("reading it with the logged-out token answered {}", dead_read.status),
            ],
            check: None,
        }))
    }

    /// The read of an instance of `resource` at `params`, sent with the
    /// credentials `sent` carried.
    pub(super) async fn read_with(
        &self,
        sent: &SentRequest,
        resource: usize,
        params: &[(String, String)],
    ) -> Result<Option<Reply>, Error> {
        let Some(read) = self.plan.resources[resource].read.as_ref() else { return Ok(None) };
        let mut draft = read.draft();
        for (name, value) in params {
            draft.set(&Location::Path { name: name.clone() }, &Value::String(value.clone()));
        }
        let credentials = |n: &str| matches!(n, "authorization" | "cookie");
        let headers: Vec<(String, String)> =
            sent.headers.iter().filter(|(n, _)| credentials(n)).cloned().collect();
        let get = SentRequest { method: "GET".into(), body: None, ..sent.clone() };
        let url = draft.url(self.runner.client.base(), read);
        Ok(Some(self.control(&get, &url, &headers).await?))
    }
}
