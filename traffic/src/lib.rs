//! venomqa-traffic: what every venomqa stage shares — the [`Exchange`]
//! record, the capture channel, and the sled [`Store`] that a [`Recording`]
//! writes (sessions assigned, secrets redacted) and every later stage reads.
mod block;
mod capture;
mod error;
mod har;
mod hop_by_hop;
mod jsonscan;
mod record;
mod recording;
mod redact;
mod session;
mod store;
pub use capture::*;
pub use error::*;
pub use har::{read_har, write_har, HarError};
pub use hop_by_hop::{is_hop_by_hop, HOP_BY_HOP_HEADERS};
pub use record::*;
pub use recording::*;
pub use redact::*;
pub use session::*;
pub use store::*;
