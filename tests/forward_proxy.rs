//! End to end: `venomqa record --forward` between real clients (curl,
//! Python `requests`) and an HTTPS origin, the clients trusting the CA that
//! `venomqa ca export` printed; what they exchanged is in the store,
//! decrypted and byte-exact. And the reverse proxy over HTTPS on both sides.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{run, text, Running};
use http::{Request, Response};
use hyper::body::Incoming;
use serde_json::Value;
use venomqa_testkit::tls::TlsUpstream;
use venomqa_testkit::upstream::{full, handler};
use venomqa_testkit::TempStore;

/// An HTTPS origin answering `METHOD PATH: BODY`, on a runtime of its own
/// (the test's own work is blocking: child processes).
fn https_origin() -> (TlsUpstream, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let origin =
        runtime.block_on(TlsUpstream::start(handler(|request: Request<Incoming>| async move {
            use http_body_util::BodyExt;
            let head = format!("{} {}: ", request.method(), request.uri().path());
            let body = request.into_body().collect().await.expect("body").to_bytes();
            let mut answer = head.into_bytes();
            answer.extend_from_slice(&body);
            Response::new(full(answer))
        })));
    (origin, runtime)
}

fn curl(proxy: &str, ca: Option<&Path>, url: &str, data: &str) -> Output {
    let mut command = Command::new("curl");
    command.env_remove("NO_PROXY").env_remove("no_proxy");
    command.args(["-sS", "--max-time", "20", "--proxy", proxy, "--data-binary", data, url]);
    if let Some(ca) = ca {
        command.arg("--cacert").arg(ca);
    }
    command.output().expect("curl runs")
}

/// Whether Python's `requests` can be used; a test needing it fails when
/// `VENOMQA_REQUIRE_PYTHON_REQUESTS=1` (CI) and skips loudly otherwise.
fn python_requests() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import requests"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var_os("VENOMQA_REQUIRE_PYTHON_REQUESTS").is_none(),
            "python3 with requests is required (VENOMQA_REQUIRE_PYTHON_REQUESTS is set)"
        );
        eprintln!("SKIPPED: python3 with requests is not installed (pip install requests)");
    }
    found
}

