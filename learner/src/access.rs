//! Who owns each instance, who may read it, and which roles users act in,
//! from evidence in the recording rather than from the order of a sequence.
//!
//! - **Owner**: the session that created the instance (`creator`); else the
//!   session whose account equals an owner-like field of the instance, or
//!   whose login answered the user id an `owner_id`-like field holds
//!   (`field:<name>`); else the one session whose list showed it, of a list
//!   several sessions called and that never showed one instance to two
//!   users (`own_list`). Otherwise unknown.
//! - **Visibility**: `public` when a user other than the owner, in the
//!   owner's role (or a role not known), read the instance (its read, or a
//!   list showing it) and was answered 2xx; `private` when such reads were
//!   refused and none accepted. A reader in another role (staff who see
//!   every member's loans) says nothing about the owner's peers. When every
//!   such read showed the instance in a state (`status: published`), it is
//!   public in those states only (`public_in`): a draft may still be private.
//!   Likewise, when every such read showed a visibility-like member
//!   (`visibility: public`, `is_public: true`) with values other instances
//!   did not all have, it is public by that member only (`public_by`): a
//!   private repository among public ones is not. A user the owner named
//!   in a write before (`PUT /orgs/acme/members/bob`, `{"share_with":
//!   "bob"}`) was let in by name: their reads say nothing of the public.
//! - **Roles**: a role-like field (`role`, `is_admin`, ...) at the top of, or
//!   one level into, a user's own answers (a login, a path without
//!   parameters such as `/me`); then the actions only that role's sessions
//!   were answered 2xx. Without such a field, the actions some users were
//!   granted and others refused with `403` split users in two roles,
//!   `privileged` and `regular` (see `roles_by_refusal`), when no user was
//!   both granted one and refused another.
//!
//! Sessions stand for users through the account they logged in with, so two
//! sessions of one user are one reader.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::evidence::hash_of;
use crate::model::UserRole;
use crate::value::classify;

/// Fields whose value names an instance's owner.
const OWNER_FIELDS: [&str; 10] = [
    "owner",
    "owner_name",
    "owner_email",
    "user",
    "username",
    "author",
    "creator",
    "created_by",
    "email",
    "user_email",
];
/// Fields whose value is the owner's user id.
const OWNER_ID_FIELDS: [&str; 6] =
    ["owner_id", "user_id", "author_id", "creator_id", "created_by_id", "created_by"];
/// Fields that say which role a user acts in.
const ROLE_FIELDS: [&str; 10] = [
    "role",
    "roles",
    "user_role",
    "user_type",
    "account_type",
    "is_admin",
    "is_staff",
    "is_superuser",
    "admin",
    "staff",
];
/// Distinct sessions remembered per instance and list: two tell "several".
const MAX_SESSIONS: usize = 4;

