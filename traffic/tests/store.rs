//! The store on disk: append, reopen, read back; versions, locks, crashes.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use venomqa_traffic::{Error, Exchange, RecordOptions, SessionKey, Store, FORMAT_VERSION};

/// Set in a child process started by a test of this binary: says its role.
const CHILD_ROLE: &str = "VENOMQA_TEST_CHILD_ROLE";
const CHILD_DIR: &str = "VENOMQA_TEST_CHILD_DIR";
/// What a child prints once it holds the store (after libtest's own text).
const READY: &str = "CHILD-READY";

/// The store's sled database opened directly, to damage it as a crash
/// would. sled lets go of its lock a moment after the last handle is
/// dropped (as `Store::open` knows): wait for it, a few seconds at most.
fn raw_sled(dir: &std::path::Path) -> sled::Db {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the store's database did not open within 5 s: {e}"),
        }
    }
}

fn no_redaction() -> RecordOptions {
    RecordOptions { redact: false, ..RecordOptions::default() }
}

#[test]
fn appended_exchanges_survive_reopen_and_iterate_in_id_order() {
    let dir = tempfile::tempdir().unwrap();
    let sent: Vec<Exchange> =
        (0..100).map(|n| exchange("GET", &format!("/orders/{n}"), t(n))).collect();
    let (store, summary) = record_all(dir.path(), no_redaction(), sent.clone());
    assert_eq!(summary.exchanges_written, 100);
    assert_eq!(summary.captures_dropped, 0);
    drop(store);

    let store = Store::open_existing(dir.path()).unwrap();
    let read = all(&store);
    assert_eq!(read.len(), 100);
    for (n, (got, want)) in read.iter().zip(&sent).enumerate() {
        assert_eq!(got.id, t(n as u64), "id is the start time when that is free");
        assert_eq!(got.request, want.request);
        assert_eq!(got.response, want.response);
        assert_eq!(got.session.as_str(), "client:127.0.0.1");
    }
    let last_two: Vec<u64> = store.exchanges().rev().take(2).map(|e| e.unwrap().id).collect();
    assert_eq!(last_two, vec![t(99), t(98)]);
}

#[test]
fn a_new_recording_continues_after_the_last_id() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), no_redaction(), vec![exchange("GET", "/a", t(10))]);
    drop(store);
    // An exchange that claims to have started earlier still sorts after.
    let (store, _) = record_all(dir.path(), no_redaction(), vec![exchange("GET", "/b", t(5))]);
    let ids: Vec<u64> = all(&store).iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![t(10), t(10) + 1]);
}

#[test]
fn get_and_exchanges_in_read_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let sent = (0..10).map(|n| exchange("GET", &format!("/n/{n}"), t(n))).collect();
    let (store, _) = record_all(dir.path(), no_redaction(), sent);
    let middle: Vec<String> =
        store.exchanges_in(t(3)..=t(5)).map(|e| e.unwrap().request.url).collect();
    assert_eq!(middle, vec!["/n/3", "/n/4", "/n/5"]);
    assert_eq!(store.get(t(7)).unwrap().unwrap().request.url, "/n/7");
    assert_eq!(store.get(t(7) + 1).unwrap(), None);
}

#[test]
fn an_import_keeps_its_ids_and_sessions_when_they_are_free() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = exchange("GET", "/imported", t(1));
    first.id = 42;
    first.session = SessionKey("x-session:from-har".into());
    let mut clash = exchange("GET", "/clash", t(2));
    clash.id = 42;
    let (store, _) = record_all(dir.path(), no_redaction(), vec![first, clash]);
    let read = all(&store);
    assert_eq!((read[0].id, read[0].session.as_str()), (42, "x-session:from-har"));
    assert_eq!(read[1].id, t(2), "a taken id is replaced by a fresh one");
}

#[test]
fn stats_count_exchanges_sessions_and_bytes_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let sent = (0..30)
        .map(|n| exchange("GET", "/", t(n)).req_header("X-Session", &format!("s-{}", n % 3)))
        .collect();
    let (store, summary) = record_all(dir.path(), no_redaction(), sent);
    assert_eq!(summary.sessions_touched, 3);
    let stats = store.stats().unwrap();
    assert_eq!((stats.exchanges, stats.sessions), (30, 3));
    assert!(stats.bytes_on_disk > 0);
}

