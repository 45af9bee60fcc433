//! The learning pipeline: two streaming passes over the exchanges.
//!
//! 1. **Templates.** Every kept path goes into the path trie, with the words
//!    each session's responses produced, so the end of the pass can decide
//!    which segments are parameters. Nothing else is kept.
//! 2. **Everything else.** Each exchange is resolved to its action, its
//!    bodies are parsed once, and the parsed values feed the action's shapes,
//!    volatility, the session's data flow and journey, and the resource's
//!    state machines.
//!
//! Memory is bounded by the number of actions, resources, instances and
//! sessions in progress, never by the number of exchanges: bodies are
//! borrowed from the exchange being looked at and dropped with it.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::Regex;
use serde_json::Value;
use venomqa_traffic::Exchange;

use crate::action::{ActionAcc, Observed};
use crate::auth::Auth;
use crate::flow::{location_id, FlowAcc, RequestValues, SessionFlow};
use crate::journey::{JourneyAcc, RawStep};
use crate::model::{Location, Model, Resource, SourceInfo, MODEL_FORMAT, MODEL_VERSION};
use crate::noise::NoiseRules;
use crate::resource::{created_id, resource_object, Resources, Role};
use crate::shape::{parse_query, ParsedBody};
use crate::state::{Event, StateAcc};
use crate::template::{harvest_words, PathTrie, Segment};
use crate::volatile::VolatileAcc;
use crate::Error;

/// How to learn; `Default` is what `venomqa learn` does without flags.
#[derive(Clone, Debug)]
pub struct LearnOptions {
    /// More exchanges to ignore: matched against `"METHOD /path"` (no query).
    pub ignore: Vec<Regex>,
    /// Ignore preflights, health checks, static assets and `/__` test hooks.
    pub default_noise: bool,
    /// Distinct words a path position may have and still be literal.
    pub max_literal_values: usize,
    /// Distinct journeys kept in the model.
    pub max_journeys: usize,
    /// A session silent this long (by exchange start times) is finished and
    /// its memory freed; matches the store's idle gap or exceeds it.
    pub session_idle_ns: u64,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            ignore: Vec::new(),
            default_noise: true,
            max_literal_values: 32,
            max_journeys: 1000,
            session_idle_ns: 60 * 60 * 1_000_000_000,
        }
    }
}

/// The result of learning: the model and what went into it.
#[derive(Clone, Debug)]
pub struct Learned {
    /// The learned model.
    pub model: Model,
    /// Counts for the user: what was learned and what was ignored.
    pub summary: LearnSummary,
}

/// What `venomqa learn` prints: how much was learned from how much traffic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LearnSummary {
    /// Exchanges read.
    pub exchanges: u64,
    /// Exchanges learned from.
    pub used: u64,
    /// Exchanges ignored, by reason (`no-response`, `health-check`, ...).
    pub ignored: BTreeMap<String, u64>,
    /// Actions learned.
    pub actions: usize,
    /// Resources found.
    pub resources: usize,
    /// Data-flow links learned.
    pub links: usize,
    /// States across all state machines.
    pub states: usize,
    /// Transitions across all state machines.
    pub transitions: usize,
    /// Distinct journeys kept.
    pub journeys: usize,
    /// Sessions seen.
    pub sessions: u64,
    /// Sessions whose journey was not kept because `max_journeys` was reached.
    pub journeys_dropped: u64,
}

impl std::fmt::Display for LearnSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "learned from {} of {} exchanges in {} sessions",
            self.used, self.exchanges, self.sessions
        )?;
        writeln!(
            f,
            "  {} actions, {} resources, {} links, {} states, {} transitions, {} journeys",
            self.actions, self.resources, self.links, self.states, self.transitions, self.journeys
        )?;
        if self.journeys_dropped > 0 {
            writeln!(
                f,
                "  {} sessions beyond the journey limit were not kept as journeys",
                self.journeys_dropped
            )?;
        }
        for (reason, n) in &self.ignored {
            writeln!(f, "  ignored {n}: {reason}")?;
        }
        Ok(())
    }
}

/// Per-session state of the second pass.
#[derive(Debug)]
struct SessionState {
    id: u32,
    flow: SessionFlow,
    steps: Vec<RawStep>,
    last_seen: u64,
}

fn join_counts(counts: &BTreeMap<String, u64>) -> String {
    counts.iter().map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", ")
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

