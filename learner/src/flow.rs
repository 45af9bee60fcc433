//! Data flow: which earlier response a request value came from.
//!
//! Each session keeps an index of the values its responses produced (ids,
//! tokens, slugs in id-named fields, `Set-Cookie` values, `ETag`s) and of
//! the keys its create requests chose (a username sent at sign-up). A value
//! can have several candidate producers: small sequential ids collide (loan
//! 1 and hold 1), and ids start again after a reset. Every value a later
//! request of the same session carries (path parameter, query value, JSON
//! body leaf, bearer token, cookie, header) is looked up in that index, and
//! the candidates are weighed by evidence ([`crate::evidence`]): the
//! binding goes to the best one, and every candidate's agreement (or
//! disagreement) is tallied for the model's link. Pseudonyms (`~r:…`) are
//! opaque strings, so a redacted token still matches the redacted login
//! response. A value no response of the session produced may come from
//! another session ([`crate::cross`]).
//!
//! Only values worth linking are indexed (id-named fields, id-like strings),
//! so `"status": "paid"` in a response never links a `?status=paid` filter.
//! A response value its own request carried (`GET /orders/7` answering
//! `{"id": 7}`) is an echo, not a production. A link whose consumer value
//! never varied across sessions is a constant and is dropped.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use venomqa_traffic::{Headers, Request};

use crate::cross::{CrossIndex, RawCross, RawDependency};
use crate::evidence::{hash_of, Candidate, LinkTallies, ProducerKeys};
use crate::model::{Link, Location};
use crate::shape::ParsedBody;
use crate::value::{classify, is_id_name, leaf_text, walk_leaves};
pub(crate) use crate::wire::{authorization_token, location_id};
use crate::wire::{
    cookie_pairs, form_pairs, is_credential_header, location_name, sent_keys, Locations,
};

/// Values a session indexes before it stops adding: the memory bound of a
/// very long session.
const SESSION_VALUE_CAP: usize = 4096;

/// Candidate producers kept per value: the first and the latest few.
const CANDIDATES_PER_VALUE: usize = 4;

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

/// One session's index of produced values, and which producers produced
/// anything at all (a producer that did, but not the value a request
/// carries, disagrees with it).
#[derive(Debug, Default)]
pub(crate) struct SessionFlow {
    produced: HashMap<Box<str>, Vec<Candidate>>,
    producers: HashSet<u32>,
}

/// A request value bound to an earlier step: interned locations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RawBinding {
    pub to: u32,
    pub step: u32,
    pub from: u32,
}

/// What the flow knows of each action: whether it writes, and the
/// singular of its resource, for name agreement.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActionFacts {
    pub write: bool,
    pub resource: Option<String>,
}

/// Link observations across all sessions.
#[derive(Debug, Default)]
pub(crate) struct FlowAcc {
    pub locations: Locations,
    pub(crate) keys: ProducerKeys,
    facts: Vec<ActionFacts>,
    links: HashMap<(u32, u32), LinkTallies>,
    /// Numbers in request bodies under names that say nothing (`from`, `to`,
    /// `target`): how often each (action, location) carried one. Such a
    /// number is linked only when it nearly always matches a produced id, so
    /// an `amount` that happens to equal an id once never becomes a link.
    unnamed_numbers: HashMap<(u32, u32), u64>,
    /// Values produced in one session and consumed in another.
    pub cross: CrossIndex,
    /// Name agreement per (consumer location, producer), weighed once.
    agreements: HashMap<(u32, u32), u8>,
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

/// One request value to look up: what it is called, and where it sits
/// (built only for a hit, so a miss costs one hash lookup).
struct Wanted<'v> {
    value: &'v str,
    name: &'v str,
    /// Its index among the path parameters, for a path value.
    param: Option<usize>,
    /// Whether a value produced by another session may have fed it.
    crossable: bool,
    at: &'v dyn Fn() -> (Location, Option<Location>),
}

/// The session a request is looked up in.
struct Looking<'s> {
    session: &'s SessionFlow,
    session_id: u32,
    action: u32,
}

