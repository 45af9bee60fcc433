//! Children: things created under a parent instance
//! (`POST /playlists/{playlist_id}/tracks`). Creating one is a write on the
//! parent (replay orders it so), and a child without a read of its own is
//! judged through what shows it: the parent's read, or the child
//! collection's list.
//!
//! A `POST` on `<parent instance>/<word>` is a child's create only with
//! evidence that `<word>` names things, not a command such as `/pay`: a
//! resource has that collection, or the collection is also read with `GET`,
//! or the parent's read answers an array named `<word>`.

use crate::model::{Action, Child, Model, Resource};

/// The model's children, sorted by collection.
pub(crate) fn children(model: &Model) -> Vec<Child> {
    let mut out: Vec<Child> = model
        .actions
        .iter()
        .filter(|a| a.method == "POST")
        .filter_map(|create| child(model, create))
        .collect();
    out.sort_by(|a, b| a.collection.cmp(&b.collection));
    out.dedup_by(|a, b| a.collection == b.collection);
    out
}

/// The child `create` makes, if it makes one.
fn child(model: &Model, create: &Action) -> Option<Child> {
    let (instance, word) = create.template.rsplit_once('/')?;
    if word.starts_with('{') {
        return None;
    }
    let parent = model.resources.iter().find(|r| instance_path(r) == instance)?;
    let own = model.resources.iter().find(|r| r.collection == create.template);
    let list = model.action(&format!("GET {}", create.template));
    let parent_read =
        parent.read.iter().find(|id| model.action(id).is_some_and(|a| answers_array(a, word)));
    if own.is_none() && list.is_none() && parent_read.is_none() {
        return None;
    }
    let read: Vec<String> = own.map(|r| r.read.clone()).unwrap_or_default();
    let read_through = if read.is_empty() {
        parent_read.cloned().or_else(|| list.map(|a| a.id.clone()))
    } else {
        None
    };
    Some(Child {
        collection: create.template.clone(),
        parent: parent.name.clone(),
        create: create.id.clone(),
        read,
        read_through,
    })
}

/// `/playlists/{playlist_id}`: the path of one of the resource's instances.
fn instance_path(r: &Resource) -> String {
    format!("{}/{{{}}}", r.collection, r.id_param)
}

/// Whether a 2xx answer of the action has a top-level array named `word`.
fn answers_array(action: &Action, word: &str) -> bool {
    action
        .responses
        .iter()
        .filter(|(status, _)| (200..300).contains(*status))
        .filter_map(|(_, r)| r.body.schema.as_ref())
        .filter_map(|s| s.properties.get(word))
        .any(|p| p.types.iter().any(|t| t == "array"))
}
