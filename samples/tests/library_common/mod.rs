//! Helpers for the library's socket tests: a library on loopback, and a
//! small client that keeps the `sid` cookie by hand, as a script would.
#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use venomqa_samples::{spawn_library, LibraryBugSet, LibraryConfig, LibraryHandle, STAFF};

/// A library on 127.0.0.1 and a client that talks to it directly.
pub struct TestLibrary {
    pub handle: LibraryHandle,
    pub client: reqwest::Client,
}

/// One answer, body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The refusal message; panics (with the answer) when there is none.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_else(|| panic!("no `error` in {self:?}"))
    }
}

pub async fn send(request: RequestBuilder) -> Answer {
    let response = request.send().await.expect("the library answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, body }
}

/// The librarian (catalogue) and the desk, as logged-in staff.
pub const LIBRARIAN: usize = 0;
pub const DESK: usize = 1;

impl TestLibrary {
    pub async fn start(bugs: LibraryBugSet) -> TestLibrary {
        let handle = spawn_library(LibraryConfig { bugs, ..LibraryConfig::default() })
            .await
            .expect("the library starts");
        let client = venomqa_testkit::http::client();
        TestLibrary { handle, client }
    }

    /// A request to `path`, with the `sid` cookie when given.
    pub fn request(&self, method: Method, path: &str, sid: Option<&str>) -> RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.handle.base_url()));
        match sid {
            Some(sid) => request.header("cookie", format!("sid={sid}")),
            None => request,
        }
    }

    pub async fn get(&self, sid: &str, path: &str) -> Answer {
        send(self.request(Method::GET, path, Some(sid))).await
    }

    /// A `POST` without a body: the loan and hold actions.
    pub async fn post(&self, sid: &str, path: &str) -> Answer {
        send(self.request(Method::POST, path, Some(sid))).await
    }

    pub async fn post_json(&self, sid: &str, path: &str, body: Value) -> Answer {
        send(self.request(Method::POST, path, Some(sid)).json(&body)).await
    }

    /// Any method with a JSON body: the `PUT`s and `PATCH`es.
    pub async fn send_json(&self, method: Method, sid: &str, path: &str, body: Value) -> Answer {
        send(self.request(method, path, Some(sid)).json(&body)).await
    }

    /// A conditional write with `If-Match: if_match`.
    pub async fn write_if_match(
        &self,
        method: Method,
        sid: &str,
        path: &str,
        if_match: &str,
        body: Value,
    ) -> Answer {
        let request = self.request(method, path, Some(sid)).header("if-match", if_match);
        send(request.json(&body)).await
    }

    /// The caller's member id, from `GET /api/v1/me`.
    pub async fn member_id(&self, sid: &str) -> u64 {
        let me = self.get(sid, "/api/v1/me").await;
        me.body["id"].as_u64().unwrap_or_else(|| panic!("a member id in {me:?}"))
    }

    /// The answer to a nested-JSON login.
    pub async fn try_login(&self, email: &str, password: &str) -> Answer {
        let body = json!({ "member": { "email": email, "password": password } });
        send(self.request(Method::POST, "/api/v1/session", None).json(&body)).await
    }

    /// Logs in and returns the session id from `Set-Cookie`.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let answer = self.try_login(email, password).await;
        assert_eq!((answer.status, &answer.body["ok"]), (200, &json!(true)), "{answer:?}");
        sid_of(&answer).expect("a sid cookie")
    }

    /// Signs `name` up (email `name@members.test`) and logs them in.
    pub async fn member(&self, name: &str) -> String {
        let email = format!("{name}@members.test");
        let body = json!({ "member": { "email": email, "password": "secret-pw", "name": name } });
        let answer = send(self.request(Method::POST, "/api/v1/members", None).json(&body)).await;
        assert_eq!(answer.status, 201, "{name} signs up: {answer:?}");
        self.login(&email, "secret-pw").await
    }

    /// A seeded staff account, logged in.
    pub async fn staff(&self, k: usize) -> String {
        self.login(STAFF[k].email, STAFF[k].password).await
    }

    /// The librarian adds `slug` with `copies` copies.
    pub async fn book(&self, slug: &str, copies: usize) {
        let librarian = self.staff(LIBRARIAN).await;
        let body = json!({ "slug": slug, "title": format!("Title of {slug}"), "author": "Anon" });
        let added = self.post_json(&librarian, "/api/v1/books", body).await;
        assert_eq!(added.status, 201, "{added:?}");
        for c in 0..copies {
            let path = format!("/api/v1/books/{slug}/copies");
            let copy =
                self.post_json(&librarian, &path, json!({ "barcode": format!("bc-{c}") })).await;
            assert_eq!(copy.status, 201, "{copy:?}");
        }
    }

    /// Borrows `slug`; returns the loan id.
    pub async fn borrow(&self, sid: &str, slug: &str) -> u64 {
        let answer = self.post_json(sid, "/api/v1/loans", json!({ "book": slug })).await;
        assert_eq!(answer.status, 201, "borrow {slug}: {answer:?}");
        answer.body["id"].as_u64().expect("a loan id")
    }

    /// Holds `slug`; returns the hold id and its pickup code.
    pub async fn hold(&self, sid: &str, slug: &str) -> (u64, String) {
        let answer = self.post_json(sid, "/api/v1/holds", json!({ "book": slug })).await;
        assert_eq!(answer.status, 201, "hold {slug}: {answer:?}");
        let code = answer.body["code"].as_str().expect("a pickup code").to_string();
        (answer.body["id"].as_u64().expect("a hold id"), code)
    }

    /// The desk redeems `code`.
    pub async fn redeem(&self, code: &str) -> Answer {
        let desk = self.staff(DESK).await;
        self.post_json(&desk, "/api/v1/desk/pickups", json!({ "code": code })).await
    }

    /// The member's loans, as they list them.
    pub async fn loans(&self, sid: &str) -> Vec<Value> {
        let answer = self.get(sid, "/api/v1/loans").await;
        answer.body["loans"].as_array().cloned().unwrap_or_default()
    }
}

/// The `sid` a `Set-Cookie` header carries, if any.
pub fn sid_of(answer: &Answer) -> Option<String> {
    let cookie = answer.header("set-cookie")?;
    let sid = cookie.split(';').next()?.trim().strip_prefix("sid=")?;
    (!sid.is_empty()).then(|| sid.to_string())
}
