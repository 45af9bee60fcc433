//! The instances a list response shows: a list is a read of every item it
//! holds, which is how an instance's state is seen when its own read no
//! longer answers (a soft delete shown only by a filtered list) and how a
//! session is seen to hold instances it never created.
//!
//! A list is a bare JSON array of objects, or an object with one member
//! that is such an array (`{"items": [...]}`, `{"data": [...], "meta": …}`).
//! Each item names its instance the way a create response does (`id`,
//! `<singular>_id`, ...), or by an id-named field (`slug`, `username`)
//! whose value is an instance already known (a key the client chose, which
//! does not look like an id); items without either are skipped, never guessed.

use serde_json::{Map, Value};

use crate::resource::{created_id, ResourceDef};
use crate::value::is_id_name;

/// Items looked at per list response: enough to follow a recording's
/// instances, bounded so a huge page does not dominate learning time.
const MAX_ITEMS: usize = 256;

/// The `(instance id, item object)` pairs of a list response; `known` says
/// whether a value names an instance of the resource seen before.
pub(crate) fn listed_items<'a>(
    json: &'a Value,
    def: &ResourceDef,
    known: &dyn Fn(&str) -> bool,
) -> Vec<(String, &'a Map<String, Value>)> {
    let Some(items) = item_array(json) else { return Vec::new() };
    items
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|item| {
            let object = item.as_object()?;
            let id =
                created_id(item, def).map(|(id, _)| id).or_else(|| known_key(object, known))?;
            Some((id, object))
        })
        .collect()
}

/// The value of an id-named field of `object` that names a known instance.
fn known_key(object: &Map<String, Value>, known: &dyn Fn(&str) -> bool) -> Option<String> {
    object.iter().find_map(|(k, v)| {
        let text = v.as_str().filter(|t| is_id_name(k) && known(t))?;
        Some(text.to_string())
    })
}

/// The array of objects a list response holds: the body itself, or its only
/// member that is a non-empty array of objects.
fn item_array(json: &Value) -> Option<&Vec<Value>> {
    match json {
        Value::Array(items) => Some(items),
        Value::Object(map) => {
            let mut arrays = map
                .values()
                .filter_map(Value::as_array)
                .filter(|a| a.first().is_some_and(Value::is_object));
            let first = arrays.next()?;
            arrays.next().is_none().then_some(first)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn notes() -> ResourceDef {
        ResourceDef {
            name: "notes".into(),
            collection: "/notes".into(),
            depth: 1,
            id_param: "note_id".into(),
            parent: None,
            singular: "note".into(),
        }
    }

    #[test]
    fn bare_and_wrapped_lists_give_their_items_by_id() {
        let bare = json!([{"id": 1, "status": "open"}, {"title": "no id"}]);
        let ids: Vec<String> =
            listed_items(&bare, &notes(), &|_| false).into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, ["1"]);
        let wrapped = json!({"items": [{"note_id": "n_7"}], "meta": {"page": 1}});
        let ids: Vec<String> =
            listed_items(&wrapped, &notes(), &|_| false).into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, ["n_7"]);
    }

    #[test]
    fn an_object_with_two_arrays_is_not_read_as_a_list() {
        let two = json!({"open": [{"id": 1}], "closed": [{"id": 2}]});
        assert!(listed_items(&two, &notes(), &|_| false).is_empty());
    }

    #[test]
    fn items_keyed_by_a_word_slug_are_found_only_when_the_slug_is_known() {
        let list = json!({"boards": [
            {"slug": "roadmap", "status": "archived"},
            {"slug": "ideas", "status": "active"},
            {"title": "roadmap"}
        ]});
        let known = |v: &str| v == "roadmap";
        let ids: Vec<String> =
            listed_items(&list, &notes(), &known).into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, ["roadmap"], "a title is no key, an unknown slug is not guessed");
    }
}
