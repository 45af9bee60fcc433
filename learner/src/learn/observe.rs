//! Pass 2, observations: each exchange is resolved to its action, its
//! bodies are parsed once, and the parsed values feed the action's shapes,
//! volatility, the session's data flow and journey, and the state machine of
//! the resource instance it acted on.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;
use venomqa_traffic::{Exchange, Response};

use crate::access::{AccessAcc, Touch};
use crate::action::{ActionAcc, Observed};
use crate::cross::{RawCross, RawDependency};
use crate::evidence::{hash_of, Candidate};
use crate::flow::{location_id, ActionFacts, FlowAcc, RequestValues, SessionFlow};
use crate::journey::{Finished, JourneyAcc, RawStep};
use crate::keys::KeyAcc;
use crate::listing::listed_items;
use crate::login::LoginAcc;
use crate::model::{Location, SourceInfo};
use crate::noise::NoiseRules;
use crate::resource::{
    created_id, describes_another, resource_object, Membership, Resources, Role,
};
use crate::shape::{parse_query, ParsedBody};
use crate::state::{Event, Span, StateAcc};
use crate::template::{ActionShape, Resolved, Segment, Templater};
use crate::value::{is_id_name, walk_leaves};
use crate::volatile::VolatileAcc;
use crate::wire::{form_pairs, sent_keys};

use super::LearnOptions;

/// The second pass in progress: one accumulator per part of the model.
pub(super) struct Observer<'t> {
    pub templater: &'t Templater,
    pub resources: &'t Resources,
    noise: &'t NoiseRules<'t>,
    session_idle_ns: u64,
    /// Per action, the state it leaves an instance in, for machines named
    /// by the last action.
    labels: Vec<String>,
    pub actions: Vec<ActionAcc>,
    pub volatile: VolatileAcc,
    pub flow: FlowAcc,
    pub states: StateAcc,
    pub journeys: JourneyAcc,
    pub logins: LoginAcc,
    /// Per-user keys sent in credential headers (an API without a login).
    pub keys: KeyAcc,
    pub access: AccessAcc,
    /// Sessions in progress, by session key.
    sessions: HashMap<String, SessionState>,
    /// A small number for every session key seen.
    session_ids: HashMap<String, u32>,
    /// Per (resource, pointer): how often a create response held the new id there.
    pub id_pointers: BTreeMap<(usize, String), u64>,
    /// `PUT`s on an instance that answered `201 Created`: they create at a
    /// key the client chose (`PUT /spaces/{slug}`), by action index.
    pub put_creates: BTreeSet<usize>,
    /// Per (resource, action): instances of a resource with no create that
    /// the action made, by the id its `201`/`202` answered.
    pub made_by: BTreeMap<(usize, u32), u64>,
    /// Per resource: whether some action is its create.
    has_create: Vec<bool>,
    pub source: SourceInfo,
    /// Exchanges whose path the first pass did not see (the store changed).
    pub unstable: u64,
    /// Exchanges since the last look for idle sessions.
    since_sweep: u64,
    /// Instances any exchange acted on: a key the client chose creates an
    /// instance only when nothing touched it before. Hashes of (resource,
    /// instance), so a look costs no allocation.
    touched: HashSet<u64>,
}

/// Per-session state of the second pass.
#[derive(Debug)]
struct SessionState {
    id: u32,
    flow: SessionFlow,
    steps: Vec<RawStep>,
    cross: Vec<RawCross>,
    depends: Vec<RawDependency>,
    last_seen: u64,
}

/// An exchange's query and bodies, parsed once for every accumulator.
struct Parsed {
    query: Vec<(String, String)>,
    request: ParsedBody,
    response: ParsedBody,
}

impl Parsed {
    fn of(exchange: &Exchange, response: &Response) -> Parsed {
        let request = &exchange.request;
        Parsed {
            query: request.query().map(parse_query).unwrap_or_default(),
            request: ParsedBody::parse(
                &request.body.bytes,
                request.body.truncated,
                request.headers.get_str("content-type"),
            ),
            response: ParsedBody::parse(
                &response.body.bytes,
                response.body.truncated,
                response.headers.get_str("content-type"),
            ),
        }
    }
}

