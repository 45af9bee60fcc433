//! Helpers for the socket tests: a shop on loopback and a small JSON client.
#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use venomqa_samples::{BugSet, ShopHandle};
use venomqa_testkit::shop::start_shop_with;

/// A shop on 127.0.0.1 and a client that talks to it directly (never through a proxy).
pub struct TestShop {
    pub handle: ShopHandle,
    pub client: reqwest::Client,
    pub bugs: BugSet,
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

impl TestShop {
    pub async fn start(bugs: BugSet) -> TestShop {
        let handle = start_shop_with(bugs).await;
        let client = venomqa_testkit::http::client();
        TestShop { handle, client, bugs }
    }

    /// A shop keeping its state in the SQLite database at `path`.
    pub async fn on_database(bugs: BugSet, path: &std::path::Path) -> TestShop {
        let config = venomqa_samples::ShopConfig {
            bugs,
            database: Some(path.to_path_buf()),
            ..Default::default()
        };
        let handle =
            venomqa_samples::spawn_shop(config).await.expect("the shop opens its database");
        let client = venomqa_testkit::http::client();
        TestShop { handle, client, bugs }
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.handle.base_url()));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Answer {
        send(self.request(Method::GET, path, Some(token))).await
    }

    /// A `POST` without a body: the order actions.
    pub async fn post(&self, token: &str, path: &str) -> Answer {
        send(self.request(Method::POST, path, Some(token))).await
    }

    pub async fn login(&self, username: &str) -> String {
        let answer = send(
            self.request(Method::POST, "/login", None)
                .json(&json!({ "username": username, "password": format!("{username}-pw") })),
        )
        .await;
        assert_eq!(answer.status, 200, "{username} logs in: {answer:?}");
        answer.body["token"].as_str().expect("a token").to_string()
    }

    /// A new order of `amount` cents; returns its id.
    pub async fn create(&self, token: &str, amount: u64) -> String {
        let answer = send(
            self.request(Method::POST, "/orders", Some(token))
                .json(&json!({ "item": "tea kettle", "amount": amount })),
        )
        .await;
        assert_eq!(answer.status, 201, "order created: {answer:?}");
        answer.body["id"].as_str().expect("an id").to_string()
    }

    /// Pays with a fresh `Idempotency-Key`, expecting success.
    pub async fn pay(&self, token: &str, id: &str) -> Answer {
        let key = format!("test-{}", rand::random::<u64>());
        let answer = self.pay_with_key(token, id, &key).await;
        assert_eq!(answer.status, 200, "paid: {answer:?}");
        answer
    }

    pub async fn pay_with_key(&self, token: &str, id: &str, key: &str) -> Answer {
        send(
            self.request(Method::POST, &format!("/orders/{id}/pay"), Some(token))
                .header("idempotency-key", key),
        )
        .await
    }

    /// The order as its owner sees it now.
    pub async fn order(&self, token: &str, id: &str) -> Value {
        let answer = self.get(token, &format!("/orders/{id}")).await;
        assert_eq!(answer.status, 200, "read back {id}: {answer:?}");
        answer.body
    }

    pub async fn patch_note(
        &self,
        token: &str,
        id: &str,
        if_match: Option<&str>,
        note: &str,
    ) -> Answer {
        let mut request = self
            .request(Method::PATCH, &format!("/orders/{id}"), Some(token))
            .json(&json!({ "note": note }));
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        send(request).await
    }
}

pub async fn send(request: RequestBuilder) -> Answer {
    let response = request.send().await.expect("the shop answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a whole body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|err| panic!("JSON body ({err}): {bytes:?}"))
    };
    Answer { status, headers, body }
}
