//! The oracles: judging a sequence by the state the target shows, not by its
//! status codes alone. Every suspicious 2xx is checked against the owner's
//! read-back (noise left out), and reads that "leak" are checked against a
//! control request (a made-up id, a made-up token) so a target that answers
//! 2xx to anything yields no finding.

pub(crate) mod diff;
pub(crate) mod finding;
pub(crate) mod invariant;
pub(crate) mod race;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::error::Error;
use crate::mutate::mutation::Mutation;
use crate::oracle::diff::{changes, holds_id, Noise};
use crate::oracle::finding::{Confidence, OracleKind};
use crate::oracle::invariant::Invariant;
use crate::run::client::SendError;
use crate::run::execute::{Runner, Trace, SETTLE};
use crate::run::sequence::{Role, Sequence};
use crate::setup::plan::Plan;

/// Runs of a concurrent step before concluding it does not race: both
/// launch orders, at once and staggered.
const RACE_ATTEMPTS: usize = 4;

/// How much later each further request of a staggered concurrent step leaves.
const RACE_STAGGER: Duration = Duration::from_millis(2);

/// What an oracle concluded about one step of a sequence.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub oracle: OracleKind,
    pub confidence: Confidence,
    /// The step it is about (the focus for shrinking).
    pub step: usize,
    pub summary: String,
    pub evidence: Vec<String>,
}

/// A judged sequence.
#[derive(Debug)]
pub(crate) struct Judged {
    pub verdict: Option<Verdict>,
    pub trace: Trace,
    /// Sequences run (the case and its sequential counterparts).
    pub runs: u64,
}

/// Everything the oracles look at.
pub(crate) struct Judge<'a> {
    pub plan: &'a Plan,
    pub runner: &'a Runner<'a>,
    pub noise: &'a Noise,
    pub invariants: &'a [Invariant],
    /// Reset before each sequence.
    pub reset: bool,
}

/// Which oracle wins when several fire: the most specific first.
pub(crate) fn rank(o: OracleKind) -> u8 {
    match o {
        OracleKind::ServerError => 0,
        OracleKind::Invariant => 2,
        OracleKind::UnexpectedAccept => 3,
        _ => 1,
    }
}

