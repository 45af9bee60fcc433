//! State machines: what happens to each instance of a resource over time,
//! across all sessions, folded into states and transitions.
//!
//! The state field is not known until the end (it is the enum-like field
//! whose value changes after actions), so every candidate field of a
//! resource runs its own machine while streaming, next to a machine whose
//! states are "the last action applied"; [`StateAcc::finish`] keeps the best
//! one. Per instance only the current state of each machine is kept, never a
//! history, so memory grows with instances, not with exchanges.
//!
//! A mutating action whose response does not show the field (a `204`)
//! leaves the instance's state pending; the next response that shows it (a
//! read) completes the transition. A `2xx` `DELETE` without a state moves the
//! instance to `deleted`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::model::{State, StateBasis, StateMachine, Transition};
use crate::resource::Role;
use crate::stamp::{is_moment, stamp_state, stamp_stem};
use crate::value::is_enum_word;

/// Candidate fields tracked per resource.
const MAX_FIELDS: usize = 16;
/// States a machine may have before its field is judged not enum-like.
const MAX_STATES: usize = 32;

/// Requests remembered per soft-delete candidate, to move to its real state.
const MAX_AFTER_DELETE: usize = 16;

/// The state name every machine uses after a delete without a body.
pub(crate) const DELETED: &str = "deleted";

/// `(from, action, to)`.
type TransitionKey = (u16, u32, u16);
/// Observations by status code.
type StatusCounts = BTreeMap<u16, u64>;

#[derive(Debug, Default)]
struct Machine {
    states: Vec<String>,
    index: HashMap<String, u16>,
    initial: HashMap<u16, u64>,
    transitions: HashMap<TransitionKey, (u64, StatusCounts)>,
    accepted: HashMap<(u16, u32), u64>,
    rejected: HashMap<(u16, u32), u64>,
    /// Rejections that named the state as the reason: `409 Conflict`,
    /// `423 Locked`.
    conflicts: HashMap<(u16, u32), u64>,
    /// State changes whose new value the request itself sent: client data
    /// (`name`), not server state, unless the field is named like a state.
    echoed: u64,
    dead: bool,
    /// A timestamp field (`frozen_at`): its states are whether it is set.
    stamp: bool,
}

impl Machine {
    fn state(&mut self, name: &str) -> Option<u16> {
        if let Some(i) = self.index.get(name) {
            return Some(*i);
        }
        if self.states.len() >= MAX_STATES {
            self.dead = true;
            return None;
        }
        let i = self.states.len() as u16;
        self.states.push(name.to_string());
        self.index.insert(name.to_string(), i);
        Some(i)
    }

    fn transition(&mut self, from: u16, action: u32, to: u16, status: u16) {
        let (count, statuses) = self.transitions.entry((from, action, to)).or_default();
        *count += 1;
        *statuses.entry(status).or_default() += 1;
    }

    /// Moves one accepted or rejected observation of `action` from state
    /// `from` to state `to`.
    fn move_precondition(&mut self, from: u16, to: u16, action: u32, status: u16) {
        let counts = if (200..300).contains(&status) {
            &mut self.accepted
        } else if (400..500).contains(&status) {
            &mut self.rejected
        } else {
            return;
        };
        move_count(counts, from, to, action);
        if is_conflict(status) {
            move_count(&mut self.conflicts, from, to, action);
        }
    }

    /// Takes back one observation of a transition, when a later read showed
    /// where the action really led (a soft delete).
    fn untransition(&mut self, from: u16, action: u32, to: u16, status: u16) {
        let key = (from, action, to);
        let Some((count, statuses)) = self.transitions.get_mut(&key) else { return };
        *count = count.saturating_sub(1);
        if let Some(n) = statuses.get_mut(&status) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                statuses.remove(&status);
            }
        }
        if *count == 0 {
            self.transitions.remove(&key);
        }
    }

    /// Transitions between two observed values: what makes a field a state
    /// field. A move to or from `deleted` is the learner's own name for
    /// "gone", so it proves nothing: a field constant within each instance
    /// (`owner`, `username`) would otherwise "change" on every delete.
    fn changes(&self) -> (usize, u64) {
        let deleted = self.index.get(DELETED).copied();
        let moving = self
            .transitions
            .iter()
            .filter(|((f, _, t), _)| f != t && Some(*f) != deleted && Some(*t) != deleted);
        let distinct = moving.clone().count();
        (distinct, moving.map(|(_, (n, _))| n).sum())
    }
}

