//! Data flow: which earlier response a request value came from.
//!
//! Each session keeps an index of the values its responses produced (ids,
//! tokens, slugs in id-named fields, `Set-Cookie` values, `ETag`s), first
//! producer wins. Every value a later request of the same session carries
//! (path parameter, query value, JSON body leaf, bearer token, cookie,
//! header) is looked up in that index: a hit is a binding for the journey and
//! an observation of a link for the model. Pseudonyms (`~r:…`) are opaque
//! strings, so a redacted token still matches the redacted login response.
//!
//! Only values worth linking are indexed (id-named fields, id-like strings),
//! so `"status": "paid"` in a response never links a `?status=paid` filter.
//! A link whose consumer value never varied across sessions is a constant and
//! is dropped.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde_json::Value;
use venomqa_traffic::{Headers, Request};

use crate::model::{Link, Location};
use crate::shape::ParsedBody;
use crate::value::{classify, is_id_name, leaf_text, walk_leaves};

/// Values a session indexes before it stops adding: the memory bound of a
/// very long session.
const SESSION_VALUE_CAP: usize = 4096;

/// Request headers never worth a lookup: transport and content negotiation.
const BORING_REQUEST_HEADERS: [&str; 14] = [
    "host",
    "content-length",
    "content-type",
    "accept",
    "accept-encoding",
    "accept-language",
    "user-agent",
    "connection",
    "authorization",
    "cookie",
    "x-session",
    "transfer-encoding",
    "origin",
    "referer",
];

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

/// The first response of a session that produced a value.
#[derive(Clone, Copy, Debug)]
struct Produced {
    step: u32,
    action: u32,
    status: u16,
    exact: u32,
    general: u32,
}

/// One session's index of produced values.
#[derive(Debug, Default)]
pub(crate) struct SessionFlow {
    produced: HashMap<Box<str>, Produced>,
}

/// A request value bound to an earlier step: interned locations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RawBinding {
    pub to: u32,
    pub step: u32,
    pub from: u32,
}

#[derive(Debug, Default)]
struct LinkAcc {
    producers: HashMap<(u32, u16, u32), u64>,
    first_value: u64,
    varied: bool,
    first_session: u32,
    multi_session: bool,
    observed: u64,
}

/// Link observations across all sessions.
#[derive(Debug, Default)]
pub(crate) struct FlowAcc {
    pub locations: Locations,
    links: HashMap<(u32, u32), LinkAcc>,
    /// Numbers in request bodies under names that say nothing (`from`, `to`,
    /// `target`): how often each (action, location) carried one. Such a
    /// number is linked only when it nearly always matches a produced id, so
    /// an `amount` that happens to equal an id once never becomes a link.
    unnamed_numbers: HashMap<(u32, u32), u64>,
}

/// Share of an unnamed number's occurrences that must match a produced id.
const UNNAMED_NUMBER_MIN_SHARE: f64 = 0.8;

/// The bits of one exchange the flow needs, parsed once by the caller.
pub(crate) struct RequestValues<'a> {
    pub param_names: Vec<&'a str>,
    pub params: &'a [&'a str],
    pub query: &'a [(String, String)],
    pub body: &'a ParsedBody,
    pub request: &'a Request,
}