/// What looking a request up found: its bindings, the values it carried
/// (a response echoing one produced nothing), and values from other sessions.
#[derive(Debug, Default)]
pub(crate) struct Consumed {
    pub bindings: Vec<RawBinding>,
    /// Hashes of the request's values (a few: a list beats a set).
    pub carried: Vec<u64>,
    pub cross: Vec<RawCross>,
    /// Instances other sessions made that this request used unhanded.
    pub depends: Vec<RawDependency>,
    /// Path values a write of the session chose or answered: (parameter
    /// index, producer).
    pub path_keys: Vec<(usize, Candidate)>,
    /// The consuming step's index in its session.
    step: u32,
}

impl FlowAcc {
    /// A flow for these actions.
    pub(crate) fn new(facts: Vec<ActionFacts>) -> FlowAcc {
        FlowAcc { facts, ..FlowAcc::default() }
    }

    /// Looks every value of a request up in its session's index (and, for
    /// what it did not produce, in other sessions'); records the links and
    /// returns the step's bindings. A value of one character (`7`) is
    /// looked up only where its name says it is an id: elsewhere it is far
    /// more often a count or an amount.
    pub(crate) fn consume(
        &mut self,
        session: &SessionFlow,
        session_id: u32,
        step: u32,
        action: u32,
        values: &RequestValues<'_>,
    ) -> Consumed {
        let mut out = Consumed { step, ..Consumed::default() };
        self.cross.advance(session_id, step + 1);
        let ctx = Looking { session, session_id, action };
        for (i, (name, value)) in values.param_names.iter().zip(values.params).enumerate() {
            let at = || (Location::Path { name: name.to_string() }, None);
            let w = Wanted { value, name, param: Some(i), crossable: true, at: &at };
            self.look(&mut out, &ctx, &w);
        }
        for (key, value) in values.query {
            if value.len() > 1 || is_id_name(key) {
                let at = || (Location::Query { key: key.clone() }, None);
                let w = Wanted { value, name: key, param: None, crossable: true, at: &at };
                self.look(&mut out, &ctx, &w);
            }
        }
        if let Some(json) = values.body.json() {
            walk_leaves(json, &mut |path, leaf| {
                let key = path.key();
                if matches!(leaf, Value::Number(_)) && !is_id_name(key) {
                    let location = Location::Body { pointer: path.general() };
                    let to = self.locations.intern(location);
                    *self.unnamed_numbers.entry((action, to)).or_default() += 1;
                }
                let Some(value) = leaf_text(leaf) else { return };
                if value.len() < 2 && !is_id_name(key) {
                    return;
                }
                let at = || {
                    let general =
                        path.in_array().then(|| Location::Body { pointer: path.general() });
                    (Location::Body { pointer: path.exact() }, general)
                };
                let crossable = matches!(leaf, Value::String(_));
                let w = Wanted { value: &value, name: key, param: None, crossable, at: &at };
                self.look(&mut out, &ctx, &w);
            });
        }
        if matches!(values.body, ParsedBody::NonJson(_)) {
            // A form's fields are the flat body a JSON request would send
            // (`customer=cus_9f3a&amount=1200`), each at `/{key}`.
            for (key, value) in form_pairs(values.request) {
                if value.len() < 2 && !is_id_name(&key) {
                    continue;
                }
                let at = || (Location::Body { pointer: format!("/{key}") }, None);
                let w = Wanted { value: &value, name: &key, param: None, crossable: true, at: &at };
                self.look(&mut out, &ctx, &w);
            }
        }
        self.look_in_headers(&mut out, &ctx, values.request);
        out.bindings.sort();
        out.bindings.dedup();
        out
    }

