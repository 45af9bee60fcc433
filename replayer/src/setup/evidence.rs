//! Where the oracles find evidence besides an instance's own read, taken
//! from the model: how owners are known and who may read (ownership and
//! visibility), the lists that still show an instance its read no longer
//! shows (a soft delete, with the filters the recording used), the parent
//! read that shows a child without a read of its own, and the per-user
//! singletons (`/me/preferences`) read as their owner. The plan puts them
//! on its resources.

use std::collections::HashSet;
use std::sync::Arc;

use venomqa_learner::{Location, Model, Resource};

use crate::run::request::RequestTemplate;
use crate::setup::recorded::Recorded;

/// What the model says of one resource beyond its actions.
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    /// Owners are known by an owner field or by each user's own list.
    pub owned_by_obtainer: bool,
    /// The owner fields owners are known by.
    pub owner_fields: Vec<String>,
    /// `visibility = "public"`.
    pub public: bool,
    /// Its list reads, one per recorded query string.
    pub lists: Vec<Arc<RequestTemplate>>,
    /// For a child without a read of its own: the parent's read.
    pub read_through: Option<Arc<RequestTemplate>>,
}

/// The evidence sources of `resource`; `template_of` gives an action's
/// recorded request.
pub(crate) fn of_resource(
    model: &Model,
    recorded: &Recorded,
    resource: &Resource,
    template_of: &dyn Fn(&str) -> Option<Arc<RequestTemplate>>,
) -> Evidence {
    let owners = &resource.ownership.owners;
    let read_through = model
        .children
        .iter()
        .find(|c| c.collection == resource.collection && c.read.is_empty())
        .and_then(|c| c.read_through.as_deref())
        .filter(|read| model.action(read).is_some_and(|a| a.method == "GET"))
        .filter(|_| resource.read.is_empty())
        .and_then(template_of);
    Evidence {
        owned_by_obtainer: owners
            .keys()
            .any(|basis| basis.starts_with("field:") || basis == "own_list"),
        owner_fields: owners
            .keys()
            .filter_map(|b| b.strip_prefix("field:"))
            .map(str::to_string)
            .collect(),
        public: resource.ownership.visibility.as_deref() == Some("public"),
        lists: list_reads(model, recorded, &resource.collection),
        read_through,
    }
}

/// Each per-user singleton with a read: its path, its read's recorded
/// request, and every action that reads or changes it.
pub(crate) fn singletons(
    model: &Model,
    template_of: &dyn Fn(&str) -> Option<Arc<RequestTemplate>>,
) -> Vec<(String, Arc<RequestTemplate>, Vec<String>)> {
    model
        .singletons
        .iter()
        .filter_map(|s| {
            let read = s.read.first().and_then(|r| template_of(r))?;
            let actions = s.read.iter().chain(&s.write).cloned().collect();
            Some((s.path.clone(), read, actions))
        })
        .collect()
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
        lists.push(Arc::new(RequestTemplate::bare(action, model.auth.scheme.as_deref())));
    }
    lists.sort_by_key(|t| t.query.len());
    lists
}
