//! Which instances a step created or named, and whose they are.
//!
//! The owner comes from evidence, never from who touched an instance first:
//! the creator when the create is in the sequence; else, when the model
//! knows the resource's owners by an owner field or by each user's own
//! list, the user whose step produced the instance's id (the list or read
//! that obtained it) — or whose login answered it, since a login names its
//! own account; else nobody, and oracles then judge no one for touching
//! someone else's instance. A per-user singleton (`/me/preferences`)
//! belongs to the user whose credentials reach it.

use venomqa_learner::Location;

use crate::run::execute::{Instance, Live, Runner, Trace};
use crate::run::request::{text_of, Draft};
use crate::run::sequence::{Call, Sequence};

impl Runner<'_> {
    /// Registers the instances step `i` (just executed) created or named;
    /// returns those a write may have changed, to read back.
    pub(super) fn track_step(
        &self,
        seq: &Sequence,
        live: &Live,
        draft: &Draft,
        partner: Option<&(&Call, Draft)>,
        i: usize,
        trace: &mut Trace,
    ) -> Vec<usize> {
        let step = &seq.steps[i];
        let copies = step.copies.max(1) as usize;
        let mut touched = Vec::new();
        if let Some(k) = self.track(seq, live, &step.call, draft, 0..copies, trace) {
            trace.steps[i].instance = Some(k);
            if !step.call.is_read() {
                touched.push(k);
            }
        }
        if let Some((p, d)) = partner {
            if let Some(k) = self.track(seq, live, p, d, copies..copies + 1, trace) {
                trace.steps[i].partner_instance = Some(k);
                if !p.is_read() && !touched.contains(&k) {
                    touched.push(k);
                }
            }
        }
        touched
    }

    /// Registers the instance a call created or named; returns its index.
    fn track(
        &self,
        seq: &Sequence,
        live: &Live,
        call: &Call,
        draft: &Draft,
        replies: std::ops::Range<usize>,
        trace: &mut Trace,
    ) -> Option<usize> {
        if let Some(r) = self.plan.singleton_of(call.action()) {
            return Some(self.track_singleton(r, call, trace));
        }
        let executed = trace.steps.last()?;
        let (resource, id, mut params, owner) = if let Some(r) = call.creates {
            let info = self.plan.resources.get(r)?;
            let reply = executed.replies.get(replies)?.iter().find(|r| r.ok())?;
            let id = text_of(&reply.extract(&info.id_from)?);
            let mut params = draft.params.clone();
            params.retain(|(n, _)| *n != info.id_param);
            params.push((info.id_param.clone(), id.clone()));
            (r, id, params, Obtained::Created(call.user))
        } else {
            let r = call.acts_on?;
            let info = self.plan.resources.get(r)?;
            let id = draft.params.iter().find(|(n, _)| *n == info.id_param)?.1.clone();
            (r, id, draft.params.clone(), self.obtained(seq, live, call, &info.id_param))
        };
        if let Some(k) = trace.instances.iter().position(|i| i.resource == resource && i.id == id) {
            return Some(k);
        }
        params.dedup();
        let owned_by_obtainer = self.plan.resources[resource].owned_by_obtainer;
        let (owner, reader) = match owner {
            Obtained::Created(user) => (user, user),
            Obtained::ByLogin(user) => (Some(user), Some(user)),
            Obtained::By(user) => (Some(user).filter(|_| owned_by_obtainer), Some(user)),
            Obtained::Unknown => (None, call.user),
        };
        trace.instances.push(Instance { resource, id, params, owner, reader });
        Some(trace.instances.len() - 1)
    }

    /// How the instance `call` names got into the sequence: the step that
    /// produced its id (`id_param`), and whose step that was.
    fn obtained(&self, seq: &Sequence, live: &Live, call: &Call, id_param: &str) -> Obtained {
        let to = Location::Path { name: id_param.to_string() };
        let producer = call
            .binds
            .iter()
            .find(|b| b.to == to)
            .and_then(|b| live.by_origin.get(&b.origin))
            .and_then(|&at| seq.steps.get(at));
        match producer.map(|s| (&s.call, s.call.user)) {
            Some((c, Some(user))) if c.login => Obtained::ByLogin(user),
            Some((_, Some(user))) => Obtained::By(user),
            _ => Obtained::Unknown,
        }
    }

    /// The instance of singleton resource `r` that belongs to the user whose
    /// credentials `call` carries.
    fn track_singleton(&self, r: usize, call: &Call, trace: &mut Trace) -> usize {
        let mine = |i: &Instance| i.resource == r && i.owner == call.user;
        if let Some(k) = trace.instances.iter().position(mine) {
            return k;
        }
        trace.instances.push(Instance {
            resource: r,
            id: self.plan.resources[r].name.clone(),
            params: Vec::new(),
            owner: call.user,
            reader: call.user,
        });
        trace.instances.len() - 1
    }
}

/// Where an instance not created by the sequence came from.
enum Obtained {
    /// Its create is in the sequence, sent as this user.
    Created(Option<usize>),
    /// Its id came from this user's login answer: their own account.
    ByLogin(usize),
    /// Its id came from an answer to this user (a list, a read).
    By(usize),
    /// Its id is a recorded literal, or came from no user's step.
    Unknown,
}
