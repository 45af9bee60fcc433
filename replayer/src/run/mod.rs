//! Sending: a [`sequence`](self::sequence) of steps built from request
//! templates (`request`), sent by the HTTP `client` (trusting an `https://`
//! target as `trust` says), executed with live
//! values (`execute`) after a `reset`, the instances it touches and their
//! owners (`track`) read back (`probe`), and each journey calibrated twice
//! before any mutation (`calibrate`).

pub(crate) mod calibrate;
pub(crate) mod checkpoint;
pub(crate) mod client;
pub(crate) mod divergence;
pub(crate) mod execute;
pub(crate) mod probe;
pub(crate) mod rate_limit;
pub(crate) mod request;
pub(crate) mod reset;
pub(crate) mod sequence;
pub(crate) mod track;
pub(crate) mod trust;
