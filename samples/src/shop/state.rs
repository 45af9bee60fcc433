//! The shop's state (in memory, or written through to SQLite with
//! `--db sqlite:PATH`, see `database.rs`) and every rule of the order
//! lifecycle.
//!
//! This is where the planted bugs live. Each one is a small, believable
//! mistake in a guard or a lookup, switched on by the shop's [`BugSet`]; the
//! correct branch sits right next to it so the difference is easy to read.
//! Nothing here knows about HTTP: the routes turn [`ShopError`] into status
//! codes.
//!
//! One `std::sync::Mutex` guards the whole state. It is never held across an
//! `.await` — the only awaiting operation, the racy refund, drops it on
//! purpose before its pause, and that is exactly the bug it plants.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::database::{Database, DatabaseError};
pub(crate) use super::records::{Order, State, StoredPayment};

use super::lifecycle::{OrderAction, OrderStatus, Totals};
use super::{User, USERS};
use crate::bugs::{Bug, BugSet};
use crate::ids::random_chars;

/// How long the racy refund waits between its check and its write, standing in
/// for a call to a payment provider. Long enough that two concurrent refunds
/// reliably overlap on loopback, short enough to keep the driver quick.
pub(crate) const REFUND_PROVIDER_DELAY: Duration = Duration::from_millis(20);

/// Longest delivery note accepted, in characters.
const MAX_NOTE_CHARS: usize = 1000;

impl Order {
    /// Refuses `action` unless the lifecycle allows it in the current
    /// status, or `despite_the_rules` (a planted bug) lets it through.
    fn check(&self, action: OrderAction, despite_the_rules: bool) -> Result<(), ShopError> {
        if action.allowed_from(self.status) || despite_the_rules {
            Ok(())
        } else {
            Err(ShopError::WrongState { action, status: self.status })
        }
    }

    /// Checks and applies `action`: the money moves, the status follows, a new version.
    fn advance(&mut self, action: OrderAction, despite_the_rules: bool) -> Result<(), ShopError> {
        self.check(action, despite_the_rules)?;
        self.settle(action);
        self.status = action.leads_to();
        self.bump();
        Ok(())
    }
}

/// Why the shop refused a request; the routes map each to a status code.
#[derive(Debug)]
pub(crate) enum ShopError {
    /// Wrong username or password.
    BadCredentials,
    /// No token, an unknown token, or a logged-out one.
    Unauthenticated,
    /// No such order, not the caller's, or deleted.
    NotFound,
    /// The action is not allowed in the order's current status.
    WrongState { action: OrderAction, status: OrderStatus },
    /// A conditional write without `If-Match`.
    PreconditionRequired,
    /// A conditional write whose `If-Match` is not the current version.
    PreconditionFailed { current: String },
    /// An `Idempotency-Key` reused for a different order.
    KeyReused,
    /// The request body is not what the endpoint takes.
    Invalid(String),
}

/// What a pay did: a fresh charge, or the stored answer to an earlier request with the same key.
pub(crate) struct Payment {
    pub order: Order,
    pub replayed: bool,
}

/// The state and, with `--db`, the database it is written through to.
struct Stored {
    state: State,
    db: Option<Database>,
}

/// The locked state: changes made through it are written to the database
/// (if any) when it is let go.
struct Locked<'a> {
    stored: MutexGuard<'a, Stored>,
    changed: bool,
}

impl Deref for Locked<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.stored.state
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.changed = true;
        &mut self.stored.state
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if !self.changed {
            return;
        }
        let Stored { state, db } = &mut *self.stored;
        if let Some(db) = db {
            if let Err(e) = db.save(state) {
                // The answer already went out: say loudly that it was not kept.
                tracing::error!("{e}; this change is not in the database");
            }
        }
    }
}

/// The shop: its state and the bugs it plants.
pub(crate) struct Shop {
    bugs: BugSet,
    state: Mutex<Stored>,
    /// Saved states by name (`POST /__checkpoint/{name}`), to roll back to.
    checkpoints: Mutex<HashMap<String, State>>,
}

/// Saved states the shop keeps at most: a search that saves more is
/// refused, not served out of memory.
const MAX_CHECKPOINTS: usize = 100_000;

impl Shop {
    /// A shop in memory.
    pub fn new(bugs: BugSet) -> Shop {
        let stored = Stored { state: State::default(), db: None };
        Shop { bugs, state: Mutex::new(stored), checkpoints: Mutex::default() }
    }

