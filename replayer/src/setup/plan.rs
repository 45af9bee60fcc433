//! From a model, its recorded exchanges and the configuration to what a run
//! can send: each journey as a [`Sequence`] bound to live values, which test
//! user each login is, how a login's answer authenticates later requests,
//! the resources with their probe reads and learned preconditions, and a
//! catalogue of one recorded request per action for inserted steps.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use venomqa_learner::{Journey, Location, Model, StateBasis};
use venomqa_traffic::{is_pseudonym, is_secret_name};

use crate::error::Error;
use crate::oracle::invariant::Invariant;
use crate::run::request::RequestTemplate;
use crate::run::sequence::{Bind, Call, SeqStep, Sequence};
use crate::setup::auth::learned_auth;
use crate::setup::config::{Config, User};
use crate::setup::evidence;
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
    /// Owners of instances not created in a sequence are known: the model
    /// knows owners by an owner field or by each user's own list, so the
    /// user whose step obtained an instance owns it.
    pub owned_by_obtainer: bool,
    /// The owner fields the model knows owners by (`owner`, `author_id`).
    pub owner_fields: Vec<String>,
    /// Anyone may read its instances (`visibility = "public"`): another
    /// user's read is no leak.
    pub public: bool,
    /// Its list reads, one per recorded query string: where an instance its
    /// read no longer shows (a soft delete) may still be seen.
    pub lists: Vec<Arc<RequestTemplate>>,
    /// A child without a read of its own: the parent's read that shows it.
    pub read_through: Option<Arc<RequestTemplate>>,
    /// A per-user singleton (`/me/preferences`): the actions that read or
    /// change it; empty for a collection.
    pub singleton: Vec<String>,
}

impl ResourceInfo {
    /// A per-user singleton at `path`, read by `read`, touched by `actions`.
    pub fn singleton(path: &str, read: Arc<RequestTemplate>, actions: Vec<String>) -> ResourceInfo {
        ResourceInfo {
            name: path.to_string(),
            id_param: String::new(),
            id_from: Location::LocationId,
            read: Some(read),
            deletes: Vec::new(),
            create: None,
            state_field: None,
            accepted: HashMap::new(),
            guarded: HashSet::new(),
            owned_by_obtainer: false,
            owner_fields: Vec::new(),
            public: false,
            lists: Vec::new(),
            read_through: None,
            singleton: actions,
        }
    }
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
    /// Request body fields that carry a secret (`password`): a write that
    /// sends one changes someone's credentials.
    pub secret_fields: Vec<String>,
    /// Where the login request carries its secrets (`/member/password`).
    pub login_secrets: Vec<Location>,
    /// The learned model, for the families that need more of it than the
    /// plan keeps (roles, children, machines, auth, body shapes).
    pub model: Arc<Model>,
}

