//! The evidence tests' world: the toy service (`service`), its traffic
//! recorded through the real proxy into a real store (sessions assigned,
//! secrets redacted, as `venomqa record` writes), the model learned from
//! it, and a replay of one mutation family against the service with some
//! bugs planted.
#![allow(dead_code)]

pub mod service;

use std::path::Path;

use serde_json::Value;
use venomqa_learner::{learn, LearnOptions, Model};
use venomqa_replayer::{replay, Config, Finding, Recorded, RunOutcome};
use venomqa_testkit::{record_all, store::all, Proxy, TempStore};
use venomqa_traffic::{Exchange, RecordOptions};

/// One user's session through the recording proxy.
pub struct Visit {
    client: reqwest::Client,
    base: String,
    session: String,
    token: Option<String>,
    /// The `Authorization` scheme the token is sent in.
    scheme: &'static str,
    /// A key of the user's own, sent as `X-Api-Key` (no login).
    api_key: Option<String>,
}

impl Visit {
    /// Logs `user` in (a session of its own, named `session`).
    pub async fn login(base: &str, session: &str, user: &str) -> Visit {
        Visit::login_sending(base, session, user, "Bearer").await
    }

    /// [`Visit::login`], sending the token as `Authorization: <scheme> <token>`.
    pub async fn login_sending(
        base: &str,
        session: &str,
        user: &str,
        scheme: &'static str,
    ) -> Visit {
        let password = service::USERS.iter().find(|(u, _)| *u == user).expect("a user").1;
        let mut visit = Visit {
            client: venomqa_testkit::http::client(),
            base: base.to_string(),
            session: session.to_string(),
            token: None,
            scheme,
            api_key: None,
        };
        let answer = visit
            .send(
                "POST",
                "/login",
                Some(serde_json::json!({"username": user, "password": password})),
            )
            .await;
        visit.token = answer["token"].as_str().map(str::to_string);
        assert!(visit.token.is_some(), "{user} logs in: {answer}");
        visit
    }

    /// A session of `user` that logs in with nothing: every request carries
    /// the user's own key ([`service::KEYS`]) as `X-Api-Key`.
    pub fn keyed(base: &str, session: &str, user: &str) -> Visit {
        let key = service::KEYS.iter().find(|(u, _)| *u == user).expect("a user").1;
        Visit {
            client: venomqa_testkit::http::client(),
            base: base.to_string(),
            session: session.to_string(),
            token: None,
            scheme: "Bearer",
            api_key: Some(key.to_string()),
        }
    }

    /// Sends a form-encoded body (`application/x-www-form-urlencoded`):
    /// the status and JSON answer.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        self.form_keyed(path, fields, None).await
    }

    /// [`Visit::form`] with an `Idempotency-Key`.
    pub async fn form_keyed(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let body: String =
            form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut request = self
            .request("POST", path, None)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.expect("the toy answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends a request as this user; its JSON answer (`null` when bodiless).
    /// Panics on a 4xx or 5xx: a recording is of accepted traffic.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.send_validated(method, path, body, None).await.0
    }

    /// [`Visit::send`] with an `If-Match` validator; the answer and its `ETag`.
    pub async fn send_validated(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> (Value, Option<String>) {
        let mut request = self.request(method, path, body);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        let response = request.send().await.expect("the toy answers");
        let status = response.status();
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = response.text().await.expect("a body");
        assert!(status.is_success(), "{path} answered {status}: {text}");
        (serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap_or(Value::Null), etag)
    }

    /// Sends a request the API may refuse (the recording shows a refusal):
    /// its status and JSON answer.
    pub async fn attempt(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let response = self.request(method, path, body).send().await.expect("the toy answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A request as this user, in its session.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, &url).header("x-session", &self.session);
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("{} {token}", self.scheme));
        }
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
    }

    /// `send` with a JSON body.
    pub async fn with(&self, method: &str, path: &str, body: Value) -> Value {
        self.send(method, path, Some(body)).await
    }
}

/// Two users each make a thing and soft-delete it (then list the archived
/// ones), and make another and rename it (then read it and the list).
pub async fn things_archived_and_renamed(base: String) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::login(&base, &format!("archive-{n}"), user).await;
        let thing = v.with("POST", "/things", serde_json::json!({"title": "first"})).await;
        let id = thing["id"].as_str().expect("an id").to_string();
        v.send("DELETE", &format!("/things/{id}"), None).await;
        v.send("GET", "/things?state=archived", None).await;
        let v = Visit::login(&base, &format!("rename-{n}"), user).await;
        let thing = v.with("POST", "/things", serde_json::json!({"title": "second"})).await;
        let id = thing["id"].as_str().expect("an id").to_string();
        let rename = serde_json::json!({"title": "renamed"});
        v.with("POST", &format!("/things/{id}/rename"), rename).await;
        v.send("GET", &format!("/things/{id}"), None).await;
        v.send("GET", "/things", None).await;
    }
}

/// A recording learned: the model and the exchanges its journeys name.
pub struct Learned {
    pub model: Model,
    pub recorded: Recorded,
}

/// Records what `drive` does against a correct toy service, through the
/// real proxy into a store, and learns the model.
pub async fn record<F, Fut>(drive: F) -> Learned
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    record_shaped(&[], drive).await
}

/// [`record`] against a toy service answering in `shapes` (e.g. `bom`).
pub async fn record_shaped<F, Fut>(shapes: &[&'static str], drive: F) -> Learned
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let toy = service::start(shapes).await;
    let mut proxy = Proxy::start(toy.url()).await;
    drive(format!("http://{}", proxy.addr)).await;
    proxy.shutdown().await;
    let captured = proxy.drain_captures();
    let temp = TempStore::new();
    let (store, _) = record_all(temp.path(), RecordOptions::default(), captured);
    let exchanges: Vec<Exchange> = all(&store);
    let model =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns").model;
    let recorded = Recorded::from_exchanges(exchanges).with_redactor(store.redactor());
    Learned { model, recorded }
}

/// The findings of `family` alone against a toy service with `bugs`.
pub async fn findings(learned: &Learned, family: &str, bugs: &[&'static str]) -> Vec<Finding> {
    run(learned, family, bugs).await.findings
}

/// A replay of `family` alone against a toy service with `bugs`.
pub async fn run(learned: &Learned, family: &str, bugs: &[&'static str]) -> RunOutcome {
    run_as(learned, family, bugs, LOGIN_USERS).await
}

/// The toy's users as they log in.
pub const LOGIN_USERS: &str = r#"
[users.alice]
username = "alice"
password = "alice-pw"

[users.bob]
username = "bob"
password = "bob-pw"
"#;

/// [`findings`] with the `[users.NAME]` tables given.
pub async fn findings_as(
    learned: &Learned,
    family: &str,
    bugs: &[&'static str],
    users: &str,
) -> Vec<Finding> {
    run_as(learned, family, bugs, users).await.findings
}

/// [`run`] with the `[users.NAME]` tables given.
pub async fn run_as(
    learned: &Learned,
    family: &str,
    bugs: &[&'static str],
    users: &str,
) -> RunOutcome {
    let toy = service::start(bugs).await;
    let text = format!(
        r#"
[target]
url = "http://{}"
timeout = "5s"

[reset]
request = "POST /__reset"
{users}
[mutations]
enabled = ["{family}"]
"#,
        toy.addr
    );
    let config = Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| None)
        .expect("the configuration parses");
    replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("the replay runs")
}

/// `oracle: summary` of each finding, for messages.
pub fn summary(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| format!("{} {:?}: {}", f.oracle, f.actions, f.summary)).collect()
}
