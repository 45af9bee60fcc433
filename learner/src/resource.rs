//! Resources: the things actions create, read, change and delete.
//!
//! A resource exists wherever a template has a literal collection segment
//! followed by a parameter (`/orders/{order_id}`); a resource under another
//! one's instance (`/accounts/{account_id}/holds/{hold_id}`) is nested and
//! named `accounts.holds`. Each action belongs to the deepest resource whose
//! collection its template starts with, in a role taken from its method and
//! depth: `POST` on the collection creates, `GET`/`PUT|PATCH`/`DELETE` on the
//! instance read/update/delete, anything else (lists, `POST …/pay`) is other.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::naming::collection_word;
use crate::template::{ActionShape, Segment};
use crate::value::{classify, is_id_name, leaf_text, singular};

/// What an action does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Create,
    Read,
    Update,
    Delete,
    /// Lists on the collection, commands on an instance (`pay`), sub-paths.
    Other,
}

/// A resource as derived from the templates.
#[derive(Clone, Debug)]
pub(crate) struct ResourceDef {
    pub name: String,
    pub collection: String,
    /// Number of segments of the collection path.
    pub depth: usize,
    pub id_param: String,
    pub parent: Option<usize>,
    /// The `prefix` of the singular name, for guessing the id field of a create.
    pub singular: String,
}

/// An action's place among the resources.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Membership {
    pub resource: usize,
    pub role: Role,
    /// Index of the instance id among the action's path parameters.
    pub instance_param: Option<usize>,
}

/// Every resource, and each action's membership.
#[derive(Debug, Default)]
pub(crate) struct Resources {
    pub defs: Vec<ResourceDef>,
    pub of_action: Vec<Option<Membership>>,
}

fn collection_template(action: &ActionShape, len: usize) -> String {
    let mut out = String::new();
    for seg in &action.segments[..len] {
        out.push('/');
        match seg {
            Segment::Literal(word) => out.push_str(word),
            Segment::Param(i) => {
                out.push('{');
                out.push_str(action.params.get(*i).map_or("id", |p| p.name.as_str()));
                out.push('}');
            }
        }
    }
    out
}

impl Resources {
    /// Derives resources and roles from the learned templates.
    pub(crate) fn derive(actions: &[ActionShape]) -> Resources {
        // A collection seen in some template, by its own template.
        struct Found {
            depth: usize,
            id_param: String,
            words: Vec<String>,
        }
        let mut found: BTreeMap<String, Found> = BTreeMap::new();
        for action in actions {
            for (k, seg) in action.segments.iter().enumerate().skip(1) {
                if let (Segment::Param(p), Segment::Literal(_)) = (seg, &action.segments[k - 1]) {
                    let collection = collection_template(action, k);
                    let words = action.segments[..k]
                        .iter()
                        .filter_map(|s| match s {
                            Segment::Literal(w) => Some(w.clone()),
                            Segment::Param(_) => None,
                        })
                        .collect();
                    let id_param =
                        action.params.get(*p).map_or_else(|| "id".to_string(), |p| p.name.clone());
                    found.entry(collection).or_insert(Found { depth: k, id_param, words });
                }
            }
        }
        let mut defs: Vec<ResourceDef> = Vec::new();
        let entries: Vec<(String, Found)> = found.into_iter().collect();
        // Parents first: sort by depth so a parent's index exists before its children.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|i| (entries[*i].1.depth, entries[*i].0.clone()));
        for i in order {
            let (collection, Found { depth, id_param, words }) = &entries[i];
            let parent = defs
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    let instance = format!("{}/{{{}}}", d.collection, d.id_param);
                    d.depth < *depth && collection.starts_with(&format!("{instance}/"))
                })
                .max_by_key(|(_, d)| d.depth)
                .map(|(j, _)| j);
            let last =
                collection_word(words.iter().map(String::as_str)).unwrap_or("items").to_string();
            let name = match parent {
                Some(p) => format!("{}.{}", defs[p].name, last),
                None => last.clone(),
            };
            defs.push(ResourceDef {
                name,
                collection: collection.clone(),
                depth: *depth,
                id_param: id_param.clone(),
                parent,
                singular: singular(&last),
            });
        }
        // Two collections with one name (`/v1/orders`, `/v2/orders`): name by full path.
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in &defs {
            *counts.entry(d.name.clone()).or_default() += 1;
        }
        for d in &mut defs {
            if counts.get(&d.name).copied().unwrap_or(0) > 1 {
                d.name = d
                    .collection
                    .split('/')
                    .filter(|s| !s.is_empty() && !s.starts_with('{'))
                    .collect::<Vec<_>>()
                    .join(".");
            }
        }
        let mut of_action: Vec<Option<Membership>> =
            actions.iter().map(|a| membership(a, &defs)).collect();
        shallow_creates(actions, &defs, &mut of_action);
        Resources { defs, of_action }
    }
}

