//! From a model, its recorded exchanges and the configuration to what a run
//! can send: each journey as a [`Sequence`] bound to live values, which test
//! user each login is, how a login's answer authenticates later requests,
//! the resources with their probe reads and learned preconditions, and a
//! catalogue of one recorded request per action for inserted steps.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use venomqa_learner::{Auth, KeyAuth, Location, Model, StateBasis};

use crate::error::Error;
use crate::oracle::invariant::Invariant;
use crate::run::request::RequestTemplate;
use crate::run::sequence::Call;
use crate::setup::auth::learned_auth;
use crate::setup::config::{env_var, Config, User};
use crate::setup::evidence;
use crate::setup::identities::{fresh_account, Identities};
use crate::setup::keys::KEY_FIELD;
use crate::setup::planner::{id_location, Found, Planner};
pub(crate) use crate::setup::planner::{Catalogued, PlannedJourney};
use crate::setup::recorded::Recorded;
use crate::setup::users::{check_users, role_of, with_generated};

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
    /// Else the timestamp field whose being set is the state (`frozen_at`:
    /// `frozen` or `not-frozen`), if learned.
    pub state_stamp: Option<String>,
    /// State → actions observed accepted in it.
    pub accepted: HashMap<String, HashSet<String>>,
    /// State → actions its owner saw refused there as a conflict (`409`,
    /// `423`): the API said the state forbids them.
    pub conflicts: HashMap<String, HashSet<String>>,
    /// Actions that move the state machine (have a transition to another
    /// state): their acceptance depends on the state.
    pub guarded: HashSet<String>,
    /// Final states of a field's machine: reached from another state, never
    /// left, not a create's (`archived`, `void`). A write there that the
    /// recording never saw accepted is unexpected even when the state stays.
    pub finals: HashSet<String>,
    /// Owners of instances not created in a sequence are known: the model
    /// knows owners by an owner field or by each user's own list, so the
    /// user whose step obtained an instance owns it.
    pub owned_by_obtainer: bool,
    /// The owner fields the model knows owners by (`owner`, `author_id`).
    pub owner_fields: Vec<String>,
    /// Anyone may read its instances (`visibility = "public"`): another
    /// user's read is no leak.
    pub public: bool,
    /// When public, the states others may read it in (`published`); empty:
    /// any state.
    pub public_in: HashSet<String>,
    /// When public, a visibility member and the values others may read it
    /// with (`visibility`: `public`); empty: whatever it shows.
    pub public_by: Vec<(String, HashSet<String>)>,
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
    /// Whether an answer about an instance shows it readable by others: a
    /// visibility member with a value others were seen reading it with
    /// (`visibility: public`), or no such member learned or shown.
    pub fn public_as_shown(&self, answer: Option<&serde_json::Value>) -> bool {
        let object = answer.and_then(|a| venomqa_learner::instance_object(a, &self.name));
        self.public_by.iter().all(|(member, values)| {
            let shown = object.and_then(|o| o.get(member)).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            });
            shown.is_none_or(|v| values.contains(&v))
        })
    }

    /// The learned state an answer about an instance shows: its state
    /// field's value, or what its state timestamp says (`frozen`,
    /// `not-frozen`), at the top level or in a wrapper (`{"data": {...}}`).
    pub fn state_in(&self, answer: &serde_json::Value) -> Option<String> {
        let object = venomqa_learner::instance_object(answer, &self.name)?;
        if let Some(field) = &self.state_stamp {
            return venomqa_learner::stamp_state(field, object.get(field)?);
        }
        match object.get(self.state_field.as_ref()?)? {
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

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
            state_stamp: None,
            accepted: HashMap::new(),
            conflicts: HashMap::new(),
            guarded: HashSet::new(),
            finals: HashSet::new(),
            owned_by_obtainer: false,
            owner_fields: Vec::new(),
            public: false,
            public_in: HashSet::new(),
            public_by: Vec::new(),
            lists: Vec::new(),
            read_through: None,
            singleton: actions,
        }
    }
}