    /// Bearer tokens, cookies and meaningful headers of a request.
    fn look_in_headers(&mut self, out: &mut Consumed, ctx: &Looking<'_>, request: &Request) {
        for header in request.headers.iter() {
            let name = header.name.as_str();
            let Ok(value) = std::str::from_utf8(&header.value) else { continue };
            let mut look =
                |value: &str, name: &str, at: &dyn Fn() -> (Location, Option<Location>)| {
                    let w = Wanted { value, name, param: None, crossable: false, at };
                    self.look(out, ctx, &w);
                };
            if name.eq_ignore_ascii_case("authorization") {
                if let Some(token) = authorization_token(value) {
                    look(token, "token", &|| (Location::Bearer, None));
                }
            } else if name.eq_ignore_ascii_case("cookie") {
                for (cookie, v) in cookie_pairs(value) {
                    look(v, cookie, &|| (Location::Cookie { name: cookie.to_string() }, None));
                }
            } else if !BORING_REQUEST_HEADERS.iter().any(|b| name.eq_ignore_ascii_case(b)) {
                let lower = || (Location::Header { name: name.to_ascii_lowercase() }, None);
                look(value.trim(), name, &lower);
            }
        }
    }

    /// Looks one request value up: in the session's index, else (when it
    /// can travel) in other sessions'.
    fn look(&mut self, out: &mut Consumed, ctx: &Looking<'_>, w: &Wanted<'_>) {
        out.carried.push(hash_of(w.value));
        match ctx.session.produced.get(w.value) {
            Some(candidates) => {
                let best = self.hit(&mut out.bindings, ctx, w, candidates);
                if let (true, Some(i)) = (best.sent || best.write, w.param) {
                    out.path_keys.push((i, best));
                }
                // Found by a read of this session's (a list), made by another.
                if w.crossable && !best.write && !best.sent {
                    out.depends.extend(self.cross.made_elsewhere(
                        w.value,
                        ctx.session_id,
                        out.step,
                    ));
                }
            }
            None if w.crossable => self.consume_cross(out, ctx, w),
            None => {}
        }
    }

    /// Records one request value found in the session's index: a binding
    /// to its best candidate, and every candidate's agreement. Returns the
    /// best candidate.
    fn hit(
        &mut self,
        bindings: &mut Vec<RawBinding>,
        ctx: &Looking<'_>,
        w: &Wanted<'_>,
        candidates: &[Candidate],
    ) -> Candidate {
        let (exact, general) = (w.at)();
        let to_exact = self.locations.intern(exact);
        let to_general = general.map_or(to_exact, |g| self.locations.intern(g));
        // Names only matter when there is a choice, and each pair of names
        // is weighed once: stems cost allocations.
        let single = candidates.len() == 1;
        let mut scored: Vec<(Candidate, u8)> = Vec::with_capacity(candidates.len());
        for c in candidates {
            let name = if single {
                0
            } else {
                let (keys, facts) = (&self.keys, &self.facts);
                *self
                    .agreements
                    .entry((to_general, c.key))
                    .or_insert_with(|| agreement_of(keys, facts, w.name, c.key))
            };
            scored.push((*c, name));
        }
        let tallies = self.links.entry((ctx.action, to_general)).or_default();
        tallies.observe_value(w.value, ctx.session_id);
        let best = tallies.weigh(&scored, &ctx.session.producers);
        // A key the client chose is replayed as recorded: a binding reads a
        // live *response*, and this value was only ever in a request.
        if !best.sent {
            bindings.push(RawBinding { to: to_exact, step: best.step, from: best.exact });
        }
        best
    }

    /// A value no response of this session produced: another session's?
    fn consume_cross(&mut self, out: &mut Consumed, ctx: &Looking<'_>, w: &Wanted<'_>) {
        let Some(produced) = self.cross.lookup(w.value, ctx.session_id) else { return };
        if produced.sent {
            // A key the other session chose is replayed as recorded: the
            // instance must exist, and nothing is bound.
            out.depends.extend(self.cross.made_elsewhere(w.value, ctx.session_id, out.step));
            return;
        }
        let (exact, general) = (w.at)();
        let to_exact = self.locations.intern(exact);
        let to_general = general.map_or(to_exact, |g| self.locations.intern(g));
        // Across sessions a shared value is weaker evidence (a user name
        // typed at login equals the `owner` of someone's order): the names
        // must agree too, or the value is left unlinked.
        let (keys, facts) = (&self.keys, &self.facts);
        let agreement = *self
            .agreements
            .entry((to_general, produced.key))
            .or_insert_with(|| agreement_of(keys, facts, w.name, produced.key));
        if agreement == 0 {
            return;
        }
        self.cross.observe(ctx.action, to_general, produced.key, w.value);
        out.cross.push(RawCross {
            at_step: out.step,
            to: to_exact,
            session: produced.session,
            step: produced.step,
            from: produced.exact,
        });
    }

