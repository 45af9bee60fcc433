//! The writer: ids under concurrency, a full queue, draining on finish.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use venomqa_traffic::{unix_now_ns, Error, RecordOptions, Store, StoreTrouble};

#[test]
fn ids_are_unique_and_time_ordered_under_many_concurrent_senders() {
    const THREADS: usize = 8;
    const EACH: usize = 2_500;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions { queue: 256, ..RecordOptions::default() }).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let sender = recording.sender();
            scope.spawn(move || {
                for seq in 0..EACH {
                    let e = exchange("GET", &format!("/t/{thread}/{seq}"), unix_now_ns());
                    assert!(sender.capture_blocking(e));
                }
            });
        }
    });
    let summary = recording.finish().unwrap();
    assert_eq!(summary.exchanges_written, (THREADS * EACH) as u64);

    let read = all(&store);
    assert_eq!(read.len(), THREADS * EACH);
    let ids: HashSet<u64> = read.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), read.len(), "ids are unique");
    assert!(read.windows(2).all(|w| w[0].id < w[1].id), "the store iterates in id order");
    assert!(read.iter().all(|e| e.id >= e.started_at), "an id is never before its start");
    // One sender's exchanges keep their order.
    let mut last_seq = [None::<usize>; THREADS];
    for e in &read {
        let mut parts = e.request.url.rsplit('/');
        let seq: usize = parts.next().unwrap().parse().unwrap();
        let thread: usize = parts.next().unwrap().parse().unwrap();
        assert!(last_seq[thread] < Some(seq), "thread {thread} out of order");
        last_seq[thread] = Some(seq);
    }
}

#[test]
fn a_full_queue_drops_and_counts_captures_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions { queue: 4, ..RecordOptions::default() }).unwrap();
    let sender = recording.sender();
    let body = vec![b'x'; 64 * 1024]; // make the writer slower than the senders
    let started = Instant::now();
    let mut accepted = 0u64;
    for n in 0..5_000u64 {
        let mut e = exchange("POST", "/upload", t(n));
        e.request.body = venomqa_traffic::Body::complete(body.clone());
        if sender.capture(e) {
            accepted += 1;
        }
    }
    let sending = started.elapsed();
    drop(sender);
    let summary = recording.finish().unwrap();

    assert!(summary.captures_dropped > 0, "a 4-slot queue cannot take 5000 at once");
    assert_eq!(summary.captures_dropped + accepted, 5_000);
    assert_eq!(summary.exchanges_written, accepted, "everything accepted is written");
    assert_eq!(all(&store).len() as u64, accepted);
    assert!(sending < Duration::from_secs(5), "capture never waits for the disk: {sending:?}");
}

#[test]
fn finish_writes_everything_already_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording =
        store.record(RecordOptions { queue: 50_000, ..RecordOptions::default() }).unwrap();
    let sender = recording.sender();
    for n in 0..20_000 {
        assert!(sender.capture(exchange("GET", "/", t(n))));
    }
    // No waiting: most of these are still in the queue.
    let summary = recording.finish().unwrap();
    assert_eq!(summary.exchanges_written, 20_000);
    assert_eq!(summary.captures_dropped, 0);
    assert_eq!(store.stats().unwrap().exchanges, 20_000);

    // The writer is gone: late captures are refused and counted.
    assert!(!sender.capture(exchange("GET", "/late", t(99_999))));
    assert_eq!(sender.dropped(), 1);
}

#[test]
fn written_counts_live_while_recording() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions::default()).unwrap();
    let sender = recording.sender();
    for n in 0..10 {
        sender.capture(exchange("GET", "/", t(n)));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while recording.written() < 10 {
        assert!(Instant::now() < deadline, "writer never caught up");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(recording.finish().unwrap().exchanges_written, 10);
}

#[test]
fn only_one_recording_of_a_store_runs_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store.record(RecordOptions::default()).unwrap();
    let err = store.record(RecordOptions::default()).unwrap_err();
    assert!(matches!(err, Error::AlreadyRecording { .. }), "{err:?}");
    first.finish().unwrap();
    store.record(RecordOptions::default()).unwrap().finish().unwrap();
}

#[test]
fn dropping_a_recording_still_writes_and_flushes_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions::default()).unwrap();
    let sender = recording.sender();
    for n in 0..100 {
        sender.capture(exchange("GET", "/", t(n)));
    }
    drop(recording);
    assert_eq!(all(&store).len(), 100);
}

#[test]
fn a_clean_finish_confirms_everything_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions::default()).unwrap();
    let sender = recording.sender();
    for n in 0..500 {
        sender.capture(exchange("GET", "/", t(n)));
    }
    let summary = recording.finish_within(Duration::from_secs(60)).unwrap();
    assert_eq!(summary.exchanges_written, 500);
    assert_eq!((summary.unconfirmed, summary.trouble), (0, None));
    assert!(!store.failed());
}

#[test]
fn a_finish_past_its_deadline_says_what_is_not_confirmed_and_gives_the_store_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording =
        store.record(RecordOptions { queue: 1_000, ..RecordOptions::default() }).unwrap();
    let sender = recording.sender();
    // Far more than the writer can write before a deadline of zero.
    let body = venomqa_traffic::Body::complete(vec![b'x'; 256 * 1024]);
    let mut accepted = 0;
    for n in 0..400 {
        let mut e = exchange("POST", "/upload", t(n));
        e.request.body = body.clone();
        if sender.capture(e) {
            accepted += 1;
        }
    }
    let summary = recording.finish_within(Duration::ZERO).unwrap();
    assert_eq!(summary.trouble, Some(StoreTrouble::FlushTimedOut));
    assert!(summary.unconfirmed > 0 && summary.unconfirmed <= accepted, "{summary:?}");
    assert!(store.failed(), "a store given up on is not written or flushed again");
    assert!(matches!(store.flush(), Err(Error::Failed { .. })));
}

/// Not a test of behaviour but of scale: 1M exchanges must stream back in a
/// few seconds. Run with `cargo test --release -- --ignored million`.
#[test]
#[ignore]
fn a_million_exchanges_iterate_in_a_few_seconds() {
    // VENOMQA_BENCH_EXCHANGES scales it down for quick experiments.
    let total: u64 = std::env::var("VENOMQA_BENCH_EXCHANGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let started = Instant::now();
    let recording = store.record(RecordOptions::default()).unwrap();
    let sender = recording.sender();
    for n in 0..total {
        let e = exchange("GET", &format!("/orders/{n}"), t(0) + n)
            .req_header("X-Session", &format!("s-{}", n % 1000))
            .resp_json(r#"{"id":"o-1","status":"paid","amount":1200}"#);
        sender.capture_blocking(e);
    }
    drop(sender);
    recording.finish().unwrap();
    eprintln!("wrote {total} in {:?}", started.elapsed());

    let started = Instant::now();
    let mut count = 0;
    for e in store.exchanges() {
        e.unwrap();
        count += 1;
    }
    let iterate = started.elapsed();
    eprintln!("iterated {count} in {iterate:?}");
    let started = Instant::now();
    let sessions = store.sessions().unwrap();
    eprintln!("summarised {} sessions in {:?}", sessions.len(), started.elapsed());
    let stats = store.stats().unwrap();
    eprintln!("{stats:?}");
    assert_eq!(count, total);
    assert!(iterate < Duration::from_secs(10), "{iterate:?}");
}
