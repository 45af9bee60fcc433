//! Exchanges kept in blocks (format 3, compressed; format 2 stores as they
//! were): reads across block boundaries, appends after a reopen, imports
//! among stored ids, repairs.

mod common;

use std::collections::BTreeMap;

use common::*;
use venomqa_traffic::{Exchange, RecordOptions, SessionKey, Store, FORMAT_VERSION};

fn no_redaction() -> RecordOptions {
    RecordOptions { redact: false, ..RecordOptions::default() }
}

fn ids(exchanges: impl Iterator<Item = venomqa_traffic::Result<Exchange>>) -> Vec<u64> {
    exchanges.map(|e| e.unwrap().id).collect()
}

fn session(key: &str) -> SessionKey {
    SessionKey(key.into())
}

/// What every read of the store must agree on: ids strictly increasing,
/// each readable by `get`, each session's index listing exactly its own,
/// the counters matching.
fn assert_consistent(store: &Store) {
    let read = all(store);
    assert!(read.windows(2).all(|w| w[0].id < w[1].id), "exchanges iterate in id order");
    let mut backwards = ids(store.exchanges().rev());
    backwards.reverse();
    assert_eq!(backwards, read.iter().map(|e| e.id).collect::<Vec<_>>(), "rev() agrees");
    let mut by_session: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for e in &read {
        assert_eq!(store.get(e.id).unwrap().as_ref(), Some(e), "get({})", e.id);
        by_session.entry(e.session.as_str()).or_default().push(e.id);
    }
    for (key, want) in &by_session {
        assert_eq!(&ids(store.session_exchanges(&session(key))), want, "index of {key}");
    }
    let summaries = store.sessions().unwrap();
    assert_eq!(summaries.len(), by_session.len());
    for s in &summaries {
        assert_eq!(s.exchanges, by_session[s.key.as_str()].len() as u64, "{}", s.key);
    }
    let stats = store.stats().unwrap();
    assert_eq!((stats.exchanges, stats.sessions), (read.len() as u64, by_session.len() as u64));
}

#[test]
fn a_batch_larger_than_a_block_reads_back_every_way_across_block_boundaries() {
    // One recording of many interleaved sessions: several blocks, each
    // holding several sessions, each session spread over several blocks.
    let dir = tempfile::tempdir().unwrap();
    let total = 3 * BLOCK_MAX_EXCHANGES as u64 + 17;
    let sent = (0..total)
        .map(|n| {
            exchange("GET", &format!("/n/{n}"), t(n))
                .req_header("X-Session", &format!("s-{}", n % 7))
        })
        .collect();
    let (store, summary) = record_all(dir.path(), no_redaction(), sent);
    assert_eq!(summary.exchanges_written, total);
    assert_eq!(summary.sessions_touched, 7);
    assert_consistent(&store);
    drop(store);
    let blocks = raw_blocks(dir.path());
    assert!(blocks.len() >= 4, "{} blocks", blocks.len());
    assert!(blocks.iter().all(|(key, ids)| ids.len() <= BLOCK_MAX_EXCHANGES && ids[0] == *key));
    let store = Store::open_existing(dir.path()).unwrap();

    let s3: Vec<String> = store
        .session_exchanges(&session("x-session:s-3"))
        .map(|e| e.unwrap().request.url)
        .collect();
    let want: Vec<String> = (0..total).filter(|n| n % 7 == 3).map(|n| format!("/n/{n}")).collect();
    assert_eq!(s3, want);

    // Ranges that start and end inside blocks, and across them.
    for (from, to) in
        [(0, 0), (5, 9), (250, 260), (255, 513), (0, total - 1), (total - 3, total + 5)]
    {
        let got = ids(store.exchanges_in(t(from)..=t(to)));
        let want: Vec<u64> = (from..=to.min(total - 1)).map(t).collect();
        assert_eq!(got, want, "exchanges_in({from}..={to})");
    }
    // Between two ids, and reversed bounds: nothing.
    assert!(ids(store.exchanges_in(t(3) + 1..=t(4) - 1)).is_empty());
    assert!(ids(store.exchanges_in(t(9)..=t(3))).is_empty());
    assert_eq!(store.get(t(300) + 1).unwrap(), None);
    assert_eq!(store.get(0).unwrap(), None);
    assert_eq!(store.get(u64::MAX).unwrap(), None);

    // Both ends of one iterator meet without losing or repeating any.
    let mut both = store.exchanges_in(t(100)..=t(400));
    let mut got = Vec::new();
    let mut tail = Vec::new();
    loop {
        match (both.next(), both.next_back()) {
            (None, None) => break,
            (front, back) => {
                got.extend(front.map(|e| e.unwrap().id));
                tail.extend(back.map(|e| e.unwrap().id));
            }
        }
    }
    tail.reverse();
    got.extend(tail);
    assert_eq!(got, (100..=400).map(t).collect::<Vec<_>>());
}

