//! Which instances a step created or named, and whose they are.
//!
//! The owner comes from evidence, never from who touched an instance first:
//! the creator when the create is in the sequence; the user whose login
//! answered its id (a login names its own account); the test user its owner
//! field names, in the answer that produced its id, when the model knows
//! owners by that field; else, when the model knows the resource's owners
//! by an owner field or by each user's own list, the user whose step
//! produced the instance's id (the list or read that obtained it); else
//! nobody, and oracles then judge no one for touching someone else's
//! instance. A per-user singleton (`/me/preferences`) belongs to the user
//! whose credentials reach it.

use serde_json::Value;
use venomqa_learner::{Location, Model};

use crate::run::execute::{Instance, Live, Runner, Trace};
use crate::run::probe::item_with_id;
use crate::run::request::{text_of, Draft};
use crate::run::sequence::{Call, Sequence};

impl Runner<'_> {
    /// Registers the instances step `i` (just executed) created or named;
    /// returns those a write may have changed, to read back.
    pub(super) fn track_step(
        &self,
        seq: &Sequence,
        live: &Live,
        draft: &Draft,
        partner: Option<&(&Call, Draft)>,
        i: usize,
        trace: &mut Trace,
    ) -> Vec<usize> {
        let step = &seq.steps[i];
        let copies = step.copies.max(1) as usize;
        let mut touched = Vec::new();
        if let Some(k) = self.track(seq, live, &step.call, draft, 0..copies, trace) {
            trace.steps[i].instance = Some(k);
            if !step.call.is_read() {
                touched.push(k);
            }
        }
        if let Some((p, d)) = partner {
            if let Some(k) = self.track(seq, live, p, d, copies..copies + 1, trace) {
                trace.steps[i].partner_instance = Some(k);
                if !p.is_read() && !touched.contains(&k) {
                    touched.push(k);
                }
            }
        }
        touched
    }

    /// Registers the instance a call created or named; returns its index.
    fn track(
        &self,
        seq: &Sequence,
        live: &Live,
        call: &Call,
        draft: &Draft,
        replies: std::ops::Range<usize>,
        trace: &mut Trace,
    ) -> Option<usize> {
        let Some(r) = call.creates else {
            return self.register_named(seq, live, call, draft, trace);
        };
        let info = self.plan.resources.get(r)?;
        let reply = trace.steps.last()?.replies.get(replies)?.iter().find(|r| r.ok())?;
        let id = text_of(&reply.extract(&info.id_from)?);
        let mut params = draft.params.clone();
        params.retain(|(n, _)| *n != info.id_param);
        params.push((info.id_param.clone(), id.clone()));
        let created = reply.status == 201;
        let known = trace.instances.len();
        let k = self.register(r, id, params, Obtained::Created(call.user), call, trace);
        let instance = &mut trace.instances[k];
        // A create at a key the path names (`PUT /spaces/{slug}`) was
        // registered by that name before it was sent, whose unknown: its
        // `201` says it is this caller's, made now.
        if k < known && created && instance.owner.is_none() && instance.created_at.is_none() {
            instance.owner = call.user;
            instance.reader = call.user;
        }
        if k == known || created && instance.created_at.is_none() && instance.owner == call.user {
            instance.created_at = Some(trace.steps.len() - 1);
        }
        Some(k)
    }

    /// Registers the instance a call names in its path or, for a read
    /// scoped by an instance, in its query (or the singleton it reaches),
    /// before or after it is sent; returns its index.
    pub(super) fn register_named(
        &self,
        seq: &Sequence,
        live: &Live,
        call: &Call,
        draft: &Draft,
        trace: &mut Trace,
    ) -> Option<usize> {
        if let Some(r) = self.plan.singleton_of(call.action()) {
            return Some(self.track_singleton(r, call, trace));
        }
        let (r, id, to, params) = match (call.acts_on, &call.scoped_by) {
            (Some(r), _) => {
                let info = self.plan.resources.get(r)?;
                let id = draft.params.iter().find(|(n, _)| *n == info.id_param)?.1.clone();
                let to = Location::Path { name: info.id_param.clone() };
                (r, id, to, draft.params.clone())
            }
            (None, Some((r, key))) => {
                let info = self.plan.resources.get(*r)?;
                let id = draft.query.iter().find(|(k, _)| k == key)?.1.clone();
                let params = vec![(info.id_param.clone(), id.clone())];
                (*r, id, Location::Query { key: key.clone() }, params)
            }
            (None, None) => return None,
        };
        let at = Lookup { seq, live, trace, resource: r, id: &id, to };
        let obtained = self.obtained(at, call);
        Some(self.register(r, id, params, obtained, call, trace))
    }

    /// The index of instance `id` of resource `r`, added when new with its
    /// owner and reader.
    fn register(
        &self,
        r: usize,
        id: String,
        mut params: Vec<(String, String)>,
        obtained: Obtained,
        call: &Call,
        trace: &mut Trace,
    ) -> usize {
        // A nested instance is named by its parents too: issue 1 of one
        // repository is not issue 1 of another.
        let parents = parent_params(&self.plan.model, r);
        let same = |i: &Instance| same_instance(i, r, &id, &params, &parents);
        if let Some(k) = trace.instances.iter().position(same) {
            return k;
        }
        params.dedup();
        let owned_by_obtainer = self.plan.resources[r].owned_by_obtainer;
        let (owner, reader) = match obtained {
            Obtained::Created(user) => (user, user),
            Obtained::ByLogin(user) | Obtained::Named(user) => (Some(user), Some(user)),
            Obtained::By(user) => (Some(user).filter(|_| owned_by_obtainer), Some(user)),
            Obtained::Unknown => (None, call.user),
        };
        trace.instances.push(Instance { resource: r, id, params, owner, reader, created_at: None });
        trace.instances.len() - 1
    }

    /// How the instance `call` names (`at`) got into the sequence: the step
    /// that produced its id, whose step that was, and whose the instance's
    /// owner field in that step's answer says it is.
    fn obtained(&self, at: Lookup<'_>, call: &Call) -> Obtained {
        let Lookup { seq, live, trace, resource, id, to } = at;
        let Some(&step) =
            call.binds.iter().find(|b| b.to == to).and_then(|b| live.by_origin.get(&b.origin))
        else {
            return Obtained::Unknown;
        };
        let Some(producer) = seq.steps.get(step).map(|s| &s.call) else { return Obtained::Unknown };
        let Some(user) = producer.user else { return Obtained::Unknown };
        if producer.login {
            return Obtained::ByLogin(user);
        }
        let answer = trace.steps.get(step).and_then(|e| e.reply()).and_then(|r| r.json.as_ref());
        match answer.and_then(|json| self.owner_field(resource, id, json)) {
            Some(FieldSays::TestUser(owner)) => Obtained::Named(owner),
            Some(FieldSays::Stranger) => Obtained::Unknown,
            None => Obtained::By(user),
        }
    }

    /// What the instance's owner field (in the answer that produced its id)
    /// says; `None` when there is no such field, or it holds an id no test
    /// user can be matched to.
    fn owner_field(&self, resource: usize, id: &str, answer: &Value) -> Option<FieldSays> {
        let keys = self.id_keys(resource);
        let holds = |v: &Value| keys.iter().any(|k| v.get(k).is_some_and(|x| text_of(x) == id));
        let item = match answer {
            top if holds(top) => top.clone(),
            _ => item_with_id(answer, id, &keys)?,
        };
        let fields = &self.plan.resources[resource].owner_fields;
        let (field, value) = fields.iter().find_map(|f| Some((f, text_of(item.get(f)?))))?;
        let user = self.plan.users.iter().position(|u| u.fields.values().any(|v| *v == value));
        match user {
            Some(u) => Some(FieldSays::TestUser(u)),
            None if field.ends_with("_id") || field.ends_with("_by") => None,
            None => Some(FieldSays::Stranger),
        }
    }

    /// The instance of singleton resource `r` that belongs to the user whose
    /// credentials `call` carries.
    fn track_singleton(&self, r: usize, call: &Call, trace: &mut Trace) -> usize {
        let mine = |i: &Instance| i.resource == r && i.owner == call.user;
        if let Some(k) = trace.instances.iter().position(mine) {
            return k;
        }
        trace.instances.push(Instance {
            resource: r,
            id: self.plan.resources[r].name.clone(),
            params: Vec::new(),
            owner: call.user,
            reader: call.user,
            created_at: None,
        });
        trace.instances.len() - 1
    }
}