/// What is known of one instance.
#[derive(Debug, Default)]
struct InstanceAccess {
    creator: Option<u32>,
    /// The owner-like field and the session whose account it named.
    field_owner: Option<(Box<str>, u32)>,
    listed_by: Vec<u32>,
    list_action: Option<u32>,
    readers: Vec<u32>,
    /// Accepted reads that showed a state-like member: (session, member,
    /// value). Which member is the state is known only at the end.
    reader_states: Vec<(u32, &'static str, Box<str>)>,
    refused: Vec<u32>,
}

/// Reads whose state is remembered per instance.
const READ_STATES_KEPT: usize = 16;

/// Members a state machine is most often learned from; a read showing one
/// of them says in which state another user was let read the instance.
const STATE_MEMBERS: [&str; 4] = ["status", "state", "phase", "stage"];

/// Members that say who may see an instance; a read showing one says what
/// it was when another user was let read it.
const VISIBILITY_MEMBERS: [&str; 8] =
    ["visibility", "privacy", "access", "audience", "public", "is_public", "private", "is_private"];

/// Values of a visibility member remembered per resource.
const VISIBILITY_VALUES_KEPT: usize = 8;

/// (session, value) pairs remembered of what accepted writes named.
const NAMED_KEPT: usize = 1 << 20;

/// Ownership, visibility and roles in progress.
#[derive(Debug, Default)]
pub(crate) struct AccessAcc {
    /// Per resource, per instance id.
    instances: Vec<HashMap<Box<str>, InstanceAccess>>,
    /// Per list action, sessions it answered 2xx.
    list_callers: HashMap<u32, Vec<u32>>,
    /// Per session, its role: (pointer, value).
    roles: HashMap<u32, (String, String)>,
    /// `(session, action)` pairs answered 2xx.
    performed: HashSet<(u32, u32)>,
    /// `(session, action)` pairs answered `403 Forbidden`.
    forbidden: HashSet<(u32, u32)>,
    /// Per resource, each visibility member's values seen in any answer.
    visibility_values: Vec<BTreeMap<&'static str, BTreeSet<Box<str>>>>,
    /// (session, hash of a value) its accepted writes named (path words,
    /// body strings; never ids): the users it let in by name.
    named: HashSet<(u32, u64)>,
}

/// What the recording shows of a resource's owners and readers.
#[derive(Debug, Default)]
pub(crate) struct Readers {
    /// How owners are known, with instance counts.
    pub owners: BTreeMap<String, u64>,
    /// `public`, `private`, or unknown.
    pub visibility: Option<String>,
    /// The states others read it in, when each read showed one.
    pub public_in: Vec<String>,
    /// A visibility member and the values others read it with.
    pub public_by: BTreeMap<String, Vec<String>>,
}

/// What one exchange showed about one instance.
pub(crate) struct Touch<'a> {
    pub resource: usize,
    pub instance: &'a str,
    pub session: u32,
    pub action: u32,
    pub status: u16,
    pub created: bool,
    pub listed: bool,
    pub object: Option<&'a Map<String, Value>>,
    /// The account the session logged in with, if known.
    pub account: Option<&'a str>,
    /// The user id its login answered, if known.
    pub user_id: Option<&'a str>,
}

impl AccessAcc {
    pub(crate) fn new(resources: usize) -> AccessAcc {
        AccessAcc {
            instances: (0..resources).map(|_| HashMap::new()).collect(),
            visibility_values: (0..resources).map(|_| BTreeMap::new()).collect(),
            ..AccessAcc::default()
        }
    }

    /// Remembers a value an accepted write of `session` named: whom it may
    /// have let in (`bob` of `PUT /orgs/acme/members/bob`).
    pub(crate) fn named(&mut self, session: u32, value: &str) {
        // An account is a name or an email, not an id (ids hold digits,
        // asked first: every write's every word passes here) or a sentence.
        let fits = (2..=254).contains(&value.len())
            && (!value.bytes().any(|b| b.is_ascii_digit())
                || value.contains('@')
                || !classify(value).is_id_like());
        if fits && self.named.len() < NAMED_KEPT {
            self.named.insert((session, hash_of(value)));
        }
    }

    /// Remembers an action answered to a session, for roles.
    pub(crate) fn performed(&mut self, session: u32, action: u32, status: u16) {
        if (200..300).contains(&status) {
            self.performed.insert((session, action));
        } else if status == 403 {
            self.forbidden.insert((session, action));
        }
    }

    /// Reads a role-like field from a user's own answer (a login, a profile).
    pub(crate) fn profile(&mut self, session: u32, answer: Option<&Value>) {
        if let Some(role) = answer.and_then(Value::as_object).and_then(role_in) {
            self.roles.insert(session, role);
        }
    }

