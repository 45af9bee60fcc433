//! Counters the connection tasks bump and [`ProxyStats`], the summary
//! [`serve`](crate::serve) returns.
//!
//! Plain relaxed atomics: each is one uncontended-enough instruction on the
//! hot path, and nobody needs them to agree with each other to the request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a proxy run did, for the summary printed at the end of `record`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Requests received (each one an exchange, captured or not).
    pub exchanges: u64,
    /// Requests answered 502/504 because the upstream failed them.
    pub upstream_errors: u64,
    /// Exchanges (and upgraded tunnels) still running when the drain
    /// timeout ran out, and cut off.
    pub abandoned_in_flight: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub connections: AtomicU64,
    pub exchanges: AtomicU64,
    pub upstream_errors: AtomicU64,
    /// Exchanges and tunnels started and not yet finished; see [`InFlight`].
    in_flight: AtomicU64,
    /// Set when the drain gives up: exchanges ending from now on were cut
    /// by the proxy, not by their client.
    cutting: AtomicBool,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Acquire)
    }

    pub fn start_cutting(&self) {
        self.cutting.store(true, Ordering::Release);
    }

    pub fn snapshot(&self, abandoned_in_flight: u64) -> ProxyStats {
        ProxyStats {
            connections: self.connections.load(Ordering::Relaxed),
            exchanges: self.exchanges.load(Ordering::Relaxed),
            upstream_errors: self.upstream_errors.load(Ordering::Relaxed),
            abandoned_in_flight,
        }
    }
}

/// Counts one exchange or tunnel as in flight for as long as it lives, so
/// shutdown can tell when the drain is over.
#[derive(Debug)]
pub(crate) struct InFlight(std::sync::Arc<Counters>);

impl InFlight {
    pub fn start(counters: &std::sync::Arc<Counters>) -> Self {
        counters.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(counters.clone())
    }
}

impl InFlight {
    /// Whether shutdown is cutting what is still in flight.
    pub fn cut_by_shutdown(&self) -> bool {
        self.0.cutting.load(Ordering::Acquire)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
