//! The tracker's QA traffic, recorded through the real proxy into a real
//! store (sessions assigned, secrets redacted), and the model learned from it.

use reqwest::Method;
use serde_json::{json, Value};
use venomqa_learner::{learn, LearnOptions, Model};
use venomqa_replayer::Recorded;
use venomqa_testkit::store::all;
use venomqa_testkit::{record_all, Proxy, TempStore};
use venomqa_traffic::RecordOptions;

use super::server::{start, Bugs};

/// A learned model and the exchanges its journeys name.
pub struct Learned {
    pub model: Model,
    pub recorded: Recorded,
}

/// One QA session: its own key, the token of its login.
struct Session<'a> {
    http: &'a reqwest::Client,
    base: String,
    key: String,
    token: Option<String>,
}

impl Session<'_> {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Value,
        etag: Option<&str>,
    ) -> (Value, Option<String>) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-session", &self.key);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(v) = etag {
            req = req.header("if-match", v);
        }
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the tracker answers");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
        (resp.json().await.unwrap_or(Value::Null), etag)
    }

    async fn login(&mut self, user: &str) {
        let body = json!({"username": user, "password": format!("{user}-pw")});
        let (answer, _) = self.send(Method::POST, "/login", body, None).await;
        self.token = answer["token"].as_str().map(str::to_string);
    }

    /// Creates a project, renames it under `If-Match`, adds a task and reads it, submits it.
    async fn project(&mut self) -> String {
        let (p, _) = self.send(Method::POST, "/projects", json!({"name": "roadmap"}), None).await;
        let id = p["id"].as_str().expect("id").to_string();
        let (_, etag) = self.send(Method::GET, &format!("/projects/{id}"), Value::Null, None).await;
        let rename = json!({"name": "roadmap 2"});
        self.send(Method::PATCH, &format!("/projects/{id}"), rename, etag.as_deref()).await;
        let (task, _) = self
            .send(Method::POST, &format!("/projects/{id}/tasks"), json!({"title": "plan"}), None)
            .await;
        let task = task["id"].as_str().expect("task id").to_string();
        self.send(Method::GET, &format!("/projects/{id}/tasks/{task}"), Value::Null, None).await;
        self.send(Method::POST, &format!("/projects/{id}/submit"), Value::Null, None).await;
        self.send(Method::GET, &format!("/projects/{id}"), Value::Null, None).await;
        id
    }
}

/// Members ann and bo each work on a project and log out; staff sam works
/// on one and approves it. Recorded against a correct tracker.
pub async fn record() -> Learned {
    let tracker = start(Bugs::default()).await;
    let proxy = Proxy::start(tracker.url()).await;
    let http = venomqa_testkit::http::client();
    let session =
        |key: &str| Session { http: &http, base: proxy.url(""), key: key.into(), token: None };
    for (n, user) in ["ann", "bo", "ann", "bo"].into_iter().enumerate() {
        let mut s = session(&format!("qa-{n}"));
        s.login(user).await;
        let (_, etag) = s.send(Method::GET, "/me/settings", Value::Null, None).await;
        s.send(Method::PUT, "/me/settings", json!({"theme": "dark"}), etag.as_deref()).await;
        s.project().await;
        s.send(Method::POST, "/logout", Value::Null, None).await;
    }
    for n in 0..2 {
        let mut s = session(&format!("staff-{n}"));
        s.login("sam").await;
        let id = s.project().await;
        s.send(Method::POST, &format!("/projects/{id}/approve"), Value::Null, None).await;
        s.send(Method::GET, &format!("/projects/{id}"), Value::Null, None).await;
    }
    let mut proxy = proxy;
    proxy.shutdown().await;
    let captured = proxy.drain_captures();
    let temp = TempStore::new();
    let (store, _) = record_all(temp.path(), RecordOptions::default(), captured);
    let exchanges = all(&store);
    let learned =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns");
    Learned { model: learned.model, recorded: Recorded::from_exchanges(exchanges) }
}
