//! Running one sequence against the target: reset, then each step drafted
//! from live values and sent (copies and partners at once), the instances it
//! creates or names tracked (`track`), and each instance read back as its
//! owner after every step that may have changed it (`probe`). The result is
//! a [`Trace`] the oracles check.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::join_all;
use serde_json::Value;
use venomqa_learner::Location;

use crate::error::Error;
use crate::oracle::finding::SentRequest;
use crate::run::client::Client;
use crate::run::request::{Draft, Reply, RequestTemplate};
use crate::run::sequence::{Call, SeqStep, Sequence};
use crate::setup::config::Reset;
use crate::setup::plan::{Plan, ResourceInfo};

/// A resource instance a sequence created or named.
#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub resource: usize,
    pub id: String,
    /// Path parameter values that locate it (parents included).
    pub params: Vec<(String, String)>,
    /// Its owner as the model lets us know it: the user who created it in
    /// the sequence, or (when the model knows owners by an owner field or
    /// own lists) the user whose step obtained its id; `None` when unknown,
    /// and then no one is judged for touching someone else's instance.
    pub owner: Option<usize>,
    /// Whose view the read-backs show: the owner, else the user whose step
    /// obtained it, else the first user to act on it.
    pub reader: Option<usize>,
    /// The step that created it, when its create is in the sequence.
    pub created_at: Option<usize>,
}

/// An instance read back by its owner.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    /// The status of the instance's own read (or of its parent's read).
    pub status: u16,
    /// What it shows of the instance: the read's body, or its item in a
    /// list or in its parent's body (`seen_in` says which).
    pub json: Option<Value>,
    /// The request that showed `json` when it is not the instance's own
    /// read: a list (`GET /things?state=archived`) or the parent's read.
    pub seen_in: Option<String>,
    /// The instance's own read as sent, when it is what showed `json`: a
    /// reproducer repeats it to check what the oracle checked.
    pub read: Option<SentRequest>,
}

impl Snapshot {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether it shows the instance at all (its read, a list or its parent).
    pub fn shows(&self) -> bool {
        self.json.is_some() && (self.ok() || self.seen_in.is_some())
    }

    /// Who saw it, for evidence: `the owner's read-back`, or the list or
    /// parent read that showed it.
    pub fn source(&self) -> String {
        match &self.seen_in {
            Some(request) => format!("the owner's view in {request}"),
            None => "the owner's read-back".to_string(),
        }
    }

    /// The learned state of `resource` this read-back shows: its state
    /// field's value (from a list when its read no longer shows it), or
    /// `deleted` when the owner finds it nowhere.
    pub fn state(&self, resource: &ResourceInfo) -> Option<String> {
        let listed = self.seen_in.is_some() && self.json.is_some();
        if matches!(self.status, 404 | 410) && !listed {
            return Some("deleted".into());
        }
        resource.state_in(self.json.as_ref()?)
    }
}

/// One executed step.
#[derive(Clone, Debug, Default)]
pub(crate) struct Executed {
    /// One entry per distinct call (copies counted in `copies`).
    pub sent: Vec<SentRequest>,
    /// Every answer: the copies of the call, then the partner's.
    pub replies: Vec<Reply>,
    /// The instance the call named or created.
    pub instance: Option<usize>,
    /// The partner's instance.
    pub partner_instance: Option<usize>,
    /// It carried credentials of a session that had logged out.
    pub stale: bool,
}

impl Executed {
    /// The answer later steps read from: the first 2xx, else the first.
    pub fn reply(&self) -> Option<&Reply> {
        self.replies.iter().find(|r| r.ok()).or_else(|| self.replies.first())
    }
}

/// A probe after a step.
#[derive(Clone, Debug)]
pub(crate) struct ProbeAt {
    pub after: usize,
    pub instance: usize,
    pub snapshot: Snapshot,
}

/// What a sequence did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    pub steps: Vec<Executed>,
    pub instances: Vec<Instance>,
    pub probes: Vec<ProbeAt>,
    /// The step that could not be drafted (a binding found no live value).
    pub aborted: Option<usize>,
    /// The sequence's nonce: what its made accounts and fresh secrets were
    /// made of, so a login outside it (a probe's) sends the same ones.
    pub nonce: u64,
}

