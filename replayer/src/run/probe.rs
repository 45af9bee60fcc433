//! Reading an instance back as its owner: its own read; when that answers
//! 404 or 410 (a soft delete), its item in the resource's lists (the
//! filters the recording used included); for a child without a read of its
//! own, its item in the parent's read. Also the login attempts that show a
//! credential change: who can still log in, with which secret.

use serde_json::Value;
use venomqa_learner::Location;

use crate::error::Error;
use crate::oracle::finding::SentRequest;
use crate::run::execute::{Instance, Live, Runner, Snapshot, Trace};
use crate::run::request::{Draft, Reply, RequestTemplate};
use crate::run::sequence::{Call, Sequence};

impl Runner<'_> {
    /// Reads `instance` back as its reader; `None` when it cannot be read.
    pub(super) async fn probe(
        &self,
        instance: usize,
        trace: &Trace,
        live: &mut Live,
        seq: &Sequence,
    ) -> Result<Option<Snapshot>, Error> {
        let Some(inst) = trace.instances.get(instance) else { return Ok(None) };
        let Some(info) = self.plan.resources.get(inst.resource) else { return Ok(None) };
        let credentials = match inst.reader {
            Some(user) => match self.session_of(user, trace, live, seq).await? {
                Some(login) => Some(login),
                None => return Ok(None),
            },
            None => None,
        };
        let auth = credentials.as_ref();
        match (&info.read, &info.read_through) {
            (Some(read), _) => self.read_back(read, inst, auth).await,
            (None, Some(parent)) => self.read_in_parent(parent, inst, auth).await,
            (None, None) => Ok(None),
        }
    }

    /// The instance's own read; when it answers 404 or 410, its item in one
    /// of the resource's lists if one still shows it (a soft delete).
    async fn read_back(
        &self,
        read: &RequestTemplate,
        inst: &Instance,
        auth: Option<&Reply>,
    ) -> Result<Option<Snapshot>, Error> {
        let Some((sent, reply)) = self.read_as(read, inst, auth).await? else { return Ok(None) };
        let gone = matches!(reply.status, 404 | 410);
        let listed = if gone { self.in_lists(inst, auth).await? } else { None };
        Ok(Some(match listed {
            Some((item, list)) => {
                Snapshot { status: reply.status, json: Some(item), seen_in: Some(list), read: None }
            }
            None => {
                Snapshot { status: reply.status, json: reply.json, seen_in: None, read: Some(sent) }
            }
        }))
    }

    /// A child's item in its parent's read; 404 when the parent answers
    /// without it.
    async fn read_in_parent(
        &self,
        parent: &RequestTemplate,
        inst: &Instance,
        auth: Option<&Reply>,
    ) -> Result<Option<Snapshot>, Error> {
        let Some((_, reply)) = self.read_as(parent, inst, auth).await? else { return Ok(None) };
        let seen_in = Some(format!("{} (its parent)", parent.action));
        if !reply.ok() {
            return Ok(Some(Snapshot { status: reply.status, json: None, seen_in, read: None }));
        }
        let keys = self.id_keys(inst.resource);
        let item = reply.json.as_ref().and_then(|j| item_with_id(j, &inst.id, &keys));
        let status = if item.is_some() { reply.status } else { 404 };
        Ok(Some(Snapshot { status, json: item, seen_in, read: None }))
    }

    /// The instance's item in one of its resource's lists, with the URL of
    /// the list that showed it.
    async fn in_lists(
        &self,
        inst: &Instance,
        auth: Option<&Reply>,
    ) -> Result<Option<(Value, String)>, Error> {
        let keys = self.id_keys(inst.resource);
        for list in &self.plan.resources[inst.resource].lists {
            let Some((_, reply)) = self.read_as(list, inst, auth).await? else { continue };
            let Some(json) = reply.json.as_ref().filter(|_| reply.ok()) else { continue };
            if let Some(item) = item_with_id(json, &inst.id, &keys) {
                let query: Vec<String> =
                    list.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let mut shown = format!(
                    "{} {}",
                    list.method,
                    list.action.split_once(' ').map_or("", |(_, t)| t)
                );
                if !query.is_empty() {
                    shown = format!("{shown}?{}", query.join("&"));
                }
                return Ok(Some((item, shown)));
            }
        }
        Ok(None)
    }

    /// The fields an item of the instance's resource names its id by: the
    /// field the create answered it in, the path parameter's name, `id`.
    pub(super) fn id_keys(&self, resource: usize) -> Vec<String> {
        let info = &self.plan.resources[resource];
        let mut keys = Vec::new();
        if let Location::Body { pointer } = &info.id_from {
            keys.extend(pointer.rsplit('/').next().map(str::to_string));
        }
        keys.push(info.id_param.clone());
        keys.push("id".to_string());
        keys
    }

    /// Sends `read` with the instance's path parameters and the credentials
    /// of `auth` (a login's answer): the request as sent and its answer;
    /// `None` when a parameter has no value.
    async fn read_as(
        &self,
        read: &RequestTemplate,
        inst: &Instance,
        auth: Option<&Reply>,
    ) -> Result<Option<(SentRequest, Reply)>, Error> {
        let mut draft = read.draft();
        for name in read.params() {
            let Some((_, value)) = inst.params.iter().find(|(n, _)| n == name) else {
                return Ok(None);
            };
            draft.set(&Location::Path { name: name.to_string() }, &Value::String(value.clone()));
        }
        if let Some(login) = auth {
            self.authenticate(&mut draft, login);
        }
        self.send_read(read, &draft).await.map(Some)
    }

    /// Puts the credentials a login answered into a request.
    fn authenticate(&self, draft: &mut Draft, login: &Reply) {
        for (to, from) in &self.plan.auth_binds {
            if let Some(v) = login.extract(from) {
                draft.set(to, &v);
            }
        }
    }

    async fn send_draft(&self, template: &RequestTemplate, draft: &Draft) -> Result<Reply, Error> {
        self.send_read(template, draft).await.map(|(_, reply)| reply)
    }

    /// Sends a draft: the request as sent and its answer.
    async fn send_read(
        &self,
        template: &RequestTemplate,
        draft: &Draft,
    ) -> Result<(SentRequest, Reply), Error> {
        self.client.send(template, draft).await.map_err(|err| self.client.stopped(err))
    }

    /// A live session of `user`: its own login in the sequence (not logged
    /// out), else a login of the probe's own.
    async fn session_of(
        &self,
        user: usize,
        trace: &Trace,
        live: &mut Live,
        seq: &Sequence,
    ) -> Result<Option<Reply>, Error> {
        let own = (0..trace.steps.len()).rev().find(|&at| {
            seq.steps.get(at).is_some_and(|s| s.call.login && s.call.user == Some(user))
                && !live.dead.contains(&at)
                && trace.steps[at].reply().is_some_and(Reply::ok)
        });
        match own {
            Some(at) => Ok(trace.steps[at].reply().cloned()),
            None => self.probe_login(user, live).await,
        }
    }

    /// A separate session of `user` for probes.
    async fn probe_login(&self, user: usize, live: &mut Live) -> Result<Option<Reply>, Error> {
        if let Some(r) = live.probe_logins.get(&user) {
            return Ok(Some(r.clone()));
        }
        let Some(reply) = self.try_login(user, None, live.nonce).await? else { return Ok(None) };
        if !self.granted(&reply) {
            return Ok(None);
        }
        live.probe_logins.insert(user, reply.clone());
        Ok(Some(reply))
    }

    /// Logs `user` in with their configured fields, or with `secret` in
    /// place of their secrets; the login's answer (`None` without a login
    /// action). An identity a journey made logs in with the account and
    /// secret the sequence of `nonce` made for it.
    pub(crate) async fn try_login(
        &self,
        user: usize,
        secret: Option<&str>,
        nonce: u64,
    ) -> Result<Option<Reply>, Error> {
        // Each user logs in with their own recorded login (a form for one, JSON for another).
        let Some(login) = self.plan.login_of(user) else { return Ok(None) };
        let call = Call::login(&login, user);
        let mut live = Live::with_nonce(nonce);
        let Some(mut draft) = self.draft(&call, &Trace::default(), &mut live) else {
            return Ok(None);
        };
        if let Some(secret) = secret {
            let secret = Value::String(secret.to_string());
            for at in self.secret_places(user) {
                draft.set(&at, &secret);
            }
        }
        self.send_draft(&login, &draft).await.map(Some)
    }

    /// Where the login carries `user`'s secrets: the model's credential
    /// pointers, else the user's fields named like secrets.
    fn secret_places(&self, user: usize) -> Vec<Location> {
        if !self.plan.login_secrets.is_empty() {
            return self.plan.login_secrets.clone();
        }
        let Some(user) = self.plan.users.get(user) else { return Vec::new() };
        user.fields
            .keys()
            .filter(|k| {
                venomqa_traffic::is_secret_name(k.rsplit('/').next().unwrap_or(k).as_bytes())
            })
            .map(|k| Location::Body { pointer: format!("/{k}") })
            .collect()
    }

    /// Whether a login's answer granted a session: a 2xx that carries the
    /// credential later requests use (a `200 {"ok": false}` does not).
    pub(crate) fn granted(&self, reply: &Reply) -> bool {
        reply.ok()
            && (self.plan.auth_binds.is_empty()
                || self.plan.auth_binds.iter().any(|(_, from)| reply.extract(from).is_some()))
    }
}

