//! What the proxy is told to do: [`ProxyConfig`], and the upstream it names,
//! checked and taken apart once so the hot path only copies ready pieces.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::uri::PathAndQuery;
use http::{HeaderValue, Uri};

use crate::Error;

/// How the proxy forwards and records; [`ProxyConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where requests go: `http://host:port`, optionally with a base path
    /// (`http://host:port/api`) that is put in front of every request path.
    pub upstream: Uri,
    /// Bytes of each body kept in a capture; the forwarded bytes are never cut.
    pub body_cap: usize,
    /// Add `Forwarded` and `X-Forwarded-For` to forwarded requests. Off, the
    /// proxy adds only its `Via` entry (see `headers::ViaMarker`).
    pub forwarded: bool,
    /// How long the upstream may take to send a response head, counted from
    /// when the request's body was all sent (504 after); a connection to it
    /// must be open within this time of the request's arrival.
    pub upstream_timeout: Duration,
    /// How long a client may take to send a request head (HTTP/1).
    pub header_read_timeout: Duration,
    /// How long a connection may stay silent, in both directions, while the
    /// proxy is not waiting on the upstream for it.
    pub idle_timeout: Duration,
    /// How long shutdown waits for in-flight exchanges before cutting them.
    pub drain_timeout: Duration,
    /// Threads serving connections, each with an event loop of its own; a
    /// connection stays on the thread that accepted it. 0: the runtime
    /// `serve` is called on serves them.
    pub threads: usize,
}

/// Default capture cap: 1 MiB of each body.
pub const DEFAULT_BODY_CAP: usize = 1024 * 1024;

impl ProxyConfig {
    /// A proxy to `upstream` with the defaults: 1 MiB body cap, no added
    /// headers, 30 s upstream and header-read timeouts, 60 s idle timeout,
    /// 10 s drain, served on the caller's runtime.
    pub fn new(upstream: Uri) -> Self {
        ProxyConfig {
            upstream,
            body_cap: DEFAULT_BODY_CAP,
            forwarded: false,
            upstream_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
            threads: 0,
        }
    }
}

/// The upstream URL checked and split, ready to build request URIs from.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    /// Where connections go.
    pub addr: UpstreamAddr,
    /// The base path without a trailing slash; empty for none.
    pub base: String,
    /// The value the `Host` header is rewritten to.
    pub host: HeaderValue,
    /// How messages name the upstream: `http://127.0.0.1:8081`.
    pub display: String,
}

/// Where the upstream's connections go: an IP address is used as it is, a
/// name is looked up for each new connection (as a browser would).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UpstreamAddr {
    Ip(SocketAddr),
    Name(String, u16),
}

impl Upstream {
    pub fn parse(uri: &Uri) -> Result<Self, Error> {
        let invalid =
            |why: &str| Error::InvalidUpstream { upstream: uri.to_string(), why: why.to_owned() };
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(invalid("https upstreams are not supported yet")),
            _ => return Err(invalid("the scheme must be http://")),
        }
        let authority = uri.authority().cloned().ok_or_else(|| invalid("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not supported"));
        }
        if uri.query().is_some() {
            return Err(invalid("a query string cannot be a base path"));
        }
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| invalid("the host is not a valid header value"))?;
        let base = uri.path().trim_end_matches('/').to_owned();
        let port = authority.port_u16().unwrap_or(80);
        // `host()` keeps the brackets of an IPv6 literal.
        let name = authority.host().trim_start_matches('[').trim_end_matches(']');
        let addr = match name.parse::<IpAddr>() {
            Ok(ip) => UpstreamAddr::Ip(SocketAddr::new(ip, port)),
            Err(_) => UpstreamAddr::Name(name.to_owned(), port),
        };
        Ok(Upstream { display: format!("http://{authority}{base}"), addr, base, host })
    }

    /// Refuses an upstream that is the proxy's own address `listen`,
    /// whether named by address or by a host name that resolves to it.
    pub async fn refuse_self(&self, listen: SocketAddr) -> Result<(), Error> {
        let addrs: Vec<SocketAddr> = match &self.addr {
            UpstreamAddr::Ip(addr) => vec![*addr],
            // A name that does not resolve now fails on each request instead.
            UpstreamAddr::Name(host, port) => tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map(Iterator::collect)
                .unwrap_or_default(),
        };
        if addrs.iter().any(|&upstream| reaches(listen, upstream)) {
            return Err(Error::UpstreamIsSelf { upstream: self.display.clone(), listen });
        }
        Ok(())
    }

    /// The origin-form target (`/path?query`) for the upstream of a request
    /// whose client-side target was `uri`, with the base path in front.
    /// An origin-form target without a base is kept as it is.
    pub fn target_for(&self, uri: Uri) -> Result<Uri, http::Error> {
        if self.base.is_empty() && uri.scheme().is_none() && uri.authority().is_none() {
            return Ok(uri);
        }
        let pq = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let path_and_query = if self.base.is_empty() {
            PathAndQuery::try_from(pq)?
        } else {
            // `pq` starts with `/` in origin-form (or is `*`, which keeps its
            // meaning only without a base).
            PathAndQuery::try_from(format!("{}{}", self.base, pq))?
        };
        Ok(Uri::from(path_and_query))
    }
}

