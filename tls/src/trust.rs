//! What a client trusts when it reaches an `https://` service, and how a
//! refused certificate is told to the user.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::Error;

/// The certificates a client accepts from a server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTrust {
    /// A PEM file of CA certificates trusted besides the bundled Mozilla
    /// roots: a private staging CA.
    pub extra_ca: Option<PathBuf>,
    /// Accept any certificate (the connection is still encrypted, but
    /// anyone in the middle can read it). For a throwaway staging
    /// certificate only; callers say so loudly.
    pub insecure: bool,
}

impl ClientTrust {
    /// A client config with this trust, offering `alpn` (most preferred
    /// first; empty offers none).
    pub fn client_config(&self, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, Error> {
        let builder = ClientConfig::builder_with_provider(crate::provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions");
        let mut config = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            if let Some(path) = &self.extra_ca {
                for cert in crate::read_certificates(path)? {
                    roots.add(cert).map_err(|source| Error::Rustls {
                        context: format!("{}: a certificate cannot be trusted", path.display()),
                        source,
                    })?;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

/// Accepts every certificate, still checking that the handshake is signed
/// by the key of the certificate shown.
#[derive(Debug)]
struct AcceptAnyCertificate;

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &crate::provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &crate::provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        crate::provider().signature_verification_algorithms.supported_schemes()
    }
}

/// What went wrong in a TLS handshake that failed with `err`, in words,
/// when it was TLS that failed (`None` otherwise: a plain I/O error).
pub fn describe_io_error(err: &std::io::Error) -> Option<String> {
    let tls = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(describe(tls))
}

/// The TLS problem somewhere in `err`'s causes, in words (`None` when TLS
/// is not why it failed). An I/O error's payload is looked into too: its
/// `source()` skips it, and HTTP clients (reqwest's connector) wrap
/// rustls's I/O error in another.
pub fn describe_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(problem) = describe_io_error(io) {
                return Some(problem);
            }
            if let Some(inner) = io.get_ref() {
                cause = Some(inner);
                continue;
            }
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
        }
        cause = err.source();
    }
    None
}

fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => {
                "its TLS certificate is not signed by a CA this side trusts (unknown issuer)"
                    .to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "its TLS certificate is not valid for the name it was reached by".to_owned()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "its TLS certificate has expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "its TLS certificate is not valid yet (check the clocks)".to_owned()
            }
            CertificateError::Revoked => "its TLS certificate is revoked".to_owned(),
            other => format!("its TLS certificate was refused ({other:?})"),
        },
        rustls::Error::AlertReceived(alert) => format!("it ended the TLS handshake ({alert:?})"),
        rustls::Error::NoApplicationProtocol => {
            "it speaks none of the protocols offered over TLS (ALPN)".to_owned()
        }
        other => format!("TLS failed: {other}"),
    }
}
