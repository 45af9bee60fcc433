//! The instances a list response shows: a list is a read of every item it
//! holds, which is how an instance's state is seen when its own read no
//! longer answers (a soft delete shown only by a filtered list) and how a
//! session is seen to hold instances it never created.
//!
//! A list is a bare JSON array of objects, or an object with one member
//! that is such an array (`{"items": [...]}`, `{"data": [...], "meta": …}`).
//! Each item names its instance the way a create response does (`id`,
//! `<singular>_id`, ...); items without one are skipped, never guessed.

use serde_json::{Map, Value};

use crate::resource::{created_id, ResourceDef};

/// Items looked at per list response: enough to follow a recording's
/// instances, bounded so a huge page does not dominate learning time.
const MAX_ITEMS: usize = 256;

/// The `(instance id, item object)` pairs of a list response.
pub(crate) fn listed_items<'a>(
    json: &'a Value,
    def: &ResourceDef,
) -> Vec<(String, &'a Map<String, Value>)> {
    let Some(items) = item_array(json) else { return Vec::new() };
    items
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|item| {
            let object = item.as_object()?;
            let (id, _) = created_id(item, def)?;
            Some((id, object))
        })
        .collect()
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
        let ids: Vec<String> = listed_items(&bare, &notes()).into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, ["1"]);
        let wrapped = json!({"items": [{"note_id": "n_7"}], "meta": {"page": 1}});
        let ids: Vec<String> =
            listed_items(&wrapped, &notes()).into_iter().map(|(i, _)| i).collect();
        assert_eq!(ids, ["n_7"]);
    }

    #[test]
    fn an_object_with_two_arrays_is_not_read_as_a_list() {
        let two = json!({"open": [{"id": 1}], "closed": [{"id": 2}]});
        assert!(listed_items(&two, &notes()).is_empty());
    }
}
