//! A live recording's writer yields to the traffic it records (Linux's
//! `SCHED_BATCH`); its own test binary, so that no other test's writer
//! thread is alive to be mistaken for it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use venomqa_traffic::{RecordOptions, Store};

/// The scheduling policy (field 41 of `/proc/.../stat`) of each of this
/// process's threads named `name` (as the kernel truncates it).
#[cfg(target_os = "linux")]
fn policies_of(name: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let task = task.expect("a task").path();
        let Ok(comm) = std::fs::read_to_string(task.join("comm")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.join("stat")).expect("stat");
        // Fields after the `(comm)`: the state is field 3, the policy 41.
        let rest = stat.rsplit_once(')').expect("a comm").1;
        let policy = rest.split_whitespace().nth(41 - 3).expect("a policy field");
        out.push(policy.parse().expect("a number"));
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn a_live_writer_runs_as_a_batch_thread_that_never_preempts_the_proxy() {
    const SCHED_BATCH: u32 = 3;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(RecordOptions::default()).unwrap();
    let sender = recording.sender();
    sender.capture(exchange("GET", "/", t(1)));
    let deadline = Instant::now() + Duration::from_secs(10);
    let policies = loop {
        let policies = policies_of("venomqa-store-w");
        if !policies.is_empty() && recording.written() == 1 {
            break policies;
        }
        assert!(Instant::now() < deadline, "no writer thread seen: {policies:?}");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(policies, vec![SCHED_BATCH], "the writer's scheduling policy");
    drop(sender);
    assert_eq!(recording.finish().unwrap().exchanges_written, 1);

    // An import's writer is the work itself: it keeps the normal policy.
    let imported = std::thread::spawn({
        let store = store.clone();
        move || {
            store.append((2..20_000).map(|n| exchange("GET", "/", t(n))), RecordOptions::default())
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while seen.is_empty() && !imported.is_finished() && Instant::now() < deadline {
        seen = policies_of("venomqa-store-w");
    }
    imported.join().unwrap().unwrap();
    assert!(!seen.is_empty() && seen.iter().all(|&p| p == 0), "an import's writer: {seen:?}");
}
