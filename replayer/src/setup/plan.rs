//! From a model, its recorded exchanges and the configuration to what a run
//! can send: each journey as a [`Sequence`] bound to live values, which test
//! user each login is, how a login's answer authenticates later requests,
//! the resources with their probe reads and learned preconditions, and a
//! catalogue of one recorded request per action for inserted steps.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use venomqa_learner::{Location, Model, StateBasis};
use venomqa_traffic::{is_pseudonym, is_secret_name};

use crate::error::Error;
use crate::run::request::RequestTemplate;
use crate::run::sequence::{Bind, Call, SeqStep, Sequence};
use crate::setup::auth::learned_auth;
use crate::setup::config::{Config, User};
use crate::setup::recorded::Recorded;

/// A resource as the engine uses it.
#[derive(Debug)]
pub(crate) struct ResourceInfo {
    pub name: String,
    pub id_param: String,
    /// Where the create's answer holds the new id.
    pub id_from: Location,
    /// The read of one instance, for probes.
    pub read: Option<Arc<RequestTemplate>>,
    pub deletes: Vec<String>,
    pub create: Option<String>,
    /// The enum-like field holding the state, if learned.
    pub state_field: Option<String>,
    /// State → actions observed accepted in it.
    pub accepted: HashMap<String, HashSet<String>>,
    /// Actions that move the state machine (have a transition to another
    /// state): their acceptance depends on the state.
    pub guarded: HashSet<String>,
}

/// One journey, ready to replay.
#[derive(Debug)]
pub(crate) struct PlannedJourney {
    pub name: String,
    pub sequence: Sequence,
    /// The recorded status of each step.
    pub statuses: Vec<u16>,
}

/// A recorded request of an action: its template, journey and step.
pub(crate) type Catalogued = (Arc<RequestTemplate>, usize, usize);

/// Everything a run needs to send requests, shared by its tasks.
#[derive(Debug)]
pub(crate) struct Plan {
    pub users: Vec<User>,
    pub login: Option<Arc<RequestTemplate>>,
    pub logout: Option<Arc<RequestTemplate>>,
    /// How a login's answer authenticates: (where in a request, where in the login's answer).
    pub auth_binds: Vec<(Location, Location)>,
    pub resources: Vec<ResourceInfo>,
    pub journeys: Vec<PlannedJourney>,
    /// One recorded request per action (the first accepted one), with the
    /// bindings it had in its journey: (template, journey, step).
    pub catalog: HashMap<String, Catalogued>,
    /// (action, JSON pointer) of response values that change on every call.
    pub volatile: HashSet<(String, String)>,
}

impl Plan {
    pub fn new(model: &Model, recorded: &Recorded, config: &Config) -> Result<Plan, Error> {
        let learned = learned_auth(model);
        let login_id = config.auth.login.clone().or_else(|| learned.login.clone());
        let logout_id = config.auth.logout.clone().or_else(|| learned.logout.clone());
        for (key, id) in [("login", &login_id), ("logout", &logout_id)] {
            if let (Some(id), true) =
                (id, config.auth.login.is_some() || config.auth.logout.is_some())
            {
                if model.action(id).is_none() {
                    return Err(Error::Setup(format!(
                        "[auth] {key} = \"{id}\" is not an action of the model"
                    )));
                }
            }
        }

        let resources = resources(model);
        let acts_on = |action: &str| -> Option<usize> {
            let template = &model.action(action)?.template;
            let last = template.rsplit('{').next().filter(|_| template.contains('{'))?;
            let param = last.split('}').next()?;
            resources.iter().position(|r| r.id_param == param)
        };
        let creates =
            |action: &str| resources.iter().position(|r| r.create.as_deref() == Some(action));

        // One template per recorded step, and the catalogue.
        let mut journeys = Vec::new();
        let mut catalog: HashMap<String, Catalogued> = HashMap::new();
        let mut auth_binds: BTreeSet<(Location, Location)> = BTreeSet::new();
        let mut login_template = None;
        let mut logout_template = None;
        let mut unmatched_logins = Vec::new();
        for (j, journey) in model.journeys.iter().enumerate() {
            let mut steps = Vec::new();
            let mut statuses = Vec::new();
            let mut users_at: HashMap<usize, usize> = HashMap::new();
            for (s, step) in journey.steps.iter().enumerate() {
                let (Some(action), Some(exchange)) =
                    (model.action(&step.action), recorded.get(step.exchange))
                else {
                    tracing::debug!(journey = %journey.session, step = s, "step without its recorded exchange; the journey is cut there");
                    break;
                };
                let template = Arc::new(RequestTemplate::from_exchange(action, exchange));
                let is_login = login_id.as_deref() == Some(step.action.as_str());
                let binds: Vec<Bind> = step
                    .bindings
                    .iter()
                    .map(|b| Bind { to: b.to.clone(), origin: b.step as u32, from: b.from.clone() })
                    .collect();
                let mut user = None;
                for b in &binds {
                    if let Some(u) = users_at.get(&(b.origin as usize)) {
                        user = Some(*u);
                        auth_binds.insert((b.to.clone(), b.from.clone()));
                    }
                }
                if is_login {
                    let matched = match_user(&template, &config.users);
                    if matched.is_none() {
                        unmatched_logins.push(journey.session.clone());
                    }
                    let u = matched.unwrap_or(0);
                    users_at.insert(s, u);
                    user = Some(u);
                    login_template.get_or_insert_with(|| template.clone());
                }
                let is_logout = logout_id.as_deref() == Some(step.action.as_str());
                if is_logout {
                    logout_template.get_or_insert_with(|| template.clone());
                }
                if (200..300).contains(&step.status) {
                    catalog.entry(step.action.clone()).or_insert_with(|| (template.clone(), j, s));
                }
                let call = Call {
                    template,
                    binds,
                    user,
                    login: is_login,
                    logout: is_logout,
                    idem_salt: 0,
                    marker: false,
                    creates: creates(&step.action),
                    acts_on: acts_on(&step.action),
                };
                steps.push(SeqStep::plain(s as u32, call));
                statuses.push(step.status);
            }
            journeys.push(PlannedJourney {
                name: journey.session.clone(),
                sequence: Sequence { journey: j, steps },
                statuses,
            });
        }
        if login_template.is_some() && config.users.is_empty() {
            return Err(Error::Setup(format!(
                "the recorded journeys log in with {} but the configuration names no [users.NAME]",
                login_id.as_deref().unwrap_or("a login")
            )));
        }
        if !unmatched_logins.is_empty() && config.users.len() > 1 {
            tracing::info!(
                journeys = unmatched_logins.len(),
                "recorded logins that match no configured user replay as the first user"
            );
        }
        if let Some(login) = &login_template {
            check_login_fields(login, &config.users)?;
        }
        if auth_binds.is_empty() {
            if let Some(login) = &login_id {
                for link in model.links.iter().filter(|l| &l.producer == login) {
                    auth_binds.insert((link.to.clone(), link.from.clone()));
                }
            }
        }
        let mut resources = resources;
        for r in &mut resources {
            if let Some(read) = model.resource(&r.name).and_then(|m| m.read.first()) {
                r.read = catalog
                    .get(read)
                    .map(|(t, _, _)| t.clone())
                    .or_else(|| model.action(read).map(|a| Arc::new(RequestTemplate::bare(a))));
            }
        }
        for inv in &config.invariants {
            if !resources.iter().any(|r| r.name == inv.resource) {
                let names: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
                return Err(Error::Setup(format!(
                    "invariant \"{}\" is about `{}`, which the model does not know; its resources are: {}",
                    inv.name,
                    inv.resource,
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                )));
            }
        }
        let volatile = model
            .volatile
            .iter()
            .filter_map(|v| match &v.at {
                Location::Body { pointer } => Some((v.action.clone(), pointer.clone())),
                _ => None,
            })
            .collect();
        Ok(Plan {
            users: config.users.clone(),
            login: login_template,
            logout: logout_template,
            auth_binds: auth_binds.into_iter().collect(),
            resources,
            journeys,
            catalog,
            volatile,
        })
    }

