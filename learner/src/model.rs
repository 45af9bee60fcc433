//! The learned model: the contract between the learner and the replayer, and
//! a JSON document a person can read, diff and edit.
//!
//! Everything is ordered (sorted `Vec`s and `BTreeMap`s) so the same traffic
//! gives a byte-identical file. The document carries `"format":
//! "venomqa-model"` and `"version": 1`; [`Model::from_json`] refuses any other
//! version rather than guessing at a format it does not know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::shape::{BodyShape, QueryParam};
use crate::value::ValueKind;
use crate::Error;

/// The `format` every model file carries.
pub const MODEL_FORMAT: &str = "venomqa-model";
/// The model version this build writes and reads.
pub const MODEL_VERSION: u32 = 1;

/// A model of an API learned from traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// Always [`MODEL_VERSION`] for models this build reads.
    pub version: u32,
    /// What the model was learned from.
    pub source: SourceInfo,
    /// Every endpoint, sorted by template then method.
    pub actions: Vec<Action>,
    /// What the actions create, read, change and delete.
    pub resources: Vec<Resource>,
    /// Data flow: which response value a request value comes from.
    pub links: Vec<Link>,
    /// One state machine per resource with observed instances.
    pub machines: Vec<StateMachine>,
    /// The observed sessions as replayable action sequences, one per distinct shape.
    pub journeys: Vec<Journey>,
    /// Response values that change on every call; comparisons ignore them.
    pub volatile: Vec<VolatileField>,
    /// Which actions sign up, log in, log out and refresh; empty in models
    /// written before it was learned.
    #[serde(default)]
    pub auth: Auth,
    /// Roles users act in, sorted by name; empty when the recording shows
    /// no role-like field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<UserRole>,
    /// Per-user instances without an id, sorted by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub singletons: Vec<Singleton>,
    /// Collections created under a parent instance, sorted by collection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Child>,
}

/// The traffic a model was learned from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Exchanges read.
    pub exchanges: u64,
    /// Exchanges the model was learned from (not ignored).
    pub used: u64,
    /// Sessions among the used exchanges.
    pub sessions: u64,
    /// Id of the first used exchange.
    pub first_exchange: Option<u64>,
    /// Id of the last used exchange.
    pub last_exchange: Option<u64>,
}

/// Where a value sits in a request or a response.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "in", rename_all = "kebab-case")]
pub enum Location {
    /// A path parameter of the action's template.
    Path {
        /// Its name in the template (`order_id`).
        name: String,
    },
    /// A query string key.
    Query {
        /// The key.
        key: String,
    },
    /// A JSON body value; `*` in the pointer stands for any array element.
    Body {
        /// RFC 6901 JSON pointer (`/id`, `/items/*/sku`).
        pointer: String,
    },
    /// A header value, whole (`if-match`, `etag`, `x-csrf-token`); names lower-case.
    Header {
        /// The lower-case header name.
        name: String,
    },
    /// The token of `Authorization: Bearer <token>`.
    Bearer,
    /// A cookie: in a request the `Cookie` pair, in a response the `Set-Cookie` one.
    Cookie {
        /// The cookie name.
        name: String,
    },
    /// In a response only: the last path segment of the `Location` header,
    /// which is the new instance's id after a bodiless `201 Created`.
    LocationId,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Path { name } => write!(f, "path {{{name}}}"),
            Location::Query { key } => write!(f, "query {key}"),
            Location::Body { pointer } => write!(f, "body {pointer}"),
            Location::Header { name } => write!(f, "header {name}"),
            Location::Bearer => f.write_str("bearer token"),
            Location::Cookie { name } => write!(f, "cookie {name}"),
            Location::LocationId => f.write_str("location id"),
        }
    }
}

/// One endpoint: `POST /orders/{order_id}/refund`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// `METHOD /template`, the name used everywhere else in the model.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template with `{name}` parameters.
    pub template: String,
    /// Path parameters in template order.
    pub params: Vec<PathParam>,
    /// Query keys seen.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, QueryParam>,
    /// The request bodies.
    pub request: BodyShape,
    /// Per observed status code: how often, and the response bodies.
    pub responses: BTreeMap<u16, ResponseShape>,
    /// Request headers that change behaviour (`idempotency-key`, `if-match`)
    /// or carry a linked value; lower-case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Whether requests carried credentials, so replay must send a user's.
    pub needs_auth: bool,
    /// Which credentials: `bearer`, `basic`, `cookie:<name>` or `cookie`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Exchanges of this action.
    pub count: u64,
    /// The first exchange of this action, to look at or replay.
    pub example: u64,
}