impl<'t> Observer<'t> {
    pub(super) fn new(
        templater: &'t Templater,
        resources: &'t Resources,
        noise: &'t NoiseRules<'t>,
        total: u64,
        options: &LearnOptions,
    ) -> Observer<'t> {
        let shapes = &templater.actions;
        let labels = shapes
            .iter()
            .zip(&resources.of_action)
            .map(|(a, m)| label_of(&a.method, &a.segments, m.map(|m| m.role)))
            .collect();
        Observer {
            templater,
            resources,
            noise,
            session_idle_ns: options.session_idle_ns,
            labels,
            actions: shapes.iter().map(|_| ActionAcc::default()).collect(),
            volatile: VolatileAcc::default(),
            flow: FlowAcc::new(action_facts(templater, resources)),
            states: StateAcc::new(resources.defs.len()),
            journeys: JourneyAcc::new(options.max_journeys),
            logins: LoginAcc::default(),
            keys: KeyAcc::default(),
            access: AccessAcc::new(resources.defs.len()),
            sessions: HashMap::new(),
            session_ids: HashMap::new(),
            id_pointers: BTreeMap::new(),
            put_creates: BTreeSet::new(),
            made_by: BTreeMap::new(),
            has_create: (0..resources.defs.len())
                .map(|r| {
                    let mut members = resources.of_action.iter().flatten();
                    members.any(|m| m.resource == r && m.role == Role::Create)
                })
                .collect(),
            source: SourceInfo { exchanges: total, ..SourceInfo::default() },
            unstable: 0,
            since_sweep: 0,
            touched: HashSet::new(),
        }
    }

    /// Learns from one exchange; skips errors and noise as the first pass did.
    pub(super) fn observe(&mut self, exchange: &Exchange) {
        let Some(response) = &exchange.response else { return };
        let method = exchange.request.method.to_ascii_uppercase();
        let path = exchange.request.path();
        if self.noise.reason(&method, path).is_some() {
            return;
        }
        let Some(resolved) = self.templater.resolve(&method, path) else {
            self.unstable += 1;
            return;
        };
        self.count_used(exchange.id);
        let parsed = Parsed::of(exchange, response);
        let action = resolved.action;
        self.actions[action].observe(&Observed {
            exchange: exchange.id,
            request: &exchange.request,
            query: &parsed.query,
            request_body: &parsed.request,
            status: response.status,
            response_body: &parsed.response,
        });
        self.volatile.observe(action as u32, &parsed.response, &response.headers);
        self.sweep_idle_sessions(exchange.started_at);
        if let Some((session, keys)) = self.follow_session(exchange, response, &resolved, &parsed) {
            self.follow_user(session, exchange, response, action, &parsed);
            let span = Span::of(exchange);
            self.create_by_path_key(session, &resolved, &keys, span);
            self.follow_instance(session, response, &resolved, &parsed, span);
        }
    }

    /// Ends every session, so their journeys are counted.
    pub(super) fn finish_sessions(&mut self) {
        finish_idle(&mut self.sessions, &mut self.journeys, u64::MAX, 0);
        self.source.sessions = self.journeys.sessions;
    }

    fn count_used(&mut self, id: u64) {
        let source = &mut self.source;
        source.used += 1;
        source.first_exchange = Some(source.first_exchange.map_or(id, |f| f.min(id)));
        source.last_exchange = Some(source.last_exchange.map_or(id, |l| l.max(id)));
    }

    /// Finishes sessions gone quiet, to bound memory by the sessions in
    /// progress. Sweeping costs one look at every open session, so sweep no
    /// more often than once per that many exchanges: amortised O(1).
    fn sweep_idle_sessions(&mut self, now: u64) {
        self.since_sweep += 1;
        if self.since_sweep >= 4096.max(self.sessions.len() as u64) {
            self.since_sweep = 0;
            finish_idle(&mut self.sessions, &mut self.journeys, now, self.session_idle_ns);
        }
    }

    /// Adds the exchange to its session's journey, binding its request values
    /// to earlier responses and offering its response's values (and the
    /// keys its create request chose) to later requests. Returns the
    /// session's number and the path values a write of the session chose
    /// or answered.
    fn follow_session(
        &mut self,
        exchange: &Exchange,
        response: &Response,
        resolved: &Resolved<'_>,
        parsed: &Parsed,
    ) -> Option<(u32, Vec<(usize, Candidate)>)> {
        let key = exchange.session.as_str();
        if !self.sessions.contains_key(key) {
            let next = self.session_ids.len() as u32;
            let id = *self.session_ids.entry(key.to_string()).or_insert(next);
            let state = SessionState {
                id,
                flow: SessionFlow::default(),
                steps: Vec::new(),
                cross: Vec::new(),
                depends: Vec::new(),
                last_seen: 0,
            };
            self.sessions.insert(key.to_string(), state);
        }
        let session = self.sessions.get_mut(key)?;
        session.last_seen = session.last_seen.max(exchange.started_at);
        let action = resolved.action as u32;
        let status = response.status;
        let values = RequestValues {
            param_names: self.templater.actions[resolved.action]
                .params
                .iter()
                .map(|p| p.name.as_str())
                .collect(),
            params: &resolved.params,
            query: &parsed.query,
            body: &parsed.request,
            request: &exchange.request,
        };
        let step = session.steps.len() as u32;
        let consumed = self.flow.consume(&session.flow, session.id, step, action, &values);
        session.steps.push(RawStep {
            action,
            status,
            exchange: exchange.id,
            bindings: consumed.bindings.into(),
        });
        session.cross.extend(consumed.cross);
        session.depends.extend(consumed.depends);
        if (200..400).contains(&status) {
            let flow = &mut session.flow;
            let (body, headers) = (&parsed.response, &response.headers);
            // A create's answer that repeats a key the client chose names
            // the new instance by it: a production, not an echo. The key
            // sits in the request's body (`POST /orgs {"login": "acme"}`
            // answered at `Location: /orgs/acme`) or, for a `PUT` that
            // answered `201`, in its path (`PUT /shelves/alice-books`).
            let member = self.resources.of_action[resolved.action];
            let mut chosen: Vec<u64> = Vec::new();
            if member.is_some_and(|m| m.role == Role::Create)
                && creates_by_key(&self.templater.actions[resolved.action])
            {
                let sent = sent_keys(&exchange.request, &parsed.request);
                chosen.extend(sent.iter().map(|(_, value, _)| hash_of(value)));
            }
            let put_key = put_created_key(self.templater, self.resources, resolved, status);
            chosen.extend(put_key.map(hash_of));
            let mut carried = consumed.carried;
            carried.retain(|h| !chosen.contains(h));
            let echoes = (carried.as_slice(), chosen.as_slice());
            self.flow.produce(flow, session.id, step, action, status, body, headers, echoes);
            if creates_by_key(&self.templater.actions[resolved.action]) {
                let (request, sent) = (&exchange.request, &parsed.request);
                self.flow.produce_sent(flow, session.id, step, action, status, request, sent);
            }
        }
        Some((session.id, consumed.path_keys))
    }

    /// The first time an instance is acted on, the request that made it
    /// when its path value came from one: a create request that chose it
    /// (a username sent at sign-up), or, for a resource with no create of
    /// its own, a `POST` that answered it with `201 Created` or `202
    /// Accepted` outside any array (`POST /accounts/{account_id}/exports`
    /// answering the job then read at `/jobs/{job_id}`). A `200` is no such
    /// evidence (a search answers ids of things that already were), nor is
    /// an id among many.
    fn create_by_path_key(
        &mut self,
        session: u32,
        resolved: &Resolved<'_>,
        keys: &[(usize, Candidate)],
        span: Span,
    ) {
        let Some(member) = self.resources.of_action[resolved.action] else { return };
        let Some(i) = member.instance_param else { return };
        let no_create = !self.has_create[member.resource];
        let found = keys.iter().find(|(p, c)| *p == i && (c.sent || no_create));
        let (Some((_, c)), Some(id)) = (found, resolved.params.get(i)) else { return };
        let instance = self.instance_key(member.resource, &resolved.params, id);
        if self.touched.contains(&instance_hash(member.resource, &instance)) {
            return;
        }
        let producer = self.flow.keys.get(c.key);
        let (action, status) = (producer.action, producer.status);
        if !c.sent {
            let single = match self.flow.locations.get(producer.from) {
                Location::Body { pointer } => !pointer.contains('*'),
                Location::LocationId | Location::Header { .. } => true,
                _ => false,
            };
            let posted = self.templater.actions[action as usize].method == "POST";
            if !(posted && single && matches!(status, 201 | 202)) {
                return;
            }
            *self.made_by.entry((member.resource, action)).or_default() += 1;
        }
        self.made(session, member.resource, &instance, action, status, span);
    }

    /// Feeds the creation of `instance` by another action than its
    /// resource's create to the state machines and the owners.
    fn made(
        &mut self,
        session: u32,
        resource: usize,
        instance: &str,
        action: u32,
        status: u16,
        span: Span,
    ) {
        self.states.observe(&Event {
            resource,
            instance,
            action,
            role: Role::Create,
            label: "created",
            status,
            session,
            object: None,
            request: None,
            listed: false,
            another: false,
            bodiless: false,
            span,
        });
        self.access.touch(&Touch {
            resource,
            instance,
            session,
            action,
            status,
            created: true,
            listed: false,
            object: None,
            account: self.logins.accounts.get(&session).map(String::as_str),
            user_id: self.logins.user_ids.get(&session).map(String::as_str),
        });
    }

    /// Feeds the session's logins, role and accepted actions: a user's own
    /// answers are its login's and those of paths without parameters (`/me`).
    fn follow_user(
        &mut self,
        session: u32,
        exchange: &Exchange,
        response: &Response,
        action: usize,
        parsed: &Parsed,
    ) {
        let (request, answer) = (&parsed.request, &parsed.response);
        let id = action as u32;
        let login = self.logins.observe(session, id, exchange, response, request, answer);
        self.keys.observe(&exchange.request);
        let own = login
            || (self.templater.actions[action].params.is_empty()
                && self.templater.actions[action].method == "GET");
        if own && (200..300).contains(&response.status) {
            self.access.profile(session, answer.json());
        }
        let method = exchange.request.method.as_str();
        if (200..300).contains(&response.status) && !matches!(method, "GET" | "HEAD" | "OPTIONS") {
            // Whom a write may have let in by name: its path words, its
            // body's strings (a member to add, a user to share with).
            let access = &mut self.access;
            for word in exchange.request.path().split('/') {
                access.named(session, word);
            }
            if let Some(json) = request.json() {
                walk_leaves(json, &mut |_, leaf| {
                    if let Value::String(s) = leaf {
                        access.named(session, s);
                    }
                });
            }
            if matches!(request, ParsedBody::NonJson(_)) {
                for (_, value) in form_pairs(&exchange.request) {
                    access.named(session, &value);
                }
            }
        }
        self.access.performed(session, id, response.status);
    }

    /// Feeds what the exchange did to a resource instance to that
    /// resource's state machines.
    fn follow_instance(
        &mut self,
        session: u32,
        response: &Response,
        resolved: &Resolved<'_>,
        parsed: &Parsed,
        span: Span,
    ) {
        let action = resolved.action;
        let Some(member) = self.resources.of_action[action] else { return };
        if self.is_list(member, action, response.status) {
            self.follow_listed(session, member, resolved, response.status, parsed, span);
            return;
        }
        let Some(id) = self.instance_of(member, response, resolved, parsed) else { return };
        let instance = self.instance_key(member.resource, &resolved.params, &id);
        self.touched.insert(instance_hash(member.resource, &instance));
        // `PUT` answered `201 Created`: the instance begins here.
        let role = if member.role == Role::Update && response.status == 201 {
            self.put_creates.insert(action);
            Role::Create
        } else {
            member.role
        };
        let def = &self.resources.defs[member.resource];
        let json = parsed.response.json();
        // A `201` to an action on an instance made something else (a
        // comment on an issue): its answer is that thing, not the instance.
        let made_other = response.status == 201 && role != Role::Create;
        let object = json.filter(|_| !made_other).and_then(|json| resource_object(json, def, &id));
        let another = made_other || json.is_some_and(|json| describes_another(json, def, &id));
        self.states.observe(&Event {
            resource: member.resource,
            instance: &instance,
            action: action as u32,
            role,
            label: &self.labels[action],
            status: response.status,
            session,
            object,
            request: parsed.request.json().and_then(Value::as_object),
            listed: false,
            another,
            bodiless: matches!(parsed.request, ParsedBody::Empty) && parsed.query.is_empty(),
            span,
        });
        self.access.touch(&Touch {
            resource: member.resource,
            instance: &instance,
            session,
            action: action as u32,
            status: response.status,
            created: role == Role::Create,
            listed: false,
            object,
            account: self.logins.accounts.get(&session).map(String::as_str),
            user_id: self.logins.user_ids.get(&session).map(String::as_str),
        });
    }

    /// Whether the exchange is an accepted `GET` on a resource's collection
    /// rather than on one instance: a list.
    fn is_list(&self, member: Membership, action: usize, status: u16) -> bool {
        member.role == Role::Other
            && member.instance_param.is_none()
            && (200..300).contains(&status)
            && self.templater.actions[action].method == "GET"
    }

    /// A list is a read of every instance it shows.
    fn follow_listed(
        &mut self,
        session: u32,
        member: Membership,
        listed: &Resolved<'_>,
        status: u16,
        parsed: &Parsed,
        span: Span,
    ) {
        let action = listed.action;
        let def = &self.resources.defs[member.resource];
        let Some(json) = parsed.response.json() else { return };
        let (touched, r, params) = (&self.touched, member.resource, &listed.params);
        let known =
            |id: &str| touched.contains(&instance_hash(r, &self.instance_key(r, params, id)));
        let mut items = listed_items(json, def, &known);
        if def.parent.is_some() {
            for (id, _) in &mut items {
                *id = self.instance_key(r, params, id).into_owned();
            }
        }
        for (instance, object) in items {
            self.states.observe(&Event {
                resource: member.resource,
                instance: &instance,
                action: action as u32,
                role: Role::Read,
                label: &self.labels[action],
                status,
                session,
                object: Some(object),
                request: None,
                listed: true,
                another: false,
                bodiless: false,
                span,
            });
            self.access.touch(&Touch {
                resource: member.resource,
                instance: &instance,
                session,
                action: action as u32,
                status,
                created: false,
                listed: true,
                object: Some(object),
                account: self.logins.accounts.get(&session).map(String::as_str),
                user_id: self.logins.user_ids.get(&session).map(String::as_str),
            });
        }
    }

    /// The name an instance is known by while learning: its id, after its
    /// parents' when the resource is nested (`acme/widget/1`), so issue 1
    /// of one repository is never issue 1 of another. `params` are the
    /// request's path values, the parents' first.
    fn instance_key<'i>(&self, resource: usize, params: &[&str], id: &'i str) -> Cow<'i, str> {
        let def = &self.resources.defs[resource];
        if def.parent.is_none() {
            return Cow::Borrowed(id);
        }
        let parents = def.collection.matches('{').count();
        let mut key = String::new();
        for value in params.iter().take(parents) {
            key.push_str(value);
            key.push('/');
        }
        key.push_str(id);
        Cow::Owned(key)
    }

    /// The id of the instance an exchange acted on: for a create, from its
    /// response body (counting where it was) or its `Location`; otherwise
    /// its path parameter.
    fn instance_of(
        &mut self,
        member: Membership,
        response: &Response,
        resolved: &Resolved<'_>,
        parsed: &Parsed,
    ) -> Option<String> {
        if member.role != Role::Create {
            return member
                .instance_param
                .and_then(|i| resolved.params.get(i))
                .map(|s| s.to_string());
        }
        let def = &self.resources.defs[member.resource];
        let from_body = parsed.response.json().and_then(|json| created_id(json, def));
        let echoed = || {
            let by_key = creates_by_key(&self.templater.actions[resolved.action]);
            by_key.then(|| echoed_key(parsed.request.json()?, parsed.response.json()?)).flatten()
        };
        if let Some((id, pointer)) = from_body.or_else(echoed) {
            *self.id_pointers.entry((member.resource, pointer)).or_default() += 1;
            return Some(id);
        }
        response.headers.get_str("location").and_then(location_id).map(str::to_string)
    }
}

