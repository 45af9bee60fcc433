//! A live recording's writer gives way to the traffic it records.
//!
//! Behind a proxy the store's writer thread is one more runnable thread on
//! cores that the proxy, its clients and its upstream already share. With
//! the normal policy, a writer woken to store a batch can hold the core a
//! request's thread was about to be woken on, and that request waits out
//! the writer's slice: at one connection that doubled capture's p99
//! latency (`BENCHMARKS.md`). So while it keeps up, a live writer runs as
//! Linux's `SCHED_IDLE`: it gets a core only when no traffic wants it, and
//! any thread that wakes takes the core from it at once.
//!
//! Under full load there is no idle core, and an idle-policy writer would
//! starve: the queue would fill and drop captures, and what waits would not
//! reach the disk. So whoever queues a capture gives the writer the normal
//! policy back when it sees the writer behind: its backlog past a high mark
//! (a sixteenth of the queue), or no progress for [`STALL`] while captures
//! wait (other work may keep every core busy at a trickle of traffic). The
//! writer keeps the normal policy for at least [`HOLD`], and gives way
//! again once its backlog is under a low mark (a sixty-fourth). Under full
//! load it thus runs with the normal policy nearly all the time, as it
//! would without any of this, instead of starving and catching up in
//! bursts that each delay the requests behind them. The recording's end
//! takes the normal policy back for good, so that the final flush is not
//! kept waiting. The changes are made under one lock, so the policy and
//! what the senders believe it to be never disagree; the senders' check is
//! an atomic load or two.
//!
//! Taking a normal policy back from `SCHED_IDLE` needs `CAP_SYS_NICE` (or
//! an `RLIMIT_NICE` of 20): a process without it could give way but never
//! catch up again. So the writer first tries the round trip on a throwaway
//! thread, and gives way only if it succeeded; otherwise it keeps the
//! normal policy for the whole recording. Imports never give way: their
//! writer is the work itself. Elsewhere than Linux nothing changes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a writer that had to catch up keeps the normal policy.
const HOLD: Duration = Duration::from_secs(1);
/// How long captures may wait on a writer that makes no progress.
const STALL: Duration = Duration::from_millis(20);

/// The writer's scheduling, shared by both ends of the capture channel.
#[derive(Debug)]
pub(crate) struct WriterPriority {
    /// True while the writer gives way: the senders' cheap check.
    giving_way: AtomicBool,
    state: Mutex<State>,
    /// Backlogs (captures queued and not yet taken) that switch the policy.
    high: u64,
    low: u64,
    /// When (in ms from `epoch`) the writer last took captures or the
    /// queue last became non-empty: what a stall is measured from.
    progress_ms: AtomicU64,
    epoch: Instant,
}

#[derive(Debug)]
enum State {
    /// The normal policy; the writer has not given way (or cannot, or no
    /// longer may), or caught up and holds it until `held_until`.
    Normal { writer: Option<Thread>, held_until: Option<Instant> },
    /// `SCHED_IDLE`.
    GivingWay { writer: Thread },
    /// The recording is ending: the normal policy for good.
    Ended,
}

/// The writer thread, as the kernel names it.
#[derive(Clone, Copy, Debug)]
struct Thread(i32);

