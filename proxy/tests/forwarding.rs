//! The proxy is transparent: what the client sends is what the upstream
//! gets and the other way round, byte for byte, and the capture records both
//! sides as they were.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures_util::{SinkExt, StreamExt};
use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::channel::Channel;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use venomqa_proxy::ProxyConfig;

const TEN_MIB: usize = 10 * 1024 * 1024;
const CAP: usize = 1024 * 1024;

/// Reads the whole request body, then sends it back (what most services
/// do; the streaming `echo` may answer before it has read anything).
fn collecting_echo() -> Handler {
    handler(|request: Request<Incoming>| async move {
        let body = request.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Response::new(full(body))
    })
}

/// Streams the request body straight back, and says how it was framed.
fn echo() -> Handler {
    handler(|request: Request<Incoming>| async move {
        let mut response = Response::builder()
            .header("x-seen-path", request.uri().to_string())
            .header(
                "x-seen-transfer-encoding",
                request
                    .headers()
                    .get(header::TRANSFER_ENCODING)
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("")),
            )
            .header(
                "x-seen-content-length",
                request
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("")),
            );
        if let Some(len) = request.headers().get(header::CONTENT_LENGTH) {
            response = response.header(header::CONTENT_LENGTH, len);
        }
        response.body(request.into_body().map_err(Into::into).boxed()).expect("echo response")
    })
}