#[test]
fn a_reopened_store_appends_after_its_last_partial_block() {
    let dir = tempfile::tempdir().unwrap();
    let s = |key: &str, n: u64| {
        exchange("GET", &format!("/{key}/{n}"), t(n)).req_header("X-Session", key)
    };
    let (store, _) = record_all(dir.path(), no_redaction(), vec![s("a", 1), s("b", 2), s("a", 3)]);
    drop(store);
    // Started "earlier" than what is stored: the ids still follow.
    let (store, _) = record_all(dir.path(), no_redaction(), vec![s("a", 0), s("c", 2)]);
    drop(store);
    let store = Store::open_existing(dir.path()).unwrap();
    assert_eq!(ids(store.exchanges()), vec![t(1), t(2), t(3), t(3) + 1, t(3) + 2]);
    assert_eq!(ids(store.session_exchanges(&session("x-session:a"))), vec![t(1), t(3), t(3) + 1]);
    assert_eq!(ids(store.exchanges_in(t(2)..=t(3) + 1)), vec![t(2), t(3), t(3) + 1]);
    assert_eq!(store.get(t(3) + 2).unwrap().unwrap().request.url, "/c/2");
    assert_consistent(&store);
}

#[test]
fn imported_ids_among_stored_ones_join_the_block_that_holds_their_range() {
    let dir = tempfile::tempdir().unwrap();
    let at = |n: u64| exchange("GET", &format!("/n/{n}"), t(n)).req_header("X-Session", "live");
    // Two recordings: two blocks, [1, 3, 5] and [20].
    let (store, _) = record_all(dir.path(), no_redaction(), vec![at(1), at(3), at(5)]);
    drop(store);
    let (store, _) = record_all(dir.path(), no_redaction(), vec![at(20)]);
    drop(store);
    // An import that keeps its ids: inside the first block, in the gap
    // between the blocks, before every block, after every block, and one
    // taken id that gets a fresh one.
    let imported = |id: u64, key: &str| {
        let mut e = exchange("GET", &format!("/imported/{id}"), id);
        e.id = id;
        e.session = session(key);
        e
    };
    let batch = vec![
        imported(t(4), "har:x"),
        imported(t(2), "har:y"),
        imported(t(10), "har:x"),
        imported(42, "har:y"),
        imported(t(30), "har:x"),
        imported(t(3), "har:x"),
    ];
    let (store, summary) = record_all(dir.path(), no_redaction(), batch);
    assert_eq!(summary.exchanges_written, 6);
    let read = all(&store);
    let got: Vec<u64> = read.iter().map(|e| e.id).collect();
    // t(3) was taken: it gets the next id after the highest, t(30) + 1.
    assert_eq!(got, vec![42, t(1), t(2), t(3), t(4), t(5), t(10), t(20), t(30), t(30) + 1]);
    assert_eq!(read[3].request.url, "/n/3", "the stored exchange keeps its id");
    assert_eq!(read[9].request.url, format!("/imported/{}", t(3)));
    assert_eq!(ids(store.session_exchanges(&session("har:y"))), vec![42, t(2)]);
    assert_eq!(
        ids(store.session_exchanges(&session("har:x"))),
        vec![t(4), t(10), t(30), t(30) + 1]
    );
    assert_eq!(
        ids(store.session_exchanges(&session("x-session:live"))),
        vec![t(1), t(3), t(5), t(20)]
    );
    assert_consistent(&store);
    drop(store);
    let blocks = raw_blocks(dir.path());
    let first =
        blocks.iter().find(|(key, _)| *key == t(1)).expect("the block of t(1) keeps its key");
    assert_eq!(first.1, vec![t(1), t(2), t(3), t(4), t(5)], "joined, not overlapped");
    assert_eq!(blocks[0], (42, vec![42]), "a block of its own before all others");
    assert_consistent(&Store::open_existing(dir.path()).unwrap());
}