/// The object inside an array of `body` whose id field (one of `keys`)
/// holds `id`; ids of four characters or more also match any field.
pub(crate) fn item_with_id(body: &Value, id: &str, keys: &[String]) -> Option<Value> {
    let same = |v: &Value| match v {
        Value::String(s) => s == id,
        Value::Number(n) => n.to_string() == id,
        _ => false,
    };
    let mut found = None;
    visit_items(body, &mut |item| {
        let Value::Object(map) = item else { return false };
        let by_key = keys.iter().any(|k| map.get(k).is_some_and(same));
        let by_any = id.chars().count() >= 4 && map.values().any(same);
        if by_key || by_any {
            found = Some(item.clone());
        }
        found.is_some()
    });
    found
}

/// Calls `f` on each element of every array inside `value` until it says stop.
fn visit_items(value: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| f(item) || visit_items(item, f)),
        Value::Object(map) => map.values().any(|v| visit_items(v, f)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_item_is_found_by_its_id_field_inside_any_array_never_at_the_top() {
        let keys = vec!["slug".to_string(), "id".to_string()];
        let list = json!({"books": [{"slug": "dune", "status": "withdrawn"}], "id": 3});
        assert_eq!(
            item_with_id(&list, "dune", &keys),
            Some(json!({"slug": "dune", "status": "withdrawn"}))
        );
        let parent = json!({"id": 3, "copies": [{"id": 4, "state": "shelf"}]});
        assert_eq!(item_with_id(&parent, "3", &keys), None, "the parent itself is no item");
        assert_eq!(item_with_id(&parent, "4", &keys), Some(json!({"id": 4, "state": "shelf"})));
        let small = json!([{"id": 9, "count": 4}]);
        assert_eq!(item_with_id(&small, "4", &keys), None, "a short id matches its id field only");
    }
}
