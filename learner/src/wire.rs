//! Where values sit on the wire: the keys a create request chose, the id
//! at the end of a `Location`, a bearer token, cookie pairs, the headers a
//! client sends back, what a request location is called, and the interned
//! locations that bindings point at. The data flow (`flow.rs`) reads
//! requests and responses through these.

use std::collections::HashMap;

use serde_json::Value;
use venomqa_traffic::Request;

use crate::model::Location;
use crate::naming::{is_client_key_name, is_key_like};
use crate::shape::{parse_query, ParsedBody};
use crate::value::{classify, walk_leaves};

/// The keys a create request chose, with where they sit: identity-named
/// strings of its JSON body (at any depth: `{"user": {"username": …}}`),
/// of its form, or of its query.
pub(crate) fn sent_keys(request: &Request, body: &ParsedBody) -> Vec<(String, String, Location)> {
    let keep =
        |k: &str, v: &str| is_client_key_name(k) && is_key_like(v) && !classify(v).is_id_like();
    let mut sent = Vec::new();
    if let Some(json) = body.json() {
        walk_leaves(json, &mut |path, leaf| {
            if let Value::String(v) = leaf {
                if keep(path.key(), v) {
                    let at = Location::Body { pointer: path.exact() };
                    sent.push((path.key().to_string(), v.clone(), at));
                }
            }
        });
        return sent;
    }
    for (k, v) in form_pairs(request) {
        if keep(&k, &v) {
            sent.push((k.clone(), v, Location::Body { pointer: format!("/{k}") }));
        }
    }
    for (k, v) in request.query().map(parse_query).unwrap_or_default() {
        if keep(&k, &v) {
            sent.push((k.clone(), v, Location::Query { key: k }));
        }
    }
    sent
}

/// The decoded fields of an `application/x-www-form-urlencoded` request
/// body (none for any other body), each at `/{key}` as a body location.
pub(crate) fn form_pairs(request: &Request) -> Vec<(String, String)> {
    let form = request
        .headers
        .get_str("content-type")
        .is_some_and(|ct| ct.contains("x-www-form-urlencoded"));
    if !form {
        return Vec::new();
    }
    parse_query(&String::from_utf8_lossy(&request.body.bytes))
}

/// What a request location is called: its parameter, key, member or header.
pub(crate) fn location_name(location: &Location) -> &str {
    match location {
        Location::Path { name } | Location::Header { name } | Location::Cookie { name } => name,
        Location::Query { key } => key,
        Location::Body { pointer } => {
            pointer.rsplit('/').find(|t| *t != "*" && t.parse::<usize>().is_err()).unwrap_or("")
        }
        Location::Bearer => "token",
        Location::LocationId => "id",
    }
}

/// The last path segment of a `Location` URL (`/orders/ord_k3j5` → `ord_k3j5`).
pub(crate) fn location_id(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').find(|s| !s.is_empty()).filter(|s| !s.contains(':'))
}

/// `X-CSRF-Token`, `X-Session-Key`: a response header a client sends back.
/// Request ids and the like are not: they are never sent back, and every
/// response has a new one.
pub(crate) fn is_credential_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-")
        && ["token", "csrf", "xsrf", "session", "key", "auth"].iter().any(|w| lower.contains(w))
}

/// The token an `Authorization` value carries, whatever its scheme:
/// `Bearer X`, `Token X`, `JWT X`, or a bare `X`. Not `Basic` (a user and
/// password, which no answer hands out) nor a parameter list such as
/// `Digest username="a", realm="b"`.
pub(crate) fn authorization_token(value: &str) -> Option<&str> {
    let value = value.trim_start();
    let token = match value.split_once(' ') {
        Some((scheme, token)) => {
            let token = token.trim();
            let plain_scheme =
                scheme.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
            if !plain_scheme || scheme.eq_ignore_ascii_case("basic") || token.contains([' ', ',']) {
                return None;
            }
            token
        }
        None => value.trim_end(),
    };
    (!token.is_empty()).then_some(token)
}

/// `a=1; b=2` (a `Cookie` header) or the first pair of a `Set-Cookie`.
/// A value redacted whole, without `name=`, yields nothing: it cannot be
/// matched to the cookie it came from.
pub(crate) fn cookie_pairs(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(';').filter_map(|pair| {
        let (name, v) = pair.trim().split_once('=')?;
        let name = name.trim();
        (!name.is_empty() && !v.is_empty()).then_some((name, v.trim().trim_matches('"')))
    })
}

/// Interns locations so per-step bindings stay three integers.
#[derive(Debug, Default)]
pub(crate) struct Locations {
    map: HashMap<Location, u32>,
    list: Vec<Location>,
}

impl Locations {
    pub(crate) fn intern(&mut self, location: Location) -> u32 {
        if let Some(id) = self.map.get(&location) {
            return *id;
        }
        let id = self.list.len() as u32;
        self.map.insert(location.clone(), id);
        self.list.push(location);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &Location {
        &self.list[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::authorization_token;

    #[test]
    fn a_token_is_read_whatever_its_scheme_but_never_from_a_password() {
        for (value, token) in [
            ("Bearer eyJ.a.b", Some("eyJ.a.b")),
            ("bearer  tok1 ", Some("tok1")),
            ("Token 9f3a2b", Some("9f3a2b")),
            ("JWT eyJ.x", Some("eyJ.x")),
            ("9f3a2b7c", Some("9f3a2b7c")),
            ("Basic YWxpY2U6cHc=", None),
            (r#"Digest username="a", realm="b""#, None),
            ("Bearer ", None),
            ("", None),
        ] {
            assert_eq!(authorization_token(value), token, "{value:?}");
        }
    }
}
