//! Which learned transitions a finding's minimal sequence crossed, so the
//! page can mark them on the state machine and link them to the finding.
//!
//! A finding does not carry the states its instances went through, so its
//! accepted steps are walked through the machine. The resource's create
//! puts an instance (its id read from the answer) in a state; a step on an
//! instance (named by the `{id}` of its action's template in the URL it
//! was sent to) moves it to the state its answer shows in the machine's
//! field, or else to where the learned transition for that action leads.
//! A step is crossing a transition only when the model learned it from the
//! state the instance was in (and to the state the answer showed); any
//! other accepted step left the learned machine, and the page says so, as
//! that is often the bug itself (a refund of a refunded order). Nothing is
//! guessed: an instance whose state the walk does not know crosses nothing.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use venomqa_learner::{Resource, StateMachine};

use crate::oracle::finding::{Finding, SentRequest};
use crate::report::{steps, strip_copies};

/// What a finding's sequence did on one machine.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Walk {
    /// Indexes into the machine's transitions that a step crossed.
    pub transitions: BTreeSet<usize>,
    /// States a create of the sequence put an instance in.
    pub entries: BTreeSet<String>,
    /// Accepted steps the machine has no transition for.
    pub off_machine: Vec<OffMachine>,
}

/// A step accepted in a state where the recording never saw its action
/// (or never saw it lead where it led).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OffMachine {
    /// The step's number in the sequence, from 1.
    pub step: usize,
    /// Its action.
    pub action: String,
    /// The state the instance was in.
    pub from: String,
    /// The state its answer showed, when it showed one.
    pub to: Option<String>,
}

impl Walk {
    /// Whether the sequence touched the machine at all.
    pub fn touched(&self) -> bool {
        !(self.transitions.is_empty() && self.entries.is_empty() && self.off_machine.is_empty())
    }
}

/// Walks `finding`'s sequence through `machine` (of `resource`, when the
/// model has it: its create, instance parameter and id pointer).
pub(super) fn walk(finding: &Finding, machine: &StateMachine, resource: Option<&Resource>) -> Walk {
    let mut walk = Walk::default();
    let most_common_initial =
        machine.initial.iter().max_by_key(|(_, n)| **n).map(|(s, _)| s.clone());
    // Instance → its state, `None` once the walk no longer knows it.
    let mut states: HashMap<String, Option<String>> = HashMap::new();
    // The state of an instance created whose id the answer did not show,
    // until a later step names it.
    let mut created: Option<String> = None;
    let mut last_instance: Option<String> = None;
    for (n, step) in steps(finding).iter().enumerate() {
        let action = strip_copies(step.label);
        // A step refused (or unanswered) changed nothing.
        let Some(request) =
            step.request.filter(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
        else {
            continue;
        };
        let answered = answered_state(request, machine);
        if resource.and_then(|r| r.create.as_deref()) == Some(action) {
            let Some(state) = answered.or_else(|| most_common_initial.clone()) else { continue };
            walk.entries.insert(state.clone());
            match resource.and_then(|r| new_instance(request, r)) {
                Some(id) => {
                    states.insert(id.clone(), Some(state));
                    last_instance = Some(id);
                }
                None => created = Some(state),
            }
            continue;
        }
        if !machine.transitions.iter().any(|t| t.action == action) {
            continue;
        }
        let named = resource.and_then(|r| instance(action, &request.url, &r.id_param));
        let Some(key) = named.or_else(|| last_instance.clone()) else { continue };
        let before = match states.get(&key) {
            Some(known) => known.clone(),
            None => created.take(),
        };
        let after = match &before {
            Some(from) => {
                let learned = machine.transitions.iter().position(|t| {
                    t.action == action
                        && t.from == *from
                        && answered.as_ref().is_none_or(|to| t.to == *to)
                });
                match learned {
                    Some(i) => {
                        walk.transitions.insert(i);
                        Some(machine.transitions[i].to.clone())
                    }
                    None => {
                        walk.off_machine.push(OffMachine {
                            step: n + 1,
                            action: action.to_string(),
                            from: from.clone(),
                            to: answered.clone(),
                        });
                        answered
                    }
                }
            }
            None => answered,
        };
        states.insert(key.clone(), after);
        last_instance = Some(key);
    }
    walk
}

/// The state an answer shows: the machine's field at the top of a JSON
/// object, when its value is one of the machine's states.
fn answered_state(request: &SentRequest, machine: &StateMachine) -> Option<String> {
    let field = machine.field.as_deref()?;
    let body: Value = serde_json::from_str(request.response_body.as_deref()?).ok()?;
    let value = body.get(field)?.as_str()?;
    let known =
        machine.states.iter().any(|s| s.name == value) || machine.initial.contains_key(value);
    known.then(|| value.to_string())
}

/// The id a create's answer gave its new instance, at the resource's id pointer.
fn new_instance(request: &SentRequest, resource: &Resource) -> Option<String> {
    let pointer = resource.id_pointer.as_deref()?;
    let body: Value = serde_json::from_str(request.response_body.as_deref()?).ok()?;
    match body.pointer(pointer)? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// The value of `{id_param}` in `url` for `action`'s template
/// (`POST /orders/{order_id}/pay` and `…/orders/ord_7/pay` → `ord_7`).
/// Segments are matched from the end, so a target with a base path
/// (`http://host/api`) still lines up.
fn instance(action: &str, url: &str, id_param: &str) -> Option<String> {
    let template = action.split_once(' ').map_or(action, |(_, t)| t);
    let placeholder = format!("{{{id_param}}}");
    let wanted: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let at = wanted.iter().position(|s| *s == placeholder)?;
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |slash| &after_scheme[slash..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let skip = segments.len().checked_sub(wanted.len())?;
    segments.get(skip + at).map(|s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_is_the_segment_of_its_parameter_counted_from_the_end() {
        let pay = "POST /orders/{order_id}/pay";
        assert_eq!(
            instance(pay, "http://h:1/orders/ord_7/pay", "order_id").as_deref(),
            Some("ord_7")
        );
        assert_eq!(
            instance(pay, "http://h/api/orders/ord_7/pay?x=1", "order_id").as_deref(),
            Some("ord_7")
        );
        assert_eq!(instance(pay, "http://h/pay", "order_id"), None);
        assert_eq!(instance("GET /orders", "http://h/orders", "order_id"), None);
    }
}
