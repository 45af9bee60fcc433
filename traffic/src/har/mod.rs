//! HAR 1.2 import and export: how exchanges travel between venomqa and
//! browser devtools, mitmproxy and other HTTP tools.
//!
//! [`write_har`] streams a log entry by entry, so exporting a large store
//! never holds it in memory; [`read_har`] reads a log back. Our own exports
//! round-trip every field of [`Exchange`] exactly; HARs from other tools are
//! read leniently (missing optional fields, `status: 0`, negative timings,
//! any UTC offset, HTTP/2 pseudo-headers, unknown fields).
//!
//! ```
//! use venomqa_traffic::{read_har, write_har, Exchange};
//! # fn demo(exchanges: Vec<Exchange>) -> Result<(), venomqa_traffic::HarError> {
//! let mut file = Vec::new();
//! write_har(exchanges.clone(), &mut file)?;
//! assert_eq!(read_har(file.as_slice())?, exchanges);
//! # Ok(()) }
//! ```
//!
//! Where each field goes. Standard HAR fields carry what devtools shows;
//! underscore fields (allowed by HAR 1.2) carry what HAR has no place for,
//! and take precedence on import:
//!
//! | Exchange | HAR entry |
//! |---|---|
//! | `id`, `session`, `client` | `_id`, `_session`, `_client` |
//! | `started_at` | `startedDateTime` (milliseconds, UTC) and `_startedAtNs` (exact) |
//! | `duration_ns` | `time` and `timings.wait` (ms) and `_durationNs` (exact) |
//! | `request.url` | `request.url`, made absolute with the `Host` header for an origin-form url, which then also goes to `request._url` |
//! | headers | `headers[]` in order; a value that is not UTF-8 is lossy in `value` and exact in `_valueBase64` |
//! | request body | `request.postData.text`, base64 with `_encoding: "base64"` when not UTF-8 |
//! | response body | `response.content.text`, base64 with `encoding: "base64"` when not UTF-8 |
//! | body length, cut | `_originalSize`, `_truncated` on `postData` / `content` |
//! | `error` | `_error {kind, message}`; with no response, `response.status` is 0 |
//!
//! Bodies in a venomqa export are the bytes seen on the wire (still
//! compressed when `Content-Encoding` says so); devtools and mitmproxy save
//! decoded bodies, and an import keeps what the file holds.
//!
//! `export.rs` writes a log, `import.rs` streams one in, and `entry.rs`
//! turns one entry into an [`Exchange`](crate::Exchange).

mod entry;
mod export;
mod import;

pub use export::write_har;
pub use import::read_har;

/// Why a HAR could not be written or read, precise enough to fix the file.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    /// The input is not JSON at all.
    #[error("not a HAR file: invalid JSON at line {line}, column {column}: {reason}")]
    NotJson {
        /// Where the JSON breaks: line (from 1).
        line: usize,
        /// Where the JSON breaks: column (from 1).
        column: usize,
        /// What the JSON parser saw there.
        reason: String,
    },
    /// The input is JSON but not shaped like a HAR log.
    #[error("not a HAR file: {0}")]
    NotHar(String),
    /// One entry cannot become an exchange; `index` counts from 0, as in
    /// `log.entries[index]`, and `field` is the path inside the entry.
    #[error("HAR entry {index} (log.entries[{index}]): {field} {reason}")]
    BadEntry {
        /// The entry's position in `log.entries`, from 0.
        index: usize,
        /// The field inside the entry, as a path (`request.headers[2].name`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The input could not be read.
    #[error("could not read the HAR: {0}")]
    Read(std::io::Error),
    /// The output could not be written.
    #[error("could not write the HAR: {0}")]
    Write(std::io::Error),
}
