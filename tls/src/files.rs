//! Certificates and keys from PEM files, as users bring them.

use std::path::Path;
use std::sync::Arc;

use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// Every certificate in the PEM file at `path`; at least one.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::File { path: path.to_owned(), source })?;
    parse_certificates(path, &text)
}

pub(crate) fn parse_certificates(
    path: &Path,
    text: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs =
        CertificateDer::pem_slice_iter(text.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(
            |err| Error::Pem { path: path.to_owned(), what: format!("unreadable PEM ({err})") },
        )?;
    if certs.is_empty() {
        return Err(Error::Pem {
            path: path.to_owned(),
            what: "no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)".to_owned(),
        });
    }
    Ok(certs)
}

/// A server config presenting the certificate chain in `cert` (PEM, the
/// server's own certificate first) with the private key in `key` (PEM:
/// PKCS#8, PKCS#1 or SEC1).
pub fn server_config_from_files(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, Error> {
    let chain = read_certificates(cert)?;
    let key_text =
        std::fs::read(key).map_err(|source| Error::File { path: key.to_owned(), source })?;
    let private = PrivateKeyDer::from_pem_slice(&key_text).map_err(|err| Error::Pem {
        path: key.to_owned(),
        what: format!(
            "no private key in it ({err}; expected PEM: -----BEGIN PRIVATE KEY-----, or an RSA \
             or EC private key)"
        ),
    })?;
    let certified =
        CertifiedKey::from_der(chain, private, &crate::provider()).map_err(|source| {
            Error::Rustls {
                context: format!(
                    "{} and {} do not make a usable certificate and key (is the key the one the \
                 certificate was made for?)",
                    cert.display(),
                    key.display()
                ),
                source,
            }
        })?;
    Ok(crate::server_config(Arc::new(certified)))
}

/// [`server_config_from_files`] for PEM text already in memory.
pub fn server_config_from_pem(cert_pem: &str, key_pem: &str) -> Result<Arc<ServerConfig>, Error> {
    let path = Path::new("<memory>");
    let chain = parse_certificates(path, cert_pem)?;
    let private = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|err| Error::Pem {
        path: path.to_owned(),
        what: format!("no private key ({err})"),
    })?;
    let certified = CertifiedKey::from_der(chain, private, &crate::provider())
        .map_err(|source| Error::Rustls { context: "a certificate and key".to_owned(), source })?;
    Ok(crate::server_config(Arc::new(certified)))
}
