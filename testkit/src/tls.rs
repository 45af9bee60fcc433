//! TLS on both sides of the proxy in tests: an HTTPS upstream with a
//! certificate from a throwaway CA ([`TlsUpstream`]), and a client that
//! speaks HTTP/1.1 or HTTP/2 over TLS on a socket it is given
//! ([`request_over_tls`]), e.g. one a CONNECT has just opened.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Version};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use venomqa_tls::TestPki;

use crate::upstream::{Handler, TestBody};

/// An HTTPS server standing in for the service behind the proxy (HTTP/1.1
/// and HTTP/2 by ALPN); it stops when dropped.
pub struct TlsUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA that signed its certificate (for 127.0.0.1 and localhost).
    pub pki: TestPki,
    task: JoinHandle<()>,
}

impl TlsUpstream {
    /// Starts answering with `handler`, offering HTTP/2 and HTTP/1.1.
    pub async fn start(handler: Handler) -> TlsUpstream {
        Self::offering(handler, &[b"h2", b"http/1.1"]).await
    }

    /// Starts answering with `handler`, offering the ALPN protocols `alpn`.
    pub async fn offering(handler: Handler, alpn: &[&[u8]]) -> TlsUpstream {
        let pki = TestPki::new(&["127.0.0.1", "localhost"]).expect("test certificate");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind TLS upstream");
        let addr = listener.local_addr().expect("TLS upstream addr");
        let mut config = (*pki.server_config).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (acceptor, handler) = (acceptor.clone(), handler.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else { return };
                    let service = hyper::service::service_fn(move |req| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler(req).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsUpstream { addr, pki, task }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> http::Uri {
        format!("https://{}", self.addr).parse().expect("TLS upstream url")
    }

    /// Its CA certificate written to `dir/name`, for a client to trust.
    pub fn ca_file(&self, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.pki.ca_pem).expect("write the CA file");
        path
    }
}

impl Drop for TlsUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What came back over TLS.
#[derive(Debug)]
pub struct TlsAnswer {
    /// The protocol ALPN settled on, as hyper saw it.
    pub version: Version,
    /// The response status.
    pub status: http::StatusCode,
    /// The whole response body.
    pub body: Bytes,
}

/// Speaks TLS on `io` to `name`, trusting only the CA certificate
/// `trusted_ca_pem`, offering `alpn`, and sends `request` (HTTP/2 when ALPN
/// chose it). Returns the TLS error as text when the handshake fails.
pub async fn request_over_tls<I>(
    io: I,
    name: &str,
    trusted_ca_pem: &str,
    alpn: &[&[u8]],
    request: Request<TestBody>,
) -> Result<TlsAnswer, String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("trusted.pem");
    std::fs::write(&ca, trusted_ca_pem).expect("write CA");
    let trust = venomqa_tls::ClientTrust { extra_ca: Some(ca), insecure: false };
    let config = trust.client_config(alpn).expect("client config");
    let connector = tokio_rustls::TlsConnector::from(config);
    let server = ServerName::try_from(name.to_owned()).expect("server name");
    let tls = connector.connect(server, io).await.map_err(|err| err.to_string())?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(tls);
    let response = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|err| err.to_string())?;
        tokio::spawn(conn);
        sender.send_request(request).await
    } else {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(io).await.map_err(|err| err.to_string())?;
        tokio::spawn(conn);
        sender.send_request(request).await
    }
    .map_err(|err| err.to_string())?;
    let (head, body) = response.into_parts();
    let body = body.collect().await.map_err(|err| err.to_string())?.to_bytes();
    Ok(TlsAnswer { version: head.version, status: head.status, body })
}
