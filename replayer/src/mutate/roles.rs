//! The as-lesser-role family: an action the recording shows only for users
//! of one role (the model's `roles[].only`: staff, admin, organiser) sent
//! by a configured user the model knows in another role, who never used it.

use venomqa_learner::UserRole;

use crate::mutate::journey::Journey;
use crate::run::sequence::{Call, SeqStep, Sequence};
use crate::setup::config::User;

impl Journey<'_> {
    /// Each step of a role-only action re-sent, after a login of their own,
    /// by a configured user in another role.
    pub(super) fn as_lesser_role(&self) -> Vec<Sequence> {
        let Some(login) = &self.plan.login else { return Vec::new() };
        let roles = &self.plan.model.roles;
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            let c = &s.call;
            if c.login || c.logout || c.user.is_none() {
                continue;
            }
            for role in roles.iter().filter(|r| r.only.iter().any(|a| a == c.action())) {
                let Some(lesser) = self.lesser_user(role, c.user) else { continue };
                let origin = self.seq.fresh_origin();
                let mut steps = self.steps()[..i].to_vec();
                steps.push(SeqStep::plain(origin, Call::login(login, lesser)));
                let mut step = s.clone();
                step.call = self.reauth(&step.call, origin, lesser);
                steps.push(step.focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }

    /// A configured user other than `actor` that the model knows in some
    /// role, none of them `role`.
    fn lesser_user(&self, role: &UserRole, actor: Option<usize>) -> Option<usize> {
        let roles = &self.plan.model.roles;
        self.plan.users.iter().enumerate().find_map(|(u, user)| {
            let known: Vec<&UserRole> = roles.iter().filter(|r| in_role(r, user)).collect();
            let lesser =
                Some(u) != actor && !known.is_empty() && known.iter().all(|r| r.name != role.name);
            lesser.then_some(u)
        })
    }
}

/// Whether the model saw `user`'s account (any of its login fields) in `role`.
fn in_role(role: &UserRole, user: &User) -> bool {
    user.fields.values().any(|v| role.users.iter().any(|name| name.eq_ignore_ascii_case(v)))
}
