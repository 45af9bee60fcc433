//! Secrets where a simple redactor does not look: inside gzip bodies (both
//! ways), nested under a secret-named key, in multipart parts, under names
//! real APIs use (`pin`, `otp`), and under names the user declares. Real
//! processes: `venomqa record` in front of a loopback upstream that answers
//! gzip; the store's raw files and its HAR export are searched.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;

use bytes::Bytes;
use common::{all_bytes_under, contains, run, start_recorder, text};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// Every secret the traffic carries has this in it.
const MARK: &str = "SECRET";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gzip");
    out
}

/// Answers every request 200 with a gzip JSON body holding a token and a
/// secret object, as an API behind a CDN does.
async fn upstream(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = r#"{"token":"tok-SECRET-1","profile":{"secret":{"inner":"nested-SECRET-2","n":1}}}"#;
    Ok(Response::builder()
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(Full::new(Bytes::from(gzip(body.as_bytes()))))
        .expect("response"))
}

/// The upstream on a free loopback port, served from its own runtime.
fn spawn_upstream() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(upstream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

#[test]
fn encoded_nested_multipart_named_and_declared_secrets_never_reach_the_store_or_the_har() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let upstream = format!("http://{}", spawn_upstream());
    let flags = ["--redact-field", "birth_date", "--redact-header", "X-Tenant-Key"];
    let (recorder, proxy) = start_recorder(&upstream, store, &flags);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = venomqa_testkit::http::client();
    runtime.block_on(async {
        // A gzip request body; the answer is gzip too, and reaches the
        // client exactly as the upstream sent it.
        let login = client
            .post(format!("{proxy}/login"))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gzip(br#"{"username":"ann","password":"gz-SECRET-3"}"#))
            .send()
            .await
            .expect("login through the proxy");
        assert_eq!(login.headers()["content-encoding"], "gzip");
        let answered = gunzip(&login.bytes().await.unwrap());
        assert!(contains(&answered, b"tok-SECRET-1"), "forwarded bytes are untouched");
        // A multipart upload with a password field and a JSON part.
        let boundary = "vq-boundary";
        let multipart = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nann\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"pwd\"\r\n\r\nmp-SECRET-4\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"meta\"; filename=\"m.json\"\r\n\
             Content-Type: application/json\r\n\r\n{{\"otp\":\"otp-SECRET-5\"}}\r\n--{boundary}--\r\n"
        );
        client
            .post(format!("{proxy}/upload"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(multipart)
            .send()
            .await
            .expect("upload");
        // Names real APIs use, and ones only the user knows are secret.
        client
            .post(format!("{proxy}/profile?pin=q-SECRET-6"))
            .header("x-tenant-key", "hdr-SECRET-7")
            .json(&serde_json::json!({"birth_date": "bd-SECRET-8", "card": {"cvv": 123}}))
            .send()
            .await
            .expect("profile");
    });
    recorder.stop_cleanly();

    let on_disk = all_bytes_under(std::path::Path::new(store));
    assert!(contains(&on_disk, b"/upload"), "the store holds the traffic");
    assert!(!contains(&on_disk, MARK.as_bytes()), "a secret is on disk");
    assert!(!contains(&on_disk, b"\"cvv\":123"), "a secret number is on disk");

    let har = dir.path().join("out.har");
    let exported = run(&["export", "--store", store, "--har", har.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let har_bytes = std::fs::read(&har).unwrap();
    assert!(!contains(&har_bytes, MARK.as_bytes()), "a secret is in the HAR");

    // Compressed bytes hide a secret from the search above, not from a
    // reader: what is stored must be the decoded body, its secrets
    // pseudonyms, with the header saying how the body travelled.
    let sessions = run(&["sessions", "--store", store, "--json"]);
    let sessions: Value = serde_json::from_slice(&sessions.stdout).expect("sessions --json");
    let key = sessions[0]["key"].as_str().expect("one session").to_string();
    let shown = run(&["show", "--store", store, "--json", &key]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown: Value = serde_json::from_slice(&shown.stdout).expect("show --json");
    let login = &shown["exchanges"][0];
    let request_body = login["request"]["body"]["text"].as_str().unwrap_or_default();
    assert!(request_body.starts_with(r#"{"username":"ann","password":"~r:"#), "{login}");
    let response_body = login["response"]["body"]["text"].as_str().unwrap_or_default();
    assert!(response_body.contains(r#""token":"~r:"#), "{login}");
    assert!(response_body.contains(r#""n":"~r:"#), "inside a secret object: {login}");
    assert!(login.to_string().contains("venomqa-decoded-from"), "{login}");
}

#[test]
fn keeping_secrets_and_naming_more_of_them_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = run(&[
        "record",
        "--upstream",
        "http://127.0.0.1:9",
        "--store",
        store.to_str().unwrap(),
        "--keep-secrets",
        "--redact-field",
        "ssn",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--keep-secrets"), "{}", text(&out.stderr));
    assert!(!store.exists(), "nothing was created");
}
