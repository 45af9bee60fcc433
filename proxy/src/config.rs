//! What the proxy is told to do: [`ProxyConfig`], and the upstream it names,
//! checked and taken apart once so the hot path only copies ready pieces.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::uri::PathAndQuery;
use http::{HeaderValue, Uri};
use rustls_pki_types::ServerName;
use venomqa_tls::{ClientTrust, RecordingCa};

use crate::Error;

/// How the proxy forwards and records; [`ProxyConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where requests go: one upstream (a reverse proxy), or wherever each
    /// client asks (a forward proxy).
    pub route: Route,
    /// What the proxy trusts of an `https://` upstream's certificate.
    pub upstream_trust: ClientTrust,
    /// Serve clients over TLS with this configuration (reverse mode's
    /// `--tls-cert`/`--tls-key`); `None`: cleartext.
    pub tls: Option<Arc<rustls::ServerConfig>>,
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

/// Where the proxy sends requests.
#[derive(Clone, Debug)]
pub enum Route {
    /// In front of one upstream: `http://host:port` or `https://host:port`,
    /// optionally with a base path (`http://host:port/api`) put in front of
    /// every request path.
    Reverse(Uri),
    /// A forward proxy (clients set `HTTP_PROXY`/`HTTPS_PROXY`): each plain
    /// request names its origin (absolute-form), each HTTPS one comes as a
    /// `CONNECT` tunnel, read with certificates from the recording CA.
    Forward(Forward),
}

/// What a forward proxy intercepts and records.
#[derive(Clone, Debug)]
pub struct Forward {
    /// The CA whose certificates the clients trust.
    pub ca: Arc<RecordingCa>,
    /// Hosts whose tunnels are passed through unread (recorded as a tunnel
    /// only).
    pub passthrough: Vec<HostPattern>,
    /// When not empty, only these hosts are recorded; tunnels to others are
    /// passed through unread.
    pub only: Vec<HostPattern>,
}

impl Forward {
    /// Whether exchanges with `host` are recorded.
    pub fn records(&self, host: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|pattern| pattern.matches(host))
    }

    /// Whether a tunnel to `host` is read (intercepted) rather than passed
    /// through.
    pub fn intercepts(&self, host: &str) -> bool {
        self.records(host) && !self.passthrough.iter().any(|pattern| pattern.matches(host))
    }
}

/// A host name pattern: `api.example.com`, or `*.example.com` (any name
/// ending in `.example.com`), or `*` (every host); case-insensitive, without
/// a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// Parses a pattern; a port, a path or an inner `*` is refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let pattern = text.trim().to_ascii_lowercase();
        let rest = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let valid = !pattern.is_empty()
            && (pattern == "*"
                || (!rest.is_empty()
                    && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))));
        if !valid || (rest.contains(':') && !rest.starts_with('[')) {
            return Err(format!(
                "`{text}` is not a host pattern: write a host (api.example.com, 10.0.0.7),                  *.example.com for its subdomains, or * for every host, without a port"
            ));
        }
        Ok(HostPattern(pattern))
    }

    /// Whether `host` (a name or address, without its port) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        match self.0.strip_prefix("*") {
            Some("") => true,
            Some(suffix) => {
                host.len() > suffix.len()
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            }
            None => host.eq_ignore_ascii_case(&self.0),
        }
    }
}

/// Default capture cap: 1 MiB of each body.
pub const DEFAULT_BODY_CAP: usize = 1024 * 1024;

impl ProxyConfig {
    /// A proxy to `upstream` with the defaults: 1 MiB body cap, no added
    /// headers, 30 s upstream and header-read timeouts, 60 s idle timeout,
    /// 10 s drain, served on the caller's runtime, cleartext to clients, an
    /// `https://` upstream's certificate checked against the Mozilla roots.
    pub fn new(upstream: Uri) -> Self {
        Self::with_route(Route::Reverse(upstream))
    }

    /// A forward proxy with the same defaults.
    pub fn forward(forward: Forward) -> Self {
        Self::with_route(Route::Forward(forward))
    }

