//! The recording CA: a certificate authority made once per store, whose
//! certificates let the forward proxy read the HTTPS a client tunnels
//! through it (the client trusts the CA, exported with `venomqa ca
//! export`). Its key never leaves the store's directory, which only the
//! owner can read.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::Error;

/// The CA's certificate, in the store's `ca/` directory.
const CERT_FILE: &str = "ca.pem";
/// The CA's private key, next to it (0600).
const KEY_FILE: &str = "ca-key.pem";
/// How long a host certificate is valid: long enough for any recording,
/// short enough that a leaked one soon means nothing.
const LEAF_DAYS: i64 = 30;
/// How long the CA is valid.
const CA_DAYS: i64 = 3650;

/// A certificate authority that issues a certificate for each host a
/// client reaches through the forward proxy.
pub struct RecordingCa {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// One key for every host certificate of this run (as mitmproxy does):
    /// a fresh key per host would cost time and buy nothing here.
    leaf_key: KeyPair,
    /// Server configs by host, made on first use.
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl std::fmt::Debug for RecordingCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("RecordingCa").finish_non_exhaustive()
    }
}

impl RecordingCa {
    /// The CA kept in `dir` (a store's `ca/` directory), made there first if
    /// it has none: the directory 0700, the key 0600, whatever the umask.
    pub fn load_or_create(dir: &Path) -> Result<Self, Error> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(&cert_path, &key_path),
            (false, false) => {
                let ca = Self::ephemeral()?;
                ca.save(dir, &cert_path, &key_path)?;
                tracing::info!("made a recording CA in {}", dir.display());
                Ok(ca)
            }
            (true, false) => Err(half_made(&key_path, &cert_path)),
            (false, true) => Err(half_made(&cert_path, &key_path)),
        }
    }

    /// A CA that lives only as long as this value (samples, tests).
    pub fn ephemeral() -> Result<Self, Error> {
        let subject = "the recording CA";
        let issue = |source| Error::Issue { subject: subject.to_owned(), source };
        let key = KeyPair::generate().map_err(issue)?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::OrganizationName, "venomqa");
        params.distinguished_name.push(
            DnType::CommonName,
            format!("venomqa recording CA {}", hex(&random_bytes::<4>())),
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(CA_DAYS);
        params.serial_number = Some(SerialNumber::from_slice(&random_bytes::<16>()));
        let cert = params.self_signed(&key).map_err(issue)?;
        let cert_pem = cert.pem();
        let cert_der = cert.der().clone();
        Self::with(cert_pem, cert_der, Issuer::new(params, key))
    }

    fn load(cert_path: &Path, key_path: &Path) -> Result<Self, Error> {
        let cert_pem = read(cert_path)?;
        let key_pem = read(key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|err| Error::Pem {
            path: key_path.to_owned(),
            what: format!(
                "not a private key venomqa can use ({err}); move it away and a new CA is made"
            ),
        })?;
        let cert_der = crate::files::parse_certificates(cert_path, &cert_pem)?
            .into_iter()
            .next()
            .expect("parse_certificates returns at least one");
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|err| Error::Pem {
            path: cert_path.to_owned(),
            what: format!("not a CA certificate venomqa can sign with ({err})"),
        })?;
        Self::with(cert_pem, cert_der, issuer)
    }

    fn with(
        cert_pem: String,
        cert_der: CertificateDer<'static>,
        issuer: Issuer<'static, KeyPair>,
    ) -> Result<Self, Error> {
        let leaf_key = KeyPair::generate()
            .map_err(|source| Error::Issue { subject: "host certificates".to_owned(), source })?;
        Ok(RecordingCa { cert_pem, cert_der, issuer, leaf_key, configs: Mutex::default() })
    }

    fn save(&self, dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), Error> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| Error::File { path: dir.to_owned(), source })?;
        // The key first: a certificate without its key is the state that
        // cannot be recovered from.
        write_private(key_path, self.issuer_key_pem().as_bytes())?;
        write_private(cert_path, self.cert_pem.as_bytes())
    }

    fn issuer_key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// The CA certificate, PEM: what clients are told to trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// A server config presenting a certificate for `host` (a name or an
    /// IP address), made on first use and kept for the run.
    pub fn server_config_for(&self, host: &str) -> Result<Arc<ServerConfig>, Error> {
        let host = normalise(host);
        let mut configs = self.configs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(config) = configs.get(&host) {
            return Ok(config.clone());
        }
        let config = crate::server_config(Arc::new(self.certified(std::slice::from_ref(&host))?));
        configs.insert(host, config.clone());
        Ok(config)
    }

    /// A certificate for `names` (host names or IP addresses, an IPv6 one
    /// with or without brackets), with the chain a client needs (it and
    /// this CA's) and its key ready for rustls.
    pub fn certified(&self, names: &[String]) -> Result<CertifiedKey, Error> {
        let leaf = self.issue(names)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        CertifiedKey::from_der(
            vec![leaf.der().clone(), self.cert_der.clone()],
            key,
            &crate::provider(),
        )
        .map_err(|source| Error::Rustls {
            context: format!("a certificate for {}", names.join(", ")),
            source,
        })
    }

    fn issue(&self, names: &[String]) -> Result<rcgen::Certificate, Error> {
        let subject = names.join(", ");
        let issue = |source| Error::Issue { subject: subject.clone(), source };
        let names: Vec<String> = names.iter().map(|name| normalise(name)).collect();
        let mut params = CertificateParams::new(names.clone()).map_err(issue)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first.as_str());
        }
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(LEAF_DAYS);
        // Distinct serials: browsers refuse two certificates of one issuer
        // with the same serial.
        params.serial_number = Some(SerialNumber::from_slice(&random_bytes::<16>()));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.signed_by(&self.leaf_key, &self.issuer).map_err(issue)
    }
}