/// The path parameters that name a nested resource's parents (`login` and
/// `name` of `/orgs/{login}/repos/{name}/issues`); none for a resource at
/// the top (nor for a per-user singleton, which the model does not list).
fn parent_params(model: &Model, r: usize) -> Vec<String> {
    let Some(resource) = model.resources.get(r).filter(|m| m.parent.is_some()) else {
        return Vec::new();
    };
    let collection = resource.collection.as_str();
    collection
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

/// Whether `known` is instance `id` of resource `r` found at `params`: the
/// same id, under the same parents (issue 1 of one repository is not issue
/// 1 of another).
fn same_instance(
    known: &Instance,
    r: usize,
    id: &str,
    params: &[(String, String)],
    parents: &[String],
) -> bool {
    known.resource == r
        && known.id == id
        && parents.iter().all(|p| param(&known.params, p) == param(params, p))
}

/// The value of path parameter `name` among `params`.
fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Where to look for the step that produced instance `id` of `resource`.
struct Lookup<'a> {
    seq: &'a Sequence,
    live: &'a Live,
    trace: &'a Trace,
    resource: usize,
    id: &'a str,
    /// Where the call carries the id: its path parameter, or a query key.
    to: Location,
}

/// Whose an instance's owner field says it is.
enum FieldSays {
    /// This test user's (a field of theirs holds the value).
    TestUser(usize),
    /// An account no test user has.
    Stranger,
}

