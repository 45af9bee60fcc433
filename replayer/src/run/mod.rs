//! Sending: a [`sequence`](self::sequence) of steps built from request
//! templates (`request`), sent by the HTTP `client`, executed with live
//! values and read-backs (`execute`) after a `reset`, and each journey calibrated twice
//! before any mutation (`calibrate`).

pub(crate) mod calibrate;
pub(crate) mod client;
pub(crate) mod execute;
pub(crate) mod request;
pub(crate) mod reset;
pub(crate) mod sequence;
