//! A calibrated journey as the mutation families see it: its usable
//! steps, the instances they act on, the states calibration saw, and
//! recorded requests of other actions bound into it.

use venomqa_learner::Location;

use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::{inst_key, InstKey};
use crate::run::calibrate::Baseline;
use crate::run::sequence::{Bind, Call, Role, SeqStep, Sequence, INSERTED};
use crate::setup::plan::Plan;

/// A calibrated journey, ready to be mutated.
pub(super) struct Journey<'a> {
    pub(super) plan: &'a Plan,
    pub(super) seq: &'a Sequence,
    pub(super) baseline: &'a Baseline,
    pub(super) usable: usize,
    /// Steps before this origin are other journeys' (the world it found).
    pub(super) world: u32,
}

impl Journey<'_> {
    pub(super) fn steps(&self) -> &[SeqStep] {
        &self.seq.steps[..self.usable.min(self.seq.steps.len())]
    }

    pub(super) fn new_seq(&self, steps: Vec<SeqStep>) -> Sequence {
        Sequence { journey: self.seq.journey, steps }
    }

    /// Whether step `s` is the journey's own, not another journey's in front
    /// of it (whose mutations are that journey's tests).
    pub(super) fn own(&self, s: &SeqStep) -> bool {
        s.origin >= self.world
    }

    /// The journey's own steps that act on an existing instance and are not
    /// logins, logouts or creates.
    pub(super) fn on_instance(&self) -> impl Iterator<Item = (usize, &SeqStep, InstKey)> + '_ {
        self.steps().iter().enumerate().filter_map(|(i, s)| {
            let c = &s.call;
            if !self.own(s) || c.login || c.logout || c.creates.is_some() || c.acts_on.is_none() {
                return None;
            }
            inst_key(self.plan, s).map(|k| (i, s, k))
        })
    }

    pub(super) fn writes(&self) -> impl Iterator<Item = (usize, &SeqStep, InstKey)> + '_ {
        self.on_instance().filter(|(_, s, _)| !s.call.is_read())
    }

    /// Indexes of the steps on instance `x`.
    pub(super) fn steps_on(&self, x: &InstKey) -> Vec<usize> {
        self.steps()
            .iter()
            .enumerate()
            .filter(|(_, s)| inst_key(self.plan, s).as_ref() == Some(x))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a step in `range` binds to `origin`.
    pub(super) fn bound_in(&self, origin: u32, range: std::ops::Range<usize>) -> bool {
        self.steps()[range].iter().any(|s| s.call.needs().any(|o| o == origin))
    }

    /// The state `x` is in before step `i`, from the calibration run.
    pub(super) fn state_before(&self, i: usize) -> Option<String> {
        let k = self.baseline.trace.steps.get(i)?.instance?;
        let snap = self.baseline.trace.before(i, k)?;
        snap.state(&self.plan.resources[self.baseline.trace.instances[k].resource])
    }

    pub(super) fn state_after(&self, i: usize) -> Option<String> {
        let k = self.baseline.trace.steps.get(i)?.instance?;
        let snap = self.baseline.trace.after(i, k)?;
        snap.state(&self.plan.resources[self.baseline.trace.instances[k].resource])
    }

    /// `|visibility=private` when the instance step `i` acted on has a
    /// visibility member others' reads are told apart by, as calibration's
    /// read-back after the step (or the last before it) showed it; else
    /// nothing.
    pub(super) fn visibility_after(&self, i: usize) -> String {
        let Some(k) = self.baseline.trace.steps.get(i).and_then(|e| e.instance) else {
            return String::new();
        };
        let resource = &self.plan.resources[self.baseline.trace.instances[k].resource];
        let trace = &self.baseline.trace;
        let seen = trace.after(i, k).or_else(|| trace.before(i, k));
        let answer = seen.and_then(|s| s.json.as_ref());
        let object = answer.and_then(|a| venomqa_learner::instance_object(a, &resource.name));
        resource
            .public_by
            .iter()
            .map(|(member, _)| {
                let value = object.and_then(|o| o.get(member)).map(|v| v.to_string());
                format!("|{member}={}", value.unwrap_or_default())
            })
            .collect()
    }

    /// The identity of a case that appends to a journey's prefix: the state
    /// its instance was in (as calibration saw it), whose it is, and the
    /// mutation's own steps. Two prefixes that leave the instance in the same
    /// state make the same test; the first one stands for both.
    pub(super) fn state_key(&self, family: Mutation, seq: &Sequence) -> Option<String> {
        let f = seq.focus()?;
        let focus = &seq.steps[f];
        let (state, owner) = match inst_key(self.plan, focus) {
            Some(x) => {
                let last = seq.steps[..f].iter().rev().find(|s| {
                    s.origin < INSERTED
                        && !s.call.is_read()
                        && inst_key(self.plan, s).as_ref() == Some(&x)
                })?;
                (self.state_after(last.origin as usize)?, last.call.user)
            }
            None => {
                ("-".to_string(), seq.steps.iter().find(|s| s.call.login).and_then(|s| s.call.user))
            }
        };
        let mut key = format!("{}|{state}", family.name());
        for s in seq.steps.iter().filter(|s| s.role == Role::Focus || s.origin >= INSERTED) {
            let who = if s.call.user == owner { "own" } else { "other" };
            key.push_str(&format!(
                "|{}#{who}{}{}",
                s.label(),
                if s.call.marker { "m" } else { "" },
                s.call.idem_salt
            ));
        }
        Some(key)
    }

    /// `call` with its credentials taken from the login at `origin`; other
    /// values a login answered (the account's own id in a path) stay: they
    /// name what the call acts on.
    pub(super) fn reauth(&self, call: &Call, origin: u32, user: usize) -> Call {
        let mut call = call.clone();
        for b in &mut call.binds {
            let credential =
                self.plan.auth_binds.iter().any(|(to, from)| *to == b.to && *from == b.from);
            if credential && self.seq.steps.iter().any(|s| s.origin == b.origin && s.call.login) {
                b.origin = origin;
            }
        }
        call.user = Some(user);
        call
    }

    pub(super) fn origin_in(&self, origin: u32, range: std::ops::Range<usize>) -> bool {
        self.steps()[range].iter().any(|s| s.origin == origin)
    }

    /// The validators `action`'s recorded call sent (`If-Match` ← a read's
    /// `ETag`): where each goes, where it comes from, and the read's action.
    pub(super) fn validator_reads(&self, action: &str) -> Vec<(Location, Location, String)> {
        let Some((_, cj, cs)) = self.plan.catalog.get(action) else { return Vec::new() };
        let Some(src_seq) = self.plan.journeys.get(*cj).map(|j| &j.sequence) else {
            return Vec::new();
        };
        let Some(src) = src_seq.steps.get(*cs) else { return Vec::new() };
        src.call
            .binds
            .iter()
            .filter(|b| {
                matches!((&b.to, &b.from), (Location::Header { .. }, Location::Header { .. }))
            })
            .filter_map(|b| {
                let producer = src_seq.steps.iter().find(|s| s.origin == b.origin)?;
                producer
                    .call
                    .is_read()
                    .then(|| (b.to.clone(), b.from.clone(), producer.call.action().to_string()))
            })
            .collect()
    }

    /// `call` on `x` after step `at - 1`, preceded by a fresh read of `x`
    /// for each validator it sends, bound to that read: a write spliced in
    /// after others sends the current `ETag`, not none or a stale one.
    pub(super) fn with_fresh_validators(
        &self,
        mut call: Call,
        at: usize,
        x: &InstKey,
        user: Option<usize>,
    ) -> Vec<SeqStep> {
        let mut origin = self.seq.fresh_origin();
        let mut steps = Vec::new();
        for (to, from, read_action) in self.validator_reads(call.action()) {
            let Some(read) = self.catalog_call(&read_action, at, Some(x), user) else { continue };
            if read.acts_on != Some(x.resource) {
                continue;
            }
            steps.push(SeqStep::plain(origin, read));
            call.binds.retain(|b| b.to != to);
            call.binds.push(Bind { to, origin, from });
            origin += 1;
        }
        steps.push(SeqStep::plain(origin, call).focus());
        steps
    }

    /// The recorded request of `action` (from any journey), bound into this
    /// journey before step `at`: on instance `x`, with `user`'s credentials.
    pub(super) fn catalog_call(
        &self,
        action: &str,
        at: usize,
        x: Option<&InstKey>,
        user: Option<usize>,
    ) -> Option<Call> {
        let (template, cj, cs) = self.plan.catalog.get(action)?;
        let src_seq = &self.plan.journeys.get(*cj)?.sequence;
        let src = &src_seq.steps.get(*cs)?.call;
        let prefix = &self.steps()[..at.min(self.usable)];
        let mut binds: Vec<Bind> = Vec::new();
        for b in &src.binds {
            let producer = src_seq.steps.iter().find(|s| s.origin == b.origin)?;
            if producer.call.login {
                let o = prefix.iter().rev().find(|s| s.call.login && s.call.user == user)?.origin;
                binds.push(Bind { to: b.to.clone(), origin: o, from: b.from.clone() });
            } else if let Location::Path { name } = &b.to {
                binds.push(self.path_bind(prefix, x?, name)?);
            } else {
                let k = prefix.iter().rposition(|s| {
                    s.call.action() == producer.call.action()
                        && inst_key(self.plan, s).is_none_or(|k| Some(&k) == x)
                });
                match k {
                    Some(k) => binds.push(Bind {
                        to: b.to.clone(),
                        origin: prefix[k].origin,
                        from: b.from.clone(),
                    }),
                    None if matches!(b.to, Location::Header { .. }) => {}
                    None => return None,
                }
            }
        }
        for name in template.params() {
            if !binds.iter().any(|b| matches!(&b.to, Location::Path { name: n } if n == name)) {
                binds.push(self.path_bind(prefix, x?, name)?);
            }
        }
        Some(Call {
            template: template.clone(),
            binds,
            user,
            login: false,
            logout: src.logout,
            idem_salt: 2,
            marker: false,
            creates: src.creates,
            acts_on: src.acts_on,
            scoped_by: src.scoped_by.clone(),
        })
    }

    /// Where path parameter `name` of instance `x` comes from in this journey.
    pub(super) fn path_bind(&self, prefix: &[SeqStep], x: &InstKey, name: &str) -> Option<Bind> {
        let to = Location::Path { name: name.to_string() };
        let found = prefix
            .iter()
            .filter(|s| inst_key(self.plan, s).as_ref() == Some(x))
            .find_map(|s| s.call.binds.iter().find(|b| b.to == to).cloned());
        if found.is_some() {
            return found;
        }
        (self.plan.resources[x.resource].id_param == name).then(|| Bind {
            to,
            origin: x.origin,
            from: x.from.clone(),
        })
    }
}

pub(super) fn is_special(call: &Call) -> bool {
    call.login || call.logout || call.creates.is_some()
}