#[test]
fn sessions_summarise_counts_times_and_distinct_endpoints_without_query() {
    let dir = tempfile::tempdir().unwrap();
    let in_session = |s: &str, method: &str, url: &str, at: u64| {
        exchange(method, url, at).req_header("X-Session", s)
    };
    let sent = vec![
        in_session("b", "GET", "/orders?page=2", t(1)),
        in_session("a", "POST", "/login", t(2)),
        in_session("b", "GET", "/orders?page=3", t(3)),
        in_session("a", "GET", "http://shop.test/orders/7#top", t(4)),
        in_session("b", "DELETE", "/orders/1", t(5)),
    ];
    let (store, _) = record_all(dir.path(), no_redaction(), sent);
    let sessions = store.sessions().unwrap();
    let keys: Vec<&str> = sessions.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, vec!["x-session:b", "x-session:a"], "ordered by first exchange");
    assert_eq!((sessions[0].exchanges, sessions[0].first, sessions[0].last), (3, t(1), t(5)));
    assert_eq!(sessions[0].endpoints, vec!["DELETE /orders/1", "GET /orders"]);
    assert_eq!(sessions[1].endpoints, vec!["GET /orders/7", "POST /login"]);

    // The summary reads only the head of each record: it must agree with
    // the whole records.
    for session in &sessions {
        let full: Vec<Exchange> =
            store.session_exchanges(&session.key).collect::<Result<_, _>>().unwrap();
        assert_eq!(full.len() as u64, session.exchanges);
        assert_eq!(full.first().unwrap().started_at, session.first);
        let mut endpoints: Vec<String> =
            full.iter().map(|e| format!("{} {}", e.request.method, e.request.path())).collect();
        endpoints.sort();
        endpoints.dedup();
        assert_eq!(endpoints, session.endpoints);
    }
}

#[test]
fn open_existing_refuses_a_missing_store_and_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let err = Store::open_existing(&missing).unwrap_err();
    assert!(matches!(err, Error::NotAStore { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&missing.display().to_string()), "{message}");
    assert!(message.contains("venomqa record"), "{message}");
    assert!(!missing.exists(), "a reader must not create the store");
}

#[test]
fn open_refuses_to_create_a_store_among_other_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::ForeignDirectory { .. }), "{err:?}");
}

#[test]
fn a_store_of_another_format_version_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        // What a future venomqa would have written.
        let db = raw_sled(dir.path());
        let meta = db.open_tree("meta").unwrap();
        meta.insert("format_version", &7u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Version { found: 7, expected: FORMAT_VERSION, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("format version 7"), "{message}");
    assert!(message.contains(&format!("reads versions 2 to {FORMAT_VERSION}")), "{message}");
    assert!(message.contains(&dir.path().display().to_string()), "{message}");
}

