//! venomqa-tls: the TLS pieces venomqa speaks with, on rustls and ring.
//!
//! - [`RecordingCa`]: the certificate authority a forward-proxy recording
//!   intercepts HTTPS with. Made once per store (its key readable by the
//!   owner only, never printed), it issues a certificate for each host a
//!   client tunnels to, cached for the run.
//! - [`server_config_from_files`]: a server's certificate chain and key
//!   from PEM files (`record --tls-cert/--tls-key`).
//! - [`ClientTrust`]: what a client trusts when it reaches an `https://`
//!   service (the bundled Mozilla roots, plus a private CA from a file, or
//!   nothing at all when told to be insecure), and [`describe_io_error`],
//!   which names a certificate problem in words a user can act on.
//! - [`TestPki`]: a throwaway CA and a certificate it signed for some names,
//!   for samples served over TLS and for tests.
//!
//! One crypto provider, ring ([`provider`]), is used everywhere, so that no
//! process-wide default has to be installed.

mod ca;
mod error;
mod files;
mod trust;

use std::sync::{Arc, OnceLock};

pub use ca::{RecordingCa, TestPki};
pub use error::Error;
pub use files::{read_certificates, server_config_from_files, server_config_from_pem};
pub use trust::{describe_error, describe_io_error, ClientTrust};

/// ALPN protocols a server here offers: HTTP/2 first, then HTTP/1.1.
pub const SERVER_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The crypto provider every config here is built with.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    // rustls deprecates ring's provider for lacking post-quantum key
    // exchange; aws-lc-rs has it but needs a heavier build. Staging traffic
    // recorded on one machine does not need it.
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider;
    PROVIDER.get_or_init(|| Arc::new(ring())).clone()
}

/// A server config for one certificate chain and key, offering
/// [`SERVER_ALPN`].
pub fn server_config(certified: Arc<rustls::sign::CertifiedKey>) -> Arc<rustls::ServerConfig> {
    #[derive(Debug)]
    struct One(Arc<rustls::sign::CertifiedKey>);
    impl rustls::server::ResolvesServerCert for One {
        fn resolve(
            &self,
            _hello: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(One(certified)));
    config.alpn_protocols = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}