    /// Folds what one exchange showed about an instance.
    pub(crate) fn touch(&mut self, t: &Touch<'_>) {
        let Some(instances) = self.instances.get_mut(t.resource) else { return };
        if !instances.contains_key(t.instance) {
            if !(200..300).contains(&t.status) {
                return;
            }
            instances.insert(t.instance.into(), InstanceAccess::default());
        }
        let Some(entry) = instances.get_mut(t.instance) else { return };
        // A list's items are many and say what its own reads say too.
        if let (Some(object), true, false) = (t.object, (200..300).contains(&t.status), t.listed) {
            let seen = &mut self.visibility_values[t.resource];
            for member in VISIBILITY_MEMBERS {
                let Some(value) = object.get(member).and_then(member_text) else { continue };
                let values = seen.entry(member).or_default();
                if values.len() < VISIBILITY_VALUES_KEPT && !values.contains(value) {
                    values.insert(value.into());
                }
            }
        }
        if t.created && (200..300).contains(&t.status) {
            entry.creator = Some(t.session);
        }
        if entry.field_owner.is_none() {
            let field = owner_field(t.object, &OWNER_FIELDS, t.account)
                .or_else(|| owner_field(t.object, &OWNER_ID_FIELDS, t.user_id));
            entry.field_owner = field.map(|f| (f.into(), t.session));
        }
        let sessions = match (t.listed, (200..300).contains(&t.status)) {
            (true, _) => {
                entry.list_action = Some(t.action);
                remember(self.list_callers.entry(t.action).or_default(), t.session);
                &mut entry.listed_by
            }
            (false, true) => {
                for member in STATE_MEMBERS.into_iter().chain(VISIBILITY_MEMBERS) {
                    let Some(value) = t.object.and_then(|o| member_text(o.get(member)?)) else {
                        continue;
                    };
                    let seen = |(s, m, v): &(u32, &str, Box<str>)| {
                        *s == t.session && *m == member && **v == *value
                    };
                    if entry.reader_states.len() < READ_STATES_KEPT
                        && !entry.reader_states.iter().any(seen)
                    {
                        entry.reader_states.push((t.session, member, value.into()));
                    }
                }
                &mut entry.readers
            }
            (false, false) if (400..500).contains(&t.status) => &mut entry.refused,
            _ => return,
        };
        remember(sessions, t.session);
    }

