//! Naming by meaning: what a path parameter is called, which literal
//! segments are collections, and how well two names agree.
//!
//! A parameter says what it holds: the field that produced its values
//! (`{username}`, `{slug}`, `{cart_id}`) when that field says more than
//! `id`, else the collection before it (`{order_id}`). A version or API
//! prefix (`v1`, `v2`, `api`) is never a collection, so it never names a
//! parameter or a resource. The same stems decide, when several earlier
//! responses hold a request's value, which one the request most likely
//! took it from.

use crate::value::{is_id_name, singular};

/// Prefix segments that group an API rather than name a collection:
/// versions (`v1`, `v2beta`, `v1.2`) and `api`-like roots.
pub(crate) fn is_version_segment(word: &str) -> bool {
    const ROOTS: [&str; 6] = ["api", "apis", "rest", "latest", "stable", "beta"];
    let lower = word.to_ascii_lowercase();
    if ROOTS.contains(&lower.as_str()) {
        return true;
    }
    let Some(rest) = lower.strip_prefix('v') else { return false };
    let digits = rest.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
    digits > 0
        && rest.as_bytes()[0].is_ascii_digit()
        && rest[digits..].bytes().all(|c| c.is_ascii_alphabetic())
        && rest.len() - digits <= 5
}

/// The collection word among literal segments: the last one that is not a
/// version or API prefix.
pub(crate) fn collection_word<'a>(
    literals: impl DoubleEndedIterator<Item = &'a str>,
) -> Option<&'a str> {
    literals.rev().find(|w| !is_version_segment(w))
}

/// Request members whose value the client may choose as a key: ids and
/// handles, and the names, titles and emails that slugs and accounts use.
pub(crate) fn is_client_key_name(key: &str) -> bool {
    const NAMES: [&str; 6] = ["name", "title", "email", "nickname", "nick", "alias"];
    is_id_name(key) || NAMES.iter().any(|n| key.eq_ignore_ascii_case(n))
}

/// A value that can sit in a path segment as a key: one short token of
/// letters, digits and `-_.@+`, starting with a letter or digit.
pub(crate) fn is_key_like(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.@+".contains(c))
}

/// Field names that say only "an id": a parameter they produce is named
/// after its collection instead.
fn is_generic_id(field: &str) -> bool {
    const GENERIC: [&str; 7] = ["id", "_id", "uuid", "guid", "key", "pk", "identifier"];
    GENERIC.iter().any(|g| field.eq_ignore_ascii_case(g))
}

/// `cartId` → `cart_id`, `User-Name` → `user_name`: a field as a parameter name.
pub(crate) fn snake(field: &str) -> String {
    let mut out = String::new();
    for (i, c) in field.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        match c {
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ if !out.ends_with('_') => out.push('_'),
            _ => {}
        }
    }
    out.trim_matches('_').to_string()
}

/// The parameter name a producing field gives, when it says more than `id`.
pub(crate) fn field_param_name(field: &str) -> Option<String> {
    let name = snake(field);
    (!name.is_empty() && !is_generic_id(field) && !is_generic_id(&name)).then_some(name)
}

/// The parameter name a collection gives: `orders` → `order_id`.
pub(crate) fn collection_param_name(collection: Option<&str>) -> String {
    match collection {
        Some(word) => format!("{}_id", singular(word)),
        None => "id".to_string(),
    }
}

/// What a name is about: `loan_id`, `loanId`, `loans` → `loan`;
/// `username` stays; a bare `id` is about nothing by itself.
pub(crate) fn stem(name: &str) -> Option<String> {
    let snake = snake(name);
    let core = ["_id", "_ids", "_key", "_uuid", "_ref", "_number"]
        .iter()
        .find_map(|s| snake.strip_suffix(s))
        .unwrap_or(&snake);
    if core.is_empty() || is_generic_id(core) {
        return None;
    }
    Some(singular(core))
}