#[test]
fn a_block_that_grows_past_its_limit_by_imports_is_split() {
    let dir = tempfile::tempdir().unwrap();
    // Even ids, written at once: blocks as full as a batch makes them.
    let n = BLOCK_MAX_EXCHANGES as u64;
    let evens: Vec<Exchange> = (0..n)
        .map(|k| {
            exchange("GET", &format!("/even/{k}"), t(2 * k))
                .req_header("X-Session", &format!("e-{}", k % 3))
        })
        .collect();
    let (store, _) = record_all(dir.path(), no_redaction(), evens);
    drop(store);
    // Odd ids in between, in two imports, so that blocks are rewritten and
    // rewritten again.
    let odd = |k: u64| {
        let mut e = exchange("GET", &format!("/odd/{k}"), t(2 * k + 1));
        e.id = t(2 * k + 1);
        e.session = session(&format!("odd-{}", k % 2));
        e
    };
    let (store, _) = record_all(dir.path(), no_redaction(), (0..n).step_by(2).map(odd).collect());
    drop(store);
    let (store, _) = record_all(dir.path(), no_redaction(), (1..n).step_by(2).map(odd).collect());
    let got = ids(store.exchanges());
    assert_eq!(got, (0..2 * n).map(t).collect::<Vec<_>>());
    assert_eq!(store.session_exchanges(&session("odd-1")).count() as u64, n / 2);
    assert_consistent(&store);
    drop(store);
    let blocks = raw_blocks(dir.path());
    assert!(blocks.iter().all(|(_, ids)| ids.len() <= BLOCK_MAX_EXCHANGES), "split");
    let held: usize = blocks.iter().map(|(_, ids)| ids.len()).sum();
    assert_eq!(held as u64, 2 * n);
    assert!(blocks.windows(2).all(|w| w[0].1.last() < w[1].1.first()), "no overlap");
}