/// A key the client chose and the create's answer echoed under an id-named
/// field (`{"slug": "roadmap"}` sent and answered): the created instance's
/// id, and its pointer in the answer.
fn echoed_key(request: &Value, response: &Value) -> Option<(String, String)> {
    let sent = request.as_object()?;
    response.as_object()?.iter().find_map(|(k, v)| {
        let text = v.as_str().filter(|t| !t.is_empty() && is_id_name(k))?;
        (sent.get(k)?.as_str()? == text).then(|| (text.to_string(), format!("/{k}")))
    })
}

fn instance_hash(resource: usize, instance: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (resource, instance).hash(&mut h);
    h.finish()
}

/// What the flow needs of each action: whether it writes, and the
/// singular of the resource it acts on.
fn action_facts(templater: &Templater, resources: &Resources) -> Vec<ActionFacts> {
    templater
        .actions
        .iter()
        .zip(&resources.of_action)
        .map(|(a, m)| ActionFacts {
            write: !matches!(a.method.as_str(), "GET" | "HEAD" | "OPTIONS"),
            resource: m.map(|m| resources.defs[m.resource].singular.clone()),
        })
        .collect()
}

/// Whether an action's request may choose the key of what it creates: a
/// `POST` or `PUT` that is not a sign-in (a login names an account that
/// exists already).
fn creates_by_key(action: &ActionShape) -> bool {
    const SIGN_IN: [&str; 9] =
        ["login", "signin", "sign-in", "sign_in", "session", "sessions", "token", "tokens", "auth"];
    let last = action.segments.iter().rev().find_map(|s| match s {
        Segment::Literal(w) => Some(w.to_ascii_lowercase()),
        Segment::Param(_) => None,
    });
    matches!(action.method.as_str(), "POST" | "PUT")
        && !last.is_some_and(|w| SIGN_IN.contains(&w.as_str()))
}

