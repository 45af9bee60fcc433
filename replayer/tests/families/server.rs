//! A small project tracker on loopback, correct unless a bug is planted:
//! bearer logins that answer the user's role, projects (`draft` →
//! `submitted` → `approved`) with an `ETag` that `PATCH` must match, tasks
//! added under a draft project, approval by staff only, and a logout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{json, Value};
use venomqa_testkit::upstream::{full, handler, TestBody};
use venomqa_testkit::Upstream;

/// The bugs a tracker can have, one per new family.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bugs {
    /// `POST /projects` accepts a logged-out token.
    pub dead_create: bool,
    /// `PATCH` refuses only the validator of the last write, not every stale one.
    pub interleaved: bool,
    /// Tasks are added to projects that are no longer drafts.
    pub child_after: bool,
    /// `POST /projects` stores a `status` the client sent.
    pub injected_status: bool,
    /// `POST /projects` stores a `budget` the client sent.
    pub injected_budget: bool,
    /// An unknown username is a 404 "no such user", a wrong password a 401.
    pub enumeration: bool,
    /// Members may approve projects.
    pub lesser_role: bool,
    /// Members' approvals answer 200 and change nothing.
    pub lesser_noop: bool,
    /// An unknown username is a 401 "no such user", a wrong password a 401
    /// "invalid credentials".
    pub enumeration_body: bool,
    /// Failed logins answer `"known": false` for an unknown username and
    /// `"known": true` for a wrong password.
    pub enumeration_flag: bool,
    /// Every request takes a logged-out token.
    pub token_after_logout: bool,
    /// Not a bug: failed logins name the account and carry a fresh request id.
    pub chatty_logins: bool,
    /// `POST /projects` takes any token, or none: creates with an unknown
    /// token are anonymous, with a logged-out one the user's.
    pub open_create: bool,
}

/// The users: (name, password, role).
pub const USERS: [(&str, &str, &str); 3] =
    [("ann", "ann-pw", "member"), ("bo", "bo-pw", "member"), ("sam", "sam-pw", "staff")];

#[derive(Default)]
struct State {
    tokens: HashMap<String, (String, bool)>,
    projects: Vec<Project>,
    /// Each user's settings: (theme, version, validator of the last write).
    settings: HashMap<String, (String, u64, String)>,
    tasks: u64,
    issued: u64,
}

struct Project {
    id: String,
    name: String,
    status: String,
    owner: String,
    budget: i64,
    version: u64,
    last_validator: String,
    tasks: Vec<Value>,
}

impl Project {
    fn json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "status": self.status, "owner": self.owner,
               "budget": self.budget, "tasks": self.tasks})
    }

    fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }
}

/// The tracker with `bugs`, on a fresh loopback port.
pub async fn start(bugs: Bugs) -> Upstream {
    let state = Arc::new(Mutex::new(State::default()));
    Upstream::start(handler(move |req| {
        let state = state.clone();
        async move { serve(&state, bugs, req).await }
    }))
    .await
}

type Reply = Response<TestBody>;

/// A refusal's status and reason.
type Refusal = (u16, &'static str);

fn reply(status: u16, body: &Value) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .expect("a response")
}

fn with_etag(mut r: Reply, p: &Project) -> Reply {
    r.headers_mut().insert("etag", p.etag().parse().expect("etag"));
    r
}

fn refuse(status: u16, why: &str) -> Reply {
    reply(status, &json!({ "error": why }))
}