    /// Each resource's owner evidence and visibility, with `accounts` naming
    /// each session's user.
    pub(crate) fn finish_ownership(
        &self,
        resource: usize,
        accounts: &HashMap<u32, String>,
        state_field: Option<&str>,
    ) -> Readers {
        let user = |s: u32| user_of(accounts, s);
        let shared = self.shared_lists(&user);
        let sizes = self.role_sizes(accounts);
        let size = |s: u32| self.roles.get(&s).and_then(|(_, r)| sizes.get(r.as_str())).copied();
        let larger = |reader: u32, owner: u32| match (size(reader), size(owner)) {
            (Some(r), Some(o)) => r > o,
            _ => false,
        };
        let mut owners: BTreeMap<String, u64> = BTreeMap::new();
        let (mut public, mut refused) = (false, false);
        // The states others' reads saw (`published`); any read of another
        // user's that showed no state makes the instance public in all.
        let (mut public_in, mut public_anywhere) = (BTreeSet::new(), false);
        // The visibility members others' reads showed, with their values;
        // a read that showed none of a member rules that member out.
        let mut public_by: BTreeMap<&str, BTreeSet<String>> =
            VISIBILITY_MEMBERS.iter().map(|m| (*m, BTreeSet::new())).collect();
        // Whom the owner named in a write: let in by name, not public.
        let granted = |owner: Option<u32>, reader: u32| {
            let (Some(owner), Some(account)) = (owner, accounts.get(&reader)) else {
                return false;
            };
            self.named.contains(&(owner, hash_of(account)))
        };
        for access in self.instances.get(resource).into_iter().flat_map(HashMap::values) {
            let owner = self.owner_of(access, &shared);
            if let Some((basis, _)) = &owner {
                *owners.entry(basis.clone()).or_default() += 1;
            }
            let owner_session = owner.map(|(_, s)| s);
            let owner_user = owner_session.map(user);
            // A reader in a smaller role than the owner's (staff reading
            // every member's loans) shows what that role may read, not that
            // the instance is public; readers in a larger role (members
            // reading the books staff added) show it is.
            let peers = access.readers.iter().chain(&access.listed_by).filter(|s| {
                owner_session.is_none_or(|o| !self.other_roles(o, **s) || larger(**s, o))
                    && !granted(owner_session, **s)
            });
            let peers: Vec<u32> = peers.copied().collect();
            let mut seen = peers.iter().map(|s| user(*s));
            let read_by_another = match owner_user {
                Some(o) => seen.any(|u| u != o),
                None => seen.next().is_some_and(|first| seen.any(|u| u != first)),
            };
            public |= read_by_another;
            if read_by_another {
                let another =
                    |s: &u32| peers.contains(s) && owner_user.is_some_and(|o| user(*s) != o);
                let states = |s: u32| {
                    access
                        .reader_states
                        .iter()
                        .filter(move |(r, m, _)| *r == s && Some(*m) == state_field)
                        .map(|(_, _, v)| v.to_string())
                };
                // Unknown owner, a peer's list, or a read showing no state
                // (the machine's field absent, or kept no more): any state.
                public_anywhere |= owner_user.is_none()
                    || access.listed_by.iter().any(another)
                    || access
                        .readers
                        .iter()
                        .filter(|s| another(s))
                        .any(|s| states(*s).next().is_none());
                public_in
                    .extend(access.readers.iter().filter(|s| another(s)).flat_map(|s| states(*s)));
                let listed_by_another = access.listed_by.iter().any(another);
                for (member, values) in &mut public_by {
                    for reader in access.readers.iter().filter(|s| another(s)) {
                        let shown: Vec<String> = access
                            .reader_states
                            .iter()
                            .filter(|(r, m, _)| r == reader && m == member)
                            .map(|(_, _, v)| v.to_string())
                            .collect();
                        if shown.is_empty() {
                            // A read that did not show it: the member rules
                            // nothing out (marked by an empty value).
                            values.insert(String::new());
                        }
                        values.extend(shown);
                    }
                    // A list's items are not remembered by value.
                    if listed_by_another {
                        values.insert(String::new());
                    }
                }
            }
            refused |= access.refused.iter().any(|s| Some(user(*s)) != owner_user);
        }
        let visibility = if public {
            Some("public")
        } else if refused {
            Some("private")
        } else {
            None
        };
        let public_in =
            if public && !public_anywhere { public_in.into_iter().collect() } else { Vec::new() };
        // A member every other user's read showed, with values some other
        // instance did not have: what made those instances readable.
        let seen = &self.visibility_values[resource];
        let public_by = public_by
            .into_iter()
            .filter(|(member, values)| {
                public
                    && !values.is_empty()
                    && !values.contains("")
                    && seen
                        .get(member)
                        .is_some_and(|all| all.iter().any(|v| !values.contains(&**v)))
            })
            .map(|(member, values)| (member.to_string(), values.into_iter().collect()))
            .collect();
        Readers { owners, visibility: visibility.map(str::to_string), public_in, public_by }
    }

    /// How many users act in each role.
    fn role_sizes(&self, accounts: &HashMap<u32, String>) -> HashMap<&str, usize> {
        let mut users: HashMap<&str, HashSet<User<'_>>> = HashMap::new();
        for (session, (_, role)) in &self.roles {
            users.entry(role.as_str()).or_default().insert(user_of(accounts, *session));
        }
        users.into_iter().map(|(role, u)| (role, u.len())).collect()
    }

    /// Whether both sessions' roles are known and differ.
    fn other_roles(&self, a: u32, b: u32) -> bool {
        match (self.roles.get(&a), self.roles.get(&b)) {
            (Some((_, x)), Some((_, y))) => x != y,
            _ => false,
        }
    }

