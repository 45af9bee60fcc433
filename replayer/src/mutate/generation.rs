//! Mutating journeys: every family applied systematically to every step it
//! fits, each result a [`Case`] with its focus step marked. Cases whose
//! relevant steps (the focus, what it binds to, and the earlier steps on
//! the same resource instance) are the same as an earlier case's are the
//! same test and are generated once, so hundreds of recorded sessions cost
//! little more than the few shapes they share.

use std::collections::HashSet;

use venomqa_learner::Location;

use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::{inst_key, key, relevant, InstKey};
use crate::run::calibrate::Baseline;
use crate::run::sequence::{Bind, Call, Role, SeqStep, Sequence, INSERTED};
use crate::setup::plan::Plan;

/// One mutated sequence to run and check.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub family: Mutation,
    pub seq: Sequence,
}

/// Every case of the enabled families over the calibrated journeys,
/// interleaved family by family so a budget spreads over all of them.
pub(crate) fn cases(
    plan: &Plan,
    baselines: &[Option<Baseline>],
    enabled: &[Mutation],
    concurrency: u32,
) -> Vec<Case> {
    let mut per_family: Vec<Vec<Case>> = Vec::new();
    let mut seen = HashSet::new();
    for &family in enabled {
        let mut list = Vec::new();
        for (j, journey) in plan.journeys.iter().enumerate() {
            let Some(baseline) = baselines.get(j).and_then(Option::as_ref) else { continue };
            let g = Gen { plan, seq: &journey.sequence, baseline, usable: baseline.usable() };
            for seq in g.family(family, concurrency) {
                if !seq.buildable() || seq.focus().is_none() {
                    continue;
                }
                // Run only what matters to the focus: the same test from
                // another journey is then recognised, and it costs less.
                let keep = relevant(plan, &seq);
                let seq = Sequence {
                    journey: seq.journey,
                    steps: seq
                        .steps
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| keep.contains(i))
                        .map(|(_, s)| s)
                        .collect(),
                };
                let k = match family {
                    // These change the history itself: it is part of the test.
                    Mutation::Drop | Mutation::Swap | Mutation::MoveLater => None,
                    _ => g.state_key(family, &seq),
                };
                if seen.insert(k.unwrap_or_else(|| key(family, &seq))) {
                    list.push(Case { family, seq });
                }
            }
        }
        per_family.push(list);
    }
    let mut out = Vec::new();
    let longest = per_family.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for list in &per_family {
            if let Some(c) = list.get(i) {
                out.push(c.clone());
            }
        }
    }
    out
}

struct Gen<'a> {
    plan: &'a Plan,
    seq: &'a Sequence,
    baseline: &'a Baseline,
    usable: usize,
}