/// A path parameter and where its values come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathParam {
    /// `order_id`.
    pub name: String,
    /// `uuid`, `number`, `hex`, `token` or `slug`.
    pub kind: ValueKind,
    /// The response that produced its values, when a link was learned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LinkSource>,
}

/// The producing end of a link.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkSource {
    /// Producer action id.
    pub action: String,
    /// The producer's status code.
    pub status: u16,
    /// Where in the producer's response.
    pub from: Location,
}

/// The responses of one status code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseShape {
    /// How many exchanges answered this status.
    pub count: u64,
    /// Their bodies.
    pub body: BodyShape,
}

/// A kind of thing the API manages: `orders`, `accounts.holds`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Collection name, nested names joined by `.`.
    pub name: String,
    /// Template of the collection (`/orders`, `/accounts/{account_id}/holds`).
    pub collection: String,
    /// The path parameter that names one instance (`order_id`).
    pub id_param: String,
    /// The enclosing resource of a nested one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The action that creates an instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<String>,
    /// Where the create response holds the new instance's id (`/id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pointer: Option<String>,
    /// Actions that read one instance.
    pub read: Vec<String>,
    /// Actions that replace or patch one instance.
    pub update: Vec<String>,
    /// Actions that delete one instance.
    pub delete: Vec<String>,
    /// Everything else on the resource: lists, commands such as `pay`.
    pub other: Vec<String>,
    /// Who owns instances, and what other sessions managed to do to them.
    pub ownership: Ownership,
}

/// Instances belong to the session that created them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// Instances seen (created or first touched).
    pub instances: u64,
    /// Instances whose create was observed, and so whose owner session is known.
    pub created: u64,
    /// Requests by a session other than the owner answered 2xx.
    pub foreign_accepted: u64,
    /// Requests by a session other than the owner answered 4xx.
    pub foreign_rejected: u64,
    /// How each instance's owner is known, with instance counts: `creator`
    /// (its create was seen), `field:<name>` (a field such as `owner` equal
    /// to the reading user's account), `own_list` (only one user's list
    /// showed it, of a list several users called).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owners: BTreeMap<String, u64>,
    /// `public` when users other than an instance's owner read it, `private`
    /// when their reads were refused and none accepted; absent when the
    /// recording does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// When `public`, the states others' reads saw it in (`published`),
    /// when each such read showed one: it is public in those only. Empty:
    /// public in any state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_in: Vec<String>,
    /// When `public`, a visibility member every such read showed and the
    /// values they showed (`visibility: ["public"]`), which other instances
    /// did not all have: it is public with those values only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub public_by: BTreeMap<String, Vec<String>>,
}

/// A role users act in, from a role-like field of their own login answer or
/// profile (else from actions some users were refused), and what the
/// recording shows only users in it doing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRole {
    /// The role's value (`staff`), or `<field>=<bool>` for a flag (`is_admin=true`).
    pub name: String,
    /// Where it was read, a JSON pointer into the answer (`/role`,
    /// `/user/role`); empty when the role is known only from actions some
    /// users were granted and others refused (`privileged`, `regular`).
    pub field: String,
    /// The accounts seen in this role, sorted.
    pub users: Vec<String>,
    /// Sessions that acted in this role.
    pub sessions: u64,
    /// Actions answered 2xx only to sessions in this role, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// Of a role known from refusals (`privileged`), the actions its users
    /// were granted and users outside it refused with `403`, sorted: the
    /// evidence the role was learned from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

impl UserRole {
    /// The actions that tell this role apart: those withheld from others
    /// when the recording showed the refusals, else those only its users
    /// were seen performing.
    pub fn restricted(&self) -> &[String] {
        if self.withheld.is_empty() {
            &self.only
        } else {
            &self.withheld
        }
    }
}

/// A per-user instance without an id in its path (`/me/settings`,
/// `/basket`): read and written by each authenticated user as their own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Singleton {
    /// Its path (`/me/settings`).
    pub path: String,
    /// Actions that read it.
    pub read: Vec<String>,
    /// Actions that change it.
    pub write: Vec<String>,
    /// Whether its reads answered an `ETag`, so writes may need `If-Match`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub etag: bool,
}

/// Things created under a parent instance (`POST /playlists/{id}/tracks`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    /// Its collection template (`/playlists/{playlist_id}/tracks`).
    pub collection: String,
    /// The parent resource's name.
    pub parent: String,
    /// The action that creates one: for ordering, a write on the parent.
    pub create: String,
    /// Actions that read a child on its own path; empty when it has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<String>,
    /// When it has no read of its own: the action that shows it, the
    /// parent's read or the child collection's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_through: Option<String>,
}