/// Where an instance not created by the sequence came from.
enum Obtained {
    /// Its create is in the sequence, sent as this user.
    Created(Option<usize>),
    /// Its id came from this user's login answer: their own account.
    ByLogin(usize),
    /// Its id came from an answer to this user (a list, a read).
    By(usize),
    /// Its owner field names this test user.
    Named(usize),
    /// Its id is a recorded literal, or came from no user's step.
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn issue(params: &[(&str, &str)]) -> Instance {
        Instance {
            resource: 2,
            id: "1".into(),
            params: pairs(params),
            owner: None,
            reader: None,
            created_at: None,
        }
    }

    #[test]
    fn a_nested_instance_is_named_by_its_parents_and_a_top_one_by_its_id() {
        let resource = |name: &str, collection: &str, id_param: &str, parent: Option<&str>| {
            serde_json::json!({
                "name": name, "collection": collection, "id_param": id_param, "parent": parent,
                "read": [], "update": [], "delete": [], "other": [],
                "ownership": {
                    "instances": 0, "created": 0, "foreign_accepted": 0, "foreign_rejected": 0
                }
            })
        };
        let mut model = Model::empty();
        let json = serde_json::json!([
            resource("orgs", "/orgs", "login", None),
            resource("orgs.repos", "/orgs/{login}/repos", "name", Some("orgs")),
            resource(
                "orgs.repos.issues",
                "/orgs/{login}/repos/{name}/issues",
                "issue_id",
                Some("orgs.repos")
            ),
        ]);
        model.resources = serde_json::from_value(json).expect("resources");
        assert_eq!(parent_params(&model, 2), ["login", "name"]);
        assert!(parent_params(&model, 0).is_empty());
        assert!(parent_params(&model, 9).is_empty(), "a singleton past the model's resources");

        let parents = parent_params(&model, 2);
        let widget = issue(&[("login", "acme"), ("name", "widget"), ("issue_id", "1")]);
        let here = pairs(&[("login", "acme"), ("name", "widget"), ("issue_id", "1")]);
        let scratch = pairs(&[("login", "acme"), ("name", "scratch"), ("issue_id", "1")]);
        assert!(same_instance(&widget, 2, "1", &here, &parents));
        assert!(!same_instance(&widget, 2, "1", &scratch, &parents), "another repository's 1");
        assert!(!same_instance(&widget, 2, "2", &here, &parents));
        // At the top, the id alone: a shallow child read at `/invoices/{id}`
        // is the one its create under a project made.
        let invoice = Instance { resource: 0, ..issue(&[("project_id", "p1"), ("issue_id", "1")]) };
        assert!(same_instance(&invoice, 0, "1", &pairs(&[("issue_id", "1")]), &[]));
    }
}
