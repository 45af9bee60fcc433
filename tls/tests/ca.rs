//! The recording CA on disk and the certificates it issues, checked with
//! rustls's own verifier, as a client trusting the exported CA would.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use venomqa_tls::{ClientTrust, RecordingCa, TestPki};

fn verifier_trusting(ca: &CertificateDer<'static>) -> Arc<WebPkiServerVerifier> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).expect("a CA rustls accepts");
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), venomqa_tls::provider())
        .build()
        .expect("verifier")
}

fn chain_for(ca: &RecordingCa, host: &str) -> Vec<CertificateDer<'static>> {
    ca.certified(&[host.to_owned()]).expect("certificate").cert.clone()
}

fn verify(ca: &RecordingCa, presented_for: &str, reached_as: &str) -> Result<(), rustls::Error> {
    let chain = chain_for(ca, presented_for);
    let name = ServerName::try_from(reached_as.to_owned()).expect("server name");
    verifier_trusting(ca.cert_der())
        .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
        .map(|_| ())
}

#[test]
fn a_store_ca_is_made_once_private_and_signs_certificates_for_names_and_addresses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_dir = dir.path().join("ca");
    let ca = RecordingCa::load_or_create(&ca_dir).expect("made");
    let mode = |name: &str| {
        std::fs::metadata(ca_dir.join(name)).expect("stat").permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "the CA's directory");
    assert_eq!(mode("ca-key.pem"), 0o600, "the CA's key");
    assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!format!("{ca:?}").contains("PRIVATE"), "Debug never shows the key");

    // Loaded again: the same CA, and what it signs is trusted by its
    // first certificate.
    let again = RecordingCa::load_or_create(&ca_dir).expect("loaded");
    assert_eq!(again.cert_pem(), ca.cert_pem());
    verify(&again, "staging.example.test", "staging.example.test").expect("a name");
    verify(&again, "127.0.0.1", "127.0.0.1").expect("an IPv4 address");
    verify(&again, "[::1]", "::1").expect("an IPv6 address");
    let wrong = verify(&again, "staging.example.test", "other.example.test");
    assert!(wrong.is_err(), "a certificate for one host does not pass for another");

    // Another CA's certificates are not trusted by this one.
    let stranger = RecordingCa::ephemeral().expect("another CA");
    let chain = chain_for(&stranger, "staging.example.test");
    let name = ServerName::try_from("staging.example.test").expect("name");
    let refused = verifier_trusting(ca.cert_der()).verify_server_cert(
        &chain[0],
        &chain[1..],
        &name,
        &[],
        UnixTime::now(),
    );
    assert!(refused.is_err());
}

#[test]
fn two_certificates_of_one_ca_never_share_a_serial() {
    let ca = RecordingCa::ephemeral().expect("CA");
    let a = chain_for(&ca, "a.test");
    let b = chain_for(&ca, "b.test");
    assert_ne!(a[0], b[0]);
    // Same host twice through the cache: one config.
    let first = ca.server_config_for("A.test").expect("config");
    let second = ca.server_config_for("a.test").expect("config");
    assert!(Arc::ptr_eq(&first, &second), "host certificates are cached, case-insensitively");
}

#[test]
fn a_half_made_or_garbled_ca_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_dir = dir.path().join("ca");
    RecordingCa::load_or_create(&ca_dir).expect("made");
    std::fs::remove_file(ca_dir.join("ca-key.pem")).expect("rm key");
    let err = RecordingCa::load_or_create(&ca_dir).expect_err("half made").to_string();
    assert!(err.contains("ca-key.pem") && err.contains("missing"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let ca_dir = dir.path().join("ca");
    RecordingCa::load_or_create(&ca_dir).expect("made");
    std::fs::write(ca_dir.join("ca-key.pem"), "not a key").expect("garble");
    let err = RecordingCa::load_or_create(&ca_dir).expect_err("garbled").to_string();
    assert!(err.contains("ca-key.pem") && err.contains("private key"), "{err}");
}

#[test]
fn certificate_files_that_are_wrong_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::new(&["localhost"]).expect("pki");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &pki.cert_pem).expect("write");
    std::fs::write(&key, &pki.key_pem).expect("write");
    venomqa_tls::server_config_from_files(&cert, &key).expect("a good pair");

    let other = TestPki::new(&["localhost"]).expect("pki");
    std::fs::write(&key, &other.key_pem).expect("write");
    let err = venomqa_tls::server_config_from_files(&cert, &key).expect_err("mismatch").to_string();
    assert!(err.contains("key.pem") && err.contains("is the key the one"), "{err}");

    std::fs::write(&cert, "hello").expect("write");
    let err = venomqa_tls::server_config_from_files(&cert, &key).expect_err("no cert").to_string();
    assert!(err.contains("cert.pem") && err.contains("no certificate"), "{err}");

    let trust = ClientTrust { extra_ca: Some(dir.path().join("missing.pem")), insecure: false };
    let err = trust.client_config(&[]).expect_err("missing CA file").to_string();
    assert!(err.contains("missing.pem"), "{err}");
}