impl Trace {
    /// The owner's view of `instance` before step `i` ran.
    pub fn before(&self, i: usize, instance: usize) -> Option<&Snapshot> {
        self.probes
            .iter()
            .rev()
            .find(|p| p.instance == instance && p.after < i)
            .map(|p| &p.snapshot)
    }

    /// The owner's view of `instance` right after step `i`.
    pub fn after(&self, i: usize, instance: usize) -> Option<&Snapshot> {
        self.probes.iter().find(|p| p.instance == instance && p.after == i).map(|p| &p.snapshot)
    }

    /// Whether the sequence ran to its end.
    pub fn complete(&self) -> bool {
        self.aborted.is_none()
    }
}

/// Runs sequences; cheap to share between tasks.
#[derive(Debug)]
pub(crate) struct Runner<'a> {
    pub plan: &'a Plan,
    pub client: &'a Client,
    pub reset: Option<&'a Reset>,
    pub dir: &'a std::path::Path,
}

/// `ProbeAt::after` of the two settling reads.
pub(crate) const SETTLE: usize = usize::MAX - 1;

static NONCE: AtomicU64 = AtomicU64::new(1);

/// A number no other sequence of this process gets, unpredictable across runs.
fn nonce() -> u64 {
    let n = NONCE.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish()
}

/// The state of one sequence while it runs.
pub(super) struct Live {
    pub nonce: u64,
    /// origin → index of its latest execution.
    pub by_origin: HashMap<u32, usize>,
    /// Indexes of login steps whose session logged out.
    pub dead: Vec<usize>,
    fresh: HashMap<String, String>,
    /// The probe's own login of each user, once made.
    pub probe_logins: HashMap<usize, Reply>,
}

impl Live {
    /// A sequence about to start, with a nonce of its own.
    pub fn new() -> Live {
        Live::with_nonce(nonce())
    }

    /// A login outside a sequence, sending that sequence's made values.
    pub fn with_nonce(nonce: u64) -> Live {
        Live {
            nonce,
            by_origin: HashMap::new(),
            dead: Vec::new(),
            fresh: HashMap::new(),
            probe_logins: HashMap::new(),
        }
    }
}

