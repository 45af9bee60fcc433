//! The after-final-state family: a create that names an instance in its
//! body (a pickup naming a hold by its code, a payment naming an invoice)
//! sent after the instance's owner moved it into a final state of its
//! learned machine (a hold cancelled, an invoice voided). The recording
//! shows the create used on instances that were still open; whether it is
//! refused on a closed one is the question. Only the oracle's evidence
//! (the instance leaves its final state) makes it a finding.

use crate::mutate::journey::Journey;
use crate::mutate::relevance::InstKey;
use crate::oracle::final_state::{identifying_values, scalars_of_body};
use crate::run::request::text_of;
use crate::run::sequence::{Call, SeqStep, Sequence};

impl Journey<'_> {
    /// For each own create naming instances of a resource in its body, and
    /// each instance of that resource the case made before it whose
    /// calibrated answer the create's calibrated body repeats (its id, its
    /// code): its owner sends each transition into a final state, then the
    /// create.
    pub(super) fn after_final_state(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            if !self.own(s) || !self.names_in_body(i) {
                continue;
            }
            let mut named: Vec<usize> = self.named_in_body(i).iter().map(|x| x.resource).collect();
            named.dedup();
            for resource in named {
                let finals = self.final_transitions(resource);
                let made = self.steps()[..i].iter().enumerate();
                for (_, made) in made.filter(|(m, p)| {
                    p.call.creates == Some(resource) && self.calibrated_naming(i, *m, resource)
                }) {
                    let Some(owner) = made.call.user else { continue };
                    let info = &self.plan.resources[resource];
                    let x = InstKey { resource, origin: made.origin, from: info.id_from.clone() };
                    for action in &finals {
                        out.extend(self.closed_then(i, &x, action, owner));
                    }
                }
            }
        }
        out
    }

    /// Steps `..i`, `action` on `x` sent by its `owner` on the owner's
    /// session still open there, else after logging in again, then step
    /// `i` as the focus.
    fn closed_then(&self, i: usize, x: &InstKey, action: &str, owner: usize) -> Option<Sequence> {
        let call = self.catalog_call(action, i, Some(x), Some(owner))?;
        let mut steps = self.steps()[..i].to_vec();
        let origin = self.seq.fresh_origin();
        let session = steps.iter().rposition(|s| s.call.login && s.call.user == Some(owner));
        let open = session.is_some_and(|l| {
            !steps[l..i].iter().any(|s| s.call.logout && s.call.user == Some(owner))
        });
        if open {
            steps.push(SeqStep::plain(origin, call));
        } else {
            // The owner's last login again (after a password change it
            // sends the new secret), else the configured one.
            let login = match session {
                Some(l) => steps[l].call.clone(),
                None => Call::login(&self.plan.login_of(owner)?, owner),
            };
            steps.push(SeqStep::plain(origin, login));
            steps.push(SeqStep::plain(origin + 1, self.reauth(&call, origin, owner)));
        }
        steps.push(self.steps()[i].clone().focus());
        Some(self.new_seq(steps))
    }

    /// Whether, in calibration, step `i`'s body repeated a value that
    /// names the instance of `resource` step `m` made.
    fn calibrated_naming(&self, i: usize, m: usize, resource: usize) -> bool {
        let trace = &self.baseline.trace;
        let info = &self.plan.resources[resource];
        let Some(made) = trace.steps.get(m).and_then(|e| e.reply()) else { return false };
        let Some(id) = made.extract(&info.id_from).map(|v| text_of(&v)) else { return false };
        let naming = identifying_values(made.json.as_ref(), &id, info.state_field.as_deref());
        let sent = trace.steps.get(i).and_then(|e| e.sent.first());
        let body = scalars_of_body(sent.and_then(|s| s.body.as_deref()));
        body.iter().any(|v| naming.contains(v))
    }

    /// The actions that move an instance of `resource` into a final state:
    /// one its machine (by a state field) never saw it leave, reached from
    /// another state, not by a delete (the after-delete family's).
    fn final_transitions(&self, resource: usize) -> Vec<String> {
        let info = &self.plan.resources[resource];
        let Some(machine) = self.plan.model.machine(&info.name) else { return Vec::new() };
        if !machine.basis.shown_by_reads() {
            return Vec::new();
        }
        let left =
            |state: &str| machine.transitions.iter().any(|t| t.from == state && t.to != state);
        let mut actions: Vec<String> = machine
            .transitions
            .iter()
            .filter(|t| t.from != t.to && !left(&t.to) && !machine.initial.contains_key(&t.to))
            .filter(|t| !info.deletes.contains(&t.action))
            .map(|t| t.action.clone())
            .collect();
        actions.sort();
        actions.dedup();
        actions
    }
}
