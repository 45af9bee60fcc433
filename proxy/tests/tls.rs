//! TLS around the proxy: an `https://` upstream (trusted through a CA
//! file, refused with the certificate problem named, or accepted when told
//! to be insecure; HTTP/2 when it offers it), clients speaking TLS to the proxy (HTTP/1.1 and HTTP/2
//! by ALPN), and the forward proxy: absolute-form requests, CONNECT tunnels
//! read with the recording CA's certificates or passed through unread, and
//! only the hosts asked for recorded.

mod common;

use std::sync::Arc;

use common::*;
use http::{Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use tokio::net::TcpStream;
use venomqa_proxy::{Forward, HostPattern, ProxyConfig};
use venomqa_testkit::tls::{request_over_tls, TlsUpstream};
use venomqa_tls::{ClientTrust, RecordingCa, TestPki};

/// Answers `METHOD PATH over VERSION`, and the bytes it was sent.
fn echo() -> Handler {
    handler(|request: Request<Incoming>| async move {
        use http_body_util::BodyExt;
        let line =
            format!("{} {} over {:?}", request.method(), request.uri().path(), request.version());
        let sent = request.into_body().collect().await.expect("body").to_bytes();
        let mut body = line.into_bytes();
        if !sent.is_empty() {
            body.extend_from_slice(b" with ");
            body.extend_from_slice(&sent);
        }
        Response::new(full(body))
    })
}

fn trusting(ca_file: std::path::PathBuf) -> ClientTrust {
    ClientTrust { extra_ca: Some(ca_file), insecure: false }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_upstream_is_reached_when_trusted_and_refused_naming_its_certificate_otherwise() {
    bounded(async {
        let upstream = TlsUpstream::start(echo()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let client = client();

        let mut config = ProxyConfig::new(upstream.url());
        config.upstream_trust = trusting(upstream.ca_file(dir.path(), "staging-ca.pem"));
        let mut proxy = Proxy::with(config, 16).await;
        // The upstream offers HTTP/2 (ALPN), and the proxy takes it; the
        // record is the client's HTTP/1.1 exchange.
        let (head, body) = get(&client, &proxy.url("/orders/7")).await;
        assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"GET /orders/7 over HTTP/2.0"[..]));
        let captured = proxy.next_capture().await;
        assert_eq!(
            (captured.request.url.as_str(), captured.request.version.as_str()),
            ("/orders/7", "HTTP/1.1")
        );
        assert_eq!(captured.response.expect("response").body.bytes, b"GET /orders/7 over HTTP/2.0");
        proxy.shutdown().await;

        // Not trusted: 502 naming the problem and the flags that fix it;
        // the proxy goes on serving.
        let mut proxy = Proxy::start(upstream.url()).await;
        for _ in 0..2 {
            let (head, body) = get(&client, &proxy.url("/orders/7")).await;
            let text = String::from_utf8_lossy(&body);
            assert_eq!(head.status, StatusCode::BAD_GATEWAY, "{text}");
            assert!(
                text.contains("not signed by a CA") && text.contains("--upstream-ca"),
                "{text}"
            );
        }
        let captured = proxy.next_capture().await;
        assert_eq!(captured.error.expect("error").kind, "tls");
        proxy.shutdown().await;

        let mut config = ProxyConfig::new(upstream.url());
        config.upstream_trust = ClientTrust { extra_ca: None, insecure: true };
        let mut proxy = Proxy::with(config, 16).await;
        let (head, _) = get(&client, &proxy.url("/")).await;
        assert_eq!(head.status, StatusCode::OK);
        proxy.shutdown().await;

        // An upstream that speaks HTTP/1.1 alone is spoken to in HTTP/1.1.
        let plain_old = TlsUpstream::offering(echo(), &[b"http/1.1"]).await;
        let mut config = ProxyConfig::new(plain_old.url());
        config.upstream_trust = trusting(plain_old.ca_file(dir.path(), "old-ca.pem"));
        let mut proxy = Proxy::with(config, 16).await;
        let (head, body) = get(&client, &proxy.url("/old")).await;
        assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"GET /old over HTTP/1.1"[..]));
        proxy.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_speak_tls_to_the_proxy_over_http1_and_http2_by_alpn() {
    bounded(async {
        let upstream = Upstream::start(echo()).await;
        let pki = TestPki::new(&["127.0.0.1"]).expect("pki");
        let mut config = ProxyConfig::new(upstream.url());
        config.tls = Some(pki.server_config.clone());
        let mut proxy = Proxy::with(config, 16).await;
        for (alpn, version) in [(&b"http/1.1"[..], Version::HTTP_11), (&b"h2"[..], Version::HTTP_2)]
        {
            let socket = TcpStream::connect(proxy.addr).await.expect("connect");
            let request = Request::post(format!("https://127.0.0.1:{}/pay", proxy.addr.port()))
                .body(full("card=4242"))
                .expect("request");
            let answer = request_over_tls(socket, "127.0.0.1", &pki.ca_pem, &[alpn], request)
                .await
                .expect("TLS to the proxy");
            assert_eq!(answer.version, version);
            assert_eq!(&answer.body[..], b"POST /pay over HTTP/1.1 with card=4242");
            let captured = proxy.next_capture().await;
            assert_eq!(captured.request.version, format!("{version:?}"));
            assert_eq!(captured.request.body.bytes, b"card=4242");
        }
        // Cleartext to a TLS listener: no exchange, and the proxy still serves.
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(&mut raw, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        closed_within(&mut raw, std::time::Duration::from_secs(5)).await;
        let socket = TcpStream::connect(proxy.addr).await.expect("connect");
        let request = Request::get("/again")
            .header("host", format!("127.0.0.1:{}", proxy.addr.port()))
            .body(empty())
            .expect("request");
        let answer = request_over_tls(socket, "127.0.0.1", &pki.ca_pem, &[b"http/1.1"], request)
            .await
            .expect("TLS after a cleartext client");
        assert_eq!(answer.status, StatusCode::OK);
        proxy.shutdown().await;
    })
    .await;
}

fn forward(ca: &Arc<RecordingCa>, passthrough: &[&str], only: &[&str]) -> Forward {
    let patterns = |texts: &[&str]| {
        texts.iter().map(|text| HostPattern::parse(text).expect("pattern")).collect()
    };
    Forward { ca: ca.clone(), passthrough: patterns(passthrough), only: patterns(only) }
}

/// Sends `CONNECT target` on a new connection to the proxy; returns the
/// socket once the proxy said 200 (or its status line otherwise).
async fn connect(proxy: &Proxy, target: &str) -> Result<TcpStream, String> {
    let mut socket = TcpStream::connect(proxy.addr).await.expect("connect");
    write_all(
        &mut socket,
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes(),
    )
    .await;
    let head = read_until(&mut socket, b"\r\n\r\n").await;
    let head = String::from_utf8_lossy(&head).into_owned();
    if head.starts_with("HTTP/1.1 200") {
        Ok(socket)
    } else {
        Err(head)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_proxy_reads_connect_tunnels_with_its_ca_and_records_them_byte_exact() {
    bounded(async {
        let origin = TlsUpstream::start(echo()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = Arc::new(RecordingCa::ephemeral().expect("CA"));
        let mut config = ProxyConfig::forward(forward(&ca, &[], &[]));
        config.upstream_trust = trusting(origin.ca_file(dir.path(), "origin-ca.pem"));
        let mut proxy = Proxy::with(config, 64).await;
        let target = format!("localhost:{}", origin.addr.port());

        let payload = binary(70_000, 7);
        for alpn in [&b"http/1.1"[..], &b"h2"[..]] {
            let tunnel = connect(&proxy, &target).await.expect("CONNECT answered");
            let request = Request::put(format!("https://{target}/files/1"))
                .body(full(payload.clone()))
                .expect("request");
            let answer = request_over_tls(tunnel, "localhost", ca.cert_pem(), &[alpn], request)
                .await
                .expect("the client trusts the recording CA");
            assert_eq!(answer.status, StatusCode::OK);
            assert!(
                answer.body.starts_with(b"PUT /files/1 over HTTP/2.0 with "),
                "HTTP/2 to the origin too"
            );
            let captured = proxy.next_capture().await;
            assert_eq!(captured.request.method, "PUT");
            assert_eq!(captured.request.url, "/files/1");
            assert_eq!(captured.request.body.bytes, payload, "request body byte-exact");
            assert_eq!(captured.response.expect("response").body.bytes, answer.body.to_vec());
        }

        // A client that does not trust the recording CA fails on the
        // certificate; the proxy goes on serving.
        let stranger = RecordingCa::ephemeral().expect("another CA");
        let tunnel = connect(&proxy, &target).await.expect("CONNECT answered");
        let request = Request::get("/").body(empty()).expect("request");
        let refused =
            request_over_tls(tunnel, "localhost", stranger.cert_pem(), &[b"http/1.1"], request)
                .await
                .expect_err("the certificate is not trusted");
        assert!(refused.contains("certificate"), "{refused}");
        let tunnel = connect(&proxy, &target).await.expect("still serving");
        let request = Request::get("/after").body(empty()).expect("request");
        request_over_tls(tunnel, "localhost", ca.cert_pem(), &[b"http/1.1"], request)
            .await
            .expect("served after a refusal");

        // Plain HTTP: absolute-form requests; an origin-form one is not for
        // a forward proxy.
        let plain = Upstream::start(echo()).await;
        let client = client();
        let (head, body) = get(&client, &format!("http://{}/health", plain.addr)).await;
        assert_eq!(head.status, StatusCode::OK, "client() talks straight to the origin");
        assert_eq!(&body[..], b"GET /health over HTTP/1.1");
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        let request = format!(
            "GET http://{}/orders?x=1 HTTP/1.1\r\nHost: {}\r\n\r\n",
            plain.addr, plain.addr
        );
        write_all(&mut raw, request.as_bytes()).await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"GET /orders over HTTP/1.1");
        write_all(&mut raw, b"GET /orders HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("HTTP_PROXY"));
        proxy.shutdown().await;
        let captures = proxy.drain_captures();
        let plain_capture =
            captures.iter().find(|e| e.request.url == "/orders?x=1").expect("plain");
        assert_eq!(plain_capture.response.as_ref().expect("response").status, 200);
        assert!(
            !captures.iter().any(|e| e.request.url == "/orders"),
            "an origin-form request to a forward proxy names no host to record"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_hosts_are_tunnelled_unread_and_only_the_hosts_asked_for_are_recorded() {
    bounded(async {
        let origin = TlsUpstream::start(echo()).await;
        let ca = Arc::new(RecordingCa::ephemeral().expect("CA"));
        let config = ProxyConfig::forward(forward(&ca, &["localhost"], &[]));
        let mut proxy = Proxy::with(config, 64).await;
        let target = format!("localhost:{}", origin.addr.port());
        let tunnel = connect(&proxy, &target).await.expect("CONNECT answered");
        // The origin's own certificate comes through: the proxy did not read it.
        let request = Request::get("/secret").body(empty()).expect("request");
        let answer =
            request_over_tls(tunnel, "localhost", &origin.pki.ca_pem, &[b"http/1.1"], request)
                .await
                .expect("the origin's certificate, untouched");
        assert_eq!(&answer.body[..], b"GET /secret over HTTP/1.1");
        let record = proxy.next_capture().await;
        assert_eq!(
            (record.request.method.as_str(), record.request.url.as_str()),
            ("CONNECT", target.as_str())
        );
        assert_eq!(record.response.expect("response").status, 200);
        proxy.shutdown().await;
        assert!(proxy.drain_captures().is_empty(), "nothing of the tunnel's content is recorded");

        // --only another host: localhost is forwarded, tunnelled unread and
        // not recorded at all.
        let config = ProxyConfig::forward(forward(&ca, &[], &["*.staging.test"]));
        let mut proxy = Proxy::with(config, 64).await;
        let tunnel = connect(&proxy, &target).await.expect("CONNECT answered");
        let request = Request::get("/other").body(empty()).expect("request");
        request_over_tls(tunnel, "localhost", &origin.pki.ca_pem, &[b"http/1.1"], request)
            .await
            .expect("passed through");
        let stats = proxy.shutdown().await;
        assert_eq!(stats.exchanges, 1);
        assert!(proxy.drain_captures().is_empty(), "a host not asked for is not recorded");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_proxy_client_keeps_its_connection_to_the_origin_it_uses_after_many_others() {
    bounded(async {
        let ca = Arc::new(RecordingCa::ephemeral().expect("CA"));
        let mut proxy = Proxy::with(ProxyConfig::forward(forward(&ca, &[], &[])), 256).await;
        let mut origins = Vec::new();
        for _ in 0..10 {
            origins.push(Upstream::start(echo()).await);
        }
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        // Ten origins, more than a connection keeps idle; then the last one
        // again and again, on the connection kept for it.
        let order: Vec<usize> = (0..10).chain(std::iter::repeat_n(9, 5)).collect();
        for i in order {
            let origin = origins[i].addr;
            let request = format!("GET http://{origin}/x HTTP/1.1\r\nHost: {origin}\r\n\r\n");
            write_all(&mut raw, request.as_bytes()).await;
            let (head, _) = read_response(&mut raw, true).await;
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        }
        assert_eq!(origins[9].connections.accepted(), 1, "one connection to the origin in use");
        proxy.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_that_speaks_plain_http_is_read_and_sent_to_the_plain_origin() {
    bounded(async {
        let origin = Upstream::start(echo()).await;
        let ca = Arc::new(RecordingCa::ephemeral().expect("CA"));
        let mut proxy = Proxy::with(ProxyConfig::forward(forward(&ca, &[], &[])), 16).await;
        let target = origin.addr.to_string();
        let mut tunnel = connect(&proxy, &target).await.expect("CONNECT answered");
        let request =
            format!("POST /notes HTTP/1.1\r\nHost: {target}\r\ncontent-length: 5\r\n\r\nhello");
        write_all(&mut tunnel, request.as_bytes()).await;
        let (head, body) = read_response(&mut tunnel, true).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"POST /notes over HTTP/1.1 with hello");
        let captured = proxy.next_capture().await;
        assert_eq!(
            (captured.request.method.as_str(), captured.request.url.as_str()),
            ("POST", "/notes")
        );
        assert_eq!(captured.request.body.bytes, b"hello");
        proxy.shutdown().await;
    })
    .await;
}