/// One learned data-flow link: `order_id` of `POST /orders/{order_id}/pay`
/// comes from `/id` of the `201` of `POST /orders`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The action whose requests carry the value.
    pub consumer: String,
    /// Where in the request.
    pub to: Location,
    /// The action whose response produced it.
    pub producer: String,
    /// The producer's status code.
    pub status: u16,
    /// Where in the producer's response.
    pub from: Location,
    /// How often this flow was observed.
    pub count: u64,
    /// The value was in the producer's *request*, not its response: a key
    /// the client chose (a username sent at sign-up) that later names the
    /// instance that request created.
    #[serde(default, skip_serializing_if = "is_false")]
    pub from_request: bool,
    /// The producer ran in another session (another user or role): replay
    /// runs the producing journey first.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cross_session: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How a machine's states are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateBasis {
    /// From an enum-like field of the resource (`status`).
    Field,
    /// From the last action applied (no enum-like field exists).
    LastAction,
    /// From whether a timestamp field is set (`frozen_at`): states
    /// `frozen` and `not-frozen` (see [`crate::stamp_state`]); used when no
    /// enum-like field changes.
    Timestamp,
}

impl StateBasis {
    /// Whether a read of an instance shows its state (a field's value),
    /// rather than only the history of what was done to it.
    pub fn shown_by_reads(self) -> bool {
        matches!(self, StateBasis::Field | StateBasis::Timestamp)
    }
}

/// The learned lifecycle of a resource's instances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMachine {
    /// The resource name.
    pub resource: String,
    /// Where state names come from.
    pub basis: StateBasis,
    /// The field holding the state, for [`StateBasis::Field`] and
    /// [`StateBasis::Timestamp`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// States instances were created in, with counts.
    pub initial: BTreeMap<String, u64>,
    /// Every state with the actions observed in it.
    pub states: Vec<State>,
    /// Observed transitions; anything absent was never seen.
    pub transitions: Vec<Transition>,
}

/// One state and its learned preconditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The observed value (`paid`), or `deleted` after a delete.
    pub name: String,
    /// Actions answered 2xx in this state, with counts.
    pub accepted: BTreeMap<String, u64>,
    /// Actions the owner saw answered 4xx in this state, with counts.
    pub rejected: BTreeMap<String, u64>,
    /// Of those, the ones answered `409 Conflict` or `423 Locked`, or `400`
    /// or `422` to a request with no body and no query (nothing but the
    /// state to refuse): refused because of the state.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conflicts: BTreeMap<String, u64>,
}

/// `from --action--> to`, as observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// State before.
    pub from: String,
    /// The action applied.
    pub action: String,
    /// State after.
    pub to: String,
    /// Times observed.
    pub count: u64,
    /// Status codes of those observations.
    pub statuses: BTreeMap<u16, u64>,
}

/// One observed session shape, replayable with its bindings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journey {
    /// The first session that followed it.
    pub session: String,
    /// Sessions that followed exactly this shape (actions, statuses, bindings).
    pub sessions: u64,
    /// The steps of the first session.
    pub steps: Vec<Step>,
    /// Values this journey's requests took from other journeys' responses
    /// (cross-session links): run those journeys first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumes: Vec<Consumption>,
    /// Journeys whose instances this one found already made (a book the
    /// staff added, then read from a list or named by its slug): replay
    /// runs that many of their steps first, so the world is as it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
}

/// Another journey that made an instance this journey used without being
/// handed it by a response of that journey: found in a read of its own
/// (a list), or named by a key the other journey chose.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependency {
    /// The first step of this journey that used such an instance.
    pub step: usize,
    /// The making journey's index in the model's journeys.
    pub journey: usize,
    /// How many of that journey's steps the recording had seen by then.
    pub after_steps: usize,
}

/// A request value of one journey produced by another journey's response.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Consumption {
    /// The consuming step of this journey.
    pub step: usize,
    /// Where in that step's request.
    pub to: Location,
    /// The producing journey's index in the model's journeys.
    pub journey: usize,
    /// The producing step of that journey.
    pub journey_step: usize,
    /// Where in that step's response.
    pub from: Location,
}

/// One request of a journey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Action id.
    pub action: String,
    /// The recorded exchange, for the request's literal values.
    pub exchange: u64,
    /// The recorded status.
    pub status: u16,
    /// Values that must be taken from an earlier step's live response.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
}

/// A request value bound to an earlier step's response.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Binding {
    /// Where in this step's request.
    pub to: Location,
    /// Index of the producing step in the journey.
    pub step: usize,
    /// Where in that step's response (array indexes exact).
    pub from: Location,
}

/// A response value that changes on every call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolatileField {
    /// Action id.
    pub action: String,
    /// Where in its responses.
    pub at: Location,
    /// What the values looked like.
    pub kind: ValueKind,
}