    /// Indexes the values a 2xx/3xx response produced (and the keys its
    /// create request chose), for later steps of the same session and, for
    /// ids that can travel, of other sessions. `carried` are the request's
    /// own values, which an answer only echoes; `chosen` the keys a
    /// create's request chose, which its answer names the new instance by
    /// (`{"name": "widget"}`), whatever their member is called.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn produce(
        &mut self,
        session: &mut SessionFlow,
        session_id: u32,
        step: u32,
        action: u32,
        status: u16,
        body: &ParsedBody,
        headers: &Headers,
        (carried, chosen): (&[u64], &[u64]),
    ) {
        let at = Producing { step, action, status };
        if let Some(json) = body.json() {
            walk_leaves(json, &mut |path, leaf| {
                // A key the create chose travels to other sessions as the
                // request's: typed by others (a dependency), never issued.
                let chose = |s: &str| !chosen.is_empty() && chosen.contains(&hash_of(s));
                let worth = match leaf {
                    Value::String(s) => {
                        is_id_name(path.key())
                            || classify(s).is_id_like() && s.parse::<f64>().is_err()
                            || chose(s)
                    }
                    Value::Number(_) => is_id_name(path.key()),
                    _ => false,
                };
                let Some(text) = leaf_text(leaf).filter(|_| worth) else { return };
                if carried.contains(&hash_of(&text)) {
                    return;
                }
                let general = path.in_array().then(|| Location::Body { pointer: path.general() });
                let exact = Location::Body { pointer: path.exact() };
                let field = path.key();
                let c = self.add(session, &at, &text, false, field, exact, general, false);
                if let Some(c) = c {
                    let sent = c.sent || chose(&text);
                    self.cross.offer(&text, session_id, Candidate { sent, ..c });
                }
            });
        }
        for header in headers.iter() {
            let name = header.name.as_str();
            let Ok(value) = std::str::from_utf8(&header.value) else { continue };
            if name.eq_ignore_ascii_case("set-cookie") {
                if let Some((cookie, v)) = cookie_pairs(value).next() {
                    let exact = Location::Cookie { name: cookie.to_string() };
                    self.add(session, &at, v, true, cookie, exact, None, false);
                }
            } else if name.eq_ignore_ascii_case("location") {
                if let Some(id) = location_id(value).filter(|id| !carried.contains(&hash_of(id))) {
                    let c =
                        self.add(session, &at, id, false, "id", Location::LocationId, None, false);
                    if let Some(c) = c {
                        let sent = c.sent || chosen.contains(&hash_of(id));
                        self.cross.offer(id, session_id, Candidate { sent, ..c });
                    }
                }
            } else if name.eq_ignore_ascii_case("etag") || is_credential_header(name) {
                let exact = Location::Header { name: name.to_ascii_lowercase() };
                self.add(session, &at, value.trim(), true, name, exact, None, false);
            }
        }
    }

    /// Indexes the keys a create request chose (`{"user": {"username":
    /// "alice"}}`), so a later path that names the instance by it links to
    /// that request.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn produce_sent(
        &mut self,
        session: &mut SessionFlow,
        session_id: u32,
        step: u32,
        action: u32,
        status: u16,
        request: &Request,
        body: &ParsedBody,
    ) {
        let at = Producing { step, action, status };
        for (field, value, exact) in sent_keys(request, body) {
            if let Some(c) = self.add(session, &at, &value, false, &field, exact, None, true) {
                self.cross.offer(&value, session_id, c);
            }
        }
    }

    /// Adds one produced value to the session's index; returns its candidate.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        session: &mut SessionFlow,
        at: &Producing,
        value: &str,
        latest_wins: bool,
        field: &str,
        exact: Location,
        general: Option<Location>,
        sent: bool,
    ) -> Option<Candidate> {
        if value.is_empty() || value.len() > 512 {
            return None;
        }
        let full = session.produced.len() >= SESSION_VALUE_CAP;
        if full && !session.produced.contains_key(value) {
            return None;
        }
        let exact = self.locations.intern(exact);
        let general = general.map_or(exact, |g| self.locations.intern(g));
        let locations = &self.locations;
        let named = || match locations.get(general) {
            Location::Body { pointer } => crate::naming::field_name(field, pointer),
            _ => field.into(),
        };
        let key = self.keys.intern(at.action, at.status, general, sent, named);
        session.producers.insert(key);
        let write = self.facts.get(at.action as usize).is_some_and(|f| f.write);
        let c = Candidate { key, step: at.step, exact, write, sent };
        let Some(list) = session.produced.get_mut(value) else {
            session.produced.insert(value.into(), vec![c]);
            return Some(c);
        };
        if latest_wins {
            list.clear();
        }
        // One response holding the value twice (`/id` and `Location`): its
        // first place is where it comes from.
        if let Some(same) = list.iter().find(|old| old.step == at.step) {
            return Some(*same);
        }
        match list.iter().position(|old| old.key == key) {
            // The same producer again (ids restarted after a reset): the latest counts.
            Some(i) => {
                list.remove(i);
            }
            None if list.len() >= CANDIDATES_PER_VALUE => {
                list.remove(1);
            }
            None => {}
        }
        list.push(c);
        Some(c)
    }

    /// The learned links: per consumer location the producer the evidence
    /// favours, constants dropped; then the links seen only across sessions.
    pub(crate) fn finish(&self, action_ids: &[String]) -> Vec<Link> {
        let mut links = Vec::new();
        for ((consumer, to), tallies) in &self.links {
            let name = location_name(self.locations.get(*to));
            let agreement = |key: u32| self.agreement(name, key);
            let best = tallies.best(&self.keys, &self.locations, action_ids, &agreement);
            // The same value in every session is a constant, unless a write
            // of the session made it each time: small ids restart after a
            // reset, so hold 1 is created anew in every session.
            let made_by_write = best.is_some_and(|(key, _)| self.is_write(key));
            if tallies.constant() && !made_by_write {
                continue;
            }
            if let Some(&seen) = self.unnamed_numbers.get(&(*consumer, *to)) {
                let observed = tallies.observed();
                if observed < 2 || (observed as f64) < UNNAMED_NUMBER_MIN_SHARE * seen as f64 {
                    continue;
                }
            }
            if let Some((key, count)) = best {
                links.push(self.link(action_ids, *consumer, *to, key, count, false));
            }
        }
        for (consumer, to, key, count) in self.cross.links() {
            if !self.links.contains_key(&(consumer, to)) {
                links.push(self.link(action_ids, consumer, to, key, count, true));
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

    /// How well a consumer's name agrees with a producer's field or resource.
    fn agreement(&self, consumer: &str, key: u32) -> u8 {
        agreement_of(&self.keys, &self.facts, consumer, key)
    }

    fn is_write(&self, key: u32) -> bool {
        let action = self.keys.get(key).action as usize;
        self.facts.get(action).is_some_and(|f| f.write)
    }

    fn link(
        &self,
        ids: &[String],
        consumer: u32,
        to: u32,
        key: u32,
        count: u64,
        cross: bool,
    ) -> Link {
        let producer = self.keys.get(key);
        Link {
            consumer: ids[consumer as usize].clone(),
            to: self.locations.get(to).clone(),
            producer: ids[producer.action as usize].clone(),
            status: producer.status,
            from: self.locations.get(producer.from).clone(),
            count,
            from_request: producer.sent,
            cross_session: cross,
        }
    }
}

/// Who is producing: the session, step, action and status of a response.
struct Producing {
    step: u32,
    action: u32,
    status: u16,
}

/// How well a consumer's name agrees with a producer's field or resource.
fn agreement_of(keys: &ProducerKeys, facts: &[ActionFacts], consumer: &str, key: u32) -> u8 {
    let key = keys.get(key);
    let resource = facts.get(key.action as usize).and_then(|f| f.resource.as_deref());
    crate::naming::agreement(consumer, &key.field, resource)
}