/// The label an action gives an instance in the last-action machine.
fn label_of(method: &str, segs: &[Segment], role: Option<Role>) -> String {
    match role {
        Some(Role::Create) => "created".into(),
        Some(Role::Update) => "updated".into(),
        Some(Role::Delete) => crate::state::DELETED.into(),
        _ => match segs.last() {
            Some(Segment::Literal(verb)) => verb.clone(),
            _ => method.to_ascii_lowercase(),
        },
    }
}

/// Finishes sessions silent since before `now - idle`, earliest first, so
/// which journeys are kept does not depend on hash order.
fn finish_idle(
    sessions: &mut HashMap<String, SessionState>,
    journeys: &mut JourneyAcc,
    now: u64,
    idle: u64,
) {
    let cutoff = now.saturating_sub(idle);
    let mut done: Vec<(u64, String)> = sessions
        .iter()
        .filter(|(_, s)| s.last_seen < cutoff || now == u64::MAX)
        .map(|(k, s)| (s.steps.first().map_or(0, |st| st.exchange), k.clone()))
        .collect();
    done.sort();
    for (_, key) in done {
        if let Some(session) = sessions.remove(&key) {
            let SessionState { id, steps, cross, depends, .. } = session;
            journeys.add(Finished { key, id, steps, cross, depends });
        }
    }
}

/// The instance key a `PUT` on an instance path that answered `201`
/// created (`alice-notes` of `PUT /spaces/alice-notes`).
fn put_created_key<'p>(
    templater: &Templater,
    resources: &Resources,
    resolved: &Resolved<'p>,
    status: u16,
) -> Option<&'p str> {
    let member = resources.of_action[resolved.action]?;
    let put = templater.actions[resolved.action].method == "PUT";
    if !put || status != 201 || member.role != Role::Update {
        return None;
    }
    resolved.params.get(member.instance_param?).copied()
}
