//! A live recording's writer gives way to the traffic it records (Linux's
//! `SCHED_IDLE`) while it keeps up, and takes the normal policy back when
//! it falls behind; an import's writer never gives way. Its own test
//! binary, its tests one at a time ([`SERIAL`]), so that no other test's
//! writer thread is alive to be mistaken for the one watched here.
#![cfg(target_os = "linux")]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::*;
use venomqa_traffic::{CaptureSender, RecordOptions, Recording, Store};

/// Held by each test: one writer thread at a time in this process.
static SERIAL: Mutex<()> = Mutex::new(());

const SCHED_OTHER: u32 = 0;
const SCHED_IDLE: u32 = 5;
/// The writer thread's name as the kernel truncates it.
const WRITER: &str = "venomqa-store-w";

/// The scheduling policy (field 41 of `/proc/.../stat`) of each of this
/// process's threads named `name`.
fn policies_of(name: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let task = task.expect("a task").path();
        let Ok(comm) = std::fs::read_to_string(task.join("comm")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        // A thread that ended between the listing and here is skipped.
        let Ok(stat) = std::fs::read_to_string(task.join("stat")) else { continue };
        // Fields after the `(comm)`: the state is field 3, the policy 41.
        let rest = stat.rsplit_once(')').expect("a comm").1;
        let policy = rest.split_whitespace().nth(41 - 3).expect("a policy field");
        out.push(policy.parse().expect("a number"));
    }
    out
}

/// Whether this process may take a thread back from `SCHED_IDLE` (root, or
/// `CAP_SYS_NICE`): only then may a writer give way. Tried as the store
/// tries it, on a thread of its own.
fn can_take_priority_back() -> bool {
    std::thread::spawn(|| {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: system calls about the calling thread, with a valid parameter.
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0
                && libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) == 0
        }
    })
    .join()
    .unwrap()
}

/// Waits until a writer thread is seen and `ready` holds; its policies.
fn writer_policies(ready: impl Fn() -> bool) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let policies = policies_of(WRITER);
        if !policies.is_empty() && ready() {
            return policies;
        }
        assert!(Instant::now() < deadline, "no writer thread seen: {policies:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A live recording in a new store, its first exchange written; with the
/// writer's policies then.
fn live_recording(
    options: RecordOptions,
) -> (tempfile::TempDir, Store, Recording, CaptureSender, Vec<u32>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let recording = store.record(options).unwrap();
    let sender = recording.sender();
    sender.capture(exchange("GET", "/", t(1)));
    let policies = writer_policies(|| recording.written() == 1);
    (dir, store, recording, sender, policies)
}

#[test]
fn a_live_writer_gives_way_and_an_import_writer_does_not() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let (_dir, store, recording, sender, policies) = live_recording(RecordOptions::default());
    let expected = if can_take_priority_back() { SCHED_IDLE } else { SCHED_OTHER };
    assert_eq!(policies, vec![expected], "a live writer's scheduling policy");
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
    while !imported.is_finished() && Instant::now() < deadline {
        seen.extend(policies_of(WRITER));
    }
    imported.join().unwrap().unwrap();
    assert!(!seen.is_empty(), "no import writer seen");
    assert!(seen.iter().all(|&p| p == SCHED_OTHER), "an import's writer: {seen:?}");
}

/// Threads that keep every core busy until dropped (or for 30 s at most).
struct BusyCores {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyCores {
    fn start(per_core: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..cores * per_core)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let until = Instant::now() + Duration::from_secs(30);
                    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        BusyCores { stop, threads }
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// With every core busy a writer that gave way would never run again: it
/// must take the normal policy back as its backlog grows, and drop nothing.
#[test]
fn a_live_writer_behind_on_busy_cores_takes_its_priority_back_and_drops_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    // A queue of 4096: the writer catches up past 256 waiting.
    let options = RecordOptions { queue: 4096, ..RecordOptions::default() };
    let (_dir, _store, recording, sender, _) = live_recording(options);

    // Watches the writer's policy while the traffic runs.
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = std::thread::spawn({
        let watching = watching.clone();
        move || {
            let mut seen = Vec::new();
            while watching.load(Ordering::Relaxed) {
                seen.extend(policies_of(WRITER));
                std::thread::sleep(Duration::from_millis(2));
            }
            seen
        }
    });
    let busy = BusyCores::start(2);
    // 12,000 exchanges at about 6,000 a second: far within what the writer
    // stores when it runs, far beyond what it could while starved.
    const SENT: u64 = 12_000;
    let started = Instant::now();
    for n in 0..SENT {
        if n % 60 == 0 {
            let due = started + Duration::from_millis(n / 6);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        sender.capture(exchange("GET", "/", t(2 + n)));
    }
    drop(sender);
    let summary = recording.finish().unwrap();
    drop(busy);
    watching.store(false, Ordering::Relaxed);
    let seen = watcher.join().unwrap();

    assert_eq!(summary.captures_dropped, 0, "captures dropped on busy cores: {summary:?}");
    assert_eq!(summary.exchanges_written, SENT + 1);
    if can_take_priority_back() {
        assert!(seen.contains(&SCHED_IDLE), "the writer never gave way: {seen:?}");
        assert!(seen.contains(&SCHED_OTHER), "the writer never caught up: {seen:?}");
    }
}

/// A trickle of traffic never fills the queue, but on cores that other work
/// keeps busy a writer that gave way would leave it waiting, unwritten,
/// for as long as that work runs: it must catch up once it stalls.
#[test]
fn a_live_writer_stalled_by_busy_cores_catches_up_on_a_trickle_of_traffic() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let (_dir, _store, recording, sender, _) = live_recording(RecordOptions::default());

    // Eight busy threads a core: without the stall rule a writer that gave
    // way was measured 3.5 s behind the last of these exchanges.
    let busy = BusyCores::start(8);
    // 100 exchanges, one every 5 ms: the backlog stays far below the
    // queue's high mark (1024 for the default queue).
    const SENT: u64 = 100;
    for n in 0..SENT {
        sender.capture(exchange("GET", "/", t(2 + n)));
        std::thread::sleep(Duration::from_millis(5));
    }
    // A stall is 20 ms; a second is room for a slow machine.
    let deadline = Instant::now() + Duration::from_secs(1);
    while recording.written() < SENT + 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let written = recording.written();
    drop(busy);
    assert_eq!(written, SENT + 1, "exchanges written within a second, the cores busy");
    drop(sender);
    assert_eq!(recording.finish().unwrap().captures_dropped, 0);
}
