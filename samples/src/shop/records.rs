//! The shop's data: orders, stored payment answers and sessions, as kept
//! in memory and in the database (`database.rs`). The rules that change
//! them live in `state.rs`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::lifecycle::{OrderAction, OrderStatus, Totals};

/// One order, exactly as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Order {
    pub id: String,
    pub owner: String,
    pub item: String,
    /// Price in cents.
    pub amount: u64,
    pub status: OrderStatus,
    /// Total ever charged to the buyer, in cents.
    pub charged: u64,
    /// Total ever refunded to the buyer, in cents.
    pub refunded: u64,
    pub note: String,
    /// Bumped by every change; the `ETag` is this number, quoted.
    pub version: u64,
    /// Creation order, so listings are stable although ids are random.
    #[serde(skip)]
    pub seq: u64,
}

impl Order {
    /// The strong entity tag of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    pub(crate) fn bump(&mut self) {
        self.version += 1;
    }

    pub(crate) fn totals(&self) -> Totals {
        Totals { amount: self.amount, charged: self.charged, refunded: self.refunded }
    }

    /// Moves the money as an accepted `action` does.
    pub(crate) fn settle(&mut self, action: OrderAction) {
        let mut totals = self.totals();
        totals.apply(action);
        (self.charged, self.refunded) = (totals.charged, totals.refunded);
    }
}

/// The first successful answer to a pay with an `Idempotency-Key`.
#[derive(Clone)]
pub(crate) struct StoredPayment {
    pub order_id: String,
    pub answer: Order,
}

/// Everything the shop knows.
#[derive(Clone, Default)]
pub(crate) struct State {
    /// Live orders by id.
    pub orders: HashMap<String, Order>,
    /// Deleted orders, kept the way a soft-delete table keeps them.
    pub archive: HashMap<String, Order>,
    /// Bearer token → username.
    pub sessions: HashMap<String, &'static str>,
    /// (username, Idempotency-Key) → the first answer.
    pub payments: HashMap<(String, String), StoredPayment>,
    pub next_seq: u64,
}