impl Plan {
    /// The plan of a run: which actions log in and out, the resources, each
    /// journey bound to live values and test users, and the checks that the
    /// configuration fits the model.
    pub fn new(model: &Model, recorded: &Recorded, config: &Config) -> Result<Plan, Error> {
        let (login, logout) = auth_actions(model, config)?;
        let mut resources = resources(model);
        let mut planner = Planner {
            model,
            recorded,
            users: &config.users,
            resources: &resources,
            login: login.as_deref(),
            logout: logout.as_deref(),
            found: Found::default(),
        };
        for (j, journey) in model.journeys.iter().enumerate() {
            planner.journey(j, journey);
        }
        let Found { journeys, catalog, mut auth_binds, login_template, logout_template, unmatched } =
            planner.found;
        if let Some(template) = &login_template {
            check_users(template, config, unmatched)?;
        }
        if auth_binds.is_empty() {
            // No recorded request used a login's answer: the model's links say how.
            let login_links = model
                .links
                .iter()
                .filter(|l| Some(&l.producer) == login.as_ref() && !l.from_request);
            auth_binds.extend(login_links.map(|link| (link.to.clone(), link.from.clone())));
        }
        for r in &mut resources {
            r.read = probe_read(model, &catalog, &r.name);
        }
        add_evidence(model, recorded, &catalog, &mut resources);
        let (secret_fields, login_secrets) = secrets(model);
        check_invariants(&config.invariants, &resources)?;
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
            secret_fields,
            login_secrets,
            model: Arc::new(model.clone()),
        })
    }

    /// The singleton (a resource index) `action` reads or changes.
    pub fn singleton_of(&self, action: &str) -> Option<usize> {
        self.resources.iter().position(|r| r.singleton.iter().any(|a| a == action))
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

/// Which actions log in and out: `[auth]` when it names them (and then each
/// must be an action of the model), else the model's.
fn auth_actions(model: &Model, config: &Config) -> Result<(Option<String>, Option<String>), Error> {
    let learned = learned_auth(model);
    let login = config.auth.login.clone().or_else(|| learned.login.clone());
    let logout = config.auth.logout.clone().or_else(|| learned.logout.clone());
    if config.auth.login.is_some() || config.auth.logout.is_some() {
        for (key, id) in [("login", &login), ("logout", &logout)] {
            if let Some(id) = id.as_ref().filter(|id| model.action(id).is_none()) {
                return Err(Error::Setup(format!(
                    "[auth] {key} = \"{id}\" is not an action of the model"
                )));
            }
        }
    }
    Ok((login, logout))
}

/// What planning the journeys one by one gathers.
#[derive(Default)]
struct Found {
    journeys: Vec<PlannedJourney>,
    catalog: HashMap<String, Catalogued>,
    /// (where in a request, where in the login's answer) pairs seen bound.
    auth_binds: BTreeSet<(Location, Location)>,
    login_template: Option<Arc<RequestTemplate>>,
    logout_template: Option<Arc<RequestTemplate>>,
    /// Sessions whose recorded login matches no configured user.
    unmatched: usize,
}

/// Turns the model's journeys into planned ones.
struct Planner<'a> {
    model: &'a Model,
    recorded: &'a Recorded,
    users: &'a [User],
    resources: &'a [ResourceInfo],
    login: Option<&'a str>,
    logout: Option<&'a str>,
    found: Found,
}

impl Planner<'_> {
    /// One template per recorded step, bound to the steps its values come
    /// from, cut at the first step whose exchange is not at hand.
    fn journey(&mut self, j: usize, journey: &Journey) {
        let mut steps = Vec::new();
        let mut statuses = Vec::new();
        // Step index of a login → the user it logged in.
        let mut users_at: HashMap<usize, usize> = HashMap::new();
        for (s, step) in journey.steps.iter().enumerate() {
            let (Some(action), Some(exchange)) =
                (self.model.action(&step.action), self.recorded.get(step.exchange))
            else {
                tracing::debug!(journey = %journey.session, step = s, "step without its recorded exchange; the journey is cut there");
                break;
            };
            let template = Arc::new(RequestTemplate::from_exchange(action, exchange));
            let binds: Vec<Bind> = step
                .bindings
                .iter()
                .map(|b| Bind { to: b.to.clone(), origin: b.step as u32, from: b.from.clone() })
                .collect();
            let mut user = None;
            for b in &binds {
                if let Some(u) = users_at.get(&(b.origin as usize)) {
                    user = Some(*u);
                    self.found.auth_binds.insert((b.to.clone(), b.from.clone()));
                }
            }
            let is_login = self.login == Some(step.action.as_str());
            if is_login {
                let u = self.login_user(&template);
                users_at.insert(s, u);
                user = Some(u);
                self.found.login_template.get_or_insert_with(|| template.clone());
            }
            let is_logout = self.logout == Some(step.action.as_str());
            if is_logout {
                self.found.logout_template.get_or_insert_with(|| template.clone());
            }
            if (200..300).contains(&step.status) {
                let entry = self.found.catalog.entry(step.action.clone());
                entry.or_insert_with(|| (template.clone(), j, s));
            }
            let call = Call {
                template,
                binds,
                user,
                login: is_login,
                logout: is_logout,
                idem_salt: 0,
                marker: false,
                creates: self.creates(&step.action),
                acts_on: self.acts_on(&step.action),
            };
            steps.push(SeqStep::plain(s as u32, call));
            statuses.push(step.status);
        }
        self.found.journeys.push(PlannedJourney {
            name: journey.session.clone(),
            sequence: Sequence { journey: j, steps },
            statuses,
        });
    }

    /// The configured user a recorded login is; the first one when none matches.
    fn login_user(&mut self, login: &RequestTemplate) -> usize {
        match match_user(login, self.users) {
            Some(u) => u,
            None => {
                self.found.unmatched += 1;
                0
            }
        }
    }

    /// The resource whose instance `action` names last in its path, found
    /// by its collection path (two collections may share a parameter name).
    fn acts_on(&self, action: &str) -> Option<usize> {
        let template = &self.model.action(action)?.template;
        let end = template.rfind('}')? + 1;
        let instance = &template[..end];
        self.model
            .resources
            .iter()
            .position(|r| format!("{}/{{{}}}", r.collection, r.id_param) == instance)
    }

    /// The resource `action` creates.
    fn creates(&self, action: &str) -> Option<usize> {
        self.resources.iter().position(|r| r.create.as_deref() == Some(action))
    }
}

