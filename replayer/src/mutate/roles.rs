//! The as-lesser-role family: an action the recording shows only for users
//! of one role (the model's `roles[].only`: staff, admin, organiser; for a
//! role known from refusals, `roles[].withheld`: what others were refused
//! with `403`) sent
//! by a configured user the model knows in another role, who never used it,
//! in two ways: a role's journey replayed with its actor replaced by that
//! user (the instances the action needs are then theirs), and a journey of
//! a user in another role followed by the role-only action.

use venomqa_learner::UserRole;

use crate::mutate::journey::Journey;
use crate::mutate::relevance::{inst_key, InstKey};
use crate::run::sequence::{SeqStep, Sequence};
use crate::setup::config::User;

impl Journey<'_> {
    /// The journey up to each step of a role-only action, every step of
    /// its actor sent by a configured user in another role instead: the
    /// instances the action needs are then that user's own.
    pub(super) fn as_lesser_role(&self) -> Vec<Sequence> {
        let roles = &self.plan.model.roles;
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            let c = &s.call;
            if c.login || c.logout || c.user.is_none() {
                continue;
            }
            for role in roles.iter().filter(|r| r.restricted().iter().any(|a| a == c.action())) {
                let Some(lesser) = self.lesser_user(role, c.user) else { continue };
                let mut steps = self.steps()[..=i].to_vec();
                for step in steps.iter_mut().filter(|st| st.call.user == c.user) {
                    step.call.user = Some(lesser);
                }
                if !steps[..i].iter().any(|st| st.call.login && st.call.user == Some(lesser)) {
                    continue;
                }
                let focus = steps.pop().map(SeqStep::focus);
                steps.extend(focus);
                out.push(self.new_seq(steps));
            }
        }
        out.extend(self.role_action_appended());
        out
    }

    /// After the steps of each journey's login of a user the model knows
    /// only in other roles (up to their logout), each action one of those
    /// roles alone performed, sent as that user.
    fn role_action_appended(&self) -> Vec<Sequence> {
        let roles = &self.plan.model.roles;
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate().filter(|(_, s)| s.call.login) {
            let Some(user) = s.call.user.and_then(|u| self.plan.users.get(u)) else { continue };
            let end = self.steps()[i + 1..]
                .iter()
                .position(|st| st.call.logout && st.call.user == s.call.user)
                .map_or(self.steps().len(), |k| i + 1 + k);
            for role in roles.iter().filter(|r| above(r, roles, user)) {
                for action in role.restricted() {
                    let x = self.instance_for(action, end);
                    let Some(call) = self.catalog_call(action, end, x.as_ref(), s.call.user) else {
                        continue;
                    };
                    if call.login || call.logout {
                        continue;
                    }
                    let mut steps = self.steps()[..end].to_vec();
                    steps.push(SeqStep::plain(self.seq.fresh_origin(), call).focus());
                    out.push(self.new_seq(steps));
                }
            }
        }
        out
    }

    /// The instance of the resource `action` names for a lesser role to
    /// send it on: the last one before step `end` that those steps did not
    /// delete (refused there, it would test nothing of roles), preferring
    /// one they did not already send `action` on (featuring a featured
    /// book changes nothing, so shows nothing).
    fn instance_for(&self, action: &str, end: usize) -> Option<InstKey> {
        let (_, j, k) = self.plan.catalog.get(action)?;
        let r = self.plan.journeys.get(*j)?.sequence.steps.get(*k)?.call.acts_on?;
        let steps = &self.steps()[..end];
        let deletes = &self.plan.resources[r].deletes;
        let on = |sent: &dyn Fn(&str) -> bool| -> Vec<InstKey> {
            steps
                .iter()
                .filter(|st| sent(st.call.action()))
                .filter_map(|st| inst_key(self.plan, st))
                .collect()
        };
        let deleted = on(&|a| deletes.iter().any(|d| d == a));
        let done = on(&|a| a == action);
        let live: Vec<InstKey> = steps
            .iter()
            .rev()
            .filter_map(|st| inst_key(self.plan, st))
            .filter(|x| x.resource == r && !deleted.contains(x))
            .collect();
        live.iter().find(|x| !done.contains(x)).or(live.first()).cloned()
    }

    /// A configured user other than `actor` whose every known role `role`
    /// ranks above.
    fn lesser_user(&self, role: &UserRole, actor: Option<usize>) -> Option<usize> {
        let roles = &self.plan.model.roles;
        let mut users = self.plan.users.iter().enumerate();
        users.find_map(|(u, user)| (Some(u) != actor && above(role, roles, user)).then_some(u))
    }
}

/// Whether `role` ranks above every role the model knows `user` in: the
/// user is in none of its accounts, and it has fewer accounts than each of
/// the user's roles (staff and admins are few; the roles everyone has are
/// not a privilege). A role known from refusals ranks by them, whatever
/// its size: its users were granted what the others were refused.
fn above(role: &UserRole, roles: &[UserRole], user: &User) -> bool {
    let mine: Vec<&UserRole> = roles.iter().filter(|r| in_role(r, user)).collect();
    if mine.is_empty() || in_role(role, user) {
        return false;
    }
    if !role.withheld.is_empty() {
        return mine.iter().all(|r| r.field.is_empty() && r.withheld.is_empty());
    }
    mine.iter().all(|r| r.name != role.name && r.users.len() > role.users.len())
}

/// Whether the model saw `user`'s account in `role`.
fn in_role(role: &UserRole, user: &User) -> bool {
    role.users.iter().any(|account| user.is_account(account))
}