/// A throwaway CA and one certificate it signed, for a server that tests
/// and samples run over TLS: trust `ca_pem`, serve `cert_pem` and `key_pem`.
#[derive(Debug)]
pub struct TestPki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server's certificate chain (its own, then the CA's), PEM.
    pub cert_pem: String,
    /// The server's private key, PKCS#8 PEM.
    pub key_pem: String,
    /// A server config presenting that certificate.
    pub server_config: Arc<ServerConfig>,
}

impl TestPki {
    /// A CA and a certificate for `names` (host names or IP addresses).
    pub fn new(names: &[&str]) -> Result<Self, Error> {
        let ca = RecordingCa::ephemeral()?;
        let names: Vec<String> = names.iter().map(|name| normalise(name)).collect();
        let leaf = ca.issue(&names)?;
        let certified = ca.certified(&names)?;
        Ok(TestPki {
            cert_pem: format!("{}{}", leaf.pem(), ca.cert_pem),
            key_pem: ca.leaf_key.serialize_pem(),
            server_config: crate::server_config(Arc::new(certified)),
            ca_pem: ca.cert_pem,
        })
    }
}

/// A host as a certificate names it: lowercase, an IPv6 literal without
/// its brackets.
fn normalise(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

fn half_made(missing: &Path, present: &Path) -> Error {
    Error::Pem {
        path: missing.to_owned(),
        what: format!(
            "missing, though {} is there: the CA is half made or half deleted; remove {} and a \
             new CA is made (clients must then trust the new one)",
            present.display(),
            present
                .parent()
                .map_or_else(|| present.display().to_string(), |d| d.display().to_string())
        ),
    }
}

fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::File { path: path.to_owned(), source })
}

/// Writes a file only its owner can read, whole or not at all.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let partial: PathBuf = path.with_extension("partial");
    let file_error = |source| Error::File { path: path.to_owned(), source };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(file_error)?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(file_error)?;
    fs::rename(&partial, path).map_err(file_error)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    rand::fill(&mut bytes);
    // A positive serial with no leading zero byte.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