/// Everything a run needs to send requests, shared by its tasks.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The configured users, then the identities the journeys make
    /// (`User::generated`), one for each account a recorded request signed up.
    pub users: Vec<User>,
    /// A login of a configured user (of a made identity when none logs in).
    pub login: Option<Arc<RequestTemplate>>,
    /// Each user's own recorded login, by user: its shape (JSON or form) and
    /// fields are the ones that user's fields fill.
    pub logins: Vec<Option<Arc<RequestTemplate>>>,
    /// Each user's role, when the model knows it, by user.
    pub roles: Vec<Option<String>>,
    /// How the API authenticates (the model's, `[auth]` applied): what a
    /// failed login looks like.
    pub auth: Auth,
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
    /// By user: the request that signs up an identity a journey makes, sent
    /// first when that identity is wanted in a sequence it is not in.
    pub sign_ups: Vec<Option<Call>>,
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
        let auth = learned_auth(model);
        let auth = Auth { login: login.clone(), ..auth.into_owned() };
        let identities = Identities::find(model, recorded, &auth);
        let users = with_generated(&config.users, &identities);
        let key = model.auth.key.as_ref().filter(|_| login.is_none());
        if let Some(key) = key {
            check_key_users(key, config)?;
        }
        let mut planner = Planner {
            model,
            recorded,
            users: &users,
            configured: config.users.len(),
            login: login.as_deref(),
            logout: logout.as_deref(),
            fresh: identities
                .made
                .iter()
                .map(|m| (m.account.clone(), fresh_account(&m.account)))
                .collect(),
            identities: &identities,
            auth: &auth,
            key,
            found: Found::default(),
        };
        for (j, journey) in model.journeys.iter().enumerate() {
            planner.journey(j, journey);
        }
        let configured = config.users.len();
        let sign_ups = (0..users.len())
            .map(|u| u.checked_sub(configured).and_then(|m| planner.sign_up(m)))
            .collect();
        let Found {
            journeys,
            catalog,
            mut auth_binds,
            login_template,
            logout_template,
            unmatched,
            user_logins,
        } = planner.found;
        let logins: Vec<_> = (0..users.len()).map(|u| user_logins.get(&u).cloned()).collect();
        if let Some(template) = &login_template {
            check_users(template, &logins, config, unmatched)?;
        }
        let login_template = login_template.or_else(|| logins.iter().flatten().next().cloned());
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
            roles: users.iter().map(|u| role_of(model, u)).collect(),
            auth,
            users,
            login: login_template,
            logins,
            logout: logout_template,
            auth_binds: auth_binds.into_iter().collect(),
            resources,
            journeys,
            catalog,
            volatile,
            secret_fields,
            login_secrets,
            sign_ups,
            model: Arc::new(model.clone()),
        })
    }

    /// The singleton (a resource index) `action` reads or changes.
    pub fn singleton_of(&self, action: &str) -> Option<usize> {
        self.resources.iter().position(|r| r.singleton.iter().any(|a| a == action))
    }

    /// The login to send for `user`: its own recorded one, else any.
    pub fn login_of(&self, user: usize) -> Option<Arc<RequestTemplate>> {
        self.logins.get(user).cloned().flatten().or_else(|| self.login.clone())
    }

    /// Whom to send as "another user" on `owner`'s instances: a peer (in
    /// the same role when the model knows both roles), a configured user
    /// first, else an identity a journey makes whose sign-up replay can
    /// send first (`sign_ups`).
    #[cfg(test)]
    pub fn other_user(&self, owner: usize) -> Option<usize> {
        self.other_user_except(owner, |_| false)
    }

    /// [`Plan::other_user`], never one of the users `let_in` says the owner
    /// let in by name (a member the owner added).
    pub fn other_user_except(&self, owner: usize, let_in: impl Fn(usize) -> bool) -> Option<usize> {
        let n = self.users.len();
        let peers = |u: usize| match (&self.roles.get(owner), &self.roles.get(u)) {
            (Some(Some(a)), Some(Some(b))) => a == b,
            _ => true,
        };
        let others = || (1..n).map(|k| (owner + k) % n).filter(|&u| peers(u) && !let_in(u));
        others()
            .find(|&u| !self.users[u].generated)
            .or_else(|| others().find(|&u| self.sign_up(u).is_some()))
    }

    /// The accounts `user` is known by in requests: its fields that are
    /// not secrets (`bob`, `bob@example.com`), or a made identity's account.
    pub fn accounts_of(&self, user: usize) -> Vec<&str> {
        let Some(u) = self.users.get(user) else { return Vec::new() };
        u.fields
            .iter()
            .filter(|(field, _)| !venomqa_traffic::is_secret_name(field.as_bytes()))
            .map(|(_, value)| value.as_str())
            .chain(u.generated.then_some(u.name.as_str()))
            .filter(|v| v.len() > 1)
            .collect()
    }

    /// Whether `resource`'s instances belong to a role rather than a user
    /// when `a` and `b` act on them: both are in one role, only that role
    /// creates them, and it is a privileged role (fewer users than another
    /// the model knows): a catalogue staff keep together, not one
    /// librarian's books. Another staff member's write on one is no bug.
    pub fn shared_by_role(&self, resource: usize, a: usize, b: usize) -> bool {
        let (Some(Some(role)), Some(Some(other))) = (self.roles.get(a), self.roles.get(b)) else {
            return false;
        };
        let Some(create) = self.resources.get(resource).and_then(|r| r.create.as_ref()) else {
            return false;
        };
        let roles = &self.model.roles;
        let Some(mine) = roles.iter().find(|r| &r.name == role) else { return false };
        role == other
            && mine.only.contains(create)
            && roles.iter().any(|r| r.users.len() > mine.users.len())
    }

    /// The resource whose list or read `action` is: what a value its answer
    /// holds names.
    pub fn answered_by(&self, action: &str) -> Option<usize> {
        self.resources.iter().position(|r| {
            r.lists.iter().any(|t| &*t.action == action)
                || r.read.as_ref().is_some_and(|t| &*t.action == action)
        })
    }

    /// The sign-up of `user`, an identity a journey makes.
    pub fn sign_up(&self, user: usize) -> Option<&Call> {
        self.sign_ups.get(user)?.as_ref()
    }

    /// Whether accepting `action` in `state` (leaving the instance in
    /// `after`) is unexpected: the recording never saw it accepted there,
    /// and it moves the state machine, or it just moved this instance out
    /// of `state` (a renew that makes a returned loan active again), though
    /// the recording only saw it keep the state it was in, or the recording
    /// saw it refused there as a conflict (a withdrawal from a frozen
    /// account answered `409`).
    pub fn unexpected_in(
        &self,
        resource: usize,
        state: &str,
        action: &str,
        after: Option<&str>,
    ) -> bool {
        let Some(r) = self.resources.get(resource) else { return false };
        let refused_here = r.conflicts.get(state).is_some_and(|a| a.contains(action));
        let moved = r.guarded.contains(action)
            || after.is_some_and(|a| a != state)
            || r.finals.contains(state)
            || refused_here;
        moved
            && !r.deletes.iter().any(|d| d == action)
            && r.create.as_deref() != Some(action)
            && r.accepted.contains_key(state)
            && !r.accepted.get(state).is_some_and(|a| a.contains(action))
    }
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

