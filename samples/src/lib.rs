//! venomqa-samples: a shop to find bugs in, and testers to record.
//!
//! - The **sample shop** ([`serve_shop`], [`spawn_shop`]) is an in-memory
//!   orders API (login, orders, pay, ship, refund, cancel, delete) with nine
//!   planted *sequence* bugs ([`Bug`]): every endpoint is right on its own,
//!   and only a particular order of calls goes wrong. [`BugSet`] chooses
//!   which are planted; with none, every violating sequence is refused.
//! - The **QA driver** ([`drive`]) plays realistic happy-path sessions
//!   against it — several users, the whole order lifecycle — to produce the
//!   traffic venomqa records and learns from. It never triggers a bug itself.
//! - The shop's **rules and configuration**: the order lifecycle
//!   ([`OrderStatus`], [`OrderAction`], [`Totals`]) that the shop enforces
//!   and everything scripting it follows, and the `qa/venomqa.toml` its team
//!   would write ([`shop_qa_config`], [`SHOP_INVARIANTS`], [`shop_password`]).
//! - The **sample library** ([`serve_library`], [`spawn_library`],
//!   [`drive_library`]) is a second service shaped unlike the shop: cookie
//!   sessions, sign-up and login by email, staff and members, sequential
//!   ids, slugs, a soft delete, pickup codes, reading lists, with
//!   seventeen planted bugs ([`LibraryBug`]); `samples/src/library/mod.rs`
//!   documents its endpoints and bugs.
//! - **HTTPS**: either sample serves TLS (HTTP/2 and HTTP/1.1) with the
//!   certificate its config's `tls` gives ([`SampleTls`]: a throwaway one,
//!   or the user's), and the drivers reach it trusting what
//!   [`DriveOptions::trust`] says ([`ClientTrust`]).
//! - The **traffic generator** ([`generate`]) makes any number of synthetic
//!   exchanges shaped like a recording of the driver, without a shop or a
//!   proxy, deterministically for a seed: input for benchmarks.
//!
//! The smallest use: a shop with every bug, driven by twenty sessions.
//!
//! ```no_run
//! use venomqa_samples::{drive, spawn_shop, BugSet, ClientTrust, DriveOptions, ShopConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let shop = spawn_shop(ShopConfig { bugs: BugSet::all(), ..ShopConfig::default() }).await?;
//! let report = drive(DriveOptions {
//!     base: shop.base_url(),
//!     users: 3,
//!     sessions: 20,
//!     seed: 7,
//!     concurrency: 3,
//!     trust: ClientTrust::default(),
//! })
//! .await?;
//! println!("{report}");
//! shop.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The endpoints, users and bugs are documented in `samples/README.md`.

mod bugs;
mod driver;
mod generate;
mod ids;
mod library;
mod serve;
mod shop;
mod tls;

pub use bugs::{Bug, BugSet, UnknownBug};
pub use driver::{
    drive, DriveError, DriveOptions, DriveReport, DriveStep, StatusClasses, UnexpectedAnswer,
};
pub use generate::{generate, GenerateOptions, Generator, DEFAULT_START_NS};
pub use library::{
    drive_library, serve_library, spawn_library, LibraryBug, LibraryBugSet, LibraryConfig,
    LibraryHandle, StaffAccount, UnknownLibraryBug, STAFF,
};
pub use serve::SampleHandle;
pub use shop::{
    serve_shop, shop_password, shop_qa_config, spawn_shop, OrderAction, OrderStatus, ShopConfig,
    ShopHandle, Totals, User, SHOP_INVARIANTS, USERS,
};
pub use tls::SampleTls;
/// What a driver trusts of an `https://` sample, and why a certificate
/// could not be made or read (venomqa-tls's, for the fields and results
/// here).
pub use venomqa_tls::{ClientTrust, Error as TlsError};