impl Gen<'_> {
    fn steps(&self) -> &[SeqStep] {
        &self.seq.steps[..self.usable.min(self.seq.steps.len())]
    }

    fn new_seq(&self, steps: Vec<SeqStep>) -> Sequence {
        Sequence { journey: self.seq.journey, steps }
    }

    /// Steps that act on an existing instance and are not logins, logouts or creates.
    fn on_instance(&self) -> impl Iterator<Item = (usize, &SeqStep, InstKey)> + '_ {
        self.steps().iter().enumerate().filter_map(|(i, s)| {
            let c = &s.call;
            if c.login || c.logout || c.creates.is_some() || c.acts_on.is_none() {
                return None;
            }
            inst_key(self.plan, s).map(|k| (i, s, k))
        })
    }

    fn writes(&self) -> impl Iterator<Item = (usize, &SeqStep, InstKey)> + '_ {
        self.on_instance().filter(|(_, s, _)| !s.call.is_read())
    }

    /// Indexes of the steps on instance `x`.
    fn steps_on(&self, x: &InstKey) -> Vec<usize> {
        self.steps()
            .iter()
            .enumerate()
            .filter(|(_, s)| inst_key(self.plan, s).as_ref() == Some(x))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a step in `range` binds to `origin`.
    fn bound_in(&self, origin: u32, range: std::ops::Range<usize>) -> bool {
        self.steps()[range].iter().any(|s| s.call.needs().any(|o| o == origin))
    }

    /// The state `x` is in before step `i`, from the calibration run.
    fn state_before(&self, i: usize) -> Option<String> {
        let k = self.baseline.trace.steps.get(i)?.instance?;
        let snap = self.baseline.trace.before(i, k)?;
        snap.state(&self.plan.resources[self.baseline.trace.instances[k].resource])
    }

    fn state_after(&self, i: usize) -> Option<String> {
        let k = self.baseline.trace.steps.get(i)?.instance?;
        let snap = self.baseline.trace.after(i, k)?;
        snap.state(&self.plan.resources[self.baseline.trace.instances[k].resource])
    }

    /// The identity of a case that appends to a journey's prefix: the state
    /// its instance was in (as calibration saw it), whose it is, and the
    /// mutation's own steps. Two prefixes that leave the instance in the same
    /// state make the same test; the first one stands for both.
    fn state_key(&self, family: Mutation, seq: &Sequence) -> Option<String> {
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

    fn family(&self, family: Mutation, concurrency: u32) -> Vec<Sequence> {
        match family {
            Mutation::Duplicate => self.duplicate(),
            Mutation::Drop => self.drop_step(),
            Mutation::Swap => self.swap(),
            Mutation::MoveLater => self.move_later(),
            Mutation::AsOtherUser => self.as_other_user(),
            Mutation::AfterDelete => self.after_delete(),
            Mutation::AfterLogout => self.after_logout(),
            Mutation::Concurrent => self.concurrent(concurrency),
            Mutation::Splice => self.splice(),
            Mutation::IdempotencyRetry => self.retry(),
            Mutation::StaleValidator => self.stale_validator(),
        }
    }

    /// A write sent again right after itself, as a new request.
    fn duplicate(&self) -> Vec<Sequence> {
        self.writes()
            .map(|(i, s, _)| {
                let mut steps = self.steps()[..=i].to_vec();
                let mut copy = s.clone();
                copy.origin = self.seq.fresh_origin();
                copy.call.idem_salt = 1;
                steps.push(copy.focus());
                self.new_seq(steps)
            })
            .collect()
    }

    /// A write left out; the later steps on its instance are the focus.
    fn drop_step(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s, x) in self.writes() {
            let on = self.steps_on(&x);
            let Some(&last) = on.last().filter(|l| **l > i) else { continue };
            if self.bound_in(s.origin, i + 1..last + 1) {
                continue;
            }
            let steps = self.steps()[..=last]
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(
                    |(k, st)| {
                        if k > i && on.contains(&k) {
                            st.clone().focus()
                        } else {
                            st.clone()
                        }
                    },
                )
                .collect();
            out.push(self.new_seq(steps));
        }
        out
    }

    /// Two consecutive steps on an instance (one a write) exchanged.
    fn swap(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (a, sa, x) in self.on_instance() {
            let on = self.steps_on(&x);
            let Some(&b) = on.iter().find(|k| **k > a) else { continue };
            let sb = &self.steps()[b];
            if (sa.call.is_read() && sb.call.is_read()) || is_special(&sb.call) {
                continue;
            }
            if self.bound_in(sa.origin, a + 1..b + 1)
                || sb.call.needs().any(|o| self.origin_in(o, a..b))
            {
                continue;
            }
            let mut steps: Vec<SeqStep> = self.steps()[..a].to_vec();
            steps.push(sb.clone().focus());
            steps.extend(self.steps()[a + 1..b].iter().cloned());
            steps.push(sa.clone().focus());
            out.push(self.new_seq(steps));
        }
        out
    }

    /// A write moved after a later (not the next) step on its instance.
    fn move_later(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (a, sa, x) in self.writes() {
            let on = self.steps_on(&x);
            let later: Vec<usize> = on.iter().copied().filter(|k| *k > a).collect();
            for &c in later.iter().skip(1) {
                if self.bound_in(sa.origin, a + 1..c + 1) {
                    break;
                }
                let mut steps: Vec<SeqStep> = self.steps()[..a].to_vec();
                for k in a + 1..=c {
                    let st = self.steps()[k].clone();
                    steps.push(if on.contains(&k) { st.focus() } else { st });
                }
                steps.push(sa.clone().focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }

    /// A step on someone's instance sent by the next configured user.
    fn as_other_user(&self) -> Vec<Sequence> {
        let Some(login) = &self.plan.login else { return Vec::new() };
        let mut out = Vec::new();
        for (i, s, _) in self.on_instance() {
            let Some(owner) = s.call.user else { continue };
            let users = self.plan.users.len();
            if users < 2 {
                break;
            }
            let other = (owner + 1) % users;
            let origin = self.seq.fresh_origin();
            let mut steps = self.steps()[..i].to_vec();
            steps.push(SeqStep::plain(origin, Call::login(login, other)));
            let mut step = s.clone();
            step.call = self.reauth(&step.call, origin, other);
            steps.push(step.focus());
            out.push(self.new_seq(steps));
        }
        out
    }

    /// `call` with its credentials taken from the login at `origin`.
    fn reauth(&self, call: &Call, origin: u32, user: usize) -> Call {
        let mut call = call.clone();
        for b in &mut call.binds {
            if self.seq.steps.iter().any(|s| s.origin == b.origin && s.call.login) {
                b.origin = origin;
            }
        }
        call.user = Some(user);
        call
    }

    /// Writes on an instance after its delete: the journey's own delete
    /// followed by every other write, or a delete inserted before a write.
    fn after_delete(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (d, s, x) in self.writes() {
            let r = &self.plan.resources[x.resource];
            if !r.deletes.iter().any(|a| a == s.call.action()) {
                continue;
            }
            let mut actions: Vec<&String> = self.plan.catalog.keys().collect();
            actions.sort();
            for action in actions {
                if r.deletes.contains(action) || r.create.as_ref() == Some(action) {
                    continue;
                }
                let Some(call) = self.catalog_call(action, d + 1, Some(&x), s.call.user) else {
                    continue;
                };
                if call.is_read() || call.acts_on != Some(x.resource) {
                    continue;
                }
                let mut steps = self.steps()[..=d].to_vec();
                steps.push(SeqStep::plain(self.seq.fresh_origin(), call).focus());
                out.push(self.new_seq(steps));
            }
        }
        for (i, s, x) in self.writes() {
            let r = &self.plan.resources[x.resource];
            if r.deletes.iter().any(|a| a == s.call.action()) {
                continue;
            }
            let Some(delete) = r.deletes.first() else { continue };
            let Some(call) = self.catalog_call(delete, i, Some(&x), s.call.user) else { continue };
            let mut steps = self.steps()[..i].to_vec();
            steps.push(SeqStep::plain(self.seq.fresh_origin(), call));
            steps.push(s.clone().focus());
            out.push(self.new_seq(steps));
        }
        out
    }

    /// A step re-sent with the credentials of a session logged out just before.
    fn after_logout(&self) -> Vec<Sequence> {
        let Some(logout) = self.plan.logout.as_ref().map(|t| t.action.to_string()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            let c = &s.call;
            if c.login || c.logout || c.user.is_none() || c.creates.is_some() {
                continue;
            }
            let Some(call) = self.catalog_call(&logout, i, None, c.user) else { continue };
            let mut steps = self.steps()[..i].to_vec();
            steps.push(SeqStep::plain(self.seq.fresh_origin(), call));
            steps.push(s.clone().focus());
            out.push(self.new_seq(steps));
        }
        out
    }

    /// A write sent N times at once, and with each other write the model
    /// saw accepted in the same state.
    fn concurrent(&self, copies: u32) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s, x) in self.writes() {
            let mut step = s.clone();
            step.copies = copies;
            let mut steps = self.steps()[..i].to_vec();
            steps.push(step.focus());
            out.push(self.new_seq(steps));

            let Some(state) = self.state_before(i) else { continue };
            let r = &self.plan.resources[x.resource];
            let Some(accepted) = r.accepted.get(&state) else { continue };
            let mut actions: Vec<&String> =
                accepted.iter().filter(|a| *a != s.call.action()).collect();
            actions.sort();
            for action in actions {
                let Some(partner) = self.catalog_call(action, i, Some(&x), s.call.user) else {
                    continue;
                };
                if partner.is_read() || partner.acts_on != Some(x.resource) {
                    continue;
                }
                let mut step = s.clone();
                step.partner = Some(partner);
                let mut steps = self.steps()[..i].to_vec();
                steps.push(step.focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }

    /// A journey's prefix followed by another journey's write on the same
    /// instance, where the model never saw that write accepted.
    fn splice(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            if s.call.is_read() || s.call.login || s.call.logout {
                continue;
            }
            let (Some(x), Some(state)) = (inst_key(self.plan, s), self.state_after(i)) else {
                continue;
            };
            let r = &self.plan.resources[x.resource];
            let mut actions: Vec<&String> = self.plan.catalog.keys().collect();
            actions.sort();
            for action in actions {
                if !self.plan.unexpected_in(x.resource, &state, action)
                    || r.deletes.contains(action)
                {
                    continue;
                }
                let Some(call) = self.catalog_call(action, i + 1, Some(&x), s.call.user) else {
                    continue;
                };
                if call.acts_on != Some(x.resource) {
                    continue;
                }
                let mut steps = self.steps()[..=i].to_vec();
                steps.push(SeqStep::plain(self.seq.fresh_origin(), call).focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }

    /// A step with an `Idempotency-Key` retried with the same key.
    fn retry(&self) -> Vec<Sequence> {
        self.steps()
            .iter()
            .enumerate()
            .filter(|(_, s)| s.call.template.idempotency_key.is_some())
            .map(|(i, s)| {
                let mut steps = self.steps()[..=i].to_vec();
                let mut again = s.clone();
                again.origin = self.seq.fresh_origin();
                steps.push(again.focus());
                self.new_seq(steps)
            })
            .collect()
    }

    /// A conditional write sent again with its (now stale) validator.
    fn stale_validator(&self) -> Vec<Sequence> {
        self.writes()
            .filter(|(_, s, _)| {
                s.call
                    .binds
                    .iter()
                    .any(|b| matches!(&b.to, Location::Header { name } if name.starts_with("if-")))
            })
            .map(|(i, s, _)| {
                let mut steps = self.steps()[..=i].to_vec();
                let mut again = s.clone();
                again.origin = self.seq.fresh_origin();
                again.call.marker = true;
                again.call.idem_salt = 1;
                steps.push(again.focus());
                self.new_seq(steps)
            })
            .collect()
    }

    fn origin_in(&self, origin: u32, range: std::ops::Range<usize>) -> bool {
        self.steps()[range].iter().any(|s| s.origin == origin)
    }

    /// The recorded request of `action` (from any journey), bound into this
    /// journey before step `at`: on instance `x`, with `user`'s credentials.
    fn catalog_call(
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
        })
    }

    /// Where path parameter `name` of instance `x` comes from in this journey.
    fn path_bind(&self, prefix: &[SeqStep], x: &InstKey, name: &str) -> Option<Bind> {
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

fn is_special(call: &Call) -> bool {
    call.login || call.logout || call.creates.is_some()
}
