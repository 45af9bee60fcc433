//! Builders shared by the traffic store tests: real exchanges, real stores.
#![allow(dead_code)]

use std::path::Path;

use venomqa_traffic::{
    Body, Exchange, Headers, RecordOptions, RecordSummary, Request, Response, SessionKey, Store,
};

/// A `METHOD url` exchange from 127.0.0.1 answered `200`, started at `at`.
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
        response: Some(Response {
            status: 200,
            version: "HTTP/1.1".into(),
            headers: Headers::default(),
            body: Body::default(),
        }),
        error: None,
    }
}

/// Fluent additions to an exchange, so a test reads like the traffic.
pub trait ExchangeExt: Sized {
    fn req_header(self, name: &str, value: &str) -> Self;
    fn req_json(self, json: &str) -> Self;
    fn resp_header(self, name: &str, value: &str) -> Self;
    fn resp_json(self, json: &str) -> Self;
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

/// Opens (creating) the store at `dir` and writes `exchanges` through a
/// real recording (`Store::append`), to the end.
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

/// 2024-01-01T00:00:00Z in unix ns, plus `secs`.
pub fn t(secs: u64) -> u64 {
    1_704_067_200_000_000_000 + secs * 1_000_000_000
}

/// Most exchanges the writer puts in one block, as the store's layout
/// documents it (`store/layout.rs`); tests that span several blocks size
/// their traffic with it.
pub const BLOCK_MAX_EXCHANGES: usize = 256;

/// A block as the store keeps it (format 2), for tests that write what a
/// crash leaves behind: the postcard records one after another, then per
/// record its id (u64 LE) and where it ends (u32 LE), then the count (u32
/// LE).
pub fn block(exchanges: &[&Exchange]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for e in exchanges {
        out.extend(postcard::to_stdvec(e).unwrap());
        directory.extend(e.id.to_le_bytes());
        directory.extend((out.len() as u32).to_le_bytes());
    }
    out.extend(directory);
    out.extend((exchanges.len() as u32).to_le_bytes());
    out
}

/// The blocks of a closed store as sled holds them: each key and the ids
/// of its directory.
pub fn raw_blocks(dir: &Path) -> Vec<(u64, Vec<u64>)> {
    let db = open_raw(dir);
    let blocks = db.open_tree("blocks").unwrap();
    let mut out = Vec::new();
    for item in blocks.iter() {
        let (key, value) = item.unwrap();
        let count = u32::from_le_bytes(value[value.len() - 4..].try_into().unwrap()) as usize;
        let directory = value.len() - 4 - 12 * count;
        let ids = (0..count)
            .map(|i| {
                let at = directory + 12 * i;
                u64::from_le_bytes(value[at..at + 8].try_into().unwrap())
            })
            .collect();
        out.push((u64::from_be_bytes(key.as_ref().try_into().unwrap()), ids));
    }
    out
}

/// The sled database of a closed store, for tests that look beneath the
/// API. sled lets go of its lock a moment after the last handle is dropped,
/// so this waits for it (a second at most), as `Store::open` does.
pub fn open_raw(dir: &Path) -> sled::Db {
    let started = std::time::Instant::now();
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(1) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("cannot open {}: {e}", dir.display()),
        }
    }
}
