//! The stale-token oracle: a request carrying the credentials of a session
//! that had logged out was accepted.

use crate::error::Error;
use crate::oracle::control::with_bogus_credentials;
use crate::oracle::diff::holds_id;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;

impl Oracles<'_> {
    /// A request with a logged-out session's credentials accepted: a read
    /// that returns one of the sequence's resources (a made-up token being
    /// refused), or a write whose effect the owner sees.
    pub(super) async fn stale_token(
        &self,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let ex = &trace.steps[f];
        let (Some(reply), Some(sent)) = (ex.replies.first(), ex.sent.first()) else {
            return Ok(None);
        };
        if !ex.stale || !reply.ok() {
            return Ok(None);
        }
        let summary =
            format!("{} was accepted with the token of a session that had logged out", sent.action);
        if sent.method == "GET" {
            return self.stale_read(trace, f, summary).await;
        }
        let Some(effect) = ex.instance.and_then(|k| self.effect(trace, f, k)) else {
            return Ok(None);
        };
        Ok(Some(Verdict {
            oracle: OracleKind::StaleToken,
            confidence: effect.confidence,
            step: f,
            summary,
            evidence: vec![
                format!("after the logout, {} {} answered {}", sent.method, sent.url, reply.status),
                effect.describe(),
            ],
            check: None,
        }))
    }

    /// A read with a logged-out session's credentials that returned one of
    /// the sequence's instances, while a made-up token is refused.
    async fn stale_read(
        &self,
        trace: &Trace,
        f: usize,
        summary: String,
    ) -> Result<Option<Verdict>, Error> {
        let ex = &trace.steps[f];
        let (Some(reply), Some(sent)) = (ex.replies.first(), ex.sent.first()) else {
            return Ok(None);
        };
        let Some(inst) = trace
            .instances
            .iter()
            .find(|i| reply.json.as_ref().is_some_and(|j| holds_id(j, &i.id)))
        else {
            return Ok(None);
        };
        let headers = with_bogus_credentials(&sent.headers);
        let control = self.control(sent, &sent.url, &headers).await?;
        if control.ok() {
            return Ok(None);
        }
        Ok(Some(Verdict {
            oracle: OracleKind::StaleToken,
            confidence: Confidence::High,
            step: f,
            summary,
            evidence: vec![
                format!(
                    "after the logout, {} {} answered {} with {}",
                    sent.method, sent.url, reply.status, inst.id
                ),
                format!(
                    "control: the same request with a made-up token answered {}",
                    control.status
                ),
            ],
            check: None,
        }))
    }
}