    /// A shop whose state lives in the SQLite database at `path` (created
    /// when missing, read back when not).
    pub fn with_database(bugs: BugSet, path: &Path) -> Result<Shop, DatabaseError> {
        let (db, state) = Database::open(path)?;
        let stored = Stored { state, db: Some(db) };
        Ok(Shop { bugs, state: Mutex::new(stored), checkpoints: Mutex::default() })
    }

    /// Saves the whole state under `name` (a test harness's checkpoint);
    /// `false` when too many are saved already.
    pub fn checkpoint(&self, name: &str) -> bool {
        let state = self.lock().clone();
        let mut saved = self.checkpoints.lock().unwrap_or_else(PoisonError::into_inner);
        if saved.len() >= MAX_CHECKPOINTS && !saved.contains_key(name) {
            return false;
        }
        saved.insert(name.to_string(), state);
        true
    }

    /// Puts back the state saved under `name`; `false` when there is none.
    pub fn rollback(&self, name: &str) -> bool {
        let saved = self.checkpoints.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(state) = saved.get(name) else { return false };
        *self.lock() = state.clone();
        true
    }

    fn bug(&self, bug: Bug) -> bool {
        self.bugs.contains(bug)
    }

    fn lock(&self) -> Locked<'_> {
        // A panic while holding the lock cannot leave an order half-written
        // (every change is a few field assignments), so keep serving.
        let mut stored = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let Stored { state, db } = &mut *stored;
        if let Some(db) = db {
            // Another connection changed the file (a restored checkpoint):
            // answer from what it holds now.
            match db.changed_elsewhere() {
                Ok(Some(fresh)) => *state = fresh,
                Ok(None) => {}
                Err(e) => tracing::error!("{e}; answering from the state in memory"),
            }
        }
        Locked { stored, changed: false }
    }

    /// Checks a user's password and opens a session.
    pub fn login(&self, username: &str, password: &str) -> Result<String, ShopError> {
        let user: &User = USERS
            .iter()
            .find(|u| u.username == username && u.password == password)
            .ok_or(ShopError::BadCredentials)?;
        let token = format!("tok_{}", random_chars(32));
        self.lock().sessions.insert(token.clone(), user.username);
        Ok(token)
    }

    /// The user a bearer token belongs to.
    pub fn authenticate(&self, token: &str) -> Result<&'static str, ShopError> {
        self.lock().sessions.get(token).copied().ok_or(ShopError::Unauthenticated)
    }

    /// Ends the session of `token`.
    pub fn logout(&self, token: &str) -> Result<(), ShopError> {
        let mut state = self.lock();
        if !state.sessions.contains_key(token) {
            return Err(ShopError::Unauthenticated);
        }
        if self.bug(Bug::TokenAfterLogout) {
            // BUG token-after-logout: the session is only "marked" for an
            // expiry sweep that never comes; the token stays valid.
            return Ok(());
        }
        state.sessions.remove(token);
        Ok(())
    }

    /// Clears orders, sessions and stored payments: a fresh shop for the next test.
    pub fn reset(&self) {
        let mut state = self.lock();
        *state = State::default();
    }

    pub fn create_order(&self, user: &str, item: &str, amount: u64) -> Result<Order, ShopError> {
        let item = item.trim();
        if item.is_empty() {
            return Err(ShopError::Invalid("`item` must be a non-empty string".into()));
        }
        if amount == 0 {
            return Err(ShopError::Invalid("`amount` must be a positive integer (cents)".into()));
        }
        let mut state = self.lock();
        let id = loop {
            let id = format!("ord_{}", random_chars(12));
            if !state.orders.contains_key(&id) && !state.archive.contains_key(&id) {
                break id;
            }
        };
        state.next_seq += 1;
        let order = Order {
            id: id.clone(),
            owner: user.to_string(),
            item: item.to_string(),
            amount,
            status: OrderStatus::Created,
            charged: 0,
            refunded: 0,
            note: String::new(),
            version: 1,
            seq: state.next_seq,
        };
        state.orders.insert(id, order.clone());
        Ok(order)
    }

    /// The caller's live orders, oldest first.
    pub fn list_orders(&self, user: &str) -> Vec<Order> {
        let state = self.lock();
        let mut orders: Vec<Order> =
            state.orders.values().filter(|o| o.owner == user).cloned().collect();
        orders.sort_by_key(|o| o.seq);
        orders
    }

    pub fn get_order(&self, user: &str, id: &str) -> Result<Order, ShopError> {
        let state = self.lock();
        let order = state.orders.get(id).ok_or(ShopError::NotFound)?;
        // BUG cross-user: the read handler forgot the ownership check that
        // every other handler has.
        if order.owner != user && !self.bug(Bug::CrossUser) {
            return Err(ShopError::NotFound);
        }
        Ok(order.clone())
    }

    /// Replaces the delivery note, if `if_match` names the current version.
    pub fn patch_note(
        &self,
        user: &str,
        id: &str,
        if_match: Option<&str>,
        note: &str,
    ) -> Result<Order, ShopError> {
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(ShopError::Invalid(format!(
                "`note` is longer than {MAX_NOTE_CHARS} characters"
            )));
        }
        let mut state = self.lock();
        let order = owned_mut(&mut state.orders, user, id)?;
        let if_match = if_match.ok_or(ShopError::PreconditionRequired)?;
        // BUG lost-update: If-Match is demanded but never compared, so a
        // writer holding an old version silently overwrites a newer one.
        if !self.bug(Bug::LostUpdate) && !etag_matches(if_match, order.version) {
            return Err(ShopError::PreconditionFailed { current: order.etag() });
        }
        order.note = note.to_string();
        order.bump();
        Ok(order.clone())
    }

    /// Charges an order once; with a key, a retry gets the first answer back.
    pub fn pay(&self, user: &str, id: &str, key: Option<&str>) -> Result<Payment, ShopError> {
        let mut state = self.lock();
        let stored_key = key.map(|key| (user.to_string(), key.to_string()));

        if let Some(stored) = stored_key.as_ref().and_then(|k| state.payments.get(k)) {
            if stored.order_id != id {
                return Err(ShopError::KeyReused);
            }
            if !self.bug(Bug::IdempotencyRecharge) {
                return Ok(Payment { order: stored.answer.clone(), replayed: true });
            }
            // BUG idempotency-recharge: the retry path calls the payment
            // provider again before answering, so the buyer pays twice.
            let order_id = stored.order_id.clone();
            if let Some(order) = state.orders.get_mut(&order_id) {
                order.settle(OrderAction::Pay);
                order.bump();
                return Ok(Payment { order: order.clone(), replayed: true });
            }
        }

        // BUG pay-after-delete: the lookup falls back to the archive of
        // deleted orders, and saving the paid order puts it back in the live
        // table.
        let from_archive = !state.orders.contains_key(id) && self.bug(Bug::PayAfterDelete);
        let mut order = if from_archive {
            state.archive.get(id).cloned().ok_or(ShopError::NotFound)?
        } else {
            state.orders.get(id).cloned().ok_or(ShopError::NotFound)?
        };
        // BUG cross-user: like the read, pay checks that the order exists but
        // not whose it is.
        if order.owner != user && !self.bug(Bug::CrossUser) {
            return Err(ShopError::NotFound);
        }
        order.advance(OrderAction::Pay, false)?;
        if from_archive {
            state.archive.remove(id);
        }
        state.orders.insert(order.id.clone(), order.clone());
        if let Some(stored_key) = stored_key {
            state.payments.insert(
                stored_key,
                StoredPayment { order_id: order.id.clone(), answer: order.clone() },
            );
        }
        Ok(Payment { order, replayed: false })
    }

    pub fn ship(&self, user: &str, id: &str) -> Result<Order, ShopError> {
        let mut state = self.lock();
        let order = owned_mut(&mut state.orders, user, id)?;
        // BUG ship-unpaid: the guard was written as "not yet shipped"
        // instead of "paid".
        let unpaid = order.status == OrderStatus::Created && self.bug(Bug::ShipUnpaid);
        order.advance(OrderAction::Ship, unpaid)?;
        Ok(order.clone())
    }

    /// Cancels an order that has not shipped; a paid one is refunded in full.
    pub fn cancel(&self, user: &str, id: &str) -> Result<Order, ShopError> {
        let mut state = self.lock();
        let order = owned_mut(&mut state.orders, user, id)?;
        // BUG cancel-after-ship: the guard lists the final states to
        // refuse and forgot `shipped`.
        let shipped = order.status == OrderStatus::Shipped && self.bug(Bug::CancelAfterShip);
        order.advance(OrderAction::Cancel, shipped)?;
        Ok(order.clone())
    }

    /// Refunds the full charged amount of a paid or shipped order, once.
    pub async fn refund(&self, user: &str, id: &str) -> Result<Order, ShopError> {
        if !self.bug(Bug::ConcurrentRefund) {
            // Correct: check and write under one lock, so a second refund
            // always sees the first one's `refunded` status.
            let mut state = self.lock();
            let order = owned_mut(&mut state.orders, user, id)?;
            order.advance(OrderAction::Refund, self.refunds_again(order))?;
            return Ok(order.clone());
        }
        // BUG concurrent-refund: check on a snapshot, release the lock while
        // "calling the payment provider", then write. Two refunds that both
        // read before either writes are both accepted.
        let snapshot = {
            let mut state = self.lock();
            let order = owned_mut(&mut state.orders, user, id)?;
            order.check(OrderAction::Refund, self.refunds_again(order))?;
            order.clone()
        };
        tokio::time::sleep(REFUND_PROVIDER_DELAY).await;
        let mut state = self.lock();
        let order = owned_mut(&mut state.orders, user, id)?;
        apply_stale_refund(order, snapshot.charged);
        Ok(order.clone())
    }

    /// BUG double-refund: the guard only refuses orders that were never
    /// charged or were cancelled, so a refunded one is refunded again.
    fn refunds_again(&self, order: &Order) -> bool {
        order.status == OrderStatus::Refunded && self.bug(Bug::DoubleRefund)
    }

    /// Moves an order to the archive; it is gone for every endpoint.
    pub fn delete(&self, user: &str, id: &str) -> Result<(), ShopError> {
        let mut state = self.lock();
        owned_mut(&mut state.orders, user, id)?;
        if let Some(order) = state.orders.remove(id) {
            state.archive.insert(order.id.clone(), order);
        }
        Ok(())
    }
}