/// An API without a login replays each configured user's own key: every
/// user must give one.
fn check_key_users(key: &KeyAuth, config: &Config) -> Result<(), Error> {
    let example =
        |name: &str| format!("{KEY_FIELD} = {{ env = \"{}\" }}", env_var(name, KEY_FIELD));
    if config.users.is_empty() {
        return Err(Error::Setup(format!(
            "the recording authenticates with a key of each user's own in the `{}` header and \
             shows no login, but the configuration names no [users.NAME]: give each test user \
             their key (e.g. [users.alice] {}; `venomqa init` writes one table per recorded key)",
            key.header,
            example("alice")
        )));
    }
    for user in &config.users {
        if !user.fields.contains_key(KEY_FIELD) {
            return Err(Error::Setup(format!(
                "user {} has no `{KEY_FIELD}`: the recording authenticates with a key of each \
                 user's own in the `{}` header, so [users.{}] must give it (e.g. {})",
                user.name,
                key.header,
                user.name,
                example(&user.name)
            )));
        }
    }
    Ok(())
}

/// The probe read of resource `name`: its recorded request when one was
/// accepted, else the bare action.
fn probe_read(
    model: &Model,
    catalog: &HashMap<String, Catalogued>,
    name: &str,
) -> Option<Arc<RequestTemplate>> {
    let read = model.resource(name)?.read.first()?;
    catalog.get(read).map(|(t, _, _)| t.clone()).or_else(|| {
        model.action(read).map(|a| Arc::new(RequestTemplate::bare(a, model.auth.scheme.as_deref())))
    })
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
        catalog.get(action).map(|(t, _, _)| t.clone()).or_else(|| {
            model
                .action(action)
                .map(|a| Arc::new(RequestTemplate::bare(a, model.auth.scheme.as_deref())))
        })
    };
    for (info, resource) in resources.iter_mut().zip(&model.resources) {
        let found = evidence::of_resource(model, recorded, resource, &template_of);
        info.owned_by_obtainer = found.owned_by_obtainer;
        info.owner_fields = found.owner_fields;
        info.public = found.public;
        info.public_in = resource.ownership.public_in.iter().cloned().collect();
        info.public_by = resource
            .ownership
            .public_by
            .iter()
            .map(|(member, values)| (member.clone(), values.iter().cloned().collect()))
            .collect();
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

fn resources(model: &Model) -> Vec<ResourceInfo> {
    model
        .resources
        .iter()
        .map(|r| {
            let machine = model.machine(&r.name);
            let mut accepted: HashMap<String, HashSet<String>> = HashMap::new();
            let mut conflicts: HashMap<String, HashSet<String>> = HashMap::new();
            let mut guarded = HashSet::new();
            let mut finals = HashSet::new();
            let (mut state_field, mut state_stamp) = (None, None);
            if let Some(m) = machine {
                if m.basis.shown_by_reads() {
                    match m.basis {
                        StateBasis::Timestamp => state_stamp = m.field.clone(),
                        _ => state_field = m.field.clone(),
                    }
                    let left = |s: &str| m.transitions.iter().any(|t| t.from == s && t.to != s);
                    finals = m
                        .transitions
                        .iter()
                        .filter(|t| {
                            t.from != t.to && !left(&t.to) && !m.initial.contains_key(&t.to)
                        })
                        .map(|t| t.to.clone())
                        .collect();
                }
                for s in &m.states {
                    accepted.insert(s.name.clone(), s.accepted.keys().cloned().collect());
                    if !s.conflicts.is_empty() {
                        conflicts.insert(s.name.clone(), s.conflicts.keys().cloned().collect());
                    }
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
                id_from: id_location(r),
                read: None,
                deletes: r.delete.clone(),
                create: r.create.clone(),
                state_field,
                state_stamp,
                conflicts,
                accepted,
                guarded,
                finals,
                owned_by_obtainer: false,
                owner_fields: Vec::new(),
                public: false,
                public_in: HashSet::new(),
                public_by: Vec::new(),
                lists: Vec::new(),
                read_through: None,
                singleton: Vec::new(),
            }
        })
        .collect()
}

/// Whether `text` (a URL, a body) holds one of `accounts` as a word of its
/// own (`/members/bob`, `"share_with":"bob"`; not `bobcat`).
pub(crate) fn names_any(text: &str, accounts: &[&str]) -> bool {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | '+');
    text.split(|c: char| !word(c)).any(|w| accounts.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(users: &[(&str, bool, Option<&str>)]) -> Plan {
        Plan {
            users: users
                .iter()
                .map(|(name, generated, _)| User {
                    name: name.to_string(),
                    fields: Default::default(),
                    generated: *generated,
                    variables: Default::default(),
                    recorded_key: None,
                })
                .collect(),
            login: None,
            logins: vec![None; users.len()],
            roles: users.iter().map(|(_, _, role)| role.map(str::to_string)).collect(),
            auth: Auth::default(),
            logout: None,
            auth_binds: Vec::new(),
            resources: Vec::new(),
            journeys: Vec::new(),
            catalog: HashMap::new(),
            volatile: HashSet::new(),
            secret_fields: Vec::new(),
            login_secrets: Vec::new(),
            sign_ups: Vec::new(),
            model: Arc::new(Model::empty()),
        }
    }

    #[test]
    fn another_user_is_never_an_identity_a_journey_made() {
        let p = plan(&[("alice", false, None), ("bob", false, None), ("ada", true, None)]);
        assert_eq!(p.other_user(0), Some(1));
        assert_eq!(p.other_user(1), Some(0), "bob's next is ada, made by a journey: skipped");
        assert_eq!(p.other_user(2), Some(0));
        let alone = plan(&[("alice", false, None), ("ada", true, None)]);
        assert_eq!(alone.other_user(0), None);
    }

    #[test]
    fn another_user_is_a_peer_when_the_model_knows_both_roles() {
        let p = plan(&[
            ("desk", false, Some("staff")),
            ("librarian", false, Some("staff")),
            ("carol", false, Some("member")),
            ("ada", true, Some("member")),
        ]);
        assert_eq!(p.other_user(0), Some(1));
        assert_eq!(p.other_user(1), Some(0), "carol is a member, not the librarian's peer");
        assert_eq!(p.other_user(3), Some(2), "ada's peer is carol, never a staff member");
        assert_eq!(p.other_user(2), None, "no other configured member");
    }

    fn template(action: &str) -> Arc<RequestTemplate> {
        Arc::new(RequestTemplate {
            action: Arc::from(action),
            method: reqwest::Method::POST,
            segments: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            idempotency_key: None,
            content_type: None,
            body: crate::run::request::BodyTemplate::None,
            credential_scheme: None,
            local: false,
        })
    }

    #[test]
    fn what_only_a_privileged_role_creates_is_the_role_s_not_a_user_s() {
        let mut p = plan(&[
            ("desk", false, Some("staff")),
            ("librarian", false, Some("staff")),
            ("ada", true, Some("member")),
            ("grace", true, Some("member")),
        ]);
        let role = |name: &str, users: &[&str], only: &[&str]| venomqa_learner::UserRole {
            name: name.to_string(),
            users: users.iter().map(|u| u.to_string()).collect(),
            only: only.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        };
        let mut model = Model::empty();
        model.roles = vec![
            role("staff", &["desk", "librarian"], &["POST /books"]),
            role("member", &["ada", "grace", "alan"], &["POST /loans"]),
        ];
        p.model = Arc::new(model);
        let resource = |create: &str| {
            let mut r = ResourceInfo::singleton("/x", template(create), Vec::new());
            r.create = Some(create.to_string());
            r
        };
        p.resources = vec![resource("POST /books"), resource("POST /loans")];
        assert!(p.shared_by_role(0, 0, 1), "staff share the books only staff add");
        assert!(!p.shared_by_role(1, 2, 3), "members are the many: a loan is one member's");
        assert!(!p.shared_by_role(0, 1, 2), "a member is not the librarian's peer");
    }

    #[test]
    fn another_user_may_be_a_made_identity_whose_sign_up_can_be_sent() {
        let mut p = plan(&[
            ("librarian", false, Some("staff")),
            ("ada", true, Some("member")),
            ("grace", true, Some("member")),
            ("alan", true, Some("member")),
        ]);
        p.sign_ups = vec![None, None, None, None];
        assert_eq!(p.other_user(1), None, "no sign-up to send: nobody");
        p.sign_ups[3] = Some(Call::login(&template("POST /members"), 3));
        assert_eq!(p.other_user(1), Some(3), "ada's peer is alan, signed up first");
        assert_eq!(p.other_user(0), None, "the librarian has no peer");
        assert_eq!(p.other_user(3), None, "alan's only signable peer is himself");
    }
}
