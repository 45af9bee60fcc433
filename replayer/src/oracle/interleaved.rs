//! The stale-write oracle for interleaved writes (A@v, B, A@v): the last
//! write carried a validator that an accepted write on the same URL had
//! already made stale, was accepted, and what it sent is what a read now
//! shows (or, with no text to mark, it answered a validator of its own: a
//! new version). Instances are read back as their owner; a resource without an
//! instance of its own (`/me/preferences`) by reading it again as the
//! sequence last read it.

use crate::error::Error;
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::{Oracles, Verdict};
use crate::run::execute::Trace;

/// What `Draft::mark_strings` appends starts with this.
const MARKER: &str = " [venomqa ";

impl Oracles<'_> {
    /// The focus write's validator issued before an accepted write on the
    /// same URL, the focus accepted anyway, and its marked values shown.
    pub(super) async fn interleaved_write(
        &self,
        trace: &Trace,
        f: usize,
    ) -> Result<Option<Verdict>, Error> {
        let ex = &trace.steps[f];
        let (Some(reply), Some(sent)) = (ex.replies.first(), ex.sent.first()) else {
            return Ok(None);
        };
        let Some((name, v)) = sent.headers.iter().find(|(n, _)| n.starts_with("if-")) else {
            return Ok(None);
        };
        let issued = (0..f).rev().find(|&i| trace.steps[i].replies.iter().any(|r| etag(r) == v));
        let Some(issued) = issued.filter(|_| reply.ok()) else { return Ok(None) };
        let Some(w) = (issued + 1..f).find(|&i| {
            let s = &trace.steps[i];
            s.sent.first().is_some_and(|w| w.method != "GET" && w.url == sent.url)
                && s.replies.first().is_some_and(|r| r.ok())
        }) else {
            return Ok(None);
        };
        // What it sent is shown now; a write without text to mark shows its
        // effect by a validator moved on past the one the accepted write left.
        let shown = match sent.body.as_deref().and_then(marker_in) {
            Some(marker) => self.shows_marker(trace, f, &marker).await?,
            None => moved_on(trace, w, f),
        };
        let Some(shown) = shown else { return Ok(None) };
        let other = &trace.steps[w].sent[0];
        Ok(Some(Verdict {
            oracle: OracleKind::StaleWrite,
            confidence: Confidence::High,
            step: f,
            summary: format!(
                "{} was accepted with a validator that {} had made stale",
                sent.action, other.action
            ),
            evidence: vec![
                format!(
                    "{} {} answered {} after {name}: {v} was issued",
                    other.method, other.url, trace.steps[w].replies[0].status
                ),
                format!(
                    "then {name}: {v} (stale) on {} {} answered {}",
                    sent.method, sent.url, reply.status
                ),
                shown,
            ],
            check: None,
        }))
    }

    /// Where a read after step `f` shows `marker` and a read before did
    /// not: the owner's read-backs of the instance, or the last read of the
    /// sequence before `f` sent again.
    async fn shows_marker(
        &self,
        trace: &Trace,
        f: usize,
        marker: &str,
    ) -> Result<Option<String>, Error> {
        let has =
            |json: Option<&serde_json::Value>| json.is_some_and(|j| j.to_string().contains(marker));
        if let Some(k) = trace.steps[f].instance {
            let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) else {
                return Ok(None);
            };
            let shown = !has(before.json.as_ref()) && has(after.json.as_ref());
            return Ok(
                shown.then(|| format!("the owner's read-back now shows `{}`", marker.trim()))
            );
        }
        let Some(read) = (0..f).rev().find(|&i| {
            trace.steps[i].sent.first().is_some_and(|s| s.method == "GET")
                && trace.steps[i].replies.first().is_some_and(|r| r.ok())
        }) else {
            return Ok(None);
        };
        let (sent, before) = (&trace.steps[read].sent[0], &trace.steps[read].replies[0]);
        if before.body.contains(marker) {
            return Ok(None);
        }
        let now = self.control(sent, &sent.url, &sent.headers).await?;
        let shown = now.ok() && now.body.contains(marker);
        Ok(shown.then(|| format!("{} {} now shows `{}`", sent.method, sent.url, marker.trim())))
    }
}

/// The focus's answer carries a new validator, neither the stale one it
/// sent nor the one write `w` left: it made a version of its own.
fn moved_on(trace: &Trace, w: usize, f: usize) -> Option<String> {
    let (after_w, after_f) =
        (etag(trace.steps[w].replies.first()?), etag(trace.steps[f].replies.first()?));
    let sent = trace.steps[f].sent.first()?;
    let stale = sent.headers.iter().find(|(n, _)| n.starts_with("if-")).map(|(_, v)| v.as_str());
    (!after_w.is_empty() && !after_f.is_empty() && after_f != after_w && Some(after_f) != stale)
        .then(|| format!("and made a new version: etag {after_w} → {after_f}"))
}

fn etag(reply: &crate::run::request::Reply) -> &str {
    reply.header("etag").unwrap_or_default()
}

/// The marker a marked write's body carries: ` [venomqa 1a2b3c4d]`.
fn marker_in(body: &str) -> Option<String> {
    let start = body.find(MARKER)?;
    let end = body[start..].find(']')? + start + 1;
    Some(body[start..end].to_string())
}