    /// List actions that showed one instance to two users: their items are
    /// not each user's own.
    fn shared_lists<'a>(&self, user: &dyn Fn(u32) -> User<'a>) -> HashSet<u32> {
        let mut shared = HashSet::new();
        for access in self.instances.iter().flat_map(HashMap::values) {
            let mut users = access.listed_by.iter().map(|s| user(*s));
            let two = users.next().is_some_and(|first| users.any(|u| u != first));
            if let (Some(action), true) = (access.list_action, two) {
                shared.insert(action);
            }
        }
        shared
    }

    /// An instance's owner and how it is known.
    fn owner_of(&self, access: &InstanceAccess, shared: &HashSet<u32>) -> Option<(String, u32)> {
        if let Some(s) = access.creator {
            return Some(("creator".into(), s));
        }
        if let Some((field, s)) = &access.field_owner {
            return Some((format!("field:{field}"), *s));
        }
        let own_list = access.list_action.filter(|a| !shared.contains(a));
        let called = own_list.and_then(|a| self.list_callers.get(&a));
        match access.listed_by.as_slice() {
            [only] if called.is_some_and(|c| c.len() > 1) => Some(("own_list".into(), *only)),
            _ => None,
        }
    }

    /// The roles seen, with their users and the actions only they performed.
    pub(crate) fn finish_roles(
        &self,
        accounts: &HashMap<u32, String>,
        action_ids: &[String],
    ) -> Vec<UserRole> {
        let mut by_role: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (session, (_, name)) in &self.roles {
            by_role.entry(name.as_str()).or_default().push(*session);
        }
        if by_role.len() < 2 {
            return self.roles_by_refusal(accounts, action_ids);
        }
        by_role
            .into_iter()
            .map(|(name, sessions)| {
                let users: BTreeSet<String> =
                    sessions.iter().filter_map(|s| accounts.get(s).cloned()).collect();
                UserRole {
                    only: self.only_for(&sessions, action_ids),
                    field: self.commonest_pointer(&sessions),
                    sessions: sessions.len() as u64,
                    users: users.into_iter().collect(),
                    name: name.to_string(),
                    withheld: Vec::new(),
                }
            })
            .collect()
    }

    /// Where most of `sessions` showed their role (the first such pointer
    /// on a tie): one role read from a login answer (`/user/role`) and from
    /// a profile (`/role`) is one role.
    fn commonest_pointer(&self, sessions: &[u32]) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (field, _) in sessions.iter().filter_map(|s| self.roles.get(s)) {
            *counts.entry(field.as_str()).or_default() += 1;
        }
        let most = counts.values().copied().max().unwrap_or(0);
        counts.into_iter().find(|(_, n)| *n == most).map(|(f, _)| f.to_string()).unwrap_or_default()
    }

    /// Two roles from actions only: the users granted an action others were
    /// refused with `403` are `privileged`, those refused are `regular`.
    /// None when no action splits users so, or when one user was granted one
    /// such action and refused another (more than two roles, or a rule that
    /// is not about roles).
    fn roles_by_refusal(
        &self,
        accounts: &HashMap<u32, String>,
        action_ids: &[String],
    ) -> Vec<UserRole> {
        let users_of = |pairs: &HashSet<(u32, u32)>, action: u32| -> BTreeSet<&str> {
            pairs
                .iter()
                .filter(|(_, a)| *a == action)
                .filter_map(|(s, _)| accounts.get(s).map(String::as_str))
                .collect()
        };
        let (mut granted, mut refused) = (BTreeSet::new(), BTreeSet::new());
        let mut withheld: Vec<String> = Vec::new();
        let actions: BTreeSet<u32> = self.forbidden.iter().map(|(_, a)| *a).collect();
        for action in actions {
            let yes = users_of(&self.performed, action);
            let no: BTreeSet<&str> =
                users_of(&self.forbidden, action).difference(&yes).copied().collect();
            if !yes.is_empty() && !no.is_empty() {
                granted.extend(yes);
                refused.extend(no);
                withheld.extend(action_ids.get(action as usize).cloned());
            }
        }
        withheld.sort();
        if granted.is_empty() || !granted.is_disjoint(&refused) {
            return Vec::new();
        }
        [("privileged", granted, withheld), ("regular", refused, Vec::new())]
            .into_iter()
            .map(|(name, users, withheld)| {
                let sessions: Vec<u32> = accounts
                    .iter()
                    .filter(|(_, a)| users.contains(a.as_str()))
                    .map(|(s, _)| *s)
                    .collect();
                UserRole {
                    name: name.into(),
                    field: String::new(),
                    users: users.iter().map(|u| u.to_string()).collect(),
                    sessions: sessions.len() as u64,
                    only: self.only_for(&sessions, action_ids),
                    withheld,
                }
            })
            .collect()
    }

    /// Actions answered 2xx to some of `sessions` and to no other session.
    fn only_for(&self, sessions: &[u32], action_ids: &[String]) -> Vec<String> {
        let mut ours: BTreeSet<u32> = BTreeSet::new();
        let mut others: HashSet<u32> = HashSet::new();
        for (session, action) in &self.performed {
            if sessions.contains(session) {
                ours.insert(*action);
            } else {
                others.insert(*action);
            }
        }
        let mut only: Vec<String> = ours
            .into_iter()
            .filter(|a| !others.contains(a))
            .filter_map(|a| action_ids.get(a as usize).cloned())
            .collect();
        only.sort();
        only
    }
}

