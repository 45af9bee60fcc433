//! The first pass's memory of what each session produced: words a
//! response gave in an id-named field (or as its `Location`), and keys a
//! create or rename request chose (a username sent at sign-up, a repo's
//! new name). A later path segment
//! equal to one is a value, and the field it came from names the parameter.

use std::collections::HashMap;

use venomqa_traffic::{Exchange, Request};

use crate::naming::{field_param_name, is_client_key_name, is_key_like};
use crate::shape::parse_query;
use crate::template::segments;
use crate::value::{classify, is_enum_word, is_id_name};
use crate::wire::form_pairs;

/// Where a harvested word came from: the field, and whether the client
/// sent it in a create request rather than a response producing it.
#[derive(Clone, Debug)]
pub(crate) struct Harvested {
    pub field: Box<str>,
    pub sent: bool,
}

/// Words harvested per session at most: the first pass's memory bound.
const SESSION_WORD_CAP: usize = 256;

/// Words that a response produced in an id-named field, or as the last
/// segment of its `Location`, and keys the client chose in a create request
/// (identity-named members of its JSON body, form or query): a later path
/// segment equal to one is a value, named after that field.
pub(crate) fn harvest_words(exchange: &Exchange, into: &mut HashMap<String, Harvested>) {
    let Some(response) = &exchange.response else { return };
    // A word known already keeps its place; it takes a field that says more
    // than `id` (a `Location` and a `slug` member naming the same book), and
    // a response producing it outranks a request having sent it.
    let mut add = |w: &str, field: &str, sent: bool| {
        if let Some(known) = into.get_mut(w) {
            if field_param_name(&known.field).is_none() && field_param_name(field).is_some() {
                known.field = field.into();
            }
            known.sent &= sent;
        } else if into.len() < SESSION_WORD_CAP {
            into.insert(w.to_string(), Harvested { field: field.into(), sent });
        }
    };
    if let Some(location) = response.headers.get_str("location") {
        if let Some(last) = segments(location.split('?').next().unwrap_or(location)).last() {
            if is_enum_word(last) {
                add(last, "id", false);
            }
        }
    }
    scan_string_members(&response.body.bytes, &mut |key, value| {
        if is_id_name(key) && is_enum_word(value) {
            add(value, key, false);
        }
    });
    // A `PUT` answered `201 Created` made the instance its path names: the
    // key the client chose (`PUT /shelves/alice-books`), under the member
    // of the answer that repeats it, if one does.
    if exchange.request.method.eq_ignore_ascii_case("PUT") && response.status == 201 {
        let path = exchange.request.path();
        if let Some(last) = segments(path).last().filter(|w| is_enum_word(w)) {
            let mut field = String::from("id");
            scan_string_members(&response.body.bytes, &mut |key, value| {
                if value == last && field == "id" {
                    field = key.to_string();
                }
            });
            add(last, &field, true);
        }
    }
    if !names_its_instance(&exchange.request.method) {
        return;
    }
    for_each_sent_key(&exchange.request, &mut |key, value| add(value, key, true));
}

/// Methods whose request values can name an instance: what a create
/// made, or the new key a rename gave (`PATCH {"name": "widget-core"}`).
fn names_its_instance(method: &str) -> bool {
    ["POST", "PUT", "PATCH"].iter().any(|m| method.eq_ignore_ascii_case(m))
}

/// Calls `visit(key, value)` for every key-like value a request sent under
/// an identity-like name: JSON members at any depth, form fields, query
/// values.
pub(crate) fn for_each_sent_key(request: &Request, visit: &mut dyn FnMut(&str, &str)) {
    let mut keep = |key: &str, value: &str| {
        if is_client_key_name(key) && is_key_like(value) && !classify(value).is_id_like() {
            visit(key, value);
        }
    };
    scan_string_members(&request.body.bytes, &mut keep);
    for (k, v) in form_pairs(request) {
        keep(&k, &v);
    }
    for (k, v) in request.query().map(parse_query).unwrap_or_default() {
        keep(&k, &v);
    }
}

/// Calls `visit(key, value)` for every `"key": "value"` member of a JSON
/// text, at any depth, without building a document: the first pass only
/// needs the words of id-named members, and a full parse per exchange would
/// double its cost. Strings with escapes are skipped (no id word has one);
/// anything that is not JSON simply yields nothing.
pub(crate) fn scan_string_members(bytes: &[u8], visit: &mut dyn FnMut(&str, &str)) {
    // Returns the string starting at `at` (a `"`), and the index after it.
    fn string_at(bytes: &[u8], at: usize) -> Option<(Option<&str>, usize)> {
        let mut i = at + 1;
        let mut escaped = false;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => {
                    escaped = true;
                    i += 2;
                    continue;
                }
                b'"' => {
                    let text =
                        (!escaped).then(|| std::str::from_utf8(&bytes[at + 1..i]).ok()).flatten();
                    return Some((text, i + 1));
                }
                _ => i += 1,
            }
        }
        None
    }
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let Some((key, after)) = string_at(bytes, i) else { return };
        i = after;
        let colon = skip_ws(after);
        if bytes.get(colon) != Some(&b':') {
            continue;
        }
        let value_at = skip_ws(colon + 1);
        if bytes.get(value_at) != Some(&b'"') {
            i = value_at;
            continue;
        }
        let Some((value, after)) = string_at(bytes, value_at) else { return };
        if let (Some(key), Some(value)) = (key, value) {
            visit(key, value);
        }
        i = after;
    }
}