/// Whether connecting to `upstream` reaches a listener on `listen`.
fn reaches(listen: SocketAddr, upstream: SocketAddr) -> bool {
    if listen.port() != upstream.port() || (listen.is_ipv4() && upstream.is_ipv6()) {
        return false;
    }
    let (at, to) = (listen.ip(), upstream.ip());
    if at == to || (to.is_unspecified() && at.is_loopback()) {
        return true;
    }
    // Listening on every address: any address of this machine reaches it.
    at.is_unspecified() && (to.is_unspecified() || to.is_loopback() || is_this_machine(to))
}

/// Whether `ip` is an address of this machine: only those can be bound.
fn is_this_machine(ip: IpAddr) -> bool {
    std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// Refuses an `upstream` URL that points at the proxy's own `listen`
/// address; see [`Upstream::refuse_self`]. A bad URL is refused too.
pub async fn refuse_self(upstream: &Uri, listen: SocketAddr) -> Result<(), Error> {
    Upstream::parse(upstream)?.refuse_self(listen).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(text: &str) -> Result<Upstream, Error> {
        Upstream::parse(&text.parse::<Uri>().expect("test URL"))
    }

    fn target(up: &Upstream, uri: &'static str) -> String {
        up.target_for(Uri::from_static(uri)).expect("target").to_string()
    }

    #[test]
    fn a_base_path_is_put_in_front_of_request_paths() {
        let up = upstream("http://127.0.0.1:8081/api/").expect("valid");
        assert_eq!(target(&up, "/orders/7?x=1"), "/api/orders/7?x=1");
        assert_eq!(target(&up, "http://shop.test/orders"), "/api/orders");
        assert_eq!(up.display, "http://127.0.0.1:8081/api");
        assert_eq!(up.host, "127.0.0.1:8081");
        assert_eq!(up.addr, UpstreamAddr::Ip("127.0.0.1:8081".parse().expect("addr")));
    }

    #[test]
    fn without_a_base_the_path_is_kept_as_is_in_origin_form() {
        let up = upstream("http://localhost:9000").expect("valid");
        assert_eq!(target(&up, "/a//b?q"), "/a//b?q");
        assert_eq!(target(&up, "http://shop.test:8080/a?q"), "/a?q");
        assert_eq!(target(&up, "http://shop.test"), "/");
        assert_eq!(target(&up, "*"), "*");
        assert_eq!(up.addr, UpstreamAddr::Name("localhost".into(), 9000));
        let v6 = upstream("http://[::1]").expect("valid");
        assert_eq!(v6.addr, UpstreamAddr::Ip("[::1]:80".parse().expect("addr")));
    }

    #[test]
    fn an_upstream_at_the_listening_address_is_the_proxy_itself() {
        let at = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert!(reaches(at("127.0.0.1:8080"), at("127.0.0.1:8080")));
        assert!(reaches(at("127.0.0.1:8080"), at("0.0.0.0:8080")));
        assert!(reaches(at("0.0.0.0:8080"), at("127.0.0.1:8080")));
        assert!(reaches(at("0.0.0.0:8080"), at("127.0.0.2:8080")));
        assert!(reaches(at("[::]:8080"), at("[::1]:8080")));
        assert!(!reaches(at("127.0.0.1:8080"), at("127.0.0.1:8081")), "another port");
        assert!(!reaches(at("127.0.0.1:8080"), at("127.0.0.2:8080")), "another loopback address");
        assert!(!reaches(at("0.0.0.0:8080"), at("[::1]:8080")), "IPv4 only");
        assert!(!reaches(at("0.0.0.0:8080"), at("192.0.2.1:8080")), "not this machine (TEST-NET)");
    }

    #[tokio::test]
    async fn a_name_for_the_listening_address_is_refused_too() {
        let listen: SocketAddr = "127.0.0.1:8097".parse().expect("addr");
        let err = upstream("http://localhost:8097").expect("valid").refuse_self(listen).await;
        assert!(matches!(err, Err(Error::UpstreamIsSelf { .. })), "{err:?}");
        let other = upstream("http://localhost:8098").expect("valid").refuse_self(listen).await;
        assert!(other.is_ok());
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_upstreams() {
        assert!(upstream("https://example.test").is_err());
        assert!(upstream("/relative").is_err());
        assert!(upstream("http://user:pw@example.test").is_err());
    }
}
