//! venomqa-testkit: the set-ups venomqa's tests share, so each test names
//! what it sets up instead of building it again. Dev-only: never published,
//! never a dependency of a library.
//!
//! - [`shop`]: the sample shop on loopback ([`start_shop`]) and the ids of
//!   its actions as a learned model names them ([`shop::actions`]).
//! - [`record`]: the shop's QA traffic recorded through the real proxy into
//!   a temp store, as `venomqa record` would ([`record_qa_sessions`]).
//! - [`proxy`]: a recording proxy on loopback and its capture queue ([`Proxy`]).
//! - [`upstream`]: servers behind the proxy, well-behaved ([`Upstream`]) or
//!   faulty ([`vacant_addr`], [`upstream_hanging_up_after`]).
//! - [`socket`]: raw HTTP/1.1 over a `TcpStream`, for what a client library
//!   would hide.
//! - [`nagle`]: a server whose kept-alive answers stall on the client's
//!   delayed ACK ([`nagle::SplitWrites`]).
//! - [`http`]: reqwest clients with venomqa's TLS ([`http::client`]).
//! - [`layout`]: a crate's module graph, so a test can forbid import cycles.
//! - [`postgres`]: a real PostgreSQL server in a temp directory ([`postgres::Postgres`]).
//! - [`store`]: temp stores and exchanges built in code ([`TempStore`],
//!   [`exchange`], [`record_all`]).
//!
//! It uses only the public API of the crates it tests. An integration test
//! of a crate that this one depends on (traffic, proxy, samples) may use it
//! too: Cargo links one copy of that crate, so the types are the same.
//!
//! ```no_run
//! use venomqa_testkit::{record_qa_sessions, start_shop};
//!
//! # async fn run() {
//! let shop = start_shop("none").await;
//! let exchanges = record_qa_sessions(&shop.base_url(), 6, 3).await;
//! assert!(!exchanges.is_empty());
//! shop.shutdown().await;
//! # }
//! ```

pub mod disk;
pub mod http;
pub mod layout;
pub mod nagle;
pub mod postgres;
pub mod proxy;
pub mod record;
pub mod shop;
pub mod socket;
pub mod store;
pub mod tls;
pub mod upstream;

pub use proxy::Proxy;
pub use record::{record_library_sessions, record_qa_sessions};
pub use shop::start_shop;
pub use store::{exchange, record_all, ExchangeExt, TempStore};
pub use upstream::{upstream_hanging_up_after, vacant_addr, Upstream};
