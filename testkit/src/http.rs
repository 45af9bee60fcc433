//! HTTP clients for tests. reqwest is built without a crypto provider of its
//! own (venomqa's TLS brings ring, never installed process-wide), so every
//! client is given its TLS config: one made here.

use std::path::Path;
use std::sync::Arc;

use venomqa_tls::ClientTrust;

/// A client builder that goes to the target directly (no proxy from the
/// environment) and trusts `trust`'s certificates, over HTTP/1.1.
pub fn client_builder(trust: &ClientTrust) -> reqwest::ClientBuilder {
    let tls = trust.client_config(&[b"http/1.1"]).expect("a TLS client config");
    reqwest::Client::builder().no_proxy().use_preconfigured_tls(Arc::unwrap_or_clone(tls))
}

/// A client for plain `http://` on loopback (and `https://` with a
/// publicly trusted certificate).
pub fn client() -> reqwest::Client {
    client_builder(&ClientTrust::default()).build().expect("an HTTP client")
}

/// A client trusting the CA certificate in the PEM file `ca` too.
pub fn client_trusting(ca: &Path) -> reqwest::Client {
    let trust = ClientTrust { extra_ca: Some(ca.to_path_buf()), insecure: false };
    client_builder(&trust).build().expect("an HTTP client")
}