fn hash_of(value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl FlowAcc {
    /// Records one request value found in the session's index: a binding
    /// for the journey and an observation of the link. Locations are built
    /// only here, for hits, so misses cost one hash lookup.
    #[allow(clippy::too_many_arguments)]
    fn hit(
        &mut self,
        bindings: &mut Vec<RawBinding>,
        p: &Produced,
        session_id: u32,
        action: u32,
        exact: Location,
        general: Option<Location>,
        value: &str,
    ) {
        let to_exact = self.locations.intern(exact);
        let to_general = general.map_or(to_exact, |g| self.locations.intern(g));
        bindings.push(RawBinding { to: to_exact, step: p.step, from: p.exact });
        let acc = self.links.entry((action, to_general)).or_default();
        let h = hash_of(value);
        if acc.observed == 0 {
            acc.first_value = h;
            acc.first_session = session_id;
        } else {
            acc.varied |= acc.first_value != h;
            acc.multi_session |= acc.first_session != session_id;
        }
        acc.observed += 1;
        *acc.producers.entry((p.action, p.status, p.general)).or_default() += 1;
    }

    /// Looks every value of a request up in its session's index; records
    /// the links and returns the step's bindings.
    pub(crate) fn consume(
        &mut self,
        session: &SessionFlow,
        session_id: u32,
        action: u32,
        values: &RequestValues<'_>,
    ) -> Vec<RawBinding> {
        let mut bindings = Vec::new();
        if session.produced.is_empty() {
            return bindings;
        }
        let found = |value: &str| session.produced.get(value).copied();
        for (name, value) in values.param_names.iter().zip(values.params) {
            if let Some(p) = found(value) {
                let at = Location::Path { name: name.to_string() };
                self.hit(&mut bindings, &p, session_id, action, at, None, value);
            }
        }
        for (key, value) in values.query {
            if let Some(p) = found(value) {
                let at = Location::Query { key: key.clone() };
                self.hit(&mut bindings, &p, session_id, action, at, None, value);
            }
        }
        if let Some(json) = values.body.json() {
            walk_leaves(json, &mut |path, leaf| {
                if matches!(leaf, Value::Number(_)) && !is_id_name(path.key()) {
                    let location = Location::Body { pointer: path.general() };
                    let to = self.locations.intern(location);
                    *self.unnamed_numbers.entry((action, to)).or_default() += 1;
                }
                let Some(text) = leaf_text(leaf) else { return };
                if let Some(p) = found(&text) {
                    let general =
                        path.in_array().then(|| Location::Body { pointer: path.general() });
                    let at = Location::Body { pointer: path.exact() };
                    self.hit(&mut bindings, &p, session_id, action, at, general, &text);
                }
            });
        }
        for header in values.request.headers.iter() {
            let value = header.value_str();
            let name = header.name.as_str();
            if name.eq_ignore_ascii_case("authorization") {
                if let Some((token, p)) = bearer_token(&value).and_then(|t| Some((t, found(t)?))) {
                    self.hit(&mut bindings, &p, session_id, action, Location::Bearer, None, token);
                }
            } else if name.eq_ignore_ascii_case("cookie") {
                for (cookie, v) in cookie_pairs(&value) {
                    if let Some(p) = found(v) {
                        let at = Location::Cookie { name: cookie.to_string() };
                        self.hit(&mut bindings, &p, session_id, action, at, None, v);
                    }
                }
            } else if let Some(p) = found(value.trim()) {
                let name = name.to_ascii_lowercase();
                if !BORING_REQUEST_HEADERS.contains(&name.as_str()) {
                    let at = Location::Header { name };
                    self.hit(&mut bindings, &p, session_id, action, at, None, value.trim());
                }
            }
        }
        bindings.sort();
        bindings.dedup();
        bindings
    }

    /// Indexes the values a 2xx/3xx response produced, for later steps of
    /// the same session.
    pub(crate) fn produce(
        &mut self,
        session: &mut SessionFlow,
        step: u32,
        action: u32,
        status: u16,
        body: &ParsedBody,
        headers: &Headers,
    ) {
        // Ids keep their first producer (a read that echoes an id is not its
        // origin); validators and cookies keep the latest (`latest_wins`),
        // because a conditional write must carry the ETag of the freshest read.
        let mut add = |this: &mut FlowAcc,
                       value: &str,
                       latest_wins: bool,
                       at: &dyn Fn() -> (Location, Option<Location>)| {
            if value.len() < 2 || value.len() > 512 || session.produced.len() >= SESSION_VALUE_CAP {
                return;
            }
            if !latest_wins && session.produced.contains_key(value) {
                return;
            }
            let (exact, general) = at();
            let exact = this.locations.intern(exact);
            let general = general.map_or(exact, |g| this.locations.intern(g));
            session
                .produced
                .insert(value.into(), Produced { step, action, status, exact, general });
        };
        if let Some(json) = body.json() {
            walk_leaves(json, &mut |path, leaf| {
                let worth = match leaf {
                    Value::String(s) => {
                        is_id_name(path.key())
                            || classify(s).is_id_like() && s.parse::<f64>().is_err()
                    }
                    Value::Number(_) => is_id_name(path.key()),
                    _ => false,
                };
                if let (true, Some(text)) = (worth, leaf_text(leaf)) {
                    add(self, &text, false, &|| {
                        let general =
                            path.in_array().then(|| Location::Body { pointer: path.general() });
                        (Location::Body { pointer: path.exact() }, general)
                    });
                }
            });
        }
        for header in headers.iter() {
            let value = header.value_str();
            let name = header.name.as_str();
            if name.eq_ignore_ascii_case("set-cookie") {
                if let Some((cookie, v)) = cookie_pairs(&value).next() {
                    add(self, v, true, &|| (Location::Cookie { name: cookie.to_string() }, None));
                }
            } else if name.eq_ignore_ascii_case("location") {
                if let Some(id) = location_id(&value) {
                    add(self, id, false, &|| (Location::LocationId, None));
                }
            } else if name.eq_ignore_ascii_case("etag") || is_credential_header(name) {
                add(self, value.trim(), true, &|| {
                    (Location::Header { name: name.to_ascii_lowercase() }, None)
                });
            }
        }
    }

    /// The learned links: per consumer location the most frequent producer,
    /// constants dropped.
    pub(crate) fn finish(&self, action_ids: &[String]) -> Vec<Link> {
        let mut links = Vec::new();
        for ((consumer, to), acc) in &self.links {
            if acc.multi_session && !acc.varied {
                continue;
            }
            if let Some(&seen) = self.unnamed_numbers.get(&(*consumer, *to)) {
                if acc.observed < 2
                    || (acc.observed as f64) < UNNAMED_NUMBER_MIN_SHARE * seen as f64
                {
                    continue;
                }
            }
            let best = acc.producers.iter().max_by(|(a, na), (b, nb)| {
                na.cmp(nb).then_with(|| {
                    let key = |(action, status, from): &(u32, u16, u32)| {
                        (
                            action_ids[*action as usize].clone(),
                            *status,
                            self.locations.get(*from).clone(),
                        )
                    };
                    key(b).cmp(&key(a))
                })
            });
            if let Some(((producer, status, from), count)) = best {
                links.push(Link {
                    consumer: action_ids[*consumer as usize].clone(),
                    to: self.locations.get(*to).clone(),
                    producer: action_ids[*producer as usize].clone(),
                    status: *status,
                    from: self.locations.get(*from).clone(),
                    count: *count,
                });
            }
        }
        links.sort_by(|a, b| {
            (&a.consumer, &a.to, &a.producer, a.status).cmp(&(
                &b.consumer,
                &b.to,
                &b.producer,
                b.status,
            ))
        });
        links
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
fn is_credential_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-")
        && ["token", "csrf", "xsrf", "session", "key", "auth"].iter().any(|w| lower.contains(w))
}

/// The token of `Bearer <token>`, any case of the scheme.
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
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