#[test]
fn a_second_open_in_the_same_process_gets_the_in_use_error() {
    // sled locks with flock(2), which is per open file, so even a second
    // open from this process is refused while the first is alive.
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let err = Store::open_existing(dir.path()).unwrap_err();
    assert!(matches!(err, Error::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("is `venomqa record` still running?"), "{err}");
    drop(first);
    Store::open_existing(dir.path()).expect("the lock goes with the store");
}

#[test]
fn a_store_reopens_right_after_its_last_handle_is_dropped() {
    // sled lets go of its lock a moment after the drop; open waits for it.
    let dir = tempfile::tempdir().unwrap();
    for n in 0..20 {
        let (store, _) = record_all(dir.path(), no_redaction(), vec![exchange("GET", "/", t(n))]);
        drop(store);
    }
    assert_eq!(all(&Store::open_existing(dir.path()).unwrap()).len(), 20);
}

#[test]
fn a_second_process_gets_the_in_use_error() {
    if std::env::var(CHILD_ROLE).as_deref() == Ok("hold") {
        let dir = std::env::var(CHILD_DIR).unwrap();
        let _store = Store::open(&dir).unwrap();
        println!("{READY}");
        std::io::stdout().flush().unwrap();
        // Hold the store until the parent closes our stdin.
        let _ = std::io::stdin().lines().count();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = child_process("a_second_process_gets_the_in_use_error", "hold", dir.path());
    wait_for_ready(&mut child);
    let err = Store::open_existing(dir.path()).unwrap_err();
    assert!(matches!(err, Error::InUse { .. }), "{err:?}");
    drop(child.0.stdin.take());
    assert!(child.0.wait().unwrap().success());
    Store::open_existing(dir.path()).expect("free again once the other process is gone");
}

#[test]
fn a_hard_kill_while_recording_leaves_a_store_whose_index_matches_its_exchanges() {
    if std::env::var(CHILD_ROLE).as_deref() == Ok("record") {
        let dir = std::env::var(CHILD_DIR).unwrap();
        let store = Store::open(&dir).unwrap();
        let recording = store.record(RecordOptions::default()).unwrap();
        let sender = recording.sender();
        let started = Instant::now();
        // Runs until killed; the limit only guards against a parent gone astray.
        for n in 0u64.. {
            if started.elapsed() > Duration::from_secs(60) {
                break;
            }
            let e = exchange("POST", "/orders", venomqa_traffic::unix_now_ns())
                .req_header("X-Session", &format!("s-{}", n % 17));
            sender.capture_blocking(e);
            if n == 2000 {
                while recording.written() < 2000 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                store.flush().unwrap();
                println!("{READY}");
                std::io::stdout().flush().unwrap();
            }
        }
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().unwrap();
    let test = "a_hard_kill_while_recording_leaves_a_store_whose_index_matches_its_exchanges";
    let mut child = child_process(test, "record", dir.path());
    wait_for_ready(&mut child);
    std::thread::sleep(Duration::from_millis(300));
    child.0.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.0.wait().unwrap();

    let store = Store::open_existing(dir.path()).unwrap();
    let exchanges = all(&store);
    assert!(exchanges.len() >= 2000, "flushed exchanges survive: {}", exchanges.len());
    let sessions = store.sessions().unwrap();
    let mut indexed = 0;
    for session in &sessions {
        let ids: Vec<u64> = store.session_exchanges(&session.key).map(|e| e.unwrap().id).collect();
        assert_eq!(ids.len() as u64, session.exchanges, "index of {}", session.key);
        indexed += ids.len();
    }
    assert_eq!(indexed, exchanges.len());
    let stats = store.stats().unwrap();
    assert_eq!(stats.exchanges, exchanges.len() as u64);
    assert_eq!(stats.sessions, sessions.len() as u64);
}

#[test]
fn a_hard_kill_loses_nothing_older_than_the_flush_interval_without_an_explicit_flush() {
    // sled's own timer flushes every FLUSH_EVERY_MS: what was written more
    // than that before a SIGKILL survives it, with no flush by anyone.
    if std::env::var(CHILD_ROLE).as_deref() == Ok("record-unflushed") {
        let dir = std::env::var(CHILD_DIR).unwrap();
        let store = Store::open(&dir).unwrap();
        let recording = store.record(RecordOptions::default()).unwrap();
        let sender = recording.sender();
        for n in 0..3000u64 {
            let e = exchange("POST", "/orders", venomqa_traffic::unix_now_ns())
                .req_header("X-Session", &format!("s-{}", n % 17));
            sender.capture_blocking(e);
        }
        while recording.written() < 3000 {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(3 * venomqa_traffic::FLUSH_EVERY_MS));
        println!("{READY}");
        std::io::stdout().flush().unwrap();
        let started = Instant::now();
        for n in 0u64.. {
            if started.elapsed() > Duration::from_secs(60) {
                break;
            }
            let e = exchange("GET", "/later", venomqa_traffic::unix_now_ns())
                .req_header("X-Session", &format!("s-{}", n % 5));
            sender.capture_blocking(e);
        }
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().unwrap();
    let test = "a_hard_kill_loses_nothing_older_than_the_flush_interval_without_an_explicit_flush";
    let mut child = child_process(test, "record-unflushed", dir.path());
    wait_for_ready(&mut child);
    std::thread::sleep(Duration::from_millis(100));
    child.0.kill().unwrap();
    child.0.wait().unwrap();

    let store = Store::open_existing(dir.path()).unwrap();
    let exchanges = all(&store);
    let orders = exchanges.iter().filter(|e| e.request.url == "/orders").count();
    assert_eq!(orders, 3000, "everything written a flush interval before the kill");
    let mut indexed = 0;
    for session in store.sessions().unwrap() {
        let ids: Vec<u64> = store.session_exchanges(&session.key).map(|e| e.unwrap().id).collect();
        indexed += ids.len();
    }
    assert_eq!(indexed, exchanges.len());
    assert_eq!(store.stats().unwrap().exchanges, exchanges.len() as u64);
}

#[test]
fn a_batch_cut_short_between_its_writes_is_repaired_on_open() {
    // The state a kill between the block write and the index write
    // leaves: the block is there, its index entries and counts are not,
    // and the writer's `dirty_from` marker is still set.
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), no_redaction(), vec![exchange("GET", "/a", t(1))]);
    let mut lost = exchange("GET", "/b", t(2));
    lost.id = t(2);
    lost.session = SessionKey("x-session:orphan".into());
    drop(store);
    {
        let db = raw_sled(dir.path());
        let blocks = db.open_tree("blocks").unwrap();
        blocks.insert(t(2).to_be_bytes(), block(&[&lost])).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert("dirty_from", &t(2).to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_existing(dir.path()).unwrap();
    let orphan: Vec<u64> = store
        .session_exchanges(&SessionKey("x-session:orphan".into()))
        .map(|e| e.unwrap().id)
        .collect();
    assert_eq!(orphan, vec![t(2)]);
    let stats = store.stats().unwrap();
    assert_eq!((stats.exchanges, stats.sessions), (2, 2));
}

#[test]
fn rebuild_index_restores_a_lost_index() {
    let dir = tempfile::tempdir().unwrap();
    let sent = (0..20)
        .map(|n| exchange("GET", "/", t(n)).req_header("X-Session", &format!("s-{}", n % 4)))
        .collect();
    let (store, _) = record_all(dir.path(), no_redaction(), sent);
    drop(store);
    {
        let db = raw_sled(dir.path());
        db.open_tree("session_index").unwrap().clear().unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_existing(dir.path()).unwrap();
    store.rebuild_index().unwrap();
    let count = store.session_exchanges(&SessionKey("x-session:s-1".into())).count();
    assert_eq!(count, 5);
    assert_eq!(store.stats().unwrap().sessions, 4);
}

/// A child process that is killed if the test fails before it ends.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs one test of this binary in a child process with `role`.
fn child_process(test: &str, role: &str, dir: &std::path::Path) -> ChildGuard {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROLE, role)
        .env(CHILD_DIR, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    ChildGuard(child)
}

/// Reads the child's output until it prints `ready` (30 s at most), then
/// keeps reading it in the background so the child never writes to a
/// closed pipe.
fn wait_for_ready(child: &mut ChildGuard) {
    let started = Instant::now();
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains(READY) {
            std::thread::spawn(move || lines.for_each(drop));
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "child never got ready");
    }
    panic!("child exited before it was ready: {:?}", child.0.wait());
}

#[cfg(unix)]
#[test]
fn a_new_store_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("store");
    let store = Store::open(&dir).unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let wanted = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), wanted, "{}", path.display());
    }
    drop(store);
}

#[test]
fn a_store_with_a_garbled_conf_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let sent = (0..10).map(|n| exchange("GET", "/", t(n))).collect();
    drop(record_all(dir.path(), RecordOptions::default(), sent));
    let conf = dir.path().join("conf");
    let mut bytes = std::fs::read(&conf).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // the checksum
    std::fs::write(&conf, bytes).unwrap();
    for err in [Store::open_existing(dir.path()).unwrap_err(), Store::open(dir.path()).unwrap_err()]
    {
        assert!(matches!(&err, Error::Conf { path, .. } if *path == conf), "{err:?}");
        assert!(err.to_string().contains(&conf.display().to_string()), "{err}");
    }
}

#[test]
fn an_incomplete_snapshot_left_by_an_interrupted_open_is_removed_and_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let sent = (0..10).map(|n| exchange("GET", "/", t(n))).collect();
    drop(record_all(dir.path(), RecordOptions::default(), sent));
    let leftover = dir.path().join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&leftover, b"cut sh").unwrap();
    let store = Store::open_existing(dir.path()).unwrap();
    assert!(!leftover.exists());
    assert_eq!(all(&store).len(), 10);
}