#[test]
fn a_kill_between_the_block_and_its_index_is_repaired_for_every_session_of_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), no_redaction(), vec![exchange("GET", "/a", t(1))]);
    drop(store);
    // A block of three exchanges in two sessions, written without its
    // index entries, the marker left behind.
    let lost: Vec<Exchange> = [(2, "x"), (3, "y"), (4, "x")]
        .iter()
        .map(|&(n, key)| {
            let mut e = exchange("GET", &format!("/lost/{n}"), t(n));
            e.id = t(n);
            e.session = session(key);
            e
        })
        .collect();
    {
        let db = open_raw(dir.path());
        let blocks = db.open_tree("blocks").unwrap();
        blocks.insert(t(2).to_be_bytes(), block(&lost.iter().collect::<Vec<_>>())).unwrap();
        db.open_tree("meta").unwrap().insert("dirty_from", &t(2).to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_existing(dir.path()).unwrap();
    assert_eq!(ids(store.session_exchanges(&session("x"))), vec![t(2), t(4)]);
    assert_eq!(ids(store.session_exchanges(&session("y"))), vec![t(3)]);
    assert_consistent(&store);
    // The repair happened once: the marker is gone.
    drop(store);
    let db = open_raw(dir.path());
    assert_eq!(db.open_tree("meta").unwrap().get("dirty_from").unwrap(), None);
}

#[test]
fn a_kill_while_an_import_rewrote_a_block_rebuilds_the_whole_index() {
    // An import among stored ids rewrites blocks that are indexed already;
    // its marker (0) asks the next open for a full rebuild, which also
    // drops index entries that no longer match.
    let dir = tempfile::tempdir().unwrap();
    let at =
        |n: u64, key: &str| exchange("GET", &format!("/n/{n}"), t(n)).req_header("X-Session", key);
    let (store, _) =
        record_all(dir.path(), no_redaction(), vec![at(1, "a"), at(3, "b"), at(5, "a")]);
    let mut stored = all(&store);
    drop(store);
    // The import's rewrite: t(3) now in session "c", t(4) joined; one
    // block holds them all; the index still says what it said before.
    stored[1].session = session("x-session:c");
    let mut joined = exchange("GET", "/n/4", t(4));
    joined.id = t(4);
    joined.session = session("x-session:c");
    stored.insert(2, joined);
    {
        let db = open_raw(dir.path());
        let blocks = db.open_tree("blocks").unwrap();
        blocks.clear().unwrap();
        blocks.insert(t(1).to_be_bytes(), block(&stored.iter().collect::<Vec<_>>())).unwrap();
        db.open_tree("meta").unwrap().insert("dirty_from", &0u64.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_existing(dir.path()).unwrap();
    assert_eq!(ids(store.session_exchanges(&session("x-session:b"))), Vec::<u64>::new());
    assert_eq!(ids(store.session_exchanges(&session("x-session:c"))), vec![t(3), t(4)]);
    assert_eq!(ids(store.session_exchanges(&session("x-session:a"))), vec![t(1), t(5)]);
    assert_consistent(&store);
}

#[test]
fn a_store_of_format_version_1_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    {
        // What venomqa wrote before blocks: one value an exchange.
        let db = open_raw(dir.path());
        let meta = db.open_tree("meta").unwrap();
        meta.insert("format_version", &1u32.to_be_bytes()).unwrap();
        meta.insert("redaction_key", &[7u8; 32]).unwrap();
        let mut e = exchange("GET", "/", t(1));
        e.id = t(1);
        let exchanges = db.open_tree("exchanges").unwrap();
        exchanges.insert(t(1).to_be_bytes(), postcard::to_stdvec(&e).unwrap()).unwrap();
        db.flush().unwrap();
    }
    for open in [Store::open, Store::open_existing] {
        let err = open(dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("format version 1"), "{message}");
        assert!(message.contains(&format!("reads versions 2 to {FORMAT_VERSION}")), "{message}");
    }
    let db = open_raw(dir.path());
    assert!(
        !db.tree_names().iter().any(|n| n == &b"blocks"[..]),
        "the old store is left as it was"
    );
}

#[test]
fn a_store_of_format_version_2_is_read_and_appended_to_as_it_is() {
    // What venomqa wrote before blocks were compressed: the same layout,
    // each block stored as built. Such a store is read, and what is
    // recorded into it is written the same way, so older venomqa builds
    // can still read it.
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<Exchange> = [(1, "a"), (2, "b"), (3, "a")]
        .iter()
        .map(|&(n, key)| {
            let mut e = exchange("GET", &format!("/old/{n}"), t(n));
            e.id = t(n);
            e.session = session(key);
            e
        })
        .collect();
    {
        let db = open_raw(dir.path());
        let meta = db.open_tree("meta").unwrap();
        meta.insert("format_version", &2u32.to_be_bytes()).unwrap();
        meta.insert("redaction_key", &[7u8; 32]).unwrap();
        // No index yet: the marker has the open build it from the blocks.
        meta.insert("dirty_from", &0u64.to_be_bytes()).unwrap();
        let blocks = db.open_tree("blocks").unwrap();
        blocks.insert(t(1).to_be_bytes(), built_block(&old.iter().collect::<Vec<_>>())).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_existing(dir.path()).unwrap();
    assert_eq!(all(&store), old);
    assert_eq!(ids(store.session_exchanges(&session("a"))), vec![t(1), t(3)]);
    let added = exchange("GET", "/new", t(10)).req_header("X-Session", "c");
    store.append(vec![added], no_redaction()).unwrap();
    assert_consistent(&store);
    assert_eq!(all(&store).len(), 4);
    drop(store);

    let plain = raw_blocks_as(dir.path(), <[u8]>::to_vec);
    assert_eq!(plain.len(), 2, "the old block and the new one: {plain:?}");
    assert_eq!(plain[1].1.len(), 1, "the new block is readable uncompressed");
    let db = open_raw(dir.path());
    let version = db.open_tree("meta").unwrap().get("format_version").unwrap().unwrap();
    assert_eq!(version.as_ref(), 2u32.to_be_bytes(), "the format is left as it was");
}

#[test]
fn a_new_store_keeps_its_blocks_compressed() {
    let dir = tempfile::tempdir().unwrap();
    // Alike exchanges, as real traffic is: they compress well.
    let sent: Vec<Exchange> = (0..BLOCK_MAX_EXCHANGES as u64)
        .map(|n| {
            exchange("GET", &format!("/orders/{n}"), t(n))
                .req_header("X-Session", "s")
                .req_header("Accept", "application/json")
        })
        .collect();
    let (store, _) = record_all(dir.path(), no_redaction(), sent.clone());
    drop(store);
    let db = open_raw(dir.path());
    let blocks = db.open_tree("blocks").unwrap();
    let (stored, built): (usize, usize) = blocks
        .iter()
        .map(|item| {
            let (_, value) = item.unwrap();
            (value.len(), unpack_block(&value).len())
        })
        .fold((0, 0), |(s, b), (s1, b1)| (s + s1, b + b1));
    assert!(stored * 3 < built, "{stored} bytes stored for {built} built");
    let version = db.open_tree("meta").unwrap().get("format_version").unwrap().unwrap();
    assert_eq!(version.as_ref(), FORMAT_VERSION.to_be_bytes());
    drop(blocks);
    drop(db);
    let store = Store::open_existing(dir.path()).unwrap();
    let read: Vec<String> = all(&store).into_iter().map(|e| e.request.url).collect();
    assert_eq!(read, sent.iter().map(|e| e.request.url.clone()).collect::<Vec<_>>());
}

#[test]
fn a_damaged_compressed_block_is_reported_by_name_not_read_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), no_redaction(), vec![exchange("GET", "/a", t(1))]);
    let key = store.exchanges().next().unwrap().unwrap().id;
    drop(store);
    {
        let db = open_raw(dir.path());
        let blocks = db.open_tree("blocks").unwrap();
        // A length no LZ4 block of this size can decompress to, then one
        // that is plausible over bytes that are not LZ4.
        let mut huge = u32::MAX.to_le_bytes().to_vec();
        huge.extend([0u8; 8]);
        blocks.insert(key.to_be_bytes(), huge).unwrap();
        db.flush().unwrap();
    }
    for _ in 0..2 {
        let store = Store::open_existing(dir.path()).unwrap();
        let err = store.exchanges().next().unwrap().unwrap_err().to_string();
        assert!(err.contains(&format!("block {key}")), "{err}");
        assert!(store.get(key).is_err());
        drop(store);
        let db = open_raw(dir.path());
        let mut garbled = 64u32.to_le_bytes().to_vec();
        garbled.extend([0xF0u8; 16]);
        db.open_tree("blocks").unwrap().insert(key.to_be_bytes(), garbled).unwrap();
        db.flush().unwrap();
    }
}

