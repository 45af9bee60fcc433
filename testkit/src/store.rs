//! Temp stores and exchanges built in code: a store folder that goes away
//! with the test ([`TempStore`]), an exchange that reads like the traffic
//! ([`exchange`] and [`ExchangeExt`]), and a whole recording written in one
//! call ([`record_all`]).

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use venomqa_traffic::{
    Body, Exchange, Headers, RecordOptions, RecordSummary, Request, Response, SessionKey, Store,
};

/// A store's folder in a fresh temp directory, removed when this is dropped.
/// The folder itself does not exist until the store is opened.
pub struct TempStore {
    dir: TempDir,
    path: PathBuf,
}

impl TempStore {
    /// A place for a new store: `<temp dir>/store`.
    pub fn new() -> TempStore {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("store");
        TempStore { dir, path }
    }

    /// The store's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's folder as a command-line argument (`--store`).
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("temp paths are UTF-8")
    }

    /// The temp directory around the store, for files that go beside it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Opens (creating) the store.
    pub fn open(&self) -> Store {
        Store::open(&self.path).expect("open the temp store")
    }
}

impl Default for TempStore {
    fn default() -> Self {
        TempStore::new()
    }
}

/// A `METHOD url` exchange from 127.0.0.1 answered `200` without a body,
/// started at `at` (unix ns); the store gives it its id and session.
pub fn exchange(method: &str, url: &str, at: u64) -> Exchange {
    Exchange {
        id: 0,
        session: SessionKey::default(),
        started_at: at,
        duration_ns: 1_000_000,
        client: Some("127.0.0.1:40000".into()),
        request: Request {
            method: method.into(),
            url: url.into(),
            version: "HTTP/1.1".into(),
            headers: Headers::default(),
            body: Body::default(),
        },
        response: Some(ok()),
        error: None,
    }
}

fn ok() -> Response {
    Response {
        status: 200,
        version: "HTTP/1.1".into(),
        headers: Headers::default(),
        body: Body::default(),
    }
}

/// Fluent additions to an [`exchange`], so a test reads like the traffic.
pub trait ExchangeExt: Sized {
    /// Adds a request header.
    fn req_header(self, name: &str, value: &str) -> Self;
    /// Sends `json` as the request body, with its content type.
    fn req_json(self, json: &str) -> Self;
    /// Adds a response header.
    fn resp_header(self, name: &str, value: &str) -> Self;
    /// Answers with `json`, with its content type.
    fn resp_json(self, json: &str) -> Self;
    /// Sets (or, with `None`, clears) the client address.
    fn client(self, client: Option<&str>) -> Self;
}

impl ExchangeExt for Exchange {
    fn req_header(mut self, name: &str, value: &str) -> Self {
        self.request.headers.push(name, value);
        self
    }

    fn req_json(mut self, json: &str) -> Self {
        self.request.headers.push("Content-Type", "application/json");
        self.request.body = Body::complete(json);
        self
    }

    fn resp_header(mut self, name: &str, value: &str) -> Self {
        if let Some(r) = self.response.as_mut() {
            r.headers.push(name, value);
        }
        self
    }

    fn resp_json(mut self, json: &str) -> Self {
        if let Some(r) = self.response.as_mut() {
            r.headers.push("Content-Type", "application/json");
            r.body = Body::complete(json);
        }
        self
    }

    fn client(mut self, client: Option<&str>) -> Self {
        self.client = client.map(str::to_string);
        self
    }
}

/// Opens (creating) the store at `dir`, writes `exchanges` through a real
/// recording with `options`, and finishes it: sessions assigned, secrets
/// redacted, exactly as `venomqa record` writes.
pub fn record_all(
    dir: &Path,
    options: RecordOptions,
    exchanges: Vec<Exchange>,
) -> (Store, RecordSummary) {
    let store = Store::open(dir).expect("open store");
    let summary = store.append(exchanges, options).expect("append the exchanges");
    assert_eq!(summary.captures_dropped, 0, "every exchange written");
    (store, summary)
}

/// Every exchange of the store, in id order.
pub fn all(store: &Store) -> Vec<Exchange> {
    store.exchanges().collect::<Result<_, _>>().expect("read exchanges")
}

/// The session key of every exchange, in id order.
pub fn session_keys(store: &Store) -> Vec<String> {
    all(store).into_iter().map(|e| e.session.0).collect()
}
