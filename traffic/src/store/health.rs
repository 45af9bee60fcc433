//! What a running writer tells its recording: how far it got, and what
//! went wrong with the store. Its own file so that the recording (which
//! reads it) and the writer (which keeps it) both depend on it, not on
//! each other.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// What went wrong with the store during a recording; when several did,
/// the worst (the last in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreTrouble {
    /// The store's disk ran low at some point: captures were dropped while
    /// it did, and writing resumed if space came back.
    RanLow,
    /// A write or flush failed: captures were dropped from then on (sled
    /// cannot write again without reopening the store).
    WriteFailed,
    /// The writer had not written and flushed what was queued when the
    /// recording's deadline passed.
    FlushTimedOut,
}

impl StoreTrouble {
    fn code(self) -> u8 {
        match self {
            StoreTrouble::RanLow => 1,
            StoreTrouble::WriteFailed => 2,
            StoreTrouble::FlushTimedOut => 3,
        }
    }

    fn from_code(code: u8) -> Option<StoreTrouble> {
        match code {
            1 => Some(StoreTrouble::RanLow),
            2 => Some(StoreTrouble::WriteFailed),
            3 => Some(StoreTrouble::FlushTimedOut),
            _ => None,
        }
    }
}

/// Counters the writer keeps and the recording reads at any time.
#[derive(Debug, Default)]
pub(super) struct Health {
    /// Exchanges handed to sled.
    written: AtomicU64,
    /// Of those, the ones a flush has since confirmed on disk.
    confirmed: AtomicU64,
    /// Captures the writer took from the queue but did not write.
    discarded: AtomicU64,
    /// Of those, the ones discarded because of the store's disk.
    dropped_by_store: AtomicU64,
    /// Distinct sessions that received an exchange.
    sessions_touched: AtomicU64,
    /// The worst [`StoreTrouble`] so far (0: none).
    trouble: AtomicU8,
}

impl Health {
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    pub fn add_written(&self, count: u64) {
        self.written.fetch_add(count, Ordering::Relaxed);
    }

    pub fn confirmed(&self) -> u64 {
        self.confirmed.load(Ordering::Relaxed)
    }

    /// A flush succeeded after `written` exchanges had been handed to sled.
    pub fn confirm(&self, written: u64) {
        self.confirmed.fetch_max(written, Ordering::Relaxed);
    }

    pub fn discarded(&self) -> u64 {
        self.discarded.load(Ordering::Relaxed)
    }

    /// `count` captures taken from the queue will not be written; `by_store`
    /// when the store's disk is the reason.
    pub fn discard(&self, count: u64, by_store: bool) {
        self.discarded.fetch_add(count, Ordering::Relaxed);
        if by_store {
            self.dropped_by_store.fetch_add(count, Ordering::Relaxed);
        }
    }

    pub fn dropped_by_store(&self) -> u64 {
        self.dropped_by_store.load(Ordering::Relaxed)
    }

    pub fn sessions_touched(&self) -> u64 {
        self.sessions_touched.load(Ordering::Relaxed)
    }

    pub fn set_sessions_touched(&self, count: u64) {
        self.sessions_touched.store(count, Ordering::Relaxed);
    }

    pub fn trouble(&self) -> Option<StoreTrouble> {
        StoreTrouble::from_code(self.trouble.load(Ordering::Relaxed))
    }

    /// Records `trouble`, keeping the worst seen.
    pub fn report(&self, trouble: StoreTrouble) {
        self.trouble.fetch_max(trouble.code(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_trouble_is_kept() {
        let health = Health::default();
        assert_eq!(health.trouble(), None);
        health.report(StoreTrouble::WriteFailed);
        health.report(StoreTrouble::RanLow);
        assert_eq!(health.trouble(), Some(StoreTrouble::WriteFailed));
        health.report(StoreTrouble::FlushTimedOut);
        assert_eq!(health.trouble(), Some(StoreTrouble::FlushTimedOut));
    }
}