impl WriterPriority {
    /// For a queue of `capacity` captures.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity as u64;
        WriterPriority {
            giving_way: AtomicBool::new(false),
            state: Mutex::new(State::Normal { writer: None, held_until: None }),
            high: (capacity / 16).max(1),
            low: capacity / 64,
            progress_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Called by a live writer's thread as it starts: from now on it gives
    /// way while it keeps up, if the process can take the priority back.
    pub fn start_giving_way(&self) {
        if !os::can_take_priority_back() {
            tracing::debug!(
                "the store writer keeps the normal scheduling policy: this process \
                 could not take it back from SCHED_IDLE (no CAP_SYS_NICE)"
            );
            return;
        }
        let mut state = self.lock();
        if matches!(*state, State::Ended) {
            return;
        }
        *state = State::Normal { writer: Some(Thread(os::current_thread())), held_until: None };
        drop(state);
        self.writer_took(0);
    }

    /// The writer, having taken captures and left `backlog` queued: notes
    /// its progress, and gives way again once the backlog is short.
    pub fn writer_took(&self, backlog: u64) {
        self.progress_ms.store(self.now_ms(), Ordering::Relaxed);
        if backlog > self.low || self.giving_way.load(Ordering::Relaxed) {
            return;
        }
        let mut state = self.lock();
        if let State::Normal { writer: Some(writer), held_until } = *state {
            if held_until.is_some_and(|until| Instant::now() < until) {
                return;
            }
            match os::set_idle(writer, true) {
                Ok(()) => {
                    *state = State::GivingWay { writer };
                    self.giving_way.store(true, Ordering::Relaxed);
                }
                Err(err) => {
                    tracing::debug!("the store writer keeps the normal scheduling policy: {err}");
                    *state = State::Normal { writer: None, held_until: None };
                }
            }
        }
    }

    /// A sender, having queued a capture that left `backlog()` captures
    /// waiting: the writer catches up with the normal policy if it fell
    /// behind or stalled. The backlog is only read while the writer gives
    /// way (it reads the writer's count, a cache line of the other core).
    pub fn queued(&self, backlog: impl FnOnce() -> u64) {
        if !self.giving_way.load(Ordering::Relaxed) {
            return;
        }
        let backlog = backlog();
        if backlog < self.high {
            let now = self.now_ms();
            if backlog <= 1 {
                // The queue was empty: waiting starts now.
                self.progress_ms.store(now, Ordering::Relaxed);
                return;
            }
            let stalled = now.saturating_sub(self.progress_ms.load(Ordering::Relaxed));
            if stalled < STALL.as_millis() as u64 {
                return;
            }
        }
        self.take_priority_back(HOLD);
    }

    /// The recording ends: the writer drains and flushes with the normal
    /// policy, and never gives way again.
    pub fn stop_giving_way(&self) {
        let mut state = self.lock();
        if let State::GivingWay { writer } = *state {
            self.giving_way.store(false, Ordering::Relaxed);
            back_to_normal(writer);
        }
        *state = State::Ended;
    }

    /// The writer back to the normal policy, held for `hold`.
    fn take_priority_back(&self, hold: Duration) {
        let mut state = self.lock();
        if let State::GivingWay { writer } = *state {
            self.giving_way.store(false, Ordering::Relaxed);
            *state = if back_to_normal(writer) {
                State::Normal { writer: Some(writer), held_until: Some(Instant::now() + hold) }
            } else {
                State::Normal { writer: None, held_until: None }
            };
        }
    }
}

/// Gives `writer` the normal policy back; false (and a warning) if it failed.
fn back_to_normal(writer: Thread) -> bool {
    match os::set_idle(writer, false) {
        Ok(()) => true,
        Err(err) => {
            // Never expected: the round trip was tried at the start.
            tracing::warn!(
                "the store writer could not take its normal scheduling policy back ({err}); \
                 under full load captures may be dropped"
            );
            false
        }
    }
}

#[cfg(target_os = "linux")]
mod os {
    use super::Thread;

    /// The calling thread's id.
    pub fn current_thread() -> i32 {
        // SAFETY: gettid has no arguments and cannot fail.
        unsafe { libc::gettid() }
    }

    /// `SCHED_IDLE` (`idle`) or the normal policy for `thread`.
    pub fn set_idle(thread: Thread, idle: bool) -> std::io::Result<()> {
        let policy = if idle { libc::SCHED_IDLE } else { libc::SCHED_OTHER };
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: a plain system call about one thread of this process,
        // with a valid parameter that outlives it.
        match unsafe { libc::sched_setscheduler(thread.0, policy, &param) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Whether a thread of this process may leave `SCHED_IDLE`: tried on a
    /// thread of its own, so that no thread that matters is left idle.
    pub fn can_take_priority_back() -> bool {
        let probe = std::thread::Builder::new().name("venomqa-probe".into()).spawn(|| {
            let me = Thread(current_thread());
            set_idle(me, true).is_ok() && set_idle(me, false).is_ok()
        });
        probe.ok().and_then(|probe| probe.join().ok()).unwrap_or(false)
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use super::Thread;

    pub fn current_thread() -> i32 {
        0
    }

    pub fn set_idle(_thread: Thread, _idle: bool) -> std::io::Result<()> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "Linux only"))
    }

    pub fn can_take_priority_back() -> bool {
        false
    }
}
