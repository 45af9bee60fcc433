//! venomqa-traffic: what every venomqa stage shares — the [`Exchange`]
//! record, the capture channel, and the sled [`Store`] that a [`Recording`]
//! writes (sessions assigned, secrets redacted) and every later stage reads.
mod block;
mod capture;
mod error;
mod har;
mod jsonscan;
mod record;
mod recording;
mod redact;
mod session;
mod store;
pub use capture::*;
pub use error::*;
pub use har::{read_har, write_har, HarError};
pub use record::*;
pub use recording::*;
pub use redact::*;
pub use session::*;
pub use store::*;
