//! The end of learning: the second pass's accumulators become the model
//! (sorted, so the same traffic gives the same bytes) and the summary.

use std::collections::BTreeMap;

use crate::model::Auth;
use crate::model::{
    Link, Location, Model, Ownership, Resource, StateBasis, StateMachine, MODEL_FORMAT,
    MODEL_VERSION,
};
use crate::resource::{ResourceDef, Role};

use super::observe::Observer;
use super::{LearnSummary, Learned};

/// The model and summary of a finished second pass. `total` and `ignored`
/// come from the first pass.
pub(super) fn learned(
    observed: &Observer<'_>,
    total: u64,
    mut ignored: BTreeMap<String, u64>,
) -> Learned {
    if observed.unstable > 0 {
        ignored.insert("changed-between-passes".into(), observed.unstable);
    }
    let model = model(observed);
    let summary = LearnSummary {
        exchanges: total,
        used: model.source.used,
        ignored,
        actions: model.actions.len(),
        resources: model.resources.len(),
        links: model.links.len(),
        states: model.machines.iter().map(|m| m.states.len()).sum(),
        transitions: model.machines.iter().map(|m| m.transitions.len()).sum(),
        journeys: model.journeys.len(),
        sessions: observed.journeys.sessions,
        journeys_dropped: observed.journeys.dropped,
    };
    Learned { model, summary }
}

fn model(o: &Observer<'_>) -> Model {
    let shapes = &o.templater.actions;
    let action_ids: Vec<String> = shapes.iter().map(|a| a.id.clone()).collect();
    let links = o.flow.finish(&action_ids);
    let actions = shapes.iter().zip(&o.actions).map(|(s, acc)| acc.finish(s, &links)).collect();
    let names: Vec<String> = o.resources.defs.iter().map(|d| d.name.clone()).collect();
    let finished = o.states.finish(&names, &action_ids);
    let mut resources: Vec<Resource> = (0..o.resources.defs.len())
        .map(|r| resource(o, r, &action_ids, &links, &finished))
        .collect();
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    let mut machines: Vec<StateMachine> = finished.into_iter().map(|(_, m, _)| m).collect();
    machines.sort_by(|a, b| a.resource.cmp(&b.resource));
    let mut model = Model {
        format: MODEL_FORMAT.to_string(),
        version: MODEL_VERSION,
        source: o.source.clone(),
        actions,
        resources,
        links,
        machines,
        journeys: o.journeys.finish(&action_ids, &o.flow.locations),
        volatile: o.volatile.finish(&action_ids),
        auth: Auth::default(),
        roles: Vec::new(),
        singletons: Vec::new(),
        children: Vec::new(),
    };
    model.auth = crate::login::describe(Auth::infer(&model), &o.logins, &model, &action_ids);
    model.auth.key = o.keys.finish(&model);
    model.roles = o.access.finish_roles(&o.logins.accounts, &action_ids);
    model.singletons = crate::singleton::singletons(&model);
    model.children = crate::child::children(&model);
    model
}

/// The model's view of resource `r`: its actions by role, where its create
/// answers the new id, and its ownership.
fn resource(
    o: &Observer<'_>,
    r: usize,
    action_ids: &[String],
    links: &[Link],
    finished: &[(usize, StateMachine, Ownership)],
) -> Resource {
    let def = &o.resources.defs[r];
    let of_role = |role: Role| -> Vec<String> {
        o.resources
            .of_action
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_some_and(|m| m.resource == r && m.role == role))
            .map(|(i, _)| action_ids[i].clone())
            .collect()
    };
    // A `PUT` that answered `201 Created` creates at the key the client chose.
    let put_create = || {
        let mut puts = o.put_creates.iter().filter(|a| {
            o.resources.of_action[**a].is_some_and(|m| m.resource == r && m.role == Role::Update)
        });
        puts.next().map(|a| action_ids[*a].clone())
    };
    // An action whose `201`/`202` answered the ids of instances it made.
    let made_by = || {
        let mut makers = o.made_by.iter().filter(|((resource, _), _)| *resource == r);
        let first = makers.next().map(|((_, a), n)| (*a, *n));
        let most = makers.fold(first, |best, ((_, a), n)| match best {
            Some((_, m)) if m >= *n => best,
            _ => Some((*a, *n)),
        });
        most.map(|(a, _)| action_ids[a as usize].clone())
    };
    let create = of_role(Role::Create)
        .into_iter()
        .next()
        .or_else(|| created_by_key(def, links))
        .or_else(put_create)
        .or_else(made_by);
    let id_pointer = create
        .as_deref()
        .and_then(|create| linked_id_pointer(def, create, links))
        .or_else(|| commonest_id_pointer(o, r));
    Resource {
        name: def.name.clone(),
        collection: def.collection.clone(),
        id_param: def.id_param.clone(),
        parent: def.parent.map(|p| o.resources.defs[p].name.clone()),
        create,
        id_pointer,
        read: of_role(Role::Read),
        update: of_role(Role::Update),
        delete: of_role(Role::Delete),
        other: of_role(Role::Other),
        ownership: ownership(o, r, finished),
    }
}

/// Resource `r`'s ownership counters, with how its owners are known and
/// its visibility.
fn ownership(
    o: &Observer<'_>,
    r: usize,
    finished: &[(usize, StateMachine, Ownership)],
) -> Ownership {
    let found = finished.iter().find(|(i, _, _)| *i == r);
    let mut ownership = found.map(|(_, _, ownership)| ownership.clone()).unwrap_or_default();
    // Reads show a state by the field the machine learned it from, if any.
    let state_field = found
        .filter(|(_, m, _)| m.basis == StateBasis::Field)
        .and_then(|(_, m, _)| m.field.as_deref());
    let readers = o.access.finish_ownership(r, &o.logins.accounts, state_field);
    ownership.owners = readers.owners;
    ownership.visibility = readers.visibility;
    ownership.public_in = readers.public_in;
    ownership.public_by = readers.public_by;
    ownership
}

/// Where the create response holds the id, as the data flow learned it: a
/// link from a body field of `create` to the resource's id parameter.
fn linked_id_pointer(def: &ResourceDef, create: &str, links: &[Link]) -> Option<String> {
    links.iter().find_map(|l| match (&l.to, &l.from) {
        (Location::Path { name }, Location::Body { pointer })
            if l.producer == create
                && *name == def.id_param
                && !pointer.contains('*')
                && !l.from_request =>
        {
            Some(pointer.clone())
        }
        _ => None,
    })
}

/// For a resource without a create of its own, the request that created
/// its instances by naming them (a sign-up that chose the username the
/// profile path uses): the most frequent producer of a key the client
/// chose for its id parameter.
fn created_by_key(def: &ResourceDef, links: &[Link]) -> Option<String> {
    let instance = format!("{}/{{{}}}", def.collection, def.id_param);
    links
        .iter()
        .filter(|l| l.from_request && l.to == Location::Path { name: def.id_param.clone() })
        .filter(|l| {
            l.consumer
                .split_once(' ')
                .is_some_and(|(_, t)| t == instance || t.starts_with(&format!("{instance}/")))
        })
        .max_by(|a, b| a.count.cmp(&b.count).then_with(|| b.producer.cmp(&a.producer)))
        .map(|l| l.producer.clone())
}

/// Where create responses most often held the new instance's id.
fn commonest_id_pointer(o: &Observer<'_>, r: usize) -> Option<String> {
    o.id_pointers
        .iter()
        .filter(|((resource, _), _)| *resource == r)
        .max_by_key(|(_, n)| **n)
        .map(|((_, pointer), _)| pointer.clone())
}