async fn serve(state: &Mutex<State>, bugs: Bugs, req: Request<Incoming>) -> Reply {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let if_match = req.headers().get("if-match").and_then(|v| v.to_str().ok()).map(str::to_string);
    let bytes = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut s = state.lock().expect("state");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut call = Call { s: &mut s, bugs, token, body };
    match (&method, segments.as_slice()) {
        (&Method::POST, ["__reset"]) => {
            *call.s = State::default();
            reply(204, &Value::Null)
        }
        (&Method::POST, ["login"]) => call.login(),
        (&Method::POST, ["logout"]) => call.logout(),
        (&Method::POST, ["projects"]) => call.create(),
        (&Method::GET, ["projects", id]) => call.read(id),
        (&Method::PATCH, ["projects", id]) => call.patch(id, if_match),
        (&Method::POST, ["projects", id, "submit"]) => call.transition(id, "draft", "submitted"),
        (&Method::POST, ["projects", id, "approve"]) => {
            call.transition(id, "submitted", "approved")
        }
        (&Method::POST, ["projects", id, "tasks"]) => call.add_task(id),
        (&Method::GET, ["projects", id, "tasks", task]) => call.read_task(id, task),
        (&Method::GET, ["me", "settings"]) => call.settings(None),
        (&Method::PUT, ["me", "settings"]) => call.settings(Some(if_match)),
        _ => refuse(404, "no such endpoint"),
    }
}

/// One request being answered.
struct Call<'a> {
    s: &'a mut State,
    bugs: Bugs,
    token: Option<String>,
    body: Value,
}