#[derive(Debug, Default)]
struct ResourceMachines {
    fields: Vec<(String, Machine)>,
    last_action: Machine,
    instances: u64,
    created: u64,
    foreign_accepted: u64,
    foreign_rejected: u64,
}

impl ResourceMachines {
    /// A new instance, owned by its creator, in the states its create
    /// response showed.
    fn create(&mut self, e: &Event<'_>) -> Instance {
        self.instances += 1;
        self.created += 1;
        let mut instance = Instance {
            owner: Some(e.session),
            changed: (e.span.end, e.session),
            ..Instance::default()
        };
        if let Some(s) = self.last_action.state(e.label) {
            *self.last_action.initial.entry(s).or_default() += 1;
            instance.last_action = Some(s);
        }
        for (i, value) in field_values(self, e.object) {
            let machine = &mut self.fields[i].1;
            if let Some(s) = machine.state(&value) {
                *machine.initial.entry(s).or_default() += 1;
                set(&mut instance.fields, i, Some(s));
            }
        }
        instance
    }

    /// Counts what a session other than the owner managed to do; returns
    /// whether the event was such a foreign one.
    fn count_ownership(&mut self, instance: &Instance, e: &Event<'_>) -> bool {
        let foreign = instance.owner.is_some_and(|o| o != e.session);
        if foreign {
            if (200..300).contains(&e.status) {
                self.foreign_accepted += 1;
            } else if (400..500).contains(&e.status) {
                self.foreign_rejected += 1;
            }
        }
        foreign
    }

    /// Preconditions: what was accepted or rejected in the state before.
    /// Only the owner's rejections count: another user's 403 says nothing
    /// about the state.
    fn count_preconditions(&mut self, instance: &mut Instance, e: &Event<'_>, foreign: bool) {
        let success = (200..300).contains(&e.status);
        let count_in = |m: &mut Machine, s: Option<u16>| {
            if let Some(s) = s {
                if success {
                    *m.accepted.entry((s, e.action)).or_default() += 1;
                } else if (400..500).contains(&e.status) && !foreign {
                    *m.rejected.entry((s, e.action)).or_default() += 1;
                    if is_conflict(e.status) || e.bodiless && matches!(e.status, 400 | 422) {
                        *m.conflicts.entry((s, e.action)).or_default() += 1;
                    }
                }
            }
        };
        count_in(&mut self.last_action, instance.last_action);
        for (i, (_, m)) in self.fields.iter_mut().enumerate() {
            let state = instance.fields.get(i).copied().flatten();
            count_in(m, state);
            // Counted in `deleted` for now; moved if a list shows the delete was soft.
            let provisional = state.is_some() && state == m.index.get(DELETED).copied();
            if let Some(p) = instance.pending.as_mut().filter(|p| provisional && p.delete) {
                if p.after_delete.len() < MAX_AFTER_DELETE {
                    p.after_delete.push((i, e.action, e.status));
                }
            }
        }
    }

    /// An accepted event moves the instance: in the last-action machine by
    /// its label, in each field's machine by the value the response showed,
    /// and leaves the fields it did not show pending (or deleted).
    fn apply(&mut self, instance: &mut Instance, e: &Event<'_>) {
        let (changed_at, changed_by) = instance.changed;
        if e.role == Role::Read && e.session != changed_by && e.span.start < changed_at {
            // Another session's read that overlapped the last change (a list
            // taken while this one paid): what it shows may predate the
            // change. A session's own reads follow its writes (a client
            // waits for each answer), even when a coarse clock (a HAR's
            // milliseconds) starts them before the write's end.
            return;
        }
        if e.role != Role::Read {
            instance.changed = (changed_at.max(e.span.end), e.session);
        }
        let values = field_values(self, e.object);
        let shown: Vec<usize> = values.iter().map(|(i, _)| *i).collect();
        if e.role != Role::Read {
            self.apply_last_action(instance, e);
        }
        if e.another && e.role != Role::Delete {
            // Nothing shown of this instance, and nothing known to have
            // changed: its fields keep their states, no transition is guessed.
            return;
        }
        for (i, value) in values {
            self.apply_shown(instance, e, i, &value);
        }
        if e.role == Role::Read {
            if shown.len() == self.fields.len() {
                instance.pending = None;
            }
            return;
        }
        self.apply_hidden(instance, e, &shown);
    }

    fn apply_last_action(&mut self, instance: &mut Instance, e: &Event<'_>) {
        let label = if e.role == Role::Delete { DELETED } else { e.label };
        if let (Some(from), Some(to)) = (instance.last_action, self.last_action.state(label)) {
            self.last_action.transition(from, e.action, to, e.status);
        }
        instance.last_action = self.last_action.state(label);
    }