impl Judge<'_> {
    /// Runs `seq` (and what its family compares it with) and judges it.
    /// `family` is `None` for an unmutated journey; `broken` names the
    /// invariants the unmutated journey already violates.
    pub async fn evaluate(
        &self,
        family: Option<Mutation>,
        seq: &Sequence,
        broken: &HashSet<String>,
    ) -> Result<Judged, Error> {
        let mut trace = self.runner.run(seq, self.reset, false).await?;
        let mut runs = 1;
        let mut verdicts = self.server_errors(seq, &trace);
        let focus = seq.focus().filter(|f| trace.steps.len() > *f);
        match (family, focus) {
            (Some(Mutation::Concurrent), Some(f)) => {
                // A race shows only when the requests interleave inside its
                // window: try again launching the other request first, and
                // the later requests a moment after the first.
                let mut attempt = seq.clone();
                let mut in_order = None;
                for round in 0..RACE_ATTEMPTS {
                    if round > 0 {
                        let step = &mut attempt.steps[f];
                        if let Some(p) = step.partner.as_mut() {
                            std::mem::swap(&mut step.call, p);
                        }
                        step.stagger = if round % 3 == 0 { Duration::ZERO } else { RACE_STAGGER };
                        trace = self.runner.run(&attempt, self.reset, false).await?;
                        runs += 1;
                    }
                    let (v, n) = self.race(&attempt, &trace, f, &mut in_order).await?;
                    runs += n;
                    if v.is_some() {
                        verdicts.extend(v);
                        break;
                    }
                }
            }
            (Some(Mutation::AsOtherUser), Some(f)) => {
                verdicts.extend(self.cross_user(&trace, f).await?)
            }
            (Some(Mutation::AfterDelete), Some(f)) => {
                verdicts.extend(self.after_delete(seq, &trace, f))
            }
            (Some(Mutation::AfterLogout), Some(f)) => {
                verdicts.extend(self.stale_token(&trace, f).await?)
            }
            (Some(Mutation::IdempotencyRetry), Some(f)) => {
                verdicts.extend(self.idempotency(seq, &trace, f))
            }
            (Some(Mutation::StaleValidator), Some(f)) => {
                verdicts.extend(self.stale_write(seq, &trace, f))
            }
            _ => {}
        }
        if family != Some(Mutation::Concurrent) {
            verdicts.extend(self.violations(&trace, broken, 0).into_iter().next().map(|(v, _)| v));
        }
        if matches!(
            family,
            Some(
                Mutation::Duplicate
                    | Mutation::Drop
                    | Mutation::Swap
                    | Mutation::MoveLater
                    | Mutation::Splice
            )
        ) {
            verdicts.extend(self.unexpected_accept(seq, &trace));
        }
        verdicts.sort_by_key(|v| (rank(v.oracle), v.step));
        Ok(Judged { verdict: verdicts.into_iter().next(), trace, runs })
    }

    /// The failures of an unmutated journey's run: a 5xx, or an invariant it breaks.
    pub fn plain_verdict(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        let mut verdicts = self.server_errors(seq, trace);
        verdicts.extend(self.violations(trace, &HashSet::new(), 0).into_iter().map(|(v, _)| v));
        verdicts.into_iter().min_by_key(|v| (rank(v.oracle), v.step))
    }

    fn server_errors(&self, seq: &Sequence, trace: &Trace) -> Vec<Verdict> {
        let Some((i, reply)) = trace
            .steps
            .iter()
            .enumerate()
            .find_map(|(i, ex)| ex.replies.iter().find(|r| r.status >= 500).map(|r| (i, r)))
        else {
            return Vec::new();
        };
        vec![Verdict {
            oracle: OracleKind::ServerError,
            confidence: Confidence::High,
            step: i,
            summary: format!("{} answered {}", seq.steps[i].label(), reply.status),
            evidence: vec![format!(
                "answer: {} {}",
                reply.status,
                crate::run::execute::snippet(&reply.body)
            )],
        }]
    }

    /// Invariants false on a read-back at or after step `from`, except those
    /// in `broken`; with the violated invariant's name.
    pub(crate) fn violations(
        &self,
        trace: &Trace,
        broken: &HashSet<String>,
        from: usize,
    ) -> Vec<(Verdict, String)> {
        let mut out = Vec::new();
        for probe in trace.probes.iter().filter(|p| p.after >= from && p.after < SETTLE) {
            let (Some(json), true) = (&probe.snapshot.json, probe.snapshot.ok()) else { continue };
            let Some(inst) = trace.instances.get(probe.instance) else { continue };
            let resource = &self.plan.resources[inst.resource].name;
            for inv in self.invariants.iter().filter(|i| &i.resource == resource) {
                match inv.check(json) {
                    Ok(false) if !broken.contains(&inv.name) => out.push((
                        Verdict {
                            oracle: OracleKind::Invariant,
                            confidence: Confidence::High,
                            step: probe.after,
                            summary: format!("invariant \"{}\" ({}) is false", inv.name, inv.expr),
                            evidence: vec![format!(
                                "{} {} read back by its owner: {}",
                                inv.variable(),
                                inst.id,
                                compact(json)
                            )],
                        },
                        inv.name.clone(),
                    )),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "invariant not evaluated"),
                }
            }
        }
        out
    }

    /// As another user: a read that returns the victim's resource (and a
    /// made-up id is refused), or a write the owner sees take effect.
    async fn cross_user(&self, trace: &Trace, f: usize) -> Result<Option<Verdict>, Error> {
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
                        crate::run::execute::snippet(&reply.body)
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

    /// A write after the delete was accepted and the resource changed (or came back).
    fn after_delete(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let ex = &trace.steps[f];
        let k = ex.instance?;
        let reply = ex.replies.first()?;
        if !reply.ok() || seq.steps[f].call.is_read() {
            return None;
        }
        let inst = &trace.instances[k];
        let resource = &self.plan.resources[inst.resource];
        let d = (0..f).rev().find(|&d| {
            trace.steps[d].instance == Some(k)
                && resource.deletes.iter().any(|a| a == seq.steps[d].call.action())
        })?;
        let deleted = trace.after(d, k)?;
        if !trace.steps[d].replies.first()?.ok() || deleted.ok() {
            return None; // the delete did not happen: nothing to judge
        }
        let after = trace.after(f, k)?;
        let before = trace.before(f, k)?;
        let changed = changes(before, after, inst.resource, self.noise);
        if changed.is_empty() {
            return None;
        }
        let sent = ex.sent.first()?;
        Some(Verdict {
            oracle: OracleKind::AfterDelete,
            confidence: Confidence::High,
            step: f,
            summary: format!(
                "{} was accepted on {} {} after its delete",
                sent.action,
                singular(&resource.name),
                inst.id
            ),
            evidence: vec![
                format!(
                    "{} answered {}; the owner's read then answered {}",
                    seq.steps[d].call.action(),
                    trace.steps[d].replies[0].status,
                    deleted.status
                ),
                format!("{} {} answered {}", sent.method, sent.url, reply.status),
                format!("the owner's read-back changed: {}", changed.join(", ")),
            ],
        })
    }

    /// A request with a logged-out session's credentials accepted: a read
    /// that returns one of the sequence's resources (a made-up token being
    /// refused), or a write whose effect the owner sees.
    async fn stale_token(&self, trace: &Trace, f: usize) -> Result<Option<Verdict>, Error> {
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
            let Some(inst) = trace
                .instances
                .iter()
                .find(|i| reply.json.as_ref().is_some_and(|j| holds_id(j, &i.id)))
            else {
                return Ok(None);
            };
            let headers: Vec<(String, String)> = sent
                .headers
                .iter()
                .map(|(n, v)| match n.as_str() {
                    "authorization" | "cookie" => (n.clone(), bogus_credentials(v)),
                    _ => (n.clone(), v.clone()),
                })
                .collect();
            let control = self.control(sent, &sent.url, &headers).await?;
            if control.ok() {
                return Ok(None);
            }
            return Ok(Some(Verdict {
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
            }));
        }
        let Some(k) = ex.instance else { return Ok(None) };
        let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) else {
            return Ok(None);
        };
        let changed = changes(before, after, trace.instances[k].resource, self.noise);
        if changed.is_empty() {
            return Ok(None);
        }
        Ok(Some(Verdict {
            oracle: OracleKind::StaleToken,
            confidence: Confidence::High,
            step: f,
            summary,
            evidence: vec![
                format!("after the logout, {} {} answered {}", sent.method, sent.url, reply.status),
                format!("the owner's read-back changed: {}", changed.join(", ")),
            ],
        }))
    }

    /// A retry with the same `Idempotency-Key` changed state again or answered differently.
    fn idempotency(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let o = f.checked_sub(1)?;
        let (first, retry) = (&seq.steps[o].call, &seq.steps[f].call);
        if first.action() != retry.action() || first.idem_salt != retry.idem_salt {
            return None;
        }
        let (a, b) = (trace.steps[o].replies.first()?, trace.steps[f].replies.first()?);
        if !a.ok() || b.status == 0 {
            return None;
        }
        let key = trace.steps[f]
            .sent
            .first()?
            .headers
            .iter()
            .find(|(n, _)| n == "idempotency-key")?
            .1
            .clone();
        let mut evidence =
            vec![format!("Idempotency-Key {key}: first answer {}, retry {}", a.status, b.status)];
        if let Some(k) = trace.steps[f].instance {
            if let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) {
                let changed = changes(before, after, trace.instances[k].resource, self.noise);
                if !changed.is_empty() {
                    evidence.push(format!(
                        "the retry changed the owner's read-back again: {}",
                        changed.join(", ")
                    ));
                    return Some(self.idempotency_verdict(
                        f,
                        retry.action(),
                        "changed state again",
                        evidence,
                    ));
                }
            }
        }
        let differs = a.status / 100 != b.status / 100 || {
            let quiet =
                |p: &String| self.noise.response.contains(&(retry.action().to_string(), p.clone()));
            let diff = crate::oracle::diff::differing(a.json.as_ref(), b.json.as_ref());
            diff.iter().any(|p| !quiet(p))
        };
        if differs {
            evidence.push(format!("first: {}", crate::run::execute::snippet(&a.body)));
            evidence.push(format!("retry: {}", crate::run::execute::snippet(&b.body)));
            return Some(self.idempotency_verdict(
                f,
                retry.action(),
                "answered differently",
                evidence,
            ));
        }
        None
    }

    fn idempotency_verdict(
        &self,
        f: usize,
        action: &str,
        what: &str,
        evidence: Vec<String>,
    ) -> Verdict {
        Verdict {
            oracle: OracleKind::Idempotency,
            confidence: Confidence::High,
            step: f,
            summary: format!("a retry of {action} with the same Idempotency-Key {what}"),
            evidence,
        }
    }

    /// A conditional write whose validator another write made stale was
    /// accepted and took effect.
    fn stale_write(&self, seq: &Sequence, trace: &Trace, f: usize) -> Option<Verdict> {
        let w = f.checked_sub(1)?;
        if seq.steps[w].call.action() != seq.steps[f].call.action() {
            return None;
        }
        let k = trace.steps[f].instance?;
        let resource = trace.instances[k].resource;
        let (first, second) = (trace.steps[w].replies.first()?, trace.steps[f].replies.first()?);
        if !first.ok() || !second.ok() {
            return None;
        }
        // The first write must really have moved the resource on.
        let moved = changes(trace.before(w, k)?, trace.after(w, k)?, resource, self.noise);
        let changed = changes(trace.before(f, k)?, trace.after(f, k)?, resource, self.noise);
        if moved.is_empty() || changed.is_empty() {
            return None;
        }
        let sent = trace.steps[f].sent.first()?;
        let validator = sent
            .headers
            .iter()
            .find(|(n, _)| n.starts_with("if-"))
            .map(|(n, v)| format!("{n}: {v}"))?;
        Some(Verdict {
            oracle: OracleKind::StaleWrite,
            confidence: Confidence::High,
            step: f,
            summary: format!(
                "{} was accepted with a validator an earlier write had made stale",
                sent.action
            ),
            evidence: vec![
                format!(
                    "the first {} answered {} and changed: {}",
                    sent.action,
                    first.status,
                    moved.join(", ")
                ),
                format!("then {validator} (the same, now stale) answered {}", second.status),
                format!("and the owner's read-back changed again: {}", changed.join(", ")),
            ],
        })
    }

    /// A mutated step accepted in a state where the model never saw it
    /// accepted, and the resource changed.
    fn unexpected_accept(&self, seq: &Sequence, trace: &Trace) -> Option<Verdict> {
        for (f, step) in seq.steps.iter().enumerate().filter(|(_, s)| s.role == Role::Focus) {
            let ex = trace.steps.get(f)?;
            let (Some(k), Some(reply)) = (ex.instance, ex.replies.first()) else { continue };
            if !reply.ok() {
                continue;
            }
            let resource = trace.instances[k].resource;
            let (Some(before), Some(after)) = (trace.before(f, k), trace.after(f, k)) else {
                continue;
            };
            let Some(state) = before.state(&self.plan.resources[resource]) else { continue };
            if !self.plan.unexpected_in(resource, &state, step.call.action()) {
                continue;
            }
            let changed = changes(before, after, resource, self.noise);
            if changed.is_empty() {
                continue;
            }
            let info = &self.plan.resources[resource];
            let mut seen: Vec<&str> = info
                .accepted
                .iter()
                .filter(|(_, a)| a.contains(step.call.action()))
                .map(|(s, _)| s.as_str())
                .collect();
            seen.sort_unstable();
            return Some(Verdict {
                oracle: OracleKind::UnexpectedAccept,
                confidence: Confidence::Low,
                step: f,
                summary: format!(
                    "{} was accepted on {} that is `{state}`, where the recording never saw it accepted",
                    step.call.action(),
                    with_article(&singular(&info.name))
                ),
                evidence: vec![
                    format!("answered {}; the owner's read-back changed: {}", reply.status, changed.join(", ")),
                    format!("the recording saw it accepted only in: {}", if seen.is_empty() { "no state".to_string() } else { seen.join(", ") }),
                ],
            });
        }
        None
    }

    /// A request sent again with another URL or headers.
    pub(crate) async fn control(
        &self,
        sent: &crate::oracle::finding::SentRequest,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<crate::run::request::Reply, Error> {
        self.runner.client.resend(sent, url, headers).await.map_err(
            |SendError::Unreachable(reason)| Error::Unreachable {
                target: self.runner.client.base().to_string(),
                reason,
            },
        )
    }
}