    fn with_route(route: Route) -> Self {
        ProxyConfig {
            route,
            upstream_trust: ClientTrust::default(),
            tls: None,
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
    /// For an `https://` upstream: how connections to it are secured.
    pub tls: Option<UpstreamTls>,
}

/// TLS to an `https://` upstream.
#[derive(Clone)]
pub(crate) struct UpstreamTls {
    /// Offers HTTP/2 and HTTP/1.1 (ALPN).
    pub connector: tokio_rustls::TlsConnector,
    /// Offers HTTP/1.1 alone: for a connection that may switch protocols.
    pub h1_connector: tokio_rustls::TlsConnector,
    /// The name its certificate must carry.
    pub name: ServerName<'static>,
    /// What an HTTP/2 request names in `:authority`.
    pub authority: http::uri::Authority,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTls").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Where the upstream's connections go: an IP address is used as it is, a
/// name is looked up for each new connection (as a browser would).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UpstreamAddr {
    Ip(SocketAddr),
    Name(String, u16),
}

impl Upstream {
    /// Checks and splits `uri`; an `https://` one is reached with `tls`
    /// (a client config from the proxy's upstream trust, offering HTTP/2
    /// and HTTP/1.1).
    pub fn parse(uri: &Uri, tls: &Arc<rustls::ClientConfig>) -> Result<Self, Error> {
        let invalid =
            |why: &str| Error::InvalidUpstream { upstream: uri.to_string(), why: why.to_owned() };
        let secure = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(invalid("the scheme must be http:// or https://")),
        };
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
        let port = authority.port_u16().unwrap_or(if secure { 443 } else { 80 });
        // `host()` keeps the brackets of an IPv6 literal.
        let name = authority.host().trim_start_matches('[').trim_end_matches(']');
        let addr = match name.parse::<IpAddr>() {
            Ok(ip) => UpstreamAddr::Ip(SocketAddr::new(ip, port)),
            Err(_) => UpstreamAddr::Name(name.to_owned(), port),
        };
        let tls = if secure {
            let name = ServerName::try_from(name.to_owned())
                .map_err(|_| invalid("the host is not a name a certificate can carry"))?;
            let mut h1 = (**tls).clone();
            h1.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some(UpstreamTls {
                connector: tokio_rustls::TlsConnector::from(tls.clone()),
                h1_connector: tokio_rustls::TlsConnector::from(Arc::new(h1)),
                name,
                authority: authority.clone(),
            })
        } else {
            None
        };
        let scheme = if secure { "https" } else { "http" };
        Ok(Upstream { display: format!("{scheme}://{authority}{base}"), addr, base, host, tls })
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
    let tls =
        ClientTrust { extra_ca: None, insecure: true }.client_config(&[]).map_err(Error::Tls)?;
    Upstream::parse(upstream, &tls)?.refuse_self(listen).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(text: &str) -> Result<Upstream, Error> {
        let tls = ClientTrust::default().client_config(&[]).expect("trust");
        Upstream::parse(&text.parse::<Uri>().expect("test URL"), &tls)
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
    fn only_http_and_https_urls_with_a_host_are_upstreams() {
        let secure = upstream("https://example.test/api").expect("https");
        assert_eq!(secure.addr, UpstreamAddr::Name("example.test".into(), 443));
        assert_eq!(secure.display, "https://example.test/api");
        assert!(secure.tls.is_some());
        assert!(upstream("http://example.test").expect("http").tls.is_none());
        assert!(upstream("ftp://example.test").is_err());
        assert!(upstream("/relative").is_err());
        assert!(upstream("http://user:pw@example.test").is_err());
    }

    #[test]
    fn host_patterns_match_a_host_its_subdomains_or_everything() {
        let pattern = |text: &str| HostPattern::parse(text).expect("valid pattern");
        assert!(pattern("API.example.com").matches("api.example.com"));
        assert!(!pattern("api.example.com").matches("www.api.example.com"));
        assert!(pattern("*.example.com").matches("a.b.example.com"));
        assert!(!pattern("*.example.com").matches("example.com"), "not the apex");
        assert!(!pattern("*.example.com").matches("badexample.com"));
        assert!(pattern("*").matches("anything.test"));
        assert!(pattern("10.0.0.7").matches("10.0.0.7"));
        assert!(pattern("[::1]").matches("[::1]"));
        for bad in ["", "api.example.com:443", "a*.example.com", "https://x", "*."] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