    /// Field `i` showed `value`: a change, or (on a read) the end of a
    /// pending bodiless action.
    fn apply_shown(&mut self, instance: &mut Instance, e: &Event<'_>, i: usize, value: &str) {
        let (field, machine) = &mut self.fields[i];
        let Some(to) = machine.state(value) else { return };
        let current = instance.fields.get(i).copied().flatten();
        if e.role == Role::Read {
            // A read shows the state a pending (bodiless) action left; after
            // a delete, a value other than `deleted` shows it was soft.
            let deleted = machine.index.get(DELETED).copied();
            if let Some(p) = &instance.pending {
                if let Some(Some(from)) = p.from.get(i) {
                    if current.is_none() {
                        machine.transition(*from, p.action, to, p.status);
                    } else if let Some(d) = deleted.filter(|d| current == Some(*d) && *d != to) {
                        machine.untransition(*from, p.action, d, p.status);
                        machine.transition(*from, p.action, to, p.status);
                        let seen = p.after_delete.iter().filter(|(f, _, _)| *f == i);
                        for (_, action, status) in seen {
                            machine.move_precondition(d, to, *action, *status);
                        }
                    }
                }
            }
        } else if let Some(from) = current {
            machine.transition(from, e.action, to, e.status);
            let sent = e.request.and_then(|r| r.get(field.as_str())).and_then(Value::as_str);
            if from != to && sent == Some(value) {
                machine.echoed += 1;
            }
        }
        set(&mut instance.fields, i, Some(to));
    }

    /// A change that did not show some fields: a delete moves them to
    /// `deleted`; anything else makes them unknown until a read shows them.
    fn apply_hidden(&mut self, instance: &mut Instance, e: &Event<'_>, shown: &[usize]) {
        let before = instance.fields.clone();
        instance.pending = None;
        let mut unknown = false;
        for i in 0..self.fields.len() {
            if shown.contains(&i) {
                continue;
            }
            let current = instance.fields.get(i).copied().flatten();
            if e.role == Role::Delete {
                let machine = &mut self.fields[i].1;
                if let (Some(from), Some(to)) = (current, machine.state(DELETED)) {
                    machine.transition(from, e.action, to, e.status);
                    set(&mut instance.fields, i, Some(to));
                }
            } else if current.is_some() {
                set(&mut instance.fields, i, None);
                unknown = true;
            }
        }
        // After a delete the instance stays pending too: a later list that
        // still shows it (a soft delete) names the state it really went to.
        if unknown || e.role == Role::Delete {
            instance.pending = Some(Pending {
                action: e.action,
                status: e.status,
                from: before,
                delete: e.role == Role::Delete,
                after_delete: Vec::new(),
            });
        }
    }
}

#[derive(Debug)]
struct Pending {
    action: u32,
    status: u16,
    from: Vec<Option<u16>>,
    /// The action was a delete: fields are `deleted` until a read says otherwise.
    delete: bool,
    /// `(field, action, status)` counted in `deleted` since the delete.
    after_delete: Vec<(usize, u32, u16)>,
}

#[derive(Debug, Default)]
struct Instance {
    owner: Option<u32>,
    fields: Vec<Option<u16>>,
    last_action: Option<u16>,
    pending: Option<Pending>,
    /// When the last accepted change to it ended, and the session that made
    /// it: another session's read that started before then may show the
    /// state from before that change.
    changed: (u64, u32),
}

/// When an exchange ran, in Unix nanoseconds: its request's start and its
/// response's end. The store orders exchanges by when they were captured,
/// so a read that overlapped a change can come after it; the span tells.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    pub(crate) fn of(exchange: &venomqa_traffic::Exchange) -> Span {
        Span {
            start: exchange.started_at,
            end: exchange.started_at.saturating_add(exchange.duration_ns),
        }
    }
}

/// One thing that happened to an instance.
pub(crate) struct Event<'a> {
    pub resource: usize,
    pub instance: &'a str,
    pub action: u32,
    pub role: Role,
    /// The name of the state after this action in the last-action machine.
    pub label: &'a str,
    pub status: u16,
    pub session: u32,
    /// The resource's object in the response, if the response showed it.
    pub object: Option<&'a Map<String, Value>>,
    /// The request's top-level JSON object, to tell sent data from state.
    pub request: Option<&'a Map<String, Value>>,
    /// The instance was an item of a list: a read of its state, but not a
    /// request on it, so it counts as no precondition and no foreign access.
    pub listed: bool,
    /// The response described another instance (a child it created): the
    /// action's effect on this one's fields is unknown, not hidden.
    pub another: bool,
    /// The request sent no body and no query: a refusal of it cannot be
    /// about values it sent.
    pub bodiless: bool,
    pub span: Span,
}