/// The name a value at `pointer` goes by, as the evidence keeps it: its
/// field, or for a generic `id` the object holding it and the field
/// (`member/id` at `/member/id`, `items/id` at `/items/3/id`); a top-level
/// `id` stays `id`. [`agreement`] reads the holder.
pub(crate) fn field_name(field: &str, pointer: &str) -> Box<str> {
    if !is_generic_id(field) {
        return field.into();
    }
    let mut parents = pointer.rsplit('/').skip(1).filter(|s| !s.is_empty());
    match parents.find(|s| *s != "*" && !s.bytes().all(|b| b.is_ascii_digit())) {
        Some(holder) => format!("{holder}/{field}").into(),
        None => field.into(),
    }
}

/// How well a consumer's name agrees with a producer's field: 2 when they
/// name the same thing, 1 when one stem contains the other, 0 otherwise. A
/// generic `id` is named by the better of the object holding it
/// (`member/id`, see [`field_name`]) and the producer's resource, so a
/// wrapper (`data/id`) costs nothing against the resource.
pub(crate) fn agreement(consumer: &str, field: &str, producer_resource: Option<&str>) -> u8 {
    let Some(wanted) = stem(consumer) else { return 0 };
    let score = |got: Option<String>| match got {
        Some(got) if got == wanted => 2,
        Some(got) if got.contains(&wanted) || wanted.contains(&got) => 1,
        _ => 0,
    };
    let (holder, own) = field.rsplit_once('/').map_or((None, field), |(h, f)| (Some(h), f));
    match stem(own) {
        Some(got) => score(Some(got)),
        None => score(holder.and_then(stem)).max(score(producer_resource.map(singular))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_not_collections() {
        for word in ["v1", "v2", "V3", "v1.2", "v2beta", "api", "API"] {
            assert!(is_version_segment(word), "{word}");
        }
        for word in ["orders", "v", "vendors", "view", "video2", "volumes"] {
            assert!(!is_version_segment(word), "{word}");
        }
        assert_eq!(collection_word(["people", "v2"].into_iter()), Some("people"));
        assert_eq!(collection_word(["api", "v1"].into_iter()), None);
    }

    #[test]
    fn fields_name_parameters_unless_generic() {
        assert_eq!(field_param_name("username").as_deref(), Some("username"));
        assert_eq!(field_param_name("cartId").as_deref(), Some("cart_id"));
        assert_eq!(field_param_name("id"), None);
        assert_eq!(field_param_name("uuid"), None);
        assert_eq!(collection_param_name(Some("notes")), "note_id");
    }

    #[test]
    fn names_agree_by_stem() {
        assert_eq!(agreement("hold_id", "id", Some("holds")), 2);
        assert_eq!(agreement("hold_id", "id", Some("loans")), 0);
        assert_eq!(agreement("hold_id", "holdId", None), 2);
        assert_eq!(agreement("username", "username", None), 2);
        assert_eq!(agreement("id", "id", Some("loans")), 0);
    }

    #[test]
    fn a_generic_id_is_named_by_the_object_holding_it() {
        assert_eq!(&*field_name("id", "/member/id"), "member/id");
        assert_eq!(&*field_name("id", "/items/*/id"), "items/id");
        assert_eq!(&*field_name("id", "/items/3/id"), "items/id");
        assert_eq!(&*field_name("id", "/id"), "id");
        assert_eq!(&*field_name("hold_id", "/data/hold_id"), "hold_id");
        assert_eq!(agreement("member_id", &field_name("id", "/member/id"), Some("session")), 2);
        assert_eq!(agreement("member_id", &field_name("id", "/items/*/id"), Some("list")), 0);
        // A wrapper names nothing: the producer's resource still does.
        assert_eq!(agreement("order_id", &field_name("id", "/data/id"), Some("orders")), 2);
        assert_eq!(agreement("order_id", &field_name("id", "/id"), Some("orders")), 2);
    }
}
