//! One generator per mutation family: each returns the mutated sequences
//! of a journey, the focus step marked. The families that need more of the
//! model than its journeys (roles, children, auth, body shapes) have their
//! own files; this one dispatches to them.

use venomqa_learner::Location;

use crate::mutate::journey::{is_special, Journey};
use crate::mutate::mutation::Mutation;
use crate::mutate::relevance::{inst_key, InstKey};
use crate::run::sequence::{Bind, Call, SeqStep, Sequence};
use crate::setup::plan::names_any;

/// The fewest copies of a create `concurrent` sends at once.
const CREATE_BURST: u32 = 4;

impl Journey<'_> {
    pub(super) fn family(&self, family: Mutation, concurrency: u32) -> Vec<Sequence> {
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
            Mutation::InterleavedValidator => self.interleaved_validator(),
            Mutation::ChildAfterTransition => self.child_after_transition(),
            Mutation::FieldInjection => self.field_injection(),
            Mutation::Enumeration => self.enumeration(),
            Mutation::AsLesserRole => self.as_lesser_role(),
            Mutation::AfterFinalState => self.after_final_state(),
            Mutation::DoubleClaim => self.double_claim(),
        }
    }

    /// A write sent again right after itself, as a new request.
    fn duplicate(&self) -> Vec<Sequence> {
        // Writes on an instance, and creates (or writes to no instance) that
        // name one in their body (a pickup naming a hold by its code).
        let writes = self.writes().map(|(i, s, _)| (i, s));
        let creates =
            self.steps().iter().enumerate().filter(|(i, s)| self.own(s) && self.names_in_body(*i));
        writes
            .chain(creates)
            .map(|(i, s)| {
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

    /// A step on someone's instance sent by the next configured user
    /// (`Plan::other_user`: never an identity a journey makes).
    fn as_other_user(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s, x) in self.on_instance() {
            let Some((mut steps, origin, other)) = self.as_other_after(i, s, x.resource) else {
                continue;
            };
            let mut step = s.clone();
            step.call = self.reauth(&step.call, origin, other);
            steps.push(step.focus());
            out.push(self.new_seq(steps));
        }
        out.extend(self.scoped_reads_as_other_user());
        out.extend(self.upserts_as_other_user());
        out
    }

    /// A read scoped by the owner's instance in its query (`GET
    /// /transactions?account_id=…`), sent by another user.
    fn scoped_reads_as_other_user(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            let c = &s.call;
            let Some((r, _)) = c.scoped_by.as_ref().filter(|_| self.own(s) && !c.login) else {
                continue;
            };
            let Some((mut steps, origin, other)) = self.as_other_after(i, s, *r) else { continue };
            let mut step = s.clone();
            step.call = self.reauth(&step.call, origin, other);
            steps.push(step.focus());
            out.push(self.new_seq(steps));
        }
        out
    }

    /// A create at a key the client chose that is also its resource's
    /// update (`PUT /spaces/{slug}`): after the owner's, another user sends
    /// it to the same key, marked so that a change shows.
    fn upserts_as_other_user(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            let Some(r) = s.call.creates.filter(|_| self.own(s)) else { continue };
            let info = &self.plan.resources[r];
            let upsert = self
                .plan
                .model
                .resource(&info.name)
                .is_some_and(|m| m.update.iter().any(|u| u == s.call.action()));
            if !upsert {
                continue;
            }
            let Some((mut steps, origin, other)) = self.as_other_after(i + 1, s, r) else {
                continue;
            };
            let mut again = s.clone();
            again.origin = origin + 1;
            again.call = self.reauth(&s.call, origin, other);
            again.call.creates = None;
            again.call.acts_on = Some(r);
            again.call.marker = true;
            let key = Location::Path { name: info.id_param.clone() };
            again.call.binds.retain(|b| b.to != key);
            again.call.binds.push(Bind { to: key, origin: s.origin, from: info.id_from.clone() });
            steps.push(again.focus());
            out.push(self.new_seq(steps));
        }
        out
    }

    /// The journey's steps before `end`, then another user than `s`'s
    /// (signed up first when the journeys make it) logging in: the steps,
    /// the login's origin, and the other user. `None` when there is no
    /// other user to ask, or both share the role that owns resource `r`.
    fn as_other_after(
        &self,
        end: usize,
        s: &SeqStep,
        r: usize,
    ) -> Option<(Vec<SeqStep>, u32, usize)> {
        let owner = s.call.user?;
        // Not a user the journey let in by name before (a member it added).
        let steps = &self.steps()[..end];
        let let_in = |u: usize| {
            let accounts = self.plan.accounts_of(u);
            steps.iter().filter(|st| !st.call.is_read() && !st.call.login).any(|st| {
                let draft = st.call.template.draft();
                let path = draft.path(&st.call.template);
                let body = draft.body_bytes().map(|b| String::from_utf8_lossy(&b).into_owned());
                names_any(&path, &accounts) || body.is_some_and(|b| names_any(&b, &accounts))
            })
        };
        let other = self.plan.other_user_except(owner, let_in)?;
        if self.plan.shared_by_role(r, owner, other) {
            return None;
        }
        let login = self.plan.login_of(other)?;
        let mut steps = self.steps()[..end].to_vec();
        let mut origin = self.seq.fresh_origin();
        // An identity a journey makes is signed up first, unless this
        // journey makes it too (then it must be logged in already).
        if let Some(sign_up) = self.plan.sign_up(other) {
            if self.seq.steps.iter().any(|st| st.call.user == Some(other)) {
                if !steps.iter().any(|st| st.call.login && st.call.user == Some(other)) {
                    return None;
                }
            } else {
                steps.push(SeqStep::plain(origin, sign_up.clone()));
                origin += 1;
            }
        }
        steps.push(SeqStep::plain(origin, Call::login(&login, other)));
        Some((steps, origin, other))
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
        out.extend(self.create_naming_deleted());
        out
    }

    /// A create whose body names an instance (a loan of a book), after that
    /// instance's delete, sent by a user who may delete it (the journey's
    /// own, else one of the role that alone deletes), logged in afresh.
    fn create_naming_deleted(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            if !self.own(s) || s.call.creates.is_none() || s.call.login {
                continue;
            }
            for x in self.named_in_body(i) {
                // Only what can be deleted.
                let Some(delete) = self.plan.resources[x.resource].deletes.first() else {
                    continue;
                };
                let Some(deleter) = self.deleter(delete, i, s.call.user) else { continue };
                let Some(login) = self.plan.login_of(deleter) else { continue };
                let Some(call) = self.catalog_call(delete, i, Some(&x), Some(deleter)) else {
                    continue;
                };
                let origin = self.seq.fresh_origin();
                let mut steps = self.steps()[..i].to_vec();
                steps.push(SeqStep::plain(origin, Call::login(&login, deleter)));
                steps.push(SeqStep::plain(origin + 1, self.reauth(&call, origin, deleter)));
                steps.push(s.clone().focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }

    /// Whether step `i` makes something (a create, or a write to no
    /// instance: a pickup at the desk) and names an instance in its body.
    pub(super) fn names_in_body(&self, i: usize) -> bool {
        let c = &self.steps()[i].call;
        let makes = c.creates.is_some() || (c.acts_on.is_none() && !c.is_read());
        makes
            && !c.login
            && !c.logout
            && self.plan.singleton_of(c.action()).is_none()
            && !self.named_in_body(i).is_empty()
    }

    /// The instances step `i` names in its body or query by a value a list
    /// or a read of their resource (or their create) answered.
    pub(super) fn named_in_body(&self, i: usize) -> Vec<InstKey> {
        let prefix = &self.steps()[..i];
        let mut out: Vec<InstKey> = Vec::new();
        for b in &self.steps()[i].call.binds {
            if !matches!(b.to, Location::Body { .. } | Location::Query { .. }) {
                continue;
            }
            let Some(p) = prefix.iter().rev().find(|p| p.origin == b.origin) else { continue };
            let resource = p.call.creates.or_else(|| self.plan.answered_by(p.call.action()));
            let Some(resource) = resource else { continue };
            let x = InstKey { resource, origin: b.origin, from: b.from.clone() };
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out
    }

    /// Who may send `delete` before step `i`: a user logged in before it
    /// whose role alone performs it, else `user`.
    fn deleter(&self, delete: &str, i: usize, user: Option<usize>) -> Option<usize> {
        let roles = &self.plan.model.roles;
        let only = roles.iter().find(|r| r.only.iter().any(|a| a == delete));
        let logged_in =
            self.steps()[..i].iter().filter(|s| s.call.login).filter_map(|s| s.call.user);
        let mut candidates = logged_in.filter(|u| {
            only.is_none_or(|role| {
                self.plan.roles.get(*u).is_some_and(|r| r.as_deref() == Some(role.name.as_str()))
            })
        });
        candidates.next().or(user.filter(|_| only.is_none()))
    }

    /// A step re-sent with the credentials of a session logged out just
    /// before; creates come last, so a bug any request shows is shown by
    /// one on an instance first.
    fn after_logout(&self) -> Vec<Sequence> {
        let Some(logout) = self.plan.logout.as_ref().map(|t| t.action.to_string()) else {
            return Vec::new();
        };
        let eligible = |c: &Call| !c.login && !c.logout && c.user.is_some();
        let steps = self.steps().iter().enumerate();
        let (creates, others): (Vec<_>, Vec<_>) =
            steps.filter(|(_, s)| eligible(&s.call)).partition(|(_, s)| s.call.creates.is_some());
        let mut out = Vec::new();
        for (i, s) in others.into_iter().chain(creates) {
            let Some(call) = self.catalog_call(&logout, i, None, s.call.user) else { continue };
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
        // Creates at once: borrows of the last copies, sign-ups of one name.
        // A create draws on a stock the journey left a few of (copies,
        // seats): the burst is at least CREATE_BURST, to reach past them.
        for (i, s) in self.steps().iter().enumerate() {
            let c = &s.call;
            if !self.own(s) || c.creates.is_none() || c.login || c.logout {
                continue;
            }
            let mut step = s.clone();
            step.copies = copies.max(CREATE_BURST);
            let mut steps = self.steps()[..i].to_vec();
            steps.push(step.focus());
            out.push(self.new_seq(steps));
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
                if !self.plan.unexpected_in(x.resource, &state, action, None)
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
                steps.extend(self.with_fresh_validators(call, i + 1, &x, s.call.user));
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
                // The first request is an inserted copy, so that cutting
                // the case to what its focus needs keeps it: the retry
                // binds nothing of the first's, yet the test is the pair.
                let mut steps = self.steps()[..i].to_vec();
                let mut first = s.clone();
                first.origin = self.seq.fresh_origin();
                steps.push(first);
                steps.push(s.clone().focus());
                self.new_seq(steps)
            })
            .collect()
    }

    /// A conditional write sent again with its (now stale) validator.
    fn stale_validator(&self) -> Vec<Sequence> {
        let conditional = |s: &SeqStep| {
            s.call
                .binds
                .iter()
                .any(|b| matches!(&b.to, Location::Header { name } if name.starts_with("if-")))
        };
        // Writes on an instance or on a singleton (`/me/preferences`).
        self.steps()
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                self.own(s) && !s.call.is_read() && !is_special(&s.call) && conditional(s)
            })
            .map(|(i, s)| {
                // Both writes inserted (fresh origins), so the cut keeps the
                // first even where they name no instance (a singleton).
                let first = self.seq.fresh_origin();
                let mut steps = self.steps()[..i].to_vec();
                steps.push(SeqStep { origin: first, ..s.clone() });
                let mut again = s.clone();
                again.origin = first + 1;
                again.call.marker = true;
                again.call.idem_salt = 1;
                steps.push(again.focus());
                self.new_seq(steps)
            })
            .collect()
    }
}