impl Call<'_> {
    /// The caller's name and role; a logged-out token only where `dead_ok`.
    fn caller(&self, dead_ok: bool) -> Option<(String, &'static str)> {
        let (name, live) = self.s.tokens.get(self.token.as_deref()?)?;
        let role = USERS.iter().find(|u| u.0 == name)?.2;
        (*live || dead_ok || self.bugs.token_after_logout).then(|| (name.clone(), role))
    }

    fn login(&mut self) -> Reply {
        let field = |k: &str| self.body.get(k).and_then(Value::as_str).unwrap_or_default();
        let (name, password) = (field("username").to_string(), field("password").to_string());
        self.s.issued += 1;
        let known = USERS.iter().any(|u| u.0 == name);
        let failed = if self.bugs.chatty_logins {
            json!({"error": format!("invalid credentials for {name}"), "request_id": self.s.issued})
        } else if self.bugs.enumeration_flag {
            json!({"error": "invalid credentials", "known": known})
        } else {
            json!({"error": "invalid credentials"})
        };
        let Some(user) = USERS.iter().find(|u| u.0 == name) else {
            if self.bugs.enumeration {
                return refuse(404, "no such user");
            }
            if self.bugs.enumeration_body {
                return refuse(401, "no such user");
            }
            return reply(401, &failed);
        };
        if user.1 != password {
            return reply(401, &failed);
        }
        self.s.issued += 1;
        let token = format!("tok{}x{name}q8z", self.s.issued * 7919);
        self.s.tokens.insert(token.clone(), (name.clone(), true));
        reply(200, &json!({"token": token, "user": {"name": name, "role": user.2}}))
    }

    fn logout(&mut self) -> Reply {
        match self.token.as_ref().and_then(|t| self.s.tokens.get_mut(t)) {
            Some(entry) if entry.1 => {
                entry.1 = false;
                reply(204, &Value::Null)
            }
            _ => refuse(401, "not logged in"),
        }
    }

    fn create(&mut self) -> Reply {
        let open = self.bugs.open_create;
        let caller = self.caller(self.bugs.dead_create || open).map(|(name, _)| name);
        let anonymous = open.then(|| "anonymous".to_string());
        let Some(owner) = caller.or(anonymous) else {
            return refuse(401, "not logged in");
        };
        let Some(name) = self.body.get("name").and_then(Value::as_str) else {
            return refuse(400, "a project needs a name");
        };
        let id = format!("prj{}k", self.s.projects.len() + 101);
        let mut p = Project {
            id,
            name: name.to_string(),
            status: "draft".into(),
            owner,
            budget: 0,
            version: 1,
            last_validator: String::new(),
            tasks: Vec::new(),
        };
        if self.bugs.injected_budget {
            p.budget = self.body.get("budget").and_then(Value::as_i64).unwrap_or(0);
        }
        if let Some(status) = self.body.get("status").and_then(Value::as_str) {
            if self.bugs.injected_status {
                p.status = status.to_string();
            }
        }
        let r = with_etag(reply(201, &p.json()), &p);
        self.s.projects.push(p);
        r
    }

    /// The project `id` if the caller may see it (its owner, or staff).
    fn project(&mut self, id: &str) -> Result<(&mut Project, &'static str), Refusal> {
        let Some((name, role)) = self.caller(false) else {
            return Err((401, "not logged in"));
        };
        match self.s.projects.iter_mut().find(|p| p.id == id) {
            Some(p) if p.owner == name || role == "staff" => Ok((p, role)),
            _ => Err((404, "no such project")),
        }
    }

    fn read(&mut self, id: &str) -> Reply {
        match self.project(id) {
            Ok((p, _)) => with_etag(reply(200, &p.json()), p),
            Err((status, why)) => refuse(status, why),
        }
    }

    fn patch(&mut self, id: &str, if_match: Option<String>) -> Reply {
        let interleaved = self.bugs.interleaved;
        let name = self.body.get("name").and_then(Value::as_str).map(str::to_string);
        let (p, _) = match self.project(id) {
            Ok(found) => found,
            Err((status, why)) => return refuse(status, why),
        };
        let Some(v) = if_match else { return refuse(428, "If-Match required") };
        let fresh = if interleaved { v != p.last_validator } else { v == p.etag() };
        if !fresh {
            return refuse(412, "stale If-Match");
        }
        if let Some(name) = name {
            p.name = name;
        }
        p.version += 1;
        p.last_validator = v;
        with_etag(reply(200, &p.json()), p)
    }

    fn transition(&mut self, id: &str, from: &str, to: &str) -> Reply {
        let staff_only = to == "approved" && !self.bugs.lesser_role;
        let noop = to == "approved" && self.bugs.lesser_noop;
        let (p, role) = match self.project(id) {
            Ok(found) => found,
            Err((status, why)) => return refuse(status, why),
        };
        if noop && role != "staff" {
            return reply(200, &p.json());
        }
        if staff_only && role != "staff" {
            return refuse(403, "staff only");
        }
        if p.status != from {
            return refuse(409, "not allowed in this state");
        }
        p.status = to.to_string();
        p.version += 1;
        with_etag(reply(200, &p.json()), p)
    }

    fn add_task(&mut self, id: &str) -> Reply {
        let any_state = self.bugs.child_after;
        let title = self.body.get("title").and_then(Value::as_str).unwrap_or("task").to_string();
        self.s.tasks += 1;
        let task_id = format!("tsk{}m", self.s.tasks + 500);
        let (p, _) = match self.project(id) {
            Ok(found) => found,
            Err((status, why)) => return refuse(status, why),
        };
        if p.status != "draft" && !any_state {
            return refuse(409, "tasks are added to drafts only");
        }
        let task = json!({"id": task_id, "title": title});
        p.tasks.push(task.clone());
        p.version += 1;
        reply(201, &task)
    }

    /// Reads the caller's settings, or with `write` replaces them under the
    /// same `If-Match` rule as projects.
    fn settings(&mut self, write: Option<Option<String>>) -> Reply {
        let Some((name, _)) = self.caller(false) else { return refuse(401, "not logged in") };
        let theme = self.body.get("theme").and_then(Value::as_str).map(str::to_string);
        let interleaved = self.bugs.interleaved;
        let entry = self.s.settings.entry(name).or_insert(("light".into(), 1, String::new()));
        if let Some(if_match) = write {
            let Some(v) = if_match else { return refuse(428, "If-Match required") };
            let current = format!("\"s{}\"", entry.1);
            let fresh = if interleaved { v != entry.2 } else { v == current };
            let Some(theme) = theme.filter(|_| fresh) else {
                return refuse(412, "stale If-Match");
            };
            *entry = (theme, entry.1 + 1, v);
        }
        let mut r = reply(200, &json!({"theme": entry.0}));
        r.headers_mut().insert("etag", format!("\"s{}\"", entry.1).parse().expect("etag"));
        r
    }

    fn read_task(&mut self, id: &str, task: &str) -> Reply {
        let (p, _) = match self.project(id) {
            Ok(found) => found,
            Err((status, why)) => return refuse(status, why),
        };
        match p.tasks.iter().find(|t| t["id"] == task) {
            Some(t) => reply(200, t),
            None => refuse(404, "no such task"),
        }
    }
}