/// Creates under a parent of things that live elsewhere ("shallow"
/// nesting: `POST /projects/{project_id}/invoices` makes an invoice read at
/// `/invoices/{invoice_id}`; `POST /boards/main/cards`, under the one board
/// the recording used, a card read at `/cards/{card_id}`). A `POST` on
/// `<parent>/<word>`, where no resource has that collection, is the create
/// of the one other resource whose collection ends in the same `<word>`,
/// when that resource has no create of its own. A command (`POST
/// /orders/{order_id}/pay`) names no collection and stays one.
fn shallow_creates(
    actions: &[ActionShape],
    defs: &[ResourceDef],
    of_action: &mut [Option<Membership>],
) {
    let has_create = |r: usize, of: &[Option<Membership>]| {
        of.iter().flatten().any(|m| m.resource == r && m.role == Role::Create)
    };
    for (i, action) in actions.iter().enumerate() {
        let (true, Some(Segment::Literal(word))) =
            (action.method == "POST", action.segments.last())
        else {
            continue;
        };
        let under_parent = match of_action[i] {
            None => action.segments.len() > 1,
            Some(m) => {
                let def = &defs[m.resource];
                m.role == Role::Other
                    && action.segments.len() == def.depth + 2
                    && matches!(action.segments[def.depth], Segment::Param(_))
            }
        };
        if !under_parent {
            continue;
        }
        let own = of_action[i].map(|m| m.resource);
        let mut named = defs.iter().enumerate().filter(|(r, d)| {
            Some(*r) != own && d.collection.rsplit('/').next() == Some(word.as_str())
        });
        let (Some((r, _)), None) = (named.next(), named.next()) else { continue };
        if !has_create(r, of_action) {
            of_action[i] =
                Some(Membership { resource: r, role: Role::Create, instance_param: None });
        }
    }
}

fn membership(action: &ActionShape, defs: &[ResourceDef]) -> Option<Membership> {
    let (resource, def) = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.depth <= action.segments.len() && collection_template(action, d.depth) == d.collection
        })
        .max_by_key(|(_, d)| d.depth)?;
    let len = action.segments.len();
    let instance_param = match action.segments.get(def.depth) {
        Some(Segment::Param(p)) => Some(*p),
        _ => None,
    };
    let role = if len == def.depth {
        if action.method == "POST" {
            Role::Create
        } else {
            Role::Other
        }
    } else if len == def.depth + 1 && instance_param.is_some() {
        match action.method.as_str() {
            "GET" | "HEAD" => Role::Read,
            "PUT" | "PATCH" => Role::Update,
            "DELETE" => Role::Delete,
            _ => Role::Other,
        }
    } else {
        Role::Other
    };
    Some(Membership {
        resource,
        role,
        instance_param: if len > def.depth { instance_param } else { None },
    })
}

/// The id of the instance a create response describes, and its pointer.
pub(crate) fn created_id(json: &Value, def: &ResourceDef) -> Option<(String, String)> {
    let s = &def.singular;
    let candidates = [
        "/id".to_string(),
        format!("/{s}_id"),
        format!("/{s}Id"),
        "/uuid".to_string(),
        format!("/{s}/id"),
        "/data/id".to_string(),
    ];
    for pointer in candidates {
        if let Some(text) = json.pointer(&pointer).and_then(leaf_text) {
            return Some((text.into_owned(), pointer));
        }
    }
    let object = json.as_object()?;
    object.iter().find_map(|(k, v)| {
        let text = leaf_text(v)?;
        (is_id_name(k) && classify(&text).is_id_like())
            .then(|| (text.into_owned(), format!("/{k}")))
    })
}

/// The resource's own object in a response: the top level, or a wrapper's
/// `data`/`<singular>` member; `None` when it describes another instance.
pub(crate) fn resource_object<'a>(
    json: &'a Value,
    def: &ResourceDef,
    instance: &str,
) -> Option<&'a Map<String, Value>> {
    let object = answer_object(json, def)?;
    match object.get("id").and_then(leaf_text) {
        Some(id) if id != instance => None,
        _ => Some(object),
    }
}

/// Whether a response describes another instance than `instance`: its
/// object names a different `id` (a child the action created, a receipt),
/// so it says nothing of this instance's fields.
pub(crate) fn describes_another(json: &Value, def: &ResourceDef, instance: &str) -> bool {
    let id = answer_object(json, def).and_then(|o| o.get("id")).and_then(leaf_text);
    id.is_some_and(|id| id != instance)
}

/// The object a response is about: the top level, or a wrapper's
/// `data`/`<singular>` member when the top level has no `id`.
fn answer_object<'a>(json: &'a Value, def: &ResourceDef) -> Option<&'a Map<String, Value>> {
    unwrapped(json, &def.singular)
}