impl Model {
    /// A model of nothing, in this build's format: for tests and tools that
    /// fill in only what they need.
    pub fn empty() -> Model {
        Model {
            format: MODEL_FORMAT.to_string(),
            version: MODEL_VERSION,
            source: SourceInfo::default(),
            actions: Vec::new(),
            resources: Vec::new(),
            links: Vec::new(),
            machines: Vec::new(),
            journeys: Vec::new(),
            volatile: Vec::new(),
            auth: Auth::default(),
            roles: Vec::new(),
            singletons: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The model as pretty JSON; identical models give identical bytes.
    pub fn to_json_pretty(&self) -> String {
        // Every map key is a string or an integer, so serializing cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a model file, refusing other formats and versions by name and
    /// reporting broken JSON with its line and column.
    pub fn from_json(text: &str) -> Result<Model, Error> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::InvalidJson { line: e.line(), column: e.column(), message: strip_position(&e) }
        })?;
        let show = |v: Option<&serde_json::Value>| {
            v.map_or_else(|| "missing".to_string(), |v| v.to_string())
        };
        let format = value.get("format");
        if format.and_then(|f| f.as_str()) != Some(MODEL_FORMAT) {
            return Err(Error::NotAModel { found: show(format) });
        }
        let version = value.get("version");
        if version.and_then(|v| v.as_u64()) != Some(u64::from(MODEL_VERSION)) {
            return Err(Error::UnsupportedVersion {
                found: show(version),
                supported: MODEL_VERSION,
            });
        }
        serde_json::from_str(text).map_err(|e| Error::InvalidModel {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e),
        })
    }

    /// The action with this id.
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }

    /// The resource with this name.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// The state machine of a resource.
    pub fn machine(&self, resource: &str) -> Option<&StateMachine> {
        self.machines.iter().find(|m| m.resource == resource)
    }

    /// The links whose values flow into `consumer`'s requests.
    pub fn links_into<'a>(&'a self, consumer: &'a str) -> impl Iterator<Item = &'a Link> + 'a {
        self.links.iter().filter(move |l| l.consumer == consumer)
    }
}

impl StateMachine {
    /// The transitions out of `state`.
    pub fn transitions_from<'a>(
        &'a self,
        state: &'a str,
    ) -> impl Iterator<Item = &'a Transition> + 'a {
        self.transitions.iter().filter(move |t| t.from == state)
    }

    /// Whether `from --action--> to` was observed.
    pub fn has_transition(&self, from: &str, action: &str, to: &str) -> bool {
        self.transitions.iter().any(|t| t.from == from && t.action == action && t.to == to)
    }
}

/// serde_json appends " at line L column C"; the error says it already.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// How the API authenticates, so replay can log its test users in, sign
/// new ones up, and re-use a token after logout on purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    /// The action that logs a user in (`POST /login`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The action that ends a session (`POST /logout`, `DELETE /sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout: Option<String>,
    /// The action that creates a user with a password (`POST /users`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_up: Option<String>,
    /// The action that trades a credential for a fresh one (`POST /auth/refresh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// The login request's body fields that hold secrets (`password`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_fields: Vec<String>,
    /// Where the login request names the account, as a JSON pointer into its
    /// body or form (`/username`, `/user/email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The accounts the recording logged in as (the value at `account` of
    /// each granted login; never a secret), sorted. Journeys of one shape
    /// keep one session, so this is where the other users are known from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Where the login request carries its secrets, as JSON pointers
    /// (`/password`, `/user/password`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
    /// How the login request is encoded: `json` or `form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_body: Option<String>,
    /// How requests present their credential, as sent: an `Authorization`
    /// scheme (`Bearer`, `Token`, `Basic`) or `cookie:<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// What a login that failed yet answered 2xx looks like, when the
    /// recording shows both kinds of 2xx answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_login: Option<FailedLogin>,
    /// With no login: the key of their own each user sent, which no answer
    /// handed out (`Authorization: Bearer sk_…`, `X-Api-Key: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyAuth>,
}

/// Per-user keys, for an API without a login.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAuth {
    /// The request header that carries the key, lower-case
    /// (`authorization`, in the model's `scheme`; `x-api-key`).
    pub header: String,
    /// The keys the recording used, as the store pseudonymised them, in
    /// order of first use: each one user's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// A login answered 2xx without a credential: how to tell it from a
/// successful one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedLogin {
    /// The 2xx statuses of failed logins, with counts.
    pub statuses: BTreeMap<u16, u64>,
    /// Top-level answer fields (JSON pointers) of failed logins, with the
    /// values (as JSON text) that successful logins never showed there; a
    /// field successful logins never had at all is listed with its values.
    pub fields: BTreeMap<String, Vec<String>>,
    /// Successful logins observed, for contrast.
    pub granted: u64,
}