/// Machines of every resource.
#[derive(Debug, Default)]
pub(crate) struct StateAcc {
    resources: Vec<ResourceMachines>,
    /// Per resource, the current state of each instance by id.
    instances: Vec<HashMap<Box<str>, Instance>>,
}

impl StateAcc {
    pub(crate) fn new(resources: usize) -> StateAcc {
        StateAcc {
            resources: (0..resources).map(|_| ResourceMachines::default()).collect(),
            instances: (0..resources).map(|_| HashMap::new()).collect(),
        }
    }

    /// Folds one thing that happened to an instance into its resource's
    /// machines: a create starts an instance, anything else counts as a
    /// precondition of the state it found and, when accepted, moves it.
    pub(crate) fn observe(&mut self, e: &Event<'_>) {
        let Some(machines) = self.resources.get_mut(e.resource) else { return };
        let Some(instances) = self.instances.get_mut(e.resource) else { return };
        let success = (200..300).contains(&e.status);
        if e.role == Role::Create {
            if success {
                instances.insert(e.instance.into(), machines.create(e));
            }
            return;
        }
        if !instances.contains_key(e.instance) {
            machines.instances += 1;
            instances.insert(e.instance.into(), Instance::default());
        }
        let Some(instance) = instances.get_mut(e.instance) else { return };
        if e.listed {
            machines.apply(instance, e);
            return;
        }
        let foreign = machines.count_ownership(instance, e);
        machines.count_preconditions(instance, e, foreign);
        if success {
            machines.apply(instance, e);
        }
    }

    /// One machine per resource with instances: the best field's, else the
    /// last action's. `None` for resources never seen.
    pub(crate) fn finish(
        &self,
        names: &[String],
        action_ids: &[String],
    ) -> Vec<(usize, StateMachine, Ownership)> {
        let mut out = Vec::new();
        for (r, machines) in self.resources.iter().enumerate() {
            let ownership = Ownership {
                instances: machines.instances,
                created: machines.created,
                foreign_accepted: machines.foreign_accepted,
                foreign_rejected: machines.foreign_rejected,
                ..Ownership::default()
            };
            if machines.instances == 0 {
                continue;
            }
            let best = machines
                .fields
                .iter()
                .filter(|(name, m)| {
                    !m.dead
                        && !m.stamp
                        && m.states.iter().filter(|s| *s != DELETED).count() >= 2
                        && m.changes().0 > 0
                        && (name_rank(name) > 0 || m.echoed * 2 < m.changes().1)
                })
                .max_by(|(a, ma), (b, mb)| {
                    (name_rank(a), ma.changes())
                        .cmp(&(name_rank(b), mb.changes()))
                        .then_with(|| b.cmp(a))
                });
            let (basis, field, machine) = match (best, best_stamp(&machines.fields)) {
                (Some((name, m)), _) => (StateBasis::Field, Some(name.clone()), m),
                (None, Some((name, m))) => (StateBasis::Timestamp, Some(name.clone()), m),
                (None, None) => (StateBasis::LastAction, None, &machines.last_action),
            };
            let name = names.get(r).cloned().unwrap_or_default();
            out.push((r, render(machine, name, basis, field, action_ids), ownership));
        }
        out
    }
}

/// Ownership counters of one resource, carried to the model.
pub(crate) type Ownership = crate::model::Ownership;

/// The timestamp field whose being set or not best tells states apart,
/// when no enum-like field does: both states seen, and set or cleared by
/// some action (a `created_at` is never `null`; an `updated_at` never is
/// either), the most often.
fn best_stamp(fields: &[(String, Machine)]) -> Option<&(String, Machine)> {
    fields
        .iter()
        .filter(|(_, m)| {
            m.stamp
                && !m.dead
                && m.states.iter().filter(|s| *s != DELETED).count() == 2
                && m.changes().0 > 0
        })
        .max_by(|(a, ma), (b, mb)| ma.changes().cmp(&mb.changes()).then_with(|| b.cmp(a)))
}

/// A refusal that names the instance's state as its reason.
/// (A bodiless command refused `400` or `422`, `POST /invoices/{id}/void`
/// on a paid invoice as Stripe answers it, is counted with these: with no
/// values of its own, the state is what it was refused for.)
fn is_conflict(status: u16) -> bool {
    matches!(status, 409 | 423)
}