    /// Whether `action` moves `resource`'s state machine and was never seen
    /// accepted in `state`: accepting it there is unexpected.
    pub fn unexpected_in(&self, resource: usize, state: &str, action: &str) -> bool {
        let Some(r) = self.resources.get(resource) else { return false };
        r.guarded.contains(action)
            && !r.deletes.iter().any(|d| d == action)
            && r.create.as_deref() != Some(action)
            && !r.accepted.get(state).is_some_and(|a| a.contains(action))
    }
}

/// Which configured user a recorded login was: the one whose fields equal
/// every readable (not pseudonymised, not secret) field of the recorded body.
fn match_user(login: &RequestTemplate, users: &[User]) -> Option<usize> {
    let visible: Vec<(String, String)> = login
        .body
        .fields()
        .into_iter()
        .filter(|(k, v)| !is_pseudonym(v.as_bytes()) && !is_secret_name(k.as_bytes()))
        .collect();
    if visible.is_empty() {
        return None;
    }
    users.iter().position(|u| visible.iter().all(|(k, v)| u.fields.get(k) == Some(v)))
}

/// Every user must give each field the recording hid.
fn check_login_fields(login: &RequestTemplate, users: &[User]) -> Result<(), Error> {
    for (field, value) in login.body.fields() {
        if !is_pseudonym(value.as_bytes()) {
            continue;
        }
        if let Some(user) = users.iter().find(|u| !u.fields.contains_key(&field)) {
            return Err(Error::Setup(format!(
                "user {} has no `{field}`: the recorded {} hid it, so [users.{}] must give it (e.g. {field} = {{ env = \"{}\" }})",
                user.name,
                login.action,
                user.name,
                crate::setup::config::env_var(&user.name, &field)
            )));
        }
    }
    Ok(())
}

fn resources(model: &Model) -> Vec<ResourceInfo> {
    model
        .resources
        .iter()
        .map(|r| {
            let machine = model.machine(&r.name);
            let mut accepted: HashMap<String, HashSet<String>> = HashMap::new();
            let mut guarded = HashSet::new();
            let mut state_field = None;
            if let Some(m) = machine {
                if m.basis == StateBasis::Field {
                    state_field = m.field.clone();
                }
                for s in &m.states {
                    accepted.insert(s.name.clone(), s.accepted.keys().cloned().collect());
                }
                for t in &m.transitions {
                    if t.from != t.to {
                        guarded.insert(t.action.clone());
                    }
                }
            }
            ResourceInfo {
                name: r.name.clone(),
                id_param: r.id_param.clone(),
                id_from: r
                    .id_pointer
                    .clone()
                    .map_or(Location::LocationId, |pointer| Location::Body { pointer }),
                read: None,
                deletes: r.delete.clone(),
                create: r.create.clone(),
                state_field,
                accepted,
                guarded,
            }
        })
        .collect()
}
