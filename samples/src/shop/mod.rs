//! The sample shop: an orders API with planted sequence bugs, in memory or
//! on SQLite (`database`).
//!
//! Split the way a request flows: [`lifecycle`] states the order rules,
//! [`state`] holds the orders and sessions and enforces those rules (with
//! the planted bugs as exceptions), `routes` turns HTTP into calls on it,
//! `server` accepts connections and shuts down cleanly; `qa_config` is the
//! venomqa configuration the shop's team would write. The endpoints, users
//! and bugs are listed in the crate's README.
//!
//! Lifecycle of an order:
//!
//! ```text
//! created ──pay──▶ paid ──ship──▶ shipped
//!    │               │               │
//!    │             refund ─────────refund──▶ refunded
//!    │               │
//!    └──cancel──▶ cancelled ◀──cancel (refunds what was charged)
//! ```
//!
//! `DELETE` removes an order in any status; it is then 404 everywhere.

mod database;
pub(crate) mod lifecycle;
mod qa_config;
mod records;
mod routes;
mod server;
pub(crate) mod state;

pub use lifecycle::{OrderAction, OrderStatus, Totals};
pub use qa_config::{shop_password, shop_qa_config, SHOP_INVARIANTS};
pub use server::{serve_shop, spawn_shop, ShopHandle};

use std::path::PathBuf;
use std::sync::Arc;

use crate::bugs::BugSet;

/// How a shop runs. The default plants every bug, because the shop is a
/// demo target, keeps its state in memory and speaks plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct ShopConfig {
    /// The sequence bugs to plant; [`BugSet::none`] gives a correct shop.
    pub bugs: BugSet,
    /// A SQLite database file to keep the state in (`--db sqlite:PATH`),
    /// created when missing; `None`: in memory.
    pub database: Option<PathBuf>,
    /// Serve HTTPS with this certificate (a [`crate::SampleTls`]'s, or any
    /// rustls server config); `None`: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// A built-in account. The shop has no sign-up: these four are all there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// The name a client logs in with.
    pub username: &'static str,
    /// The password that goes with it.
    pub password: &'static str,
}

/// The shop's users; each password is the name followed by `-pw`.
pub const USERS: [User; 4] = [
    User { username: "alice", password: "alice-pw" },
    User { username: "bob", password: "bob-pw" },
    User { username: "carol", password: "carol-pw" },
    User { username: "dave", password: "dave-pw" },
];
