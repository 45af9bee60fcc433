//! `Store::append`: the one way to write exchanges that are already in
//! hand (a HAR import, generated traffic), as a recording would.

mod common;

use common::*;
use venomqa_traffic::{is_pseudonym, Error, RecordOptions, Store};

#[test]
fn appended_exchanges_are_sessioned_redacted_and_counted_like_captures() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // More than the queue holds: append waits for room instead of dropping.
    let exchanges: Vec<_> = (0..50)
        .map(|n| {
            exchange("POST", "/login", t(n))
                .req_header("X-Session", &format!("s-{}", n % 3))
                .req_json(r#"{"username":"alice","password":"alice-pw"}"#)
        })
        .collect();
    let options = RecordOptions { queue: 4, ..RecordOptions::default() };
    let summary = store.append(exchanges, options).unwrap();
    assert_eq!(
        (summary.exchanges_written, summary.sessions_touched, summary.captures_dropped),
        (50, 3, 0)
    );
    let stored = all(&store);
    assert_eq!(stored.len(), 50);
    assert!(stored.windows(2).all(|w| w[0].id < w[1].id), "ids assigned in time order");
    let sessions = store.sessions().unwrap();
    let keys: Vec<&str> = sessions.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["x-session:s-0", "x-session:s-1", "x-session:s-2"]);
    let body: serde_json::Value = serde_json::from_slice(&stored[0].request.body.bytes).unwrap();
    let password = body["password"].as_str().unwrap();
    assert!(is_pseudonym(password.as_bytes()), "{password}");
    assert_eq!(store.stats().unwrap().exchanges, 50);
}

#[test]
fn a_second_append_continues_the_store_and_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = vec![exchange("GET", "/a", t(0)).req_header("X-Session", "s-1")];
    let second = vec![exchange("GET", "/b", t(1)).req_header("X-Session", "s-1")];
    store.append(first, RecordOptions::default()).unwrap();
    let summary = store.append(second, RecordOptions::default()).unwrap();
    assert_eq!((summary.exchanges_written, summary.sessions_touched), (1, 1));
    assert_eq!(session_keys(&store), ["x-session:s-1", "x-session:s-1"]);
    assert_eq!(store.stats().unwrap().sessions, 1);
}

#[test]
fn append_is_refused_while_a_recording_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions::default()).unwrap();
    let err = store.append(vec![exchange("GET", "/", t(0))], RecordOptions::default()).unwrap_err();
    assert!(matches!(err, Error::AlreadyRecording { .. }), "{err:?}");
    recording.finish().unwrap();
    assert!(all(&store).is_empty());
}
