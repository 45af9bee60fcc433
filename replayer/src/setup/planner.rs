//! Planning the journeys one by one: each recorded step a template bound
//! to the steps its values come from, each login bound to the user it logs
//! in (a configured one, or an identity a journey made, whose sign-up comes
//! first when the journey did not make it), and one recorded request per
//! action for inserted steps.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use venomqa_learner::{Auth, Journey, KeyAuth, Location, Model, Step as JourneyStep};
use venomqa_traffic::strip_bom;

use crate::run::request::{RequestTemplate, Segment};
use crate::run::sequence::{Bind, Call, SeqStep, Sequence};
use crate::setup::config::User;
use crate::setup::identities::{
    account_location, login_account, pseudonyms, recorded_login_failed, replace_secret,
    rewrite_account, strings, Identities,
};
use crate::setup::keys::{key_answer, key_location, key_login, recorded_key, user_of_key};
use crate::setup::recorded::Recorded;
use crate::setup::users::match_user;

/// One journey, ready to replay.
#[derive(Debug)]
pub(crate) struct PlannedJourney {
    pub name: String,
    pub sequence: Sequence,
    /// The recorded status of each step.
    pub statuses: Vec<u16>,
    /// Steps before the recorded ones: sign-ups of identities it logs in
    /// as but another journey made.
    pub lead: usize,
    /// Identity (index into the made ones) → the step that signs it up.
    pub made_at: HashMap<usize, usize>,
    /// Steps of other journeys in front of its own (its producers, whose
    /// values or instances it uses): the world it needs, kept by every cut.
    /// Origins below this are theirs.
    pub world: u32,
}

/// A recorded request of an action: its template, journey and step.
pub(crate) type Catalogued = (Arc<RequestTemplate>, usize, usize);

/// What planning the journeys one by one gathers.
#[derive(Default)]
pub(super) struct Found {
    pub(super) journeys: Vec<PlannedJourney>,
    pub(super) catalog: HashMap<String, Catalogued>,
    /// (where in a request, where in the login's answer) pairs seen bound.
    pub(super) auth_binds: BTreeSet<(Location, Location)>,
    /// The first accepted login of a configured user.
    pub(super) login_template: Option<Arc<RequestTemplate>>,
    pub(super) logout_template: Option<Arc<RequestTemplate>>,
    /// Sessions whose recorded login matches no configured user.
    pub(super) unmatched: usize,
    /// Each user's first accepted recorded login.
    pub(super) user_logins: HashMap<usize, Arc<RequestTemplate>>,
}

/// Turns the model's journeys into planned ones.
pub(super) struct Planner<'a> {
    pub(super) model: &'a Model,
    pub(super) recorded: &'a Recorded,
    /// Configured users, then generated ones.
    pub(super) users: &'a [User],
    /// How many of `users` are configured.
    pub(super) configured: usize,
    pub(super) login: Option<&'a str>,
    pub(super) logout: Option<&'a str>,
    pub(super) auth: &'a Auth,
    /// With no login: the per-user key requests carry.
    pub(super) key: Option<&'a KeyAuth>,
    pub(super) identities: &'a Identities,
    /// Each made account and the value replay sends in its place.
    pub(super) fresh: Vec<(String, String)>,
    pub(super) found: Found,
}

/// One journey while it is planned.
#[derive(Default)]
struct Planning {
    steps: Vec<SeqStep>,
    /// The recorded status of each step.
    statuses: Vec<u16>,
    /// Position of the request that made an identity, by its index.
    made_at: HashMap<usize, usize>,
    /// Position of a login → the user it logged in.
    users_at: HashMap<usize, usize>,
    /// (resource, key) → the create whose recorded answer echoed the key
    /// the client chose for it (`{"slug": "kindred"}`).
    echoed: HashMap<(usize, String), usize>,
    /// A recorded per-user key → the position of its stand-in login.
    key_logins: HashMap<String, usize>,
}

impl Planning {
    /// Appends a step; its origin is its position.
    fn push(&mut self, call: Call, status: u16) {
        self.steps.push(SeqStep::plain(self.steps.len() as u32, call));
        self.statuses.push(status);
    }
}

/// What a recorded login step is, for replay.
enum LoginKind {
    /// Not a login (or one the recording saw fail): sent as recorded.
    NotLogin,
    /// A login of a configured user: its fields fill the body.
    Configured,
    /// A login of the identity made at `Identities::made[_]`.
    Made(usize),
}

