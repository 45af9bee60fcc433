//! A sample served over HTTPS, as a staging service is: a certificate made
//! at start by a throwaway CA for the names the sample is reached by, whose
//! CA clients are given to trust, or a certificate the user brings.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use venomqa_tls::{Error, TestPki};

/// The certificate a sample serves HTTPS with: put `server_config` in its
/// config's `tls`.
#[derive(Clone, Debug)]
pub struct SampleTls {
    /// The rustls server config presenting the certificate, offering
    /// HTTP/2 and HTTP/1.1.
    pub server_config: Arc<rustls::ServerConfig>,
    /// The CA certificate (PEM) clients must trust to reach the sample: a
    /// throwaway certificate's; `None` for one the user brought.
    pub ca_pem: Option<String>,
    /// The names the certificate is valid for, when venomqa made it.
    pub names: Vec<String>,
}

impl SampleTls {
    /// A certificate made now, signed by a CA made now, for `host` (the
    /// address the sample listens on) and for `localhost`, `127.0.0.1`
    /// and `::1`. A wildcard address (`0.0.0.0`) names no host of its own:
    /// other machines then need a certificate of their own (`from_files`).
    pub fn throwaway(host: IpAddr) -> Result<SampleTls, Error> {
        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        if !host.is_unspecified() && !names.contains(&host.to_string()) {
            names.insert(0, host.to_string());
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let pki = TestPki::new(&refs)?;
        Ok(SampleTls { server_config: pki.server_config, ca_pem: Some(pki.ca_pem), names })
    }

    /// The certificate chain in `cert` (PEM, the server's own first) with
    /// its private key in `key` (PEM).
    pub fn from_files(cert: &Path, key: &Path) -> Result<SampleTls, Error> {
        let server_config = venomqa_tls::server_config_from_files(cert, key)?;
        Ok(SampleTls { server_config, ca_pem: None, names: Vec::new() })
    }
}