#[test]
fn real_clients_record_https_through_the_forward_proxy_trusting_the_exported_ca() {
    let (origin, _runtime) = https_origin();
    let temp = TempStore::new();
    let store = temp.arg();
    let origin_ca = origin.ca_file(temp.dir(), "origin-ca.pem");

    // The CA: made once, printed (never its key), kept private in the store.
    let exported = run(&["ca", "export", "--store", store]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let pem = text(&exported.stdout);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && !pem.contains("PRIVATE"), "{pem}");
    let ca = temp.dir().join("venomqa-ca.pem");
    std::fs::write(&ca, &pem).expect("write the exported CA");
    let again = run(&["ca", "export", "--store", store]);
    assert_eq!(text(&again.stdout), pem, "the same CA every time");
    let key_mode = {
        use std::os::unix::fs::PermissionsExt;
        let key = Path::new(store).join("ca").join("ca-key.pem");
        std::fs::metadata(key).expect("the CA key is in the store").permissions().mode() & 0o777
    };
    assert_eq!(key_mode, 0o600);

    let mut recorder = Running::start(&[
        "record",
        "--forward",
        "--listen",
        "127.0.0.1:0",
        "--store",
        store,
        "--upstream-ca",
        origin_ca.to_str().expect("utf-8"),
    ]);
    let proxy = recorder.wait_for_url("as a forward proxy");
    let url = format!("https://localhost:{}/orders", origin.addr.port());

    let sent = curl(&proxy, Some(&ca), &url, r#"{"sku":"A-1","qty":2}"#);
    assert!(sent.status.success(), "curl through the proxy: {}", text(&sent.stderr));
    assert_eq!(text(&sent.stdout), r#"POST /orders: {"sku":"A-1","qty":2}"#);

    // Without the CA: a certificate error (curl's 60), and the proxy goes on.
    let refused = curl(&proxy, None, &url, "x");
    assert_eq!(refused.status.code(), Some(60), "{}", text(&refused.stderr));
    let again = curl(&proxy, Some(&ca), &format!("{url}/7"), "after");
    assert!(again.status.success(), "still serving: {}", text(&again.stderr));

    if python_requests() {
        let script = "import requests, sys\n\
                      r = requests.put(sys.argv[1], data=b'from python')\n\
                      print(r.status_code, r.text)";
        let python = Command::new("python3")
            .args(["-c", script, &format!("{url}/9")])
            .env("HTTPS_PROXY", &proxy)
            .env("REQUESTS_CA_BUNDLE", &ca)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .expect("python3 runs");
        assert!(python.status.success(), "{}", text(&python.stderr));
        assert_eq!(text(&python.stdout).trim(), "200 PUT /orders/9: from python");
    }

    recorder.signal("INT");
    let (code, out) = recorder.wait_exit();
    assert_eq!(code, Some(0), "{out:?}");

    let har = temp.dir().join("out.har");
    let exported = run(&["export", "--har", har.to_str().expect("utf-8"), "--store", store]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let har: Value = serde_json::from_slice(&std::fs::read(&har).expect("har")).expect("json");
    let entries = har["log"]["entries"].as_array().expect("entries");
    let posted = entries
        .iter()
        .find(|e| e["request"]["method"] == "POST")
        .expect("the POST through the tunnel is recorded");
    assert_eq!(posted["request"]["postData"]["text"], r#"{"sku":"A-1","qty":2}"#);
    assert_eq!(posted["response"]["content"]["text"], r#"POST /orders: {"sku":"A-1","qty":2}"#);
    assert!(posted["request"]["url"].as_str().expect("url").ends_with("/orders"), "{posted}");
    assert!(
        !entries.iter().any(|e| e["request"]["postData"]["text"] == "x"),
        "the refused client sent nothing the proxy could read"
    );
}

#[test]
fn bad_forward_and_tls_flags_are_usage_errors_that_name_the_problem() {
    let temp = TempStore::new();
    let store = temp.arg();
    let cases: [(&[&str], &str); 5] = [
        (&["record", "--store", store], "--upstream"),
        (
            &["record", "--forward", "--upstream", "http://127.0.0.1:1", "--store", store],
            "cannot be used with",
        ),
        (
            &["record", "--forward", "--passthrough", "a.test:443", "--store", store],
            "without a port",
        ),
        (
            &[
                "record",
                "--upstream",
                "http://127.0.0.1:1",
                "--upstream-ca",
                "/nonexistent/ca.pem",
                "--store",
                store,
            ],
            "/nonexistent/ca.pem",
        ),
        (
            &[
                "record",
                "--upstream",
                "http://127.0.0.1:1",
                "--tls-cert",
                "/nonexistent/c.pem",
                "--tls-key",
                "/nonexistent/k.pem",
                "--store",
                store,
            ],
            "/nonexistent/c.pem",
        ),
    ];
    for (args, needle) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn a_reverse_proxy_speaks_https_on_both_sides() {
    let (origin, _runtime) = https_origin();
    let temp = TempStore::new();
    let store = temp.arg();
    let origin_ca = origin.ca_file(temp.dir(), "origin-ca.pem");
    let pki = venomqa_tls::TestPki::new(&["127.0.0.1"]).expect("a certificate for the proxy");
    let (cert, key, proxy_ca) =
        (temp.dir().join("cert.pem"), temp.dir().join("key.pem"), temp.dir().join("proxy-ca.pem"));
    std::fs::write(&cert, &pki.cert_pem).expect("write");
    std::fs::write(&key, &pki.key_pem).expect("write");
    std::fs::write(&proxy_ca, &pki.ca_pem).expect("write");

    let upstream = format!("https://localhost:{}", origin.addr.port());
    let mut recorder = Running::start(&[
        "record",
        "--upstream",
        &upstream,
        "--listen",
        "127.0.0.1:0",
        "--store",
        store,
        "--upstream-ca",
        origin_ca.to_str().expect("utf-8"),
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    let line = recorder.wait_for("listening on https://");
    let url =
        line["venomqa record: listening on ".len()..].split(',').next().expect("url").to_owned();
    let answer = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(&proxy_ca)
        .args(["--data-binary", "over tls", &format!("{url}/notes")])
        .output()
        .expect("curl runs");
    assert!(answer.status.success(), "{url}: {}", text(&answer.stderr));
    assert_eq!(text(&answer.stdout), "POST /notes: over tls");
    recorder.signal("INT");
    let (code, out) = recorder.wait_exit();
    assert_eq!(code, Some(0), "{out:?}");
    let summary = out.iter().find(|l| l.contains("stopped")).expect("summary");
    assert!(summary.contains("1 exchanges captured"), "{summary}");
}