/// A recorded login needs configured users, each giving the fields the
/// recording hid.
fn check_users(login: &RequestTemplate, config: &Config, unmatched: usize) -> Result<(), Error> {
    if config.users.is_empty() {
        return Err(Error::Setup(format!(
            "the recorded journeys log in with {} but the configuration names no [users.NAME]",
            login.action
        )));
    }
    if unmatched > 0 && config.users.len() > 1 {
        tracing::info!(
            journeys = unmatched,
            "recorded logins that match no configured user replay as the first user"
        );
    }
    check_login_fields(login, &config.users)
}

/// The probe read of resource `name`: its recorded request when one was
/// accepted, else the bare action.
fn probe_read(
    model: &Model,
    catalog: &HashMap<String, Catalogued>,
    name: &str,
) -> Option<Arc<RequestTemplate>> {
    let read = model.resource(name)?.read.first()?;
    catalog
        .get(read)
        .map(|(t, _, _)| t.clone())
        .or_else(|| model.action(read).map(|a| Arc::new(RequestTemplate::bare(a))))
}

/// Fills each resource's evidence sources from the model, and appends one
/// resource a per-user singleton (after the model's resources, so their
/// indexes stay the model's).
fn add_evidence(
    model: &Model,
    recorded: &Recorded,
    catalog: &HashMap<String, Catalogued>,
    resources: &mut Vec<ResourceInfo>,
) {
    let template_of = |action: &str| {
        catalog
            .get(action)
            .map(|(t, _, _)| t.clone())
            .or_else(|| model.action(action).map(|a| Arc::new(RequestTemplate::bare(a))))
    };
    for (info, resource) in resources.iter_mut().zip(&model.resources) {
        let found = evidence::of_resource(model, recorded, resource, &template_of);
        info.owned_by_obtainer = found.owned_by_obtainer;
        info.owner_fields = found.owner_fields;
        info.public = found.public;
        info.lists = found.lists;
        info.read_through = found.read_through;
    }
    for (path, read, actions) in evidence::singletons(model, &template_of) {
        resources.push(ResourceInfo::singleton(&path, read, actions));
    }
}

/// The body fields that carry secrets, and where the login carries them:
/// the model's credential fields and pointers.
fn secrets(model: &Model) -> (Vec<String>, Vec<Location>) {
    let auth = learned_auth(model);
    let mut fields = auth.credential_fields.clone();
    for pointer in &auth.credentials {
        if let Some(last) = pointer.rsplit('/').next().filter(|l| !l.is_empty()) {
            fields.push(last.to_string());
        }
    }
    fields.sort();
    fields.dedup();
    let at = auth.credentials.iter().map(|p| Location::Body { pointer: p.clone() }).collect();
    (fields, at)
}

/// Every invariant must be about a resource of the model.
fn check_invariants(invariants: &[Invariant], resources: &[ResourceInfo]) -> Result<(), Error> {
    for inv in invariants {
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
    Ok(())
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
                owned_by_obtainer: false,
                owner_fields: Vec::new(),
                public: false,
                lists: Vec::new(),
                read_through: None,
                singleton: Vec::new(),
            }
        })
        .collect()
}