impl Runner<'_> {
    /// Runs `seq` (after a reset when `reset`), probing as it goes; with
    /// `settle`, reads every instance twice more at the end (calibration:
    /// what differs between two reads in a row is noise).
    pub async fn run(&self, seq: &Sequence, reset: bool, settle: bool) -> Result<Trace, Error> {
        if reset {
            self.reset().await?;
        }
        let live = Live::new();
        let trace = Trace {
            steps: Vec::with_capacity(seq.steps.len()),
            nonce: live.nonce,
            ..Trace::default()
        };
        self.run_steps(seq, trace, live, settle).await
    }

    /// Runs `seq` on a target just rolled back to the state its first
    /// `steps` steps left (a checkpoint saved after them, `prefix` their
    /// run): only the steps after those are sent, their values bound to
    /// the prefix's answers as if it had just run.
    pub async fn run_resumed(
        &self,
        seq: &Sequence,
        prefix: &Trace,
        steps: usize,
    ) -> Result<Trace, Error> {
        let steps = steps.min(prefix.steps.len()).min(seq.steps.len());
        let mut live = Live::with_nonce(prefix.nonce);
        let trace = Trace {
            steps: prefix.steps[..steps].to_vec(),
            instances: prefix.instances.clone(),
            probes: prefix.probes.iter().filter(|p| p.after < steps).cloned().collect(),
            aborted: None,
            nonce: prefix.nonce,
        };
        for (i, step) in seq.steps[..steps].iter().enumerate() {
            live.by_origin.insert(step.origin, i);
            let calls = std::iter::once(&step.call).chain(step.partner.as_ref());
            for call in calls {
                end_sessions(call, seq, &trace.steps[i], &mut live);
            }
        }
        self.run_steps(seq, trace, live, false).await
    }

    /// Runs the steps of `seq` after those `trace` holds.
    async fn run_steps(
        &self,
        seq: &Sequence,
        mut trace: Trace,
        mut live: Live,
        settle: bool,
    ) -> Result<Trace, Error> {
        let first = trace.steps.len();
        for (i, step) in seq.steps.iter().enumerate().skip(first) {
            let Some(draft) = self.draft(&step.call, &trace, &mut live) else {
                trace.aborted = Some(i);
                break;
            };
            let partner = match &step.partner {
                Some(p) => match self.draft(p, &trace, &mut live) {
                    Some(d) => Some((p, d)),
                    None => {
                        trace.aborted = Some(i);
                        break;
                    }
                },
                None => None,
            };
            self.probe_before_write(i, seq, &step.call, &draft, &mut trace, &mut live).await?;
            let mut executed = self.send(step, &draft, partner.as_ref()).await?;
            executed.stale = self.uses_dead(&step.call, &live);
            trace.steps.push(executed);
            live.by_origin.insert(step.origin, i);
            let touched = self.track_step(seq, &live, &draft, partner.as_ref(), i, &mut trace);
            let calls = std::iter::once(&step.call).chain(partner.as_ref().map(|p| p.0));
            for call in calls {
                end_sessions(call, seq, &trace.steps[i], &mut live);
            }
            for k in touched {
                if let Some(snapshot) = self.probe(k, &trace, &mut live, seq).await? {
                    trace.probes.push(ProbeAt { after: i, instance: k, snapshot });
                }
            }
        }
        if settle {
            for after in [SETTLE, SETTLE + 1] {
                for k in 0..trace.instances.len() {
                    if let Some(snapshot) = self.probe(k, &trace, &mut live, seq).await? {
                        trace.probes.push(ProbeAt { after, instance: k, snapshot });
                    }
                }
            }
        }
        Ok(trace)
    }

    /// Reads the instance write `call` (step `i`) is about to change, when
    /// no read-back has shown it yet: the owner's view before the write
    /// (an instance the sequence only listed or read has none).
    async fn probe_before_write(
        &self,
        i: usize,
        seq: &Sequence,
        call: &Call,
        draft: &Draft,
        trace: &mut Trace,
        live: &mut Live,
    ) -> Result<(), Error> {
        if i == 0 || call.is_read() {
            return Ok(());
        }
        let Some(k) = self.register_named(seq, live, call, draft, trace) else { return Ok(()) };
        if trace.probes.iter().any(|p| p.instance == k) {
            return Ok(());
        }
        if let Some(snapshot) = self.probe(k, trace, live, seq).await? {
            trace.probes.push(ProbeAt { after: i - 1, instance: k, snapshot });
        }
        Ok(())
    }

    /// Sends a step: its call (once, or its copies at once, staggered when
    /// asked) and its partner at the same time.
    async fn send(
        &self,
        step: &SeqStep,
        draft: &Draft,
        partner: Option<&(&Call, Draft)>,
    ) -> Result<Executed, Error> {
        let copies = step.copies.max(1) as usize;
        let results = if copies == 1 && partner.is_none() {
            vec![self.client.send(&step.call.template, draft).await]
        } else {
            let mut calls: Vec<(&RequestTemplate, &Draft)> =
                vec![(&step.call.template, draft); copies];
            if let Some((p, d)) = partner {
                calls.push((&p.template, d));
            }
            let stagger = step.stagger;
            join_all(calls.into_iter().enumerate().map(|(k, (t, d))| async move {
                if k > 0 && !stagger.is_zero() {
                    tokio::time::sleep(stagger * k as u32).await;
                }
                self.client.send_at_once(t, d).await
            }))
            .await
        };
        let mut executed = Executed::default();
        for (k, result) in results.into_iter().enumerate() {
            let (mut sent, reply) = result.map_err(|err| self.client.stopped(err))?;
            let call = if k < copies { &step.call } else { partner.map_or(&step.call, |p| p.0) };
            sent.user = call.user.and_then(|u| self.plan.users.get(u)).map(|u| u.name.clone());
            // A user's key's stand-in login was never sent: no request to report.
            if (k == 0 || k == copies) && !call.template.local {
                sent.copies = if k == 0 { copies as u32 } else { 1 };
                sent.at_once_with_previous = k > 0;
                executed.sent.push(sent);
            }
            executed.replies.push(reply);
        }
        Ok(executed)
    }

    fn uses_dead(&self, call: &Call, live: &Live) -> bool {
        call.binds
            .iter()
            .any(|b| live.by_origin.get(&b.origin).is_some_and(|at| live.dead.contains(at)))
    }

    /// The call with its live values, or `None` when a binding has none.
    pub(super) fn draft(&self, call: &Call, trace: &Trace, live: &mut Live) -> Option<Draft> {
        let mut draft = call.template.draft();
        if call.login {
            let user = self.plan.users.get(call.user?)?;
            for (field, value) in &user.fields {
                let set = draft.set(
                    &Location::Body { pointer: format!("/{field}") },
                    &Value::String(value.clone()),
                );
                if !set {
                    if let crate::run::request::BodyTemplate::Form(pairs) = &mut draft.body {
                        pairs.push((field.clone(), value.clone()));
                    }
                }
            }
        }
        for b in &call.binds {
            let at = *live.by_origin.get(&b.origin)?;
            let recorded = draft.get(&b.to);
            let value = trace.steps.get(at)?.reply()?.extract_like(&b.from, recorded.as_deref())?;
            let placed = draft.link(&b.to, &value);
            if !placed && matches!(b.to, Location::Path { .. }) {
                return None;
            }
        }
        let nonce = live.nonce;
        if let Some(key) = &call.template.idempotency_key {
            let fresh = format!("venomqa-{nonce:016x}-{:08x}-{}", fingerprint(key), call.idem_salt);
            draft.set_header("idempotency-key", fresh);
        }
        let fresh = &mut live.fresh;
        draft.refresh_pseudonyms(&mut |p: &str| {
            fresh
                .entry(p.to_string())
                .or_insert_with(|| format!("vq{nonce:016x}{:08x}", fingerprint(p)))
                .clone()
        });
        if call.marker {
            // Bound values and enum-like fields (`notify_by: email`) stay as
            // they are: a marked one would be refused, not shown.
            let mut unmarked: Vec<String> = call
                .binds
                .iter()
                .filter_map(|b| match &b.to {
                    Location::Body { pointer } => Some(pointer.trim_start_matches('/').to_string()),
                    _ => None,
                })
                .collect();
            let schema =
                self.plan.model.action(call.action()).and_then(|a| a.request.schema.as_ref());
            let enums = schema.into_iter().flat_map(|s| &s.properties);
            unmarked.extend(
                enums.filter(|(_, p)| p.enumeration.is_some()).map(|(name, _)| name.clone()),
            );
            draft.mark_strings(&format!(" [venomqa {:08x}]", nonce as u32), &unmarked);
        }
        Some(draft)
    }
}

/// A logout `call` that was accepted kills the sessions of the logins its
/// credentials came from.
fn end_sessions(call: &Call, seq: &Sequence, executed: &Executed, live: &mut Live) {
    if !call.logout || !executed.replies.iter().any(Reply::ok) {
        return;
    }
    for b in &call.binds {
        if let Some(&at) = live.by_origin.get(&b.origin) {
            if seq.steps.get(at).is_some_and(|s| s.call.login) && !live.dead.contains(&at) {
                live.dead.push(at);
            }
        }
    }
}

/// A stable 32-bit fingerprint of a recorded value.
fn fingerprint(s: &str) -> u32 {
    // FNV-1a: stable across processes, unlike the std hasher.
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The start of a text, for a message.
pub(crate) fn snippet(text: &str) -> String {
    let t = text.trim();
    let mut s: String = t.chars().take(200).collect();
    if t.chars().count() > 200 {
        s.push('…');
    }
    s
}
