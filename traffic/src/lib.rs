//! venomqa-traffic: what every venomqa stage shares.
mod capture;
mod record;
pub use capture::*;
pub use record::*;