/// An id of the same shape that no one created: the last alphanumerics rotated.
pub(crate) fn bogus(id: &str) -> String {
    let mut chars: Vec<char> = id.chars().collect();
    for c in chars.iter_mut().rev().take(4) {
        *c = match *c {
            '0'..='9' => char::from(b'0' + ((*c as u8 - b'0' + 5) % 10)),
            'a'..='z' => char::from(b'a' + ((*c as u8 - b'a' + 13) % 26)),
            'A'..='Z' => char::from(b'A' + ((*c as u8 - b'A' + 13) % 26)),
            other => other,
        };
    }
    chars.into_iter().collect()
}

/// Credentials of the same shape that no one issued.
fn bogus_credentials(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, token)) if !value.contains('=') => format!("{scheme} {}", bogus(token)),
        _ => value
            .split("; ")
            .map(|pair| match pair.split_once('=') {
                Some((n, v)) => format!("{n}={}", bogus(v)),
                None => bogus(pair),
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn singular(resource: &str) -> String {
    crate::oracle::invariant::singular(resource)
}

/// JSON on one line, cut to a readable length.
pub(crate) fn compact(value: &Value) -> String {
    crate::run::execute::snippet(&value.to_string())
}

/// `an order`, `a refund`: the noun with its indefinite article.
fn with_article(noun: &str) -> String {
    let vowel = noun.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}