/// A user: the account a session logged in with, else the session alone.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum User<'a> {
    Account(&'a str),
    Session(u32),
}

fn user_of(accounts: &HashMap<u32, String>, session: u32) -> User<'_> {
    accounts.get(&session).map_or(User::Session(session), |a| User::Account(a))
}

/// Adds a session to a short list of distinct ones.
fn remember(sessions: &mut Vec<u32>, session: u32) {
    if sessions.len() < MAX_SESSIONS && !sessions.contains(&session) {
        sessions.push(session);
    }
}

/// A state or visibility member's value as text: a string, or a boolean.
fn member_text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Bool(true) => Some("true"),
        Value::Bool(false) => Some("false"),
        _ => None,
    }
}

/// The field of `object` among `names` whose value is `user` (an account
/// or a user id).
fn owner_field<'o>(
    object: Option<&'o Map<String, Value>>,
    names: &[&str],
    user: Option<&str>,
) -> Option<&'o str> {
    let (object, user) = (object?, user?);
    names.iter().find_map(|name| {
        let (key, value) = object.get_key_value(*name)?;
        let same = match value {
            Value::String(s) => s == user,
            Value::Number(n) => n.to_string() == user,
            _ => false,
        };
        same.then_some(key.as_str())
    })
}

/// A role-like field at the top of an answer or one level in, as
/// `(pointer, role)`.
fn role_in(object: &Map<String, Value>) -> Option<(String, String)> {
    let here = |o: &Map<String, Value>, prefix: &str| {
        ROLE_FIELDS.iter().find_map(|name| {
            let value = role_value(name, o.get(*name)?)?;
            Some((format!("{prefix}/{name}"), value))
        })
    };
    here(object, "")
        .or_else(|| object.iter().find_map(|(k, v)| here(v.as_object()?, &format!("/{k}"))))
}

/// A role's name from a field's value: a word, sorted words of a list, or
/// `field=true|false` for a flag.
fn role_value(field: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= 40 => Some(s.clone()),
        Value::Bool(b) => Some(format!("{field}={b}")),
        Value::Array(items) => {
            let mut words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            words.sort_unstable();
            (!words.is_empty()).then(|| words.join("+"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn roles_are_read_at_the_top_or_one_level_in() {
        let top = json!({"id": 1, "role": "staff"});
        assert_eq!(role_in(top.as_object().unwrap()), Some(("/role".into(), "staff".into())));
        let nested = json!({"ok": true, "user": {"is_admin": false}});
        assert_eq!(
            role_in(nested.as_object().unwrap()),
            Some(("/user/is_admin".into(), "is_admin=false".into()))
        );
        let listed = json!({"roles": ["viewer", "editor"]});
        assert_eq!(role_in(listed.as_object().unwrap()).unwrap().1, "editor+viewer");
    }

    #[test]
    fn an_owner_field_counts_only_when_it_names_the_sessions_account() {
        let note = json!({"owner": "ann", "title": "x"});
        assert_eq!(owner_field(note.as_object(), &OWNER_FIELDS, Some("ann")), Some("owner"));
        assert_eq!(owner_field(note.as_object(), &OWNER_FIELDS, Some("bo")), None);
        assert_eq!(owner_field(note.as_object(), &OWNER_FIELDS, None), None);
        let task = json!({"id": 7, "owner_id": 3});
        assert_eq!(owner_field(task.as_object(), &OWNER_ID_FIELDS, Some("3")), Some("owner_id"));
        assert_eq!(owner_field(task.as_object(), &OWNER_ID_FIELDS, Some("7")), None);
    }
}
