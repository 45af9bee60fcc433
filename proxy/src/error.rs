//! The one error [`serve`](crate::serve) can return. Faults of single
//! exchanges (an upstream that is down, a malformed request) never stop the
//! proxy: they become responses and error exchanges (see `fault.rs`).

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The upstream URL cannot be proxied to.
    #[error("upstream `{upstream}` cannot be used: {why}; write e.g. http://127.0.0.1:8081")]
    InvalidUpstream {
        /// The upstream as given.
        upstream: String,
        /// What is wrong with it.
        why: String,
    },
    /// The upstream is the proxy's own listening address: every request
    /// would come back to the proxy, forever.
    #[error(
        "upstream `{upstream}` is this proxy's own address (it listens on {listen}): every \
         request would come back to it; point --upstream at the service to record"
    )]
    UpstreamIsSelf {
        /// The upstream as given.
        upstream: String,
        /// Where the proxy listens.
        listen: std::net::SocketAddr,
    },
    /// The proxy's threads could not be started.
    #[error("cannot start the proxy's threads: {0}")]
    Threads(#[source] std::io::Error),
    /// A TLS configuration (a certificate, a key, a CA file) cannot be used.
    #[error(transparent)]
    Tls(#[from] venomqa_tls::Error),
}