#[test]
fn a_sled_directory_holding_data_but_no_version_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open_raw(dir.path());
        db.open_tree("someone-elses").unwrap().insert("k", "v").unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, venomqa_traffic::Error::NotAStore { .. }), "{err:?}");
}

#[test]
fn an_import_into_a_recorded_session_joins_its_index_entries_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = |n: u64| exchange("GET", &format!("/r/{n}"), t(n)).req_header("X-Session", "s");
    let (store, _) =
        record_all(dir.path(), no_redaction(), vec![recorded(10), recorded(20), recorded(30)]);
    drop(store);
    let imported = |n: u64| {
        let mut e = exchange("GET", &format!("/i/{n}"), t(n));
        e.id = t(n);
        e.session = session("x-session:s");
        e
    };
    // Before the session's first, between its ids, after its last.
    let batch = vec![imported(25), imported(5), imported(35), imported(15)];
    let (store, _) = record_all(dir.path(), no_redaction(), batch);
    let want: Vec<u64> = [5, 10, 15, 20, 25, 30, 35].into_iter().map(t).collect();
    assert_eq!(ids(store.session_exchanges(&session("x-session:s"))), want);
    assert_consistent(&store);
    drop(store);
    let store = Store::open_existing(dir.path()).unwrap();
    assert_eq!(ids(store.session_exchanges(&session("x-session:s"))), want);
    store.rebuild_index().unwrap();
    assert_eq!(ids(store.session_exchanges(&session("x-session:s"))), want);
    assert_consistent(&store);
}