impl Planner<'_> {
    /// One template per recorded step, bound to the steps its values come
    /// from, cut at the first step whose exchange is not at hand. The
    /// sign-ups of identities it logs in as but does not make come first.
    pub(super) fn journey(&mut self, j: usize, journey: &Journey) {
        let mut planning = Planning::default();
        for m in self.borrowed_sign_ups(j, journey) {
            let made = &self.identities.made[m];
            let step = &self.model.journeys[made.journey].steps[made.step];
            let Some(template) = self.template(&step.action, step.exchange) else { continue };
            planning.made_at.insert(m, planning.steps.len());
            let mut call = self.call(template, Vec::new(), &step.action);
            call.user = Some(self.configured + m);
            planning.push(call, step.status);
        }
        self.key_logins(journey, &mut planning);
        let offset = planning.steps.len();
        for (s, step) in journey.steps.iter().enumerate() {
            let Some(template) = self.template(&step.action, step.exchange) else {
                tracing::debug!(journey = %journey.session, step = s, "step without its recorded exchange; the journey is cut there");
                break;
            };
            let made = self.identities.made.iter().position(|m| (m.journey, m.step) == (j, s));
            if let Some(m) = made {
                planning.made_at.insert(m, s + offset);
            }
            let mut call = self.step(step, template, offset, &mut planning);
            // A sign-up is its identity's: the account it creates is theirs.
            if let Some(m) = made {
                call.user = Some(self.configured + m);
            }
            self.bind_echoed_key(&mut call, step, &mut planning);
            if (200..300).contains(&step.status) {
                let entry = self.found.catalog.entry(step.action.clone());
                entry.or_insert_with(|| (call.template.clone(), j, s + offset));
            }
            planning.push(call, step.status);
        }
        self.found.journeys.push(PlannedJourney {
            name: journey.session.clone(),
            sequence: Sequence { journey: j, steps: planning.steps },
            statuses: planning.statuses,
            lead: offset,
            made_at: planning.made_at,
            world: 0,
        });
    }

    /// With per-user keys: a stand-in login for each key the journey's
    /// requests carried, in order of first use, as the configured user
    /// that key is (the first one when none is).
    fn key_logins(&mut self, journey: &Journey, planning: &mut Planning) {
        let Some(key) = self.key else { return };
        let template = key_login(key);
        for step in &journey.steps {
            let Some(exchange) = self.recorded.get(step.exchange) else { continue };
            let Some(recorded) = recorded_key(exchange, key) else { continue };
            if planning.key_logins.contains_key(&recorded) {
                continue;
            }
            let configured = &self.users[..self.configured];
            let user =
                user_of_key(&recorded, configured, self.recorded.redactor()).unwrap_or_else(|| {
                    self.found.unmatched += 1;
                    0
                });
            let at = planning.steps.len();
            planning.users_at.insert(at, user);
            planning.key_logins.insert(recorded, at);
            self.found.user_logins.entry(user).or_insert_with(|| template.clone());
            self.found.login_template.get_or_insert_with(|| template.clone());
            planning.push(Call::login(&template, user), 200);
        }
    }

    /// The binding of a recorded request's per-user key to its stand-in login.
    fn key_bind(&self, step: &JourneyStep, planning: &Planning) -> Option<Bind> {
        let key = self.key?;
        let recorded = recorded_key(self.recorded.get(step.exchange)?, key)?;
        let at = *planning.key_logins.get(&recorded)?;
        Some(Bind { to: key_location(key), origin: at as u32, from: key_answer() })
    }

    /// A path naming an instance by the key its client chose, which the
    /// instance's create (earlier in the journey) answered back: the path is
    /// bound to that answer, so the step is known to act on the instance the
    /// create made (a key the client chose is otherwise sent as recorded).
    /// A create's echoed key is remembered for the steps after it.
    fn bind_echoed_key(&self, call: &mut Call, step: &JourneyStep, planning: &mut Planning) {
        let at = planning.steps.len();
        if let Some(r) = call.acts_on {
            let param = &self.model.resources[r].id_param;
            let to = Location::Path { name: param.clone() };
            let recorded = call.template.segments.iter().find_map(|seg| match seg {
                Segment::Param { name, recorded } if name == param => Some(recorded.clone()),
                _ => None,
            });
            let create = recorded.and_then(|key| planning.echoed.get(&(r, key)).copied());
            if let (Some(create), false) = (create, call.binds.iter().any(|b| b.to == to)) {
                let pointer = self.model.resources[r].id_pointer.clone().unwrap_or_default();
                let from = Location::Body { pointer };
                call.binds.push(Bind { to, origin: create as u32, from });
            }
        }
        let Some(r) = call.creates.filter(|_| (200..300).contains(&step.status)) else { return };
        let Some(pointer) = self.model.resources[r].id_pointer.as_deref() else { return };
        let Some(exchange) = self.recorded.get(step.exchange) else { return };
        let Some(response) = &exchange.response else { return };
        let json: Option<serde_json::Value> =
            serde_json::from_slice(strip_bom(&response.body.bytes)).ok();
        let key = json.as_ref().and_then(|j| j.pointer(pointer)).and_then(|v| v.as_str());
        if let Some(key) = key {
            planning.echoed.insert((r, key.to_string()), at);
        }
    }

    /// The request that signs up made identity `m` (sent as theirs), bound
    /// to nothing: what replay sends first to have that identity in a
    /// sequence it is not in.
    pub(super) fn sign_up(&self, m: usize) -> Option<Call> {
        let made = self.identities.made.get(m)?;
        let step = self.model.journeys.get(made.journey)?.steps.get(made.step)?;
        let template = self.template(&step.action, step.exchange)?;
        let mut call = self.call(template, Vec::new(), &step.action);
        call.user = Some(self.configured + m);
        Some(call)
    }

    /// The call of one recorded step, which comes `offset` steps later in
    /// the planned journey: its bindings, whose credentials it carries, and
    /// whom it logs in.
    fn step(
        &mut self,
        step: &JourneyStep,
        template: Arc<RequestTemplate>,
        offset: usize,
        planning: &mut Planning,
    ) -> Call {
        let at = planning.steps.len();
        let mut binds: Vec<Bind> = step
            .bindings
            .iter()
            .map(|b| Bind {
                to: b.to.clone(),
                origin: (b.step + offset) as u32,
                from: b.from.clone(),
            })
            .collect();
        binds.extend(self.key_bind(step, planning));
        let mut user = None;
        for b in &binds {
            if let Some(u) = planning.users_at.get(&(b.origin as usize)) {
                user = Some(*u);
                // A login's answer authenticates through headers and cookies;
                // a path or body value from it (`/member/id`) names something.
                let credential = matches!(
                    b.to,
                    Location::Cookie { .. } | Location::Bearer | Location::Header { .. }
                );
                if credential {
                    self.found.auth_binds.insert((b.to.clone(), b.from.clone()));
                }
            }
        }
        let kind = self.login_kind(step);
        let mut template = template;
        if let LoginKind::Made(m) = kind {
            binds.extend(self.account_bind(m, planning.made_at.get(&m).copied(), &template));
            template = self.with_signed_up_secret(m, template, planning);
        }
        let logged_in = match kind {
            LoginKind::NotLogin => None,
            LoginKind::Configured => Some(self.login_user(&template)),
            LoginKind::Made(m) => Some(self.configured + m),
        };
        if let Some(u) = logged_in {
            planning.users_at.insert(at, u);
            user = Some(u);
            if (200..300).contains(&step.status) {
                self.found.user_logins.entry(u).or_insert_with(|| template.clone());
            }
            if matches!(kind, LoginKind::Configured) {
                self.found.login_template.get_or_insert_with(|| template.clone());
            }
        }
        let mut call = self.call(template, binds, &step.action);
        if call.logout {
            self.found.logout_template.get_or_insert_with(|| call.template.clone());
        }
        call.login = logged_in.is_some();
        call.user = user;
        call
    }

    /// The recorded request of `action` at `exchange`, every made account in
    /// it replaced by its fresh stand-in.
    fn template(&self, action: &str, exchange: u64) -> Option<Arc<RequestTemplate>> {
        let (action, exchange) = (self.model.action(action)?, self.recorded.get(exchange)?);
        let mut template = RequestTemplate::from_exchange(action, exchange);
        for (account, fresh) in &self.fresh {
            rewrite_account(&mut template, account, fresh);
        }
        Some(Arc::new(template))
    }

    /// A plain call of `template`.
    fn call(&self, template: Arc<RequestTemplate>, binds: Vec<Bind>, action: &str) -> Call {
        Call {
            template,
            binds,
            user: None,
            login: false,
            logout: self.logout == Some(action),
            idem_salt: 0,
            marker: false,
            creates: self.creates(action),
            acts_on: self.acts_on(action),
            scoped_by: self.scoped_by(action),
        }
    }

    /// Whose login a recorded step is, if it is one that succeeded (a failed
    /// login of a configured user still logs in, with the user's secret).
    fn login_kind(&self, step: &JourneyStep) -> LoginKind {
        if self.login != Some(step.action.as_str()) {
            return LoginKind::NotLogin;
        }
        let Some(exchange) = self.recorded.get(step.exchange) else { return LoginKind::NotLogin };
        let Some(action) = self.model.action(&step.action) else { return LoginKind::NotLogin };
        let body = RequestTemplate::from_exchange(action, exchange).body;
        let failed = recorded_login_failed(exchange, self.auth);
        let made = login_account(&body, self.auth).and_then(|a| self.identities.index(&a));
        match (made, failed) {
            (Some(_), true) => LoginKind::NotLogin,
            (Some(m), false) => LoginKind::Made(m),
            (None, true) if (200..300).contains(&step.status) => LoginKind::NotLogin,
            (None, _) => LoginKind::Configured,
        }
    }

    /// A login of the identity made at `m` sends the secret its sign-up
    /// sent, unless an earlier step of this journey sent the one it sends
    /// (a password change): the recording may have changed the secret in
    /// another journey, which replay does not run before this one.
    fn with_signed_up_secret(
        &self,
        m: usize,
        template: Arc<RequestTemplate>,
        planning: &Planning,
    ) -> Arc<RequestTemplate> {
        let Some(signed_up) = self.identities.made[m].secrets.first() else { return template };
        let sent_before: Vec<String> =
            planning.steps.iter().flat_map(|s| strings(&s.call.template.body)).collect();
        let own = pseudonyms(&strings(&template.body));
        if own.iter().all(|p| p == signed_up || sent_before.contains(p)) {
            return template;
        }
        let mut changed = (*template).clone();
        for p in own.iter().filter(|p| !sent_before.contains(p)) {
            replace_secret(&mut changed.body, p, signed_up);
        }
        Arc::new(changed)
    }

    /// The made identities this journey logs in as without making them first.
    fn borrowed_sign_ups(&self, j: usize, journey: &Journey) -> Vec<usize> {
        let mut borrowed = Vec::new();
        for (s, step) in journey.steps.iter().enumerate() {
            let LoginKind::Made(m) = self.login_kind(step) else { continue };
            let made = &self.identities.made[m];
            let made_here = made.journey == j && made.step < s;
            if !made_here && !borrowed.contains(&m) {
                borrowed.push(m);
            }
        }
        borrowed
    }

    /// A login of made identity `m` takes its account from the answer of the
    /// request that made it, when that answer echoed it: the link keeps the
    /// sign-up in every case that keeps the login.
    fn account_bind(
        &self,
        m: usize,
        made_at: Option<usize>,
        login: &RequestTemplate,
    ) -> Option<Bind> {
        let from = self.identities.made[m].echoed_at.clone()?;
        let to = account_location(&login.body, self.auth)?;
        Some(Bind { to, origin: made_at? as u32, from: Location::Body { pointer: from } })
    }

    /// The configured user a recorded login is; the first one when none matches.
    fn login_user(&mut self, login: &RequestTemplate) -> usize {
        match match_user(login, &self.users[..self.configured]) {
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

    /// For a read naming no instance in its path, the top-level resource
    /// whose instance its query names, and the key: the recording linked the
    /// key's value to the id that resource's create answered
    /// (`GET /transactions?account_id=` ← `POST /accounts` `/data/id`).
    fn scoped_by(&self, action: &str) -> Option<(usize, String)> {
        let model = self.model;
        if model.action(action)?.method != "GET" || self.acts_on(action).is_some() {
            return None;
        }
        model.links.iter().filter(|l| l.consumer == action && !l.from_request).find_map(|l| {
            let Location::Query { key } = &l.to else { return None };
            let r = model.resources.iter().position(|r| {
                r.parent.is_none()
                    && r.create.as_deref() == Some(l.producer.as_str())
                    && l.from == id_location(r)
            })?;
            Some((r, key.clone()))
        })
    }

    /// The resource `action` creates (the plan's resources are the model's, in order).
    fn creates(&self, action: &str) -> Option<usize> {
        self.model.resources.iter().position(|r| r.create.as_deref() == Some(action))
    }
}

/// Where a resource's create answers the new instance's id: its learned
/// pointer into the body, else the `Location` header.
pub(crate) fn id_location(resource: &venomqa_learner::Resource) -> Location {
    resource.id_pointer.clone().map_or(Location::LocationId, |pointer| Location::Body { pointer })
}
