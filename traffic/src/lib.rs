//! venomqa-traffic: what every venomqa stage shares — the [`Exchange`]
//! record, the capture channel, and the sled [`Store`] that a [`Recording`]
//! writes (sessions assigned, secrets redacted) and every later stage reads.
//!
//! ```no_run
//! use venomqa_traffic::{RecordOptions, Store};
//! # fn main() -> venomqa_traffic::Result<()> {
//! let store = Store::open("./venomqa-store")?;
//! let har = std::fs::File::open("traffic.har").expect("a HAR file");
//! let exchanges = venomqa_traffic::read_har(har).expect("a valid HAR");
//! let summary = store.append(exchanges, RecordOptions::default())?;
//! println!("{} exchanges in {} sessions", summary.exchanges_written, summary.sessions_touched);
//! for session in store.sessions()? {
//!     println!("{}: {} exchanges", session.key, session.exchanges);
//! }
//! # Ok(()) }
//! ```
//!
//! What it offers, by concern:
//! - the record: [`Exchange`] (with [`ExchangeId`], [`SessionKey`],
//!   [`Request`], [`Response`], [`ExchangeError`], [`Headers`], [`Header`],
//!   [`Body`]) and [`unix_now_ns`];
//! - the store: [`Store`] (open, read with [`Exchanges`],
//!   [`SessionExchanges`], [`SessionSummary`], [`Stats`]; write with
//!   [`Store::record`] → [`Recording`], or [`Store::append`]; both take
//!   [`RecordOptions`] and end in a [`RecordSummary`], with a
//!   [`StoreTrouble`] when the disk filled or failed, within
//!   [`DEFAULT_FINISH_DEADLINE`] or another), its [`FORMAT_VERSION`],
//!   [`FLUSH_EVERY_MS`], the free space it keeps ([`MIN_FREE_BYTES`],
//!   [`RESUME_MARGIN`]), and its [`Error`] and [`Result`];
//! - the capture channel from whoever sees traffic to the store's writer:
//!   [`capture_channel`], [`CaptureSender`], [`CaptureReceiver`],
//!   [`Received`];
//! - sessions: [`SessionRules`], [`SessionRule`], [`DEFAULT_SESSION_RULES`],
//!   [`DEFAULT_IDLE_GAP`], [`UNMATCHED_SESSION`];
//! - redaction: [`Redactor`], [`is_pseudonym`], [`is_secret_name`],
//!   [`is_secret_header`], [`PSEUDONYM_PREFIX`];
//! - HAR 1.2: [`read_har`], [`write_har`], [`HarError`];
//! - HTTP and time rules every stage applies the same way:
//!   [`is_hop_by_hop`], [`HOP_BY_HOP_HEADERS`], [`utc_millis`],
//!   [`rfc3339_millis`], [`rfc3339`].

mod capture;
mod error;
mod give_way;
mod har;
mod hop_by_hop;
mod jsonscan;
mod record;
mod redact;
mod session;
mod store;
mod timestamp;

pub use capture::{capture_channel, CaptureReceiver, CaptureSender, Received};
pub use error::{Error, Result};
pub use har::{read_har, write_har, HarError};
pub use hop_by_hop::{is_hop_by_hop, HOP_BY_HOP_HEADERS};
pub use record::{
    strip_bom, unix_now_ns, Body, Exchange, ExchangeError, ExchangeId, Header, Headers, Request,
    Response, SessionKey,
};
pub use redact::{
    decode_bodies, is_pseudonym, is_secret_header, is_secret_name, ExtraNames, Redactor,
    BODY_NOT_KEPT, DECODED_FROM, PSEUDONYM_PREFIX,
};
pub use session::{
    SessionRule, SessionRules, DEFAULT_IDLE_GAP, DEFAULT_SESSION_RULES, UNMATCHED_SESSION,
};
pub use store::{
    Exchanges, RecordOptions, RecordSummary, Recording, SessionExchanges, SessionSummary, Stats,
    Store, StoreTrouble, StoredExchanges, DEFAULT_FINISH_DEADLINE, FLUSH_EVERY_MS, FORMAT_VERSION,
    MIN_FREE_BYTES, OLDEST_FORMAT_VERSION, RESUME_MARGIN,
};
pub use timestamp::{rfc3339, rfc3339_millis, utc_millis};
