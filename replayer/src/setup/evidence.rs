//! Where the oracles find evidence besides an instance's own read, taken
//! from the model: how owners are known and who may read (ownership and
//! visibility), the lists that still show an instance its read no longer
//! shows (a soft delete, with the filters the recording used), the parent
//! read that shows a child without a read of its own, and the per-user
//! singletons (`/me/preferences`) read as their owner.

use std::collections::HashSet;
use std::sync::Arc;

use venomqa_learner::{Location, Model};

use crate::run::request::RequestTemplate;
use crate::setup::plan::{Catalogued, ResourceInfo};
use crate::setup::recorded::Recorded;

/// Fills each resource's evidence sources from the model, and appends one
/// resource a per-user singleton (after the model's resources, so their
/// indexes stay the model's).
pub(crate) fn add_evidence(
    model: &Model,
    recorded: &Recorded,
    catalog: &std::collections::HashMap<String, Catalogued>,
    resources: &mut Vec<ResourceInfo>,
) {
    for (info, resource) in resources.iter_mut().zip(&model.resources) {
        let owners = &resource.ownership.owners;
        info.owned_by_obtainer =
            owners.keys().any(|basis| basis.starts_with("field:") || basis == "own_list");
        info.owner_fields =
            owners.keys().filter_map(|b| b.strip_prefix("field:")).map(str::to_string).collect();
        info.public = resource.ownership.visibility.as_deref() == Some("public");
        info.lists = list_reads(model, recorded, &resource.collection);
        if info.read.is_none() {
            info.read_through = model
                .children
                .iter()
                .find(|c| c.collection == resource.collection && c.read.is_empty())
                .and_then(|c| c.read_through.as_deref())
                .filter(|read| model.action(read).is_some_and(|a| a.method == "GET"))
                .and_then(|read| template_of(model, catalog, read));
        }
    }
    for singleton in &model.singletons {
        let Some(read) = singleton.read.first().and_then(|r| template_of(model, catalog, r)) else {
            continue;
        };
        let mut actions = singleton.read.clone();
        actions.extend(singleton.write.iter().cloned());
        resources.push(ResourceInfo::singleton(&singleton.path, read, actions));
    }
}

/// The recorded request of `action` (the first accepted one), else the bare action.
fn template_of(
    model: &Model,
    catalog: &std::collections::HashMap<String, Catalogued>,
    action: &str,
) -> Option<Arc<RequestTemplate>> {
    catalog
        .get(action)
        .map(|(t, _, _)| t.clone())
        .or_else(|| model.action(action).map(|a| Arc::new(RequestTemplate::bare(a))))
}

/// The list reads of a collection: `GET <collection>` once per distinct
/// query string the recording sent it with (`?status=withdrawn`,
/// `?include=archived`), the plain one first.
fn list_reads(model: &Model, recorded: &Recorded, collection: &str) -> Vec<Arc<RequestTemplate>> {
    let id = format!("GET {collection}");
    let Some(action) = model.action(&id) else { return Vec::new() };
    let mut seen: HashSet<Vec<(String, String)>> = HashSet::new();
    let mut lists: Vec<Arc<RequestTemplate>> = Vec::new();
    let steps = model.journeys.iter().flat_map(|j| &j.steps);
    for step in steps.filter(|s| s.action == id && (200..300).contains(&s.status)) {
        let Some(exchange) = recorded.get(step.exchange) else { continue };
        let mut template = RequestTemplate::from_exchange(action, exchange);
        // Values bound in the journey (an id in `?account=`) are stale here.
        let bound: Vec<&String> = step
            .bindings
            .iter()
            .filter_map(|b| match &b.to {
                Location::Query { key } => Some(key),
                _ => None,
            })
            .collect();
        if !bound.is_empty() {
            continue;
        }
        template.query.sort();
        if seen.insert(template.query.clone()) {
            lists.push(Arc::new(template));
        }
    }
    if lists.is_empty() {
        lists.push(Arc::new(RequestTemplate::bare(action)));
    }
    lists.sort_by_key(|t| t.query.len());
    lists
}
