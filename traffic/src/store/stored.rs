//! The exchanges a store holds already, so importing the same HAR twice adds
//! nothing: an exchange is the same when its start time (to the nanosecond
//! the HAR gives), method, URL and request body (redacted as the store would
//! keep it) are. An id alone is not: ids of another store's export collide
//! with this store's own.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use crate::error::Result;
use crate::record::Exchange;
use crate::redact::{decode_bodies, Redactor};
use crate::store::{RecordOptions, Store};

/// Fingerprints of every exchange in a store, and how it would keep a new one.
pub struct StoredExchanges {
    fingerprints: HashSet<u64>,
    redactor: Option<Redactor>,
}

impl StoredExchanges {
    /// Reads every exchange of `store` once; `options` say how an appended
    /// exchange would be kept (redacted, and with which names).
    pub fn scan(store: &Store, options: &RecordOptions) -> Result<StoredExchanges> {
        let mut fingerprints = HashSet::new();
        for exchange in store.exchanges() {
            fingerprints.insert(fingerprint(&exchange?));
        }
        Ok(StoredExchanges { fingerprints, redactor: options.redactor(store) })
    }

    /// Whether `exchange`, kept as the store would keep it, is there already.
    pub fn contains(&self, exchange: &Exchange) -> bool {
        let mut kept = exchange.clone();
        match &self.redactor {
            Some(redactor) => redactor.redact_exchange(&mut kept),
            None => decode_bodies(&mut kept),
        };
        self.fingerprints.contains(&fingerprint(&kept))
    }
}

/// Start time, method, URL and request body, hashed.
fn fingerprint(e: &Exchange) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (e.started_at, &e.request.method, &e.request.url, &e.request.body.bytes).hash(&mut h);
    h.finish()
}