/// The object an answer about one instance of resource `resource` (a
/// model's name: `accounts`, `boards.cards`) shows it in: the top level,
/// or a wrapper's `data` or `<singular>` member (`{"data": {...}}`,
/// `{"account": {...}}`) when the top level has no `id`.
pub fn instance_object<'a>(json: &'a Value, resource: &str) -> Option<&'a Map<String, Value>> {
    let last = resource.rsplit('.').next().unwrap_or(resource);
    unwrapped(json, &singular(last))
}

fn unwrapped<'a>(json: &'a Value, singular: &str) -> Option<&'a Map<String, Value>> {
    let top = json.as_object()?;
    let wrapped = [singular, "data"]
        .iter()
        .find_map(|k| top.get(*k).and_then(Value::as_object))
        .filter(|_| !top.contains_key("id"));
    Some(wrapped.unwrap_or(top))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::PathTrie;

    #[test]
    fn nested_collections_are_nested_resources() {
        let mut trie = PathTrie::default();
        for (m, p) in [
            ("POST", "/accounts"),
            ("GET", "/accounts/acc_1a2b3c4d"),
            ("POST", "/accounts/acc_1a2b3c4d/holds"),
            ("DELETE", "/accounts/acc_1a2b3c4d/holds/hld_9z8y7x6w"),
            ("POST", "/login"),
        ] {
            trie.insert(m, p, &|_| None);
        }
        let t = trie.finish(32);
        let r = Resources::derive(&t.actions);
        let names: Vec<_> = r.defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["accounts", "accounts.holds"]);
        assert_eq!(r.defs[1].parent, Some(0));
        assert_eq!(r.defs[1].id_param, "hold_id");
        let role = |id: &str| {
            let i = t.actions.iter().position(|a| a.id == id).unwrap();
            r.of_action[i].map(|m| (r.defs[m.resource].name.clone(), m.role))
        };
        assert_eq!(
            role("POST /accounts/{account_id}/holds"),
            Some(("accounts.holds".into(), Role::Create))
        );
        assert_eq!(
            role("DELETE /accounts/{account_id}/holds/{hold_id}"),
            Some(("accounts.holds".into(), Role::Delete))
        );
        assert_eq!(role("GET /accounts/{account_id}"), Some(("accounts".into(), Role::Read)));
        assert_eq!(role("POST /login"), None);
    }

    /// Roles of `paths`' actions, by action id.
    fn roles(paths: &[(&str, &str)]) -> Vec<(String, Option<(String, Role)>)> {
        let mut trie = PathTrie::default();
        for (m, p) in paths {
            trie.insert(m, p, &|_| None);
        }
        let t = trie.finish(32);
        let r = Resources::derive(&t.actions);
        t.actions
            .iter()
            .zip(&r.of_action)
            .map(|(a, m)| (a.id.clone(), m.map(|m| (r.defs[m.resource].name.clone(), m.role))))
            .collect()
    }

    #[test]
    fn a_create_under_a_parent_of_a_thing_read_elsewhere_is_that_things_create() {
        let found = roles(&[
            ("POST", "/api/v2/projects"),
            ("POST", "/api/v2/projects/p_7f3a9c2e/invoices"),
            ("POST", "/api/v2/projects/p_8e2b1d4f/invoices"),
            ("GET", "/api/v2/invoices/inv_3k9d2f7a"),
            ("POST", "/api/v2/invoices/inv_3k9d2f7a/pay"),
            ("POST", "/api/v2/projects/p_7f3a9c2e/archive"),
        ]);
        let role = |id: &str| found.iter().find(|(a, _)| a == id).and_then(|(_, m)| m.clone());
        assert_eq!(
            role("POST /api/v2/projects/{project_id}/invoices"),
            Some(("invoices".into(), Role::Create))
        );
        assert_eq!(
            role("POST /api/v2/invoices/{invoice_id}/pay"),
            Some(("invoices".into(), Role::Other))
        );
        assert_eq!(
            role("POST /api/v2/projects/{project_id}/archive"),
            Some(("projects".into(), Role::Other)),
            "a command names no collection"
        );
    }

    #[test]
    fn a_nested_post_is_no_create_of_a_thing_that_has_its_own() {
        let found = roles(&[
            ("POST", "/projects/p_7f3a9c2e/invoices"),
            ("POST", "/invoices"),
            ("GET", "/invoices/inv_3k9d2f7a"),
            ("GET", "/projects/p_7f3a9c2e"),
        ]);
        let role = |id: &str| found.iter().find(|(a, _)| a == id).and_then(|(_, m)| m.clone());
        assert_eq!(role("POST /invoices"), Some(("invoices".into(), Role::Create)));
        assert_eq!(
            role("POST /projects/{project_id}/invoices"),
            Some(("projects".into(), Role::Other))
        );
    }
}
