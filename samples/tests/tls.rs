//! The samples over HTTPS, as a staging service is: a throwaway certificate
//! served with HTTP/1.1 and HTTP/2, the drivers trusting its CA, and a
//! client that does not trust it told so in words.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use venomqa_samples::{
    drive, drive_library, spawn_library, spawn_shop, ClientTrust, DriveError, DriveOptions,
    LibraryBugSet, LibraryConfig, SampleTls, ShopConfig, ShopHandle,
};

/// A shop with every bug over HTTPS, and the file holding the CA that signed its certificate.
async fn tls_shop(dir: &Path) -> (ShopHandle, PathBuf) {
    let tls = SampleTls::throwaway("127.0.0.1".parse().unwrap()).expect("a certificate");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, tls.ca_pem.as_deref().expect("a throwaway CA")).unwrap();
    let config = ShopConfig { tls: Some(tls.server_config), ..ShopConfig::default() };
    (spawn_shop(config).await.expect("the shop starts"), ca)
}

fn options(base: String, trust: ClientTrust) -> DriveOptions {
    DriveOptions { base, users: 3, sessions: 6, seed: 3, concurrency: 3, trust }
}

#[tokio::test]
async fn the_shop_served_over_tls_is_driven_over_https_trusting_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, ca) = tls_shop(dir.path()).await;
    assert!(shop.base_url().starts_with("https://127.0.0.1:"), "{}", shop.base_url());

    let trust = ClientTrust { extra_ca: Some(ca), insecure: false };
    let report = drive(options(shop.base_url(), trust)).await.expect("the run completes");
    assert!(report.unexpected.is_empty(), "{report}");
    assert!(report.requests > 20, "{report}");
    assert_eq!(report.by_class.success, report.requests, "{report}");
    shop.shutdown().await;
}

#[tokio::test]
async fn a_driver_that_does_not_trust_the_certificate_is_told_why_and_what_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, _ca) = tls_shop(dir.path()).await;
    let err = drive(options(shop.base_url(), ClientTrust::default()))
        .await
        .expect_err("the certificate is not trusted");
    let DriveError::Request { reason, .. } = &err else { panic!("{err}") };
    assert!(reason.contains("unknown issuer"), "{reason}");
    assert!(reason.contains("--ca FILE") && reason.contains("--insecure"), "{reason}");

    // Insecure: any certificate is accepted.
    let insecure = ClientTrust { extra_ca: None, insecure: true };
    let report = drive(options(shop.base_url(), insecure)).await.expect("the run completes");
    assert!(report.unexpected.is_empty(), "{report}");
    shop.shutdown().await;
}

#[tokio::test]
async fn the_tls_shop_speaks_http2_when_alpn_chooses_it() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, ca) = tls_shop(dir.path()).await;
    let trust = ClientTrust { extra_ca: Some(ca), insecure: false };
    let config = trust.client_config(&[b"h2"]).expect("a client config");
    let tcp = tokio::net::TcpStream::connect(shop.addr).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.expect("handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "ALPN settles on HTTP/2");

    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("an HTTP/2 connection");
    tokio::spawn(conn);
    let request = hyper::Request::get(format!("{}/health", shop.base_url()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.expect("an answer");
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(!body.is_empty());
    shop.shutdown().await;
}

#[tokio::test]
async fn the_library_served_over_tls_is_driven_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let tls = SampleTls::throwaway("127.0.0.1".parse().unwrap()).expect("a certificate");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tls.ca_pem.as_deref().unwrap()).unwrap();
    let config = LibraryConfig { bugs: LibraryBugSet::all(), tls: Some(tls.server_config) };
    let library = spawn_library(config).await.expect("the library starts");
    assert!(library.base_url().starts_with("https://"), "{}", library.base_url());
    let trust = ClientTrust { extra_ca: Some(ca), insecure: false };
    let options = DriveOptions { users: 2, sessions: 4, ..options(library.base_url(), trust) };
    let report = drive_library(options).await.expect("the run completes");
    assert!(report.unexpected.is_empty(), "{report}");
    library.shutdown().await;
}

#[test]
fn a_throwaway_certificate_names_the_listening_host_and_loopback() {
    let on_lan = SampleTls::throwaway("10.1.2.3".parse().unwrap()).unwrap();
    assert_eq!(on_lan.names, ["10.1.2.3", "localhost", "127.0.0.1", "::1"]);
    let everywhere = SampleTls::throwaway("0.0.0.0".parse().unwrap()).unwrap();
    assert_eq!(everywhere.names, ["localhost", "127.0.0.1", "::1"]);
}

#[tokio::test]
async fn a_certificate_the_user_brings_is_served_from_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let pki = venomqa_tls::TestPki::new(&["127.0.0.1"]).unwrap();
    let (cert, key, ca) =
        (dir.path().join("cert.pem"), dir.path().join("key.pem"), dir.path().join("ca.pem"));
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let tls = SampleTls::from_files(&cert, &key).expect("a certificate and its key");
    assert!(tls.ca_pem.is_none(), "venomqa made no CA");
    let config = ShopConfig { tls: Some(tls.server_config), ..ShopConfig::default() };
    let shop = spawn_shop(config).await.expect("the shop starts");
    let client = venomqa_testkit::http::client_trusting(&ca);
    let health = client.get(format!("{}/health", shop.base_url())).send().await.expect("answers");
    assert_eq!(health.status(), 200);
    let err = SampleTls::from_files(&key, &cert).expect_err("swapped").to_string();
    assert!(err.contains("key.pem") && err.contains("no certificate"), "{err}");
    shop.shutdown().await;
}
