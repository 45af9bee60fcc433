//! Singletons: per-user instances without an id in their path (`/me`,
//! `/me/preferences`, `/settings`, `/basket`). Each authenticated user reads
//! and writes their own, so they are instances the replayer can mutate and
//! judge, though no resource (a collection and an id) describes them.
//!
//! A path is a singleton when it has no parameter, is not a collection (a
//! resource's, one that creates with `201`, one that answers a list of
//! things with ids) nor part of the authentication, is read with credentials and
//! answered a JSON object, and either is written too (`PUT`, `PATCH`,
//! `POST`, `DELETE` on the path) or sits under a "me"-like first segment.
//! A read-only path under no such segment (`/feed`) may be the same for
//! everyone: it is left out rather than guessed.

use std::collections::BTreeMap;

use crate::model::{Action, Location, Model, Singleton};
use crate::shape::Schema;

/// First path segments that say "the authenticated user's own".
const SELF_WORDS: [&str; 6] = ["me", "my", "self", "current_user", "whoami", "account"];

/// The model's singletons, sorted by path.
pub(crate) fn singletons(model: &Model) -> Vec<Singleton> {
    let mut by_path: BTreeMap<&str, Vec<&Action>> = BTreeMap::new();
    for action in model.actions.iter().filter(|a| a.params.is_empty()) {
        by_path.entry(action.template.as_str()).or_default().push(action);
    }
    by_path
        .into_iter()
        .filter(|(path, actions)| !is_collection(model, path, actions))
        .filter_map(|(path, actions)| singleton(model, path, &actions))
        .collect()
}

/// The singleton at `path`, if its actions make it one.
fn singleton(model: &Model, path: &str, actions: &[&Action]) -> Option<Singleton> {
    let auth_actions =
        [&model.auth.login, &model.auth.logout, &model.auth.sign_up, &model.auth.refresh];
    if actions.iter().any(|a| auth_actions.iter().any(|x| x.as_deref() == Some(&a.id))) {
        return None;
    }
    let is_read = |a: &&&Action| matches!(a.method.as_str(), "GET" | "HEAD");
    let read: Vec<String> = actions.iter().filter(is_read).map(|a| a.id.clone()).collect();
    let write: Vec<String> = actions.iter().filter(|a| !is_read(a)).map(|a| a.id.clone()).collect();
    let per_user = actions.iter().filter(is_read).any(|a| a.needs_auth && answers_object(a));
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let own = SELF_WORDS.contains(&first.to_ascii_lowercase().as_str());
    if !per_user || (write.is_empty() && !own) {
        return None;
    }
    let etag = has_validator(model, &read, &write);
    Some(Singleton { path: path.to_string(), read, write, etag })
}

/// Whether `path` is a collection (a list, not one thing): a resource's,
/// or one whose `POST` answered `201 Created` or whose reads answered a
/// list of things with ids.
fn is_collection(model: &Model, path: &str, actions: &[&Action]) -> bool {
    model.resources.iter().any(|r| r.collection == path)
        || actions.iter().any(|a| a.method == "POST" && a.responses.contains_key(&201))
        || actions.iter().any(|a| a.method == "GET" && answers_list(a))
}

/// Whether a 2xx answer was an array, or held an array of objects with ids.
fn answers_list(action: &Action) -> bool {
    let is_array = |s: &Schema| s.types.iter().any(|t| t == "array");
    let of_ids = |s: &Schema| {
        is_array(s) && s.items.as_ref().is_some_and(|i| i.properties.contains_key("id"))
    };
    action
        .responses
        .iter()
        .filter(|(status, _)| (200..300).contains(*status))
        .filter_map(|(_, r)| r.body.schema.as_ref())
        .any(|s| is_array(s) || s.properties.values().any(of_ids))
}

/// Whether a 2xx answer of the action was a JSON object.
fn answers_object(action: &Action) -> bool {
    action
        .responses
        .iter()
        .filter(|(status, _)| (200..300).contains(*status))
        .filter_map(|(_, r)| r.body.schema.as_ref())
        .any(|s| s.types.iter().any(|t| t == "object"))
}

/// Whether the singleton's writes send `If-Match` or its reads answer an
/// `ETag` a later request used.
fn has_validator(model: &Model, read: &[String], write: &[String]) -> bool {
    let sends_if_match = write
        .iter()
        .filter_map(|id| model.action(id))
        .any(|a| a.headers.iter().any(|h| h == "if-match"));
    let etag = Location::Header { name: "etag".into() };
    let etag_used = model.links.iter().any(|l| read.contains(&l.producer) && l.from == etag);
    let etag_seen = model.volatile.iter().any(|v| read.contains(&v.action) && v.at == etag);
    sends_if_match || etag_used || etag_seen
}