pub(crate) fn learn<I: Iterator<Item = Exchange>>(
    exchanges: impl Fn() -> I,
    options: &LearnOptions,
) -> Result<Learned, Error> {
    let noise = NoiseRules::new(options.default_noise, &options.ignore);

    // Pass 1: templates.
    let mut trie = PathTrie::default();
    let mut words: HashMap<String, HashSet<String>> = HashMap::new();
    let (mut total, mut used) = (0u64, 0u64);
    let mut ignored: BTreeMap<String, u64> = BTreeMap::new();
    let mut error_kinds: BTreeMap<String, u64> = BTreeMap::new();
    for exchange in exchanges() {
        total += 1;
        let Some(response) = &exchange.response else {
            *ignored.entry("no-response".into()).or_default() += 1;
            let kind = exchange.error.as_ref().map_or("unknown", |e| e.kind.as_str());
            *error_kinds.entry(kind.to_string()).or_default() += 1;
            continue;
        };
        let method = exchange.request.method.to_ascii_uppercase();
        let path = exchange.request.path();
        if let Some(reason) = noise.reason(&method, path) {
            *ignored.entry(reason).or_default() += 1;
            continue;
        }
        used += 1;
        let produced = words.get(exchange.session.as_str());
        trie.insert(&method, path, &|w| produced.is_some_and(|p| p.contains(w)));
        if (200..400).contains(&response.status) {
            let mut mine = words.remove(exchange.session.as_str()).unwrap_or_default();
            harvest_words(&exchange, &mut mine);
            if !mine.is_empty() {
                words.insert(exchange.session.0.clone(), mine);
            }
        }
    }
    if total == 0 {
        return Err(Error::Empty);
    }
    if used == 0 {
        if ignored.len() == 1 && ignored.contains_key("no-response") {
            return Err(Error::OnlyErrors { total, kinds: join_counts(&error_kinds) });
        }
        return Err(Error::AllIgnored { total, reasons: join_counts(&ignored) });
    }
    drop(words);
    let templater = trie.finish(options.max_literal_values);
    let shapes = &templater.actions;
    let action_ids: Vec<String> = shapes.iter().map(|a| a.id.clone()).collect();
    let resources = Resources::derive(shapes);
    let labels: Vec<String> = shapes
        .iter()
        .zip(&resources.of_action)
        .map(|(a, m)| label_of(&a.method, &a.segments, m.map(|m| m.role)))
        .collect();

    // Pass 2: actions, flow, journeys, states.
    let mut actions: Vec<ActionAcc> = shapes.iter().map(|_| ActionAcc::default()).collect();
    let mut volatile = VolatileAcc::default();
    let mut flow = FlowAcc::default();
    let mut states = StateAcc::new(resources.defs.len());
    let mut journeys = JourneyAcc::new(options.max_journeys);
    let mut sessions: HashMap<String, SessionState> = HashMap::new();
    let mut session_ids: HashMap<String, u32> = HashMap::new();
    let mut id_pointers: BTreeMap<(usize, String), u64> = BTreeMap::new();
    let mut source = SourceInfo { exchanges: total, ..SourceInfo::default() };
    let mut unstable = 0u64;
    let mut since_sweep = 0u64;
    for exchange in exchanges() {
        let Some(response) = &exchange.response else { continue };
        let method = exchange.request.method.to_ascii_uppercase();
        let path = exchange.request.path();
        if noise.reason(&method, path).is_some() {
            continue;
        }
        let Some(resolved) = templater.resolve(&method, path) else {
            unstable += 1;
            continue;
        };
        let a = resolved.action;
        let shape = &shapes[a];
        source.used += 1;
        source.first_exchange =
            Some(source.first_exchange.map_or(exchange.id, |f| f.min(exchange.id)));
        source.last_exchange =
            Some(source.last_exchange.map_or(exchange.id, |l| l.max(exchange.id)));
        let query = exchange.request.query().map(parse_query).unwrap_or_default();
        let request_body = ParsedBody::parse(
            &exchange.request.body.bytes,
            exchange.request.body.truncated,
            exchange.request.headers.get_str("content-type"),
        );
        let response_body = ParsedBody::parse(
            &response.body.bytes,
            response.body.truncated,
            response.headers.get_str("content-type"),
        );
        let status = response.status;
        actions[a].observe(&Observed {
            exchange: exchange.id,
            request: &exchange.request,
            query: &query,
            request_body: &request_body,
            status,
            response_body: &response_body,
        });
        volatile.observe(a as u32, &response_body, &response.headers);

        // Sweeping costs one look at every open session, so sweep no more
        // often than once per that many exchanges: amortised O(1).
        since_sweep += 1;
        if since_sweep >= 4096.max(sessions.len() as u64) {
            since_sweep = 0;
            finish_idle(&mut sessions, &mut journeys, exchange.started_at, options.session_idle_ns);
        }
        if !sessions.contains_key(exchange.session.as_str()) {
            let next = session_ids.len() as u32;
            let id = *session_ids.entry(exchange.session.0.clone()).or_insert(next);
            let state =
                SessionState { id, flow: SessionFlow::default(), steps: Vec::new(), last_seen: 0 };
            sessions.insert(exchange.session.0.clone(), state);
        }
        let Some(session) = sessions.get_mut(exchange.session.as_str()) else { continue };
        session.last_seen = session.last_seen.max(exchange.started_at);
        let step = session.steps.len() as u32;
        let values = RequestValues {
            param_names: shape.params.iter().map(|p| p.name.as_str()).collect(),
            params: &resolved.params,
            query: &query,
            body: &request_body,
            request: &exchange.request,
        };
        let bindings = flow.consume(&session.flow, session.id, a as u32, &values);
        session.steps.push(RawStep {
            action: a as u32,
            status,
            exchange: exchange.id,
            bindings: bindings.into(),
        });
        if (200..400).contains(&status) {
            flow.produce(
                &mut session.flow,
                step,
                a as u32,
                status,
                &response_body,
                &response.headers,
            );
        }

        let Some(member) = resources.of_action[a] else { continue };
        let def = &resources.defs[member.resource];
        let instance = match member.role {
            Role::Create => response_body
                .json()
                .and_then(|json| created_id(json, def))
                .map(|(id, pointer)| {
                    *id_pointers.entry((member.resource, pointer)).or_default() += 1;
                    id
                })
                .or_else(|| {
                    response.headers.get_str("location").and_then(location_id).map(str::to_string)
                }),
            _ => member.instance_param.and_then(|i| resolved.params.get(i)).map(|s| s.to_string()),
        };
        let Some(instance) = instance else { continue };
        let object = response_body.json().and_then(|json| resource_object(json, def, &instance));
        states.observe(&Event {
            resource: member.resource,
            instance: &instance,
            action: a as u32,
            role: member.role,
            label: &labels[a],
            status,
            session: session.id,
            object,
            request: request_body.json().and_then(Value::as_object),
        });
    }
    finish_idle(&mut sessions, &mut journeys, u64::MAX, 0);
    if unstable > 0 {
        ignored.insert("changed-between-passes".into(), unstable);
    }
    source.sessions = journeys.sessions;

    // The model.
    let links = flow.finish(&action_ids);
    let model_actions: Vec<_> =
        shapes.iter().zip(&actions).map(|(s, acc)| acc.finish(s, &links)).collect();
    let names: Vec<String> = resources.defs.iter().map(|d| d.name.clone()).collect();
    let finished = states.finish(&names, &action_ids);
    let mut model_resources = Vec::new();
    for (r, def) in resources.defs.iter().enumerate() {
        let of_role = |role: Role| -> Vec<String> {
            resources
                .of_action
                .iter()
                .enumerate()
                .filter(|(_, m)| m.is_some_and(|m| m.resource == r && m.role == role))
                .map(|(i, _)| action_ids[i].clone())
                .collect()
        };
        let create = of_role(Role::Create).into_iter().next();
        let id_pointer = create
            .as_ref()
            .and_then(|c| {
                links.iter().find_map(|l| match (&l.to, &l.from) {
                    (Location::Path { name }, Location::Body { pointer })
                        if l.producer == *c && *name == def.id_param && !pointer.contains('*') =>
                    {
                        Some(pointer.clone())
                    }
                    _ => None,
                })
            })
            .or_else(|| {
                id_pointers
                    .iter()
                    .filter(|((res, _), _)| *res == r)
                    .max_by_key(|(_, n)| **n)
                    .map(|((_, p), _)| p.clone())
            });
        model_resources.push(Resource {
            name: def.name.clone(),
            collection: def.collection.clone(),
            id_param: def.id_param.clone(),
            parent: def.parent.map(|p| resources.defs[p].name.clone()),
            create,
            id_pointer,
            read: of_role(Role::Read),
            update: of_role(Role::Update),
            delete: of_role(Role::Delete),
            other: of_role(Role::Other),
            ownership: finished
                .iter()
                .find(|(i, _, _)| *i == r)
                .map(|(_, _, o)| o.clone())
                .unwrap_or_default(),
        });
    }
    model_resources.sort_by(|a, b| a.name.cmp(&b.name));
    let mut machines: Vec<_> = finished.into_iter().map(|(_, m, _)| m).collect();
    machines.sort_by(|a, b| a.resource.cmp(&b.resource));
    let mut model = Model {
        format: MODEL_FORMAT.to_string(),
        version: MODEL_VERSION,
        source,
        actions: model_actions,
        resources: model_resources,
        links,
        machines,
        journeys: journeys.finish(&action_ids, &flow.locations),
        volatile: volatile.finish(&action_ids),
        auth: Auth::default(),
    };
    model.auth = Auth::infer(&model);
    let summary = LearnSummary {
        exchanges: total,
        used: model.source.used,
        ignored,
        actions: model.actions.len(),
        resources: model.resources.len(),
        links: model.links.len(),
        states: model.machines.iter().map(|m| m.states.len()).sum(),
        transitions: model.machines.iter().map(|m| m.transitions.len()).sum(),
        journeys: model.journeys.len(),
        sessions: journeys.sessions,
        journeys_dropped: journeys.dropped,
    };
    Ok(Learned { model, summary })
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
            journeys.add(key, session.steps);
        }
    }
}
