//! When the upstream gives no response: what kind of failure it was, the
//! short text answer the client gets (502 or 504), and the error recorded on
//! the exchange.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// One failed exchange, described once for the client and for the record.
#[derive(Debug)]
pub(crate) struct Fault {
    /// `refused`, `reset`, `timeout`, `upstream`, `client-gone` or
    /// `unsupported`.
    pub kind: &'static str,
    pub status: StatusCode,
    /// What failed, e.g. "upstream http://127.0.0.1:8081 refused the connection".
    pub message: String,
}

impl Fault {
    /// No response head within the upstream timeout.
    pub fn timeout(upstream: &str, after: Duration) -> Self {
        Fault {
            kind: "timeout",
            status: StatusCode::GATEWAY_TIMEOUT,
            message: format!("upstream {upstream} sent no response within {}", humanize(after)),
        }
    }

    /// The client broke off its request body, so the upstream never got a
    /// complete request. Nobody is likely to read this answer.
    pub fn client_gone() -> Self {
        Fault {
            kind: "client-gone",
            status: StatusCode::BAD_REQUEST,
            message: "the client broke off the request body".to_owned(),
        }
    }

    /// A new connection to the upstream failed.
    pub fn from_connect_error(upstream: &str, err: &io::Error) -> Self {
        let (kind, status, what) = match err.kind() {
            io::ErrorKind::ConnectionRefused => {
                ("refused", StatusCode::BAD_GATEWAY, "refused the connection".to_owned())
            }
            io::ErrorKind::TimedOut => (
                "timeout",
                StatusCode::GATEWAY_TIMEOUT,
                "did not accept the connection in time".to_owned(),
            ),
            _ => (
                "upstream",
                StatusCode::BAD_GATEWAY,
                format!("could not be reached: {}", chain(err)),
            ),
        };
        Fault { kind, status, message: format!("upstream {upstream} {what}") }
    }

    /// The TLS handshake with an `https://` upstream failed: its
    /// certificate is not trusted (named), or it does not speak TLS.
    pub fn from_tls_error(upstream: &str, err: &io::Error) -> Self {
        let why =
            venomqa_tls::describe_io_error(err).unwrap_or_else(|| format!("TLS failed: {err}"));
        let hint = if why.contains("certificate") {
            " (trust its CA with --upstream-ca FILE, or accept any certificate with \
             --insecure-upstream)"
        } else {
            ""
        };
        Fault {
            kind: "tls",
            status: StatusCode::BAD_GATEWAY,
            message: format!("upstream {upstream}: {why}{hint}"),
        }
    }

    /// Sorts out an error of an upstream connection by looking through its
    /// chain of causes for the I/O error underneath.
    pub fn from_http_error(upstream: &str, err: &hyper::Error) -> Self {
        let io_kind = causes(err).find_map(|e| e.downcast_ref::<io::Error>()).map(io::Error::kind);
        let (kind, status, what) = if matches!(
            io_kind,
            Some(
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            )
        ) {
            ("reset", StatusCode::BAD_GATEWAY, "reset the connection".to_owned())
        } else if err.is_incomplete_message() || err.is_closed() || err.is_canceled() {
            ("reset", StatusCode::BAD_GATEWAY, "closed the connection before answering".to_owned())
        } else if err.is_parse() {
            (
                "upstream",
                StatusCode::BAD_GATEWAY,
                format!("sent a response that is not valid HTTP: {}", chain(err)),
            )
        } else {
            ("upstream", StatusCode::BAD_GATEWAY, format!("failed: {}", chain(err)))
        };
        Fault { kind, status, message: format!("upstream {upstream} {what}") }
    }

    /// The upstream answered 101 to a request that asked for no upgrade.
    pub fn unasked_switch(upstream: &str) -> Self {
        Fault {
            kind: "upstream",
            status: StatusCode::BAD_GATEWAY,
            message: format!("upstream {upstream} switched protocols without being asked to"),
        }
    }

    /// A reverse proxy has no business tunnelling to an address the client
    /// picks; CONNECT belongs to the forward-proxy mode.
    pub fn connect_unsupported() -> Self {
        Fault {
            kind: "unsupported",
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "CONNECT is not supported by a reverse proxy".to_owned(),
        }
    }

    /// A forward proxy was sent a request without the origin it is for.
    pub fn not_absolute() -> Self {
        Fault {
            kind: "bad-request",
            status: StatusCode::BAD_REQUEST,
            message: "this is a forward proxy: requests must name their origin \
                      (GET http://host/path, or CONNECT host:443); set it as the client's \
                      HTTP_PROXY/HTTPS_PROXY rather than as the service's address"
                .to_owned(),
        }
    }

    /// A CONNECT target that is not `host:port`.
    pub fn bad_connect_target(target: &str) -> Self {
        Fault {
            kind: "bad-request",
            status: StatusCode::BAD_REQUEST,
            message: format!("CONNECT needs a host:port target, not `{target}`"),
        }
    }

    /// An HTTP/1.1 request without `Host` (RFC 9112 §3.2: a server must
    /// answer 400).
    pub fn missing_host() -> Self {
        Fault {
            kind: "bad-request",
            status: StatusCode::BAD_REQUEST,
            message: "an HTTP/1.1 request must carry a Host header".to_owned(),
        }
    }

    /// The request came back to the proxy that forwarded it: its upstream
    /// leads, directly or through other proxies, back to itself.
    pub fn loop_detected(upstream: &str) -> Self {
        Fault {
            kind: "loop",
            status: StatusCode::LOOP_DETECTED,
            message: format!(
                "this request came back to the proxy that forwarded it: upstream {upstream} \
                 leads back to venomqa; point --upstream at the service itself"
            ),
        }
    }

    /// Whether the upstream is to blame (counted in `upstream_errors`).
    pub fn is_upstream(&self) -> bool {
        matches!(self.kind, "refused" | "reset" | "timeout" | "upstream" | "tls")
    }

    /// The answer the client gets: the status and one line of text saying
    /// what failed.
    pub fn response(&self) -> Response<Full<Bytes>> {
        let mut response =
            Response::new(Full::new(Bytes::from(format!("venomqa: {}\n", self.message))));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        response
    }
}

fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

/// "a: b: c" from an error and its causes, skipping repeats (hyper's
/// wrappers often print their cause's message again).
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(err) {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
