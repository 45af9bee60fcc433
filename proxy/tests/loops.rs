//! Requests the proxy must not forward as they are: one that came back to
//! the proxy through its own upstream (a loop), an HTTP/1.1 request without
//! `Host`, and a target in absolute form naming a host the reverse proxy
//! never goes to (recorded as the path it forwarded).

mod common;

use std::net::SocketAddr;

use common::*;
use http::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use venomqa_proxy::{Error, ProxyConfig};

fn hello() -> Handler {
    handler(|_req| async { http::Response::new(full("hello")) })
}

fn url(addr: SocketAddr) -> http::Uri {
    format!("http://{addr}").parse().expect("url")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_whose_upstream_is_itself_does_not_start() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = ProxyConfig::new(url(addr));
        let served = venomqa_proxy::serve(listener, config, None, std::future::pending()).await;
        match served {
            Err(err @ Error::UpstreamIsSelf { .. }) => {
                assert!(err.to_string().contains("point --upstream at the service"), "{err}");
            }
            other => panic!("a proxy forwarding to itself started: {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_comes_back_through_another_proxy_is_stopped_with_508() {
    bounded(async {
        // A forwards to B and B to A: nothing at startup can tell.
        let (a, b) = (
            TcpListener::bind("127.0.0.1:0").await.expect("bind a"),
            TcpListener::bind("127.0.0.1:0").await.expect("bind b"),
        );
        let (a_addr, b_addr) = (a.local_addr().expect("a"), b.local_addr().expect("b"));
        let (stop_a, stopped_a) = tokio::sync::oneshot::channel::<()>();
        let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
        let proxy_a =
            tokio::spawn(venomqa_proxy::serve(a, ProxyConfig::new(url(b_addr)), None, async {
                let _ = stopped_a.await;
            }));
        let proxy_b =
            tokio::spawn(venomqa_proxy::serve(b, ProxyConfig::new(url(a_addr)), None, async {
                let _ = stopped_b.await;
            }));

        let (head, body) = get(&client(), &format!("http://{a_addr}/orders")).await;
        assert_eq!(head.status, StatusCode::LOOP_DETECTED);
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("came back to the proxy that forwarded it"), "{text}");

        let _ = (stop_a.send(()), stop_b.send(()));
        let a = proxy_a.await.expect("a joined").expect("a ran");
        let b = proxy_b.await.expect("b joined").expect("b ran");
        // The client's request, and its one trip back through B: no more.
        assert_eq!(a.exchanges, 2, "{a:?}");
        assert_eq!(b.exchanges, 1, "{b:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_through_two_proxies_is_not_a_loop_and_carries_both_via_entries() {
    bounded(async {
        let seen_via = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = seen_via.clone();
        let upstream = Upstream::start(handler(move |req: http::Request<_>| {
            let via: Vec<String> = req
                .headers()
                .get_all("via")
                .iter()
                .map(|v| v.to_str().unwrap_or("").to_string())
                .collect();
            seen.lock().unwrap().push(via);
            async { http::Response::new(full("hello")) }
        }))
        .await;
        let inner = Proxy::start(upstream.url()).await;
        let outer = Proxy::start(url(inner.addr)).await;
        let (head, body) = get(&client(), &outer.url("/")).await;
        assert_eq!((head.status, &body[..]), (StatusCode::OK, &b"hello"[..]));
        let via = seen_via.lock().unwrap()[0].join(", ");
        assert_eq!(via.matches("1.1 venomqa-").count(), 2, "{via}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_1_request_without_host_gets_400_and_is_not_forwarded() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(&mut raw, b"GET /orders HTTP/1.1\r\n\r\n").await;
        let (head, body) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("Host header"));
        assert_eq!(proxy.next_capture().await.error.expect("error").kind, "bad-request");
        assert_eq!(upstream.connections.accepted(), 0, "nothing reached the upstream");
        // HTTP/1.0 has no Host requirement.
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(&mut raw, b"GET / HTTP/1.0\r\n\r\n").await;
        let (head, _) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absolute_form_target_is_recorded_as_the_path_the_proxy_forwarded() {
    bounded(async {
        let upstream = Upstream::start(hello()).await;
        let proxy = Proxy::start(upstream.url()).await;
        let mut raw = TcpStream::connect(proxy.addr).await.expect("connect");
        write_all(
            &mut raw,
            b"GET http://169.254.169.254/latest/meta-data?x=1 HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
        )
        .await;
        let (head, _) = read_response(&mut raw, true).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let exchange = proxy.next_capture().await;
        assert_eq!(exchange.request.url, "/latest/meta-data?x=1");
        assert_eq!(
            values(&exchange.request.headers, "venomqa-original-target"),
            ["http://169.254.169.254/latest/meta-data?x=1"]
        );
    })
    .await;
}
