//! venomqa-proxy: a transparent proxy that records what goes through it: a
//! reverse proxy in front of one upstream, or a forward proxy whose clients
//! name their origins ([`Route`]).
//!
//! Clients talk to the proxy as if it were the service (HTTP/1.1 or HTTP/2,
//! cleartext or over TLS); each request is forwarded to the upstream on a
//! connection that belongs to its client connection (HTTP/1.1, or HTTP/2 to
//! an `https://` upstream offering it) and the answer streamed back, bodies never buffered whole, headers in order with their
//! duplicates and untouched except for hop-by-hop ones and `Host`. Header
//! names go out in lowercase, as in HTTP/2 (they are case-insensitive). Every
//! request/response pair becomes a [`venomqa_traffic::Exchange`] handed to a
//! [`CaptureSender`](venomqa_traffic::CaptureSender) once the response has
//! ended; a full capture queue drops captures, never traffic.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use venomqa_proxy::{serve, ProxyConfig};
//!
//! let (capture, captured) = venomqa_traffic::capture_channel(1024);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let config = ProxyConfig::new("http://127.0.0.1:8081".parse()?);
//! let stats = serve(listener, config, Some(capture), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! println!("{} exchanges, {} captures dropped", stats.exchanges, captured.dropped());
//! # Ok(())
//! # }
//! ```
//!
//! The pipeline, one phase a file:
//! accept (`server.rs`, onto a shard: `shards.rs`) → read request, forward, respond (`service.rs`,
//! `forward.rs`, `upstream.rs`, `headers.rs`, `upgrade.rs`, `fault.rs`) →
//! capture (`tee.rs`, `pending.rs`, `sink.rs`); `idle.rs` keeps silent
//! connections from lingering.

mod config;
mod connect;
mod error;
mod fault;
mod forward;
mod headers;
mod idle;
mod origins;
mod pending;
mod prefixed;
mod server;
mod service;
mod shards;
mod sink;
mod stats;
mod tee;
mod upgrade;
mod upstream;

pub use config::{refuse_self, Forward, HostPattern, ProxyConfig, Route, DEFAULT_BODY_CAP};
pub use error::Error;
pub use server::serve;
pub use stats::ProxyStats;
