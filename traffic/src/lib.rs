//! venomqa-traffic: what every venomqa stage shares.
mod capture;
mod har;
mod record;
pub use capture::*;
pub use har::{read_har, write_har, HarError};
pub use record::*;