/// Moves one count of `action` from state `from` to state `to`.
fn move_count(counts: &mut HashMap<(u16, u32), u64>, from: u16, to: u16, action: u32) {
    let Some(n) = counts.get_mut(&(from, action)) else { return };
    *n -= 1;
    if *n == 0 {
        counts.remove(&(from, action));
    }
    *counts.entry((to, action)).or_default() += 1;
}

fn name_rank(name: &str) -> u8 {
    match name.to_ascii_lowercase().as_str() {
        "status" | "state" => 2,
        "phase" | "stage" | "lifecycle" | "order_status" | "payment_status" => 1,
        _ => 0,
    }
}

fn set(fields: &mut Vec<Option<u16>>, i: usize, value: Option<u16>) {
    if fields.len() <= i {
        fields.resize(i + 1, None);
    }
    fields[i] = value;
}

/// The candidate fields a response object shows: enum-like top-level
/// strings, and timestamp fields (set or `null`) by the state their value
/// names. A field that shows anything else is not a state field.
fn field_values<'o>(
    machines: &mut ResourceMachines,
    object: Option<&'o Map<String, Value>>,
) -> Vec<(usize, Cow<'o, str>)> {
    let mut out = Vec::new();
    let Some(object) = object else { return out };
    for (key, value) in object {
        let position = machines.fields.iter().position(|(name, _)| name == key);
        let stamp = position.map_or_else(
            || stamp_stem(key).is_some() && (value.is_null() || is_moment(value)),
            |i| machines.fields[i].1.stamp,
        );
        if stamp {
            stamp_value(machines, position, key, value, &mut out);
            continue;
        }
        match value {
            Value::String(s) if is_enum_word(s) => {
                let i = match position {
                    Some(i) => i,
                    None if machines.fields.len() < MAX_FIELDS => {
                        machines.fields.push((key.clone(), Machine::default()));
                        machines.fields.len() - 1
                    }
                    None => continue,
                };
                if !machines.fields[i].1.dead {
                    out.push((i, Cow::Borrowed(s.as_str())));
                }
            }
            Value::Null => {}
            _ => {
                if let Some(i) = position {
                    machines.fields[i].1.dead = true;
                }
            }
        }
    }
    out
}

/// A timestamp field's value as the state it names (`frozen`,
/// `not-frozen`), for the field at `position` or a new one; anything but a
/// moment or `null` ends it as a state field.
fn stamp_value(
    machines: &mut ResourceMachines,
    position: Option<usize>,
    key: &str,
    value: &Value,
    out: &mut Vec<(usize, Cow<'_, str>)>,
) {
    let i = match position {
        Some(i) => i,
        None if machines.fields.len() < MAX_FIELDS => {
            let machine = Machine { stamp: true, ..Machine::default() };
            machines.fields.push((key.to_string(), machine));
            machines.fields.len() - 1
        }
        None => return,
    };
    let machine = &mut machines.fields[i].1;
    match stamp_state(key, value) {
        Some(state) if !machine.dead => out.push((i, Cow::Owned(state))),
        Some(_) => {}
        None => machine.dead = true,
    }
}

fn render(
    m: &Machine,
    resource: String,
    basis: StateBasis,
    field: Option<String>,
    actions: &[String],
) -> StateMachine {
    let name = |s: &u16| m.states[*s as usize].clone();
    let action = |a: &u32| actions.get(*a as usize).cloned().unwrap_or_default();
    let initial = m.initial.iter().map(|(s, n)| (name(s), *n)).collect();
    let states = (0..m.states.len() as u16)
        .map(|s| State {
            name: name(&s),
            accepted: m
                .accepted
                .iter()
                .filter(|((st, _), _)| *st == s)
                .map(|((_, a), n)| (action(a), *n))
                .collect(),
            conflicts: m
                .conflicts
                .iter()
                .filter(|((st, _), _)| *st == s)
                .map(|((_, a), n)| (action(a), *n))
                .collect(),
            rejected: m
                .rejected
                .iter()
                .filter(|((st, _), _)| *st == s)
                .map(|((_, a), n)| (action(a), *n))
                .collect(),
        })
        .collect();
    let mut keys: Vec<&(u16, u32, u16)> = m.transitions.keys().collect();
    keys.sort_by_key(|(f, a, t)| (*f, action(a), *t));
    let transitions = keys
        .into_iter()
        .map(|k| {
            let (count, statuses) = &m.transitions[k];
            Transition {
                from: name(&k.0),
                action: action(&k.1),
                to: name(&k.2),
                count: *count,
                statuses: statuses.clone(),
            }
        })
        .collect();
    StateMachine { resource, basis, field, initial, states, transitions }
}