async fn ten_mib_round_trip(sized: bool) {
    let upstream = Upstream::start(echo()).await;
    let proxy = Proxy::start(upstream.url()).await;
    let client = client();
    let sent = binary(TEN_MIB, if sized { 7 } else { 11 });

    let body = if sized {
        full(sent.clone())
    } else {
        // Chunks of odd sizes, produced while the proxy is already
        // forwarding, so nothing can have been read whole first.
        let (mut tx, body) = Channel::<Bytes, BoxError>::new(4);
        let chunks: Vec<Bytes> = sent.chunks(64 * 1024 + 7).map(Bytes::copy_from_slice).collect();
        tokio::spawn(async move {
            for chunk in chunks {
                if tx.send_data(chunk).await.is_err() {
                    return;
                }
            }
        });
        body.boxed()
    };
    let request = Request::post(proxy.url("/echo")).body(body).expect("request");
    let (head, received) = send(&client, request).await;

    assert_eq!(head.status, StatusCode::OK);
    assert!(received == sent, "the echoed body differs from what was sent");
    if sized {
        assert_eq!(head.headers["x-seen-content-length"], TEN_MIB.to_string().as_str());
        assert_eq!(head.headers[header::CONTENT_LENGTH], TEN_MIB.to_string().as_str());
    } else {
        assert_eq!(head.headers["x-seen-transfer-encoding"], "chunked");
        assert!(head.headers.get(header::CONTENT_LENGTH).is_none());
    }

    let exchange = proxy.next_capture().await;
    let response = exchange.response.expect("captured response");
    for body in [&exchange.request.body, &response.body] {
        assert_eq!(body.original_len, TEN_MIB as u64);
        assert!(body.truncated);
        assert!(body.bytes[..] == sent[..CAP], "the capture is not the first 1 MiB of the body");
    }
    assert_eq!(exchange.request.method, "POST");
    assert_eq!(exchange.request.url, "/echo");
    assert!(exchange.error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sized_binary_bodies_of_10_mib_pass_byte_exact_and_the_capture_stops_at_the_cap() {
    bounded(ten_mib_round_trip(true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_binary_bodies_of_10_mib_stream_byte_exact_and_the_capture_stops_at_the_cap() {
    bounded(ten_mib_round_trip(false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_under_the_cap_is_captured_whole() {
    bounded(async {
        let upstream = Upstream::start(echo()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let sent = binary(4096, 3);
        let (head, received) = send(
            &client(),
            Request::put(proxy.url("/blob?v=2")).body(full(sent.clone())).expect("request"),
        )
        .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(received, sent);

        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.request.url, "/blob?v=2");
        assert_eq!(exchange.request.body, venomqa_traffic::Body::complete(sent.clone()));
        let response = exchange.response.expect("response");
        assert_eq!(response.status, 200);
        assert_eq!(response.version, "HTTP/1.1");
        assert_eq!(response.body, venomqa_traffic::Body::complete(sent));
        assert!(exchange.client.expect("client address").starts_with("127.0.0.1:"));
        assert!(exchange.started_at > 0 && exchange.duration_ns > 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_headers_pass_both_ways_in_order() {
    bounded(async {
        let upstream = Upstream::start(handler(|request: Request<Incoming>| async move {
            let seen: Vec<&str> = request
                .headers()
                .get_all("x-dup")
                .iter()
                .map(|v| v.to_str().unwrap_or("?"))
                .collect();
            Response::builder()
                .header("set-cookie", "a=1")
                .header("x-between", "z")
                .header("set-cookie", "b=2")
                .body(full(seen.join("|")))
                .expect("response")
        }))
        .await;
        let proxy = Proxy::start(upstream.url()).await;
        let request = Request::get(proxy.url("/dup"))
            .header("x-dup", "one")
            .header("x-dup", "two")
            .header("x-dup", "three")
            .body(empty())
            .expect("request");
        let (head, body) = send(&client(), request).await;
        assert_eq!(body, "one|two|three");
        let cookies: Vec<_> = head.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);

        let exchange = proxy.next_capture().await;
        assert_eq!(values(&exchange.request.headers, "x-dup"), ["one", "two", "three"]);
        let response = exchange.response.expect("response");
        assert_eq!(values(&response.headers, "set-cookie"), ["a=1", "b=2"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_204_and_304_pass_without_a_body_on_one_keep_alive_connection() {
    bounded(async {
        let upstream = Upstream::start(handler(|request: Request<Incoming>| async move {
            match request.uri().path() {
                "/thing" => {
                    Response::builder().header(header::CONTENT_LENGTH, "1234").body(empty())
                }
                "/no-content" => Response::builder().status(204).body(empty()),
                "/not-modified" => {
                    Response::builder().status(304).header(header::ETAG, "\"v1\"").body(empty())
                }
                _ => Response::builder().body(full("after")),
            }
            .expect("response")
        }))
        .await;
        let proxy = Proxy::start(upstream.url()).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");

        write_all(&mut raw, b"HEAD /thing HTTP/1.1\r\nHost: shop.test\r\n\r\n").await;
        let (head, _) = read_response(&mut raw, false).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.to_ascii_lowercase().contains("content-length: 1234"), "{head}");

        write_all(&mut raw, b"GET /no-content HTTP/1.1\r\nHost: shop.test\r\n\r\n").await;
        let (head, _) = read_response(&mut raw, false).await;
        assert!(head.starts_with("HTTP/1.1 204"), "{head}");

        write_all(
            &mut raw,
            b"GET /not-modified HTTP/1.1\r\nHost: shop.test\r\nIf-None-Match: \"v1\"\r\n\r\n",
        )
        .await;
        let (head, _) = read_response(&mut raw, false).await;
        assert!(head.starts_with("HTTP/1.1 304"), "{head}");
        assert!(head.to_ascii_lowercase().contains("etag: \"v1\""), "{head}");

        // Had the proxy sent a body after any of those, it would be read
        // here as the start of this response.
        write_all(&mut raw, b"GET /after HTTP/1.1\r\nHost: shop.test\r\n\r\n").await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"after");

        let mut captured = Vec::new();
        for _ in 0..4 {
            captured.push(proxy.next_capture().await);
        }
        captured.sort_by_key(|e| e.started_at);
        let statuses: Vec<u16> =
            captured.iter().map(|e| e.response.as_ref().expect("response").status).collect();
        assert_eq!(statuses, [200, 204, 304, 200]);
        let head_response = captured[0].response.as_ref().expect("response");
        assert_eq!(captured[0].request.method, "HEAD");
        assert_eq!(head_response.headers.get_str("content-length"), Some("1234"));
        assert!(head_response.body.is_empty());
        assert!(captured.iter().all(|e| e.error.is_none()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_100_continue_is_answered_before_the_body_is_sent() {
    bounded(async {
        let upstream = Upstream::start(collecting_echo()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(
            &mut raw,
            b"POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n",
        )
        .await;
        let interim = read_until(&mut raw, b"\r\n\r\n").await;
        assert!(interim.starts_with(b"HTTP/1.1 100 Continue\r\n"), "{:?}", String::from_utf8_lossy(&interim));

        write_all(&mut raw, b"hello world").await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"hello world");

        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.request.headers.get_str("expect"), Some("100-continue"));
        assert_eq!(exchange.request.body.bytes, b"hello world");
        assert_eq!(exchange.response.expect("response").body.bytes, b"hello world");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_upgrade_is_echoed_end_to_end() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind ws upstream");
        let upstream_addr = listener.local_addr().expect("addr");
        let upstream = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            let mut ws =
                tokio_tungstenite::accept_async(stream).await.expect("websocket handshake");
            while let Some(Ok(message)) = ws.next().await {
                if message.is_close() {
                    break;
                }
                if message.is_text() || message.is_binary() {
                    ws.send(message).await.expect("echo");
                }
            }
        });
        let proxy = Proxy::start(format!("http://{upstream_addr}").parse().expect("url")).await;

        let (mut ws, response) =
            tokio_tungstenite::connect_async(format!("ws://{}/chat", proxy.addr))
                .await
                .expect("connect through the proxy");
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        ws.send(Message::text("hello")).await.expect("send text");
        assert_eq!(ws.next().await.expect("echo").expect("frame"), Message::text("hello"));
        let blob = binary(200_000, 5);
        ws.send(Message::binary(blob.clone())).await.expect("send binary");
        assert_eq!(ws.next().await.expect("echo").expect("frame"), Message::binary(blob));
        ws.close(None).await.expect("close");
        upstream.await.expect("upstream task");

        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.request.url, "/chat");
        assert_eq!(exchange.request.headers.get_str("upgrade"), Some("websocket"));
        let response = exchange.response.expect("response");
        assert_eq!(response.status, 101);
        assert!(response.headers.get("sec-websocket-accept").is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_pass_in_order_with_lowercase_names_only_host_changes_and_via_is_added() {
    bounded(async {
        // A raw upstream, to see the request bytes exactly as they arrive.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream_addr = listener.local_addr().expect("addr");
        let upstream = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let head = read_until(&mut stream, b"\r\n\r\n").await;
            write_all(&mut stream, b"HTTP/1.1 200 OK\r\nX-Mixed-Case: v\r\nContent-Length: 2\r\n\r\nok").await;
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
            String::from_utf8(head).expect("utf-8 head")
        });
        let proxy = Proxy::start(format!("http://{upstream_addr}").parse().expect("url")).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(
            &mut raw,
            b"GET /case?q=1 HTTP/1.1\r\nHost: shop.test:8080\r\nX-Custom-Case: 1\r\nConnection: keep-alive\r\nx-lower: 2\r\n\r\n",
        )
        .await;
        let (head, body) = read_response(&mut raw, true).await;
        assert_eq!(body, b"ok");
        // Header names are case-insensitive (RFC 9110 §5.1); like HTTP/2,
        // the proxy writes them in lowercase.
        assert_eq!(head, "HTTP/1.1 200 OK\r\nx-mixed-case: v\r\ncontent-length: 2\r\n\r\n");
        drop(raw);

        let exchange = proxy.next_capture().await;
        drop(proxy);
        let seen = upstream.await.expect("upstream task");
        // The proxy's own `Via` entry (RFC 9110 §7.6.3) comes last: a name
        // new in each process, by which a request that loops back is known.
        let (seen, via) = seen.split_once("via: 1.1 venomqa-").expect("a Via entry");
        assert_eq!(
            seen,
            format!("GET /case?q=1 HTTP/1.1\r\nhost: {upstream_addr}\r\nx-custom-case: 1\r\nx-lower: 2\r\n")
        );
        assert!(via.len() == 8 + 4 && via.ends_with("\r\n\r\n"), "{via:?}");
        // The record keeps what the client sent, Host and Connection included.
        assert_eq!(exchange.request.headers.get_str("host"), Some("shop.test:8080"));
        assert_eq!(exchange.request.headers.get_str("connection"), Some("keep-alive"));
        assert_eq!(exchange.request.url, "/case?q=1");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_are_added_only_when_asked_and_a_base_path_is_prefixed() {
    bounded(async {
        let upstream = Upstream::start(handler(|request: Request<Incoming>| async move {
            let show = |name: &str| {
                request
                    .headers()
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            let text =
                format!("{} | {} | {}", request.uri(), show("forwarded"), show("x-forwarded-for"));
            Response::new(full(text))
        }))
        .await;
        let plain = Proxy::start(upstream.url()).await;
        let (_, body) = get(&client(), &plain.url("/orders?x=1")).await;
        assert_eq!(body, "/orders?x=1 |  | ");

        let mut config =
            ProxyConfig::new(format!("http://{}/api/", upstream.addr).parse().expect("url"));
        config.forwarded = true;
        let forwarding = Proxy::with(config, 16).await;
        let (_, body) = get(&client(), &forwarding.url("/orders?x=1")).await;
        let host = forwarding.addr;
        assert_eq!(
            body,
            format!("/api/orders?x=1 | for=127.0.0.1;proto=http;host=\"{host}\" | 127.0.0.1")
        );
        assert_eq!(forwarding.next_capture().await.request.url, "/orders?x=1");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailers_of_a_chunked_response_pass_through() {
    bounded(async {
        let upstream = Upstream::start(handler(|_request: Request<Incoming>| async move {
            let (mut tx, body) = Channel::<Bytes, BoxError>::new(2);
            tokio::spawn(async move {
                let _ = tx.send_data(Bytes::from_static(b"part one, ")).await;
                let _ = tx.send_data(Bytes::from_static(b"part two")).await;
                let mut trailers = HeaderMap::new();
                trailers.insert("x-checksum", HeaderValue::from_static("abc123"));
                let _ = tx.send_trailers(trailers).await;
            });
            Response::builder()
                .header(header::TRAILER, "x-checksum")
                .body(body.boxed())
                .expect("response")
        }))
        .await;
        let proxy = Proxy::start(upstream.url()).await;
        let response = client()
            .request(
                Request::get(proxy.url("/stream"))
                    .header(header::TE, "trailers")
                    .body(empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let collected = response.into_body().collect().await.expect("body");
        assert_eq!(
            collected.trailers().and_then(|t| t.get("x-checksum")).expect("trailer"),
            "abc123"
        );
        assert_eq!(collected.to_bytes(), "part one, part two");
        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.response.expect("response").body.bytes, b"part one, part two");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_cleartext_clients_are_served_and_recorded_as_http2() {
    bounded(async {
        let upstream = Upstream::start(echo()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let client = h2c_client();
        let (head, body) = send(
            &client,
            Request::post(proxy.url("/h2?a=b")).body(full("over h2")).expect("request"),
        )
        .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.version, http::Version::HTTP_2);
        assert_eq!(body, "over h2");
        assert_eq!(head.headers["x-seen-path"], "/h2?a=b");

        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.request.version, "HTTP/2.0");
        assert_eq!(exchange.request.url, "/h2?a=b");
        assert_eq!(exchange.request.body.bytes, b"over h2");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_are_all_forwarded_and_all_captured() {
    bounded(async {
        let upstream = Upstream::start(echo()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let client = client();
        let requests = (0..200).map(|i| {
            let client = client.clone();
            let url = proxy.url(&format!("/n/{i}"));
            tokio::spawn(async move {
                let body = format!("request {i}");
                let (head, echoed) =
                    send(&client, Request::post(url).body(full(body.clone())).expect("request"))
                        .await;
                assert_eq!(head.status, StatusCode::OK);
                assert_eq!(echoed, body);
            })
        });
        for request in futures_util::future::join_all(requests).await {
            request.expect("request task");
        }

        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let exchange = proxy.next_capture().await;
            assert_eq!(
                exchange.request.body.bytes,
                exchange.response.expect("response").body.bytes
            );
            seen.insert(exchange.request.url);
        }
        assert_eq!(seen.len(), 200, "every request is captured exactly once");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(proxy.captured.try_recv().is_none(), "no request is captured twice");
    })
    .await;
}