#[test]
fn a_running_recording_shows_its_sessions_before_their_index_entries_are_written() {
    // The writer holds a group's index entries back (up to a second, or
    // until it is idle); readers in the process see them meanwhile, and a
    // reader that outlives the hold reads each exchange once.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(no_redaction()).unwrap();
    let sender = recording.sender();
    let total = 2 * BLOCK_MAX_EXCHANGES as u64;
    for n in 0..total {
        let e = exchange("GET", &format!("/n/{n}"), t(n))
            .req_header("X-Session", &format!("s-{}", n % 2));
        assert!(sender.capture_blocking(e));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while recording.written() < total {
        assert!(std::time::Instant::now() < deadline, "writer never caught up");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let even: Vec<u64> = (0..total).filter(|n| n % 2 == 0).map(t).collect();
    assert_eq!(ids(store.session_exchanges(&session("x-session:s-0"))), even);
    // Made now, read after the entries are written: nothing twice.
    let before = store.session_exchanges(&session("x-session:s-1"));
    drop(sender);
    recording.finish().unwrap();
    let odd: Vec<u64> = (0..total).filter(|n| n % 2 == 1).map(t).collect();
    assert_eq!(ids(before), odd);
    assert_eq!(ids(store.session_exchanges(&session("x-session:s-1"))), odd);
    assert_consistent(&store);
}

#[test]
fn many_interleaved_sessions_get_one_index_entry_per_group_not_per_block() {
    let dir = tempfile::tempdir().unwrap();
    let total = 4 * BLOCK_MAX_EXCHANGES as u64;
    let sent = (0..total)
        .map(|n| exchange("GET", "/", t(n)).req_header("X-Session", &format!("s-{}", n % 50)))
        .collect();
    let (store, _) = record_all(dir.path(), no_redaction(), sent);
    assert_consistent(&store);
    drop(store);
    let blocks = raw_blocks(dir.path()).len();
    let db = open_raw(dir.path());
    let entries = db.open_tree("session_index").unwrap().len();
    // One group (a second, 8192 exchanges) unless the writer went idle;
    // an entry a session and block would make 50 a block.
    assert!(blocks >= 4, "{blocks} blocks");
    assert!(entries < blocks * 50, "{entries} index entries for {blocks} blocks of 50 sessions");
}