impl ShopError {
    /// A wrong-state refusal names the action and the state, so a reader knows why.
    pub fn message(&self) -> String {
        match self {
            ShopError::BadCredentials => "invalid username or password".into(),
            ShopError::Unauthenticated => "missing, unknown or expired bearer token".into(),
            ShopError::NotFound => "order not found".into(),
            ShopError::WrongState { action, status } => {
                format!("cannot {} an order that is {}", action.name(), status.name())
            }
            ShopError::PreconditionRequired => {
                "this write needs an If-Match header with the order's ETag".into()
            }
            ShopError::PreconditionFailed { current } => {
                format!(
                    "If-Match does not match the current version {current}; read the order again"
                )
            }
            ShopError::KeyReused => {
                "this Idempotency-Key was already used for a different order".into()
            }
            ShopError::Invalid(why) => why.clone(),
        }
    }
}

/// The caller's live order, or `NotFound` for a missing or someone else's one.
fn owned_mut<'a>(
    orders: &'a mut HashMap<String, Order>,
    user: &str,
    id: &str,
) -> Result<&'a mut Order, ShopError> {
    match orders.get_mut(id) {
        Some(order) if order.owner == user => Ok(order),
        _ => Err(ShopError::NotFound),
    }
}

/// The racy refund's write: it gives back what was charged when it checked,
/// which a concurrent refund may have given back already.
fn apply_stale_refund(order: &mut Order, charged_when_checked: u64) {
    let mut totals = Totals { charged: charged_when_checked, ..order.totals() };
    totals.apply(OrderAction::Refund);
    order.refunded = totals.refunded;
    order.status = OrderAction::Refund.leads_to();
    order.bump();
}

/// Whether an `If-Match` value names `version`: `*`, or a list of entity
/// tags compared strongly. A bare number is accepted too, for people typing
/// curl commands.
fn etag_matches(if_match: &str, version: u64) -> bool {
    let current = version.to_string();
    if_match.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) == Some(current.as_str())
            || tag == current
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_entity_tags_strongly() {
        assert!(etag_matches("\"3\"", 3));
        assert!(etag_matches("3", 3));
        assert!(etag_matches("\"1\", \"3\"", 3));
        assert!(etag_matches("*", 3));
        assert!(!etag_matches("\"2\"", 3));
        assert!(!etag_matches("W/\"3\"", 3));
        assert!(!etag_matches("", 3));
    }
}
