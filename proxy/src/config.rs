//! What the proxy is told to do: [`ProxyConfig`], and the upstream it names,
//! checked and taken apart once so the hot path only copies ready pieces.

use std::time::Duration;

use http::uri::{Authority, PathAndQuery, Scheme};
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
    /// proxy adds no header at all.
    pub forwarded: bool,
    /// How long the upstream may take to send a response head (504 after).
    pub upstream_timeout: Duration,
    /// How long a client may take to send a request head (HTTP/1).
    pub header_read_timeout: Duration,
    /// How long a connection may stay silent, in both directions, while the
    /// proxy is not waiting on the upstream for it.
    pub idle_timeout: Duration,
    /// How long shutdown waits for in-flight exchanges before cutting them.
    pub drain_timeout: Duration,
}

/// Default capture cap: 1 MiB of each body.
pub const DEFAULT_BODY_CAP: usize = 1024 * 1024;

impl ProxyConfig {
    /// A proxy to `upstream` with the defaults: 1 MiB body cap, no added
    /// headers, 30 s upstream and header-read timeouts, 60 s idle timeout and
    /// 10 s drain.
    pub fn new(upstream: Uri) -> Self {
        ProxyConfig {
            upstream,
            body_cap: DEFAULT_BODY_CAP,
            forwarded: false,
            upstream_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// The upstream URL checked and split, ready to build request URIs from.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    pub scheme: Scheme,
    pub authority: Authority,
    /// The base path without a trailing slash; empty for none.
    pub base: String,
    /// The value the `Host` header is rewritten to.
    pub host: HeaderValue,
    /// How messages name the upstream: `http://127.0.0.1:8081`.
    pub display: String,
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
        Ok(Upstream {
            scheme: Scheme::HTTP,
            display: format!("http://{authority}{base}"),
            authority,
            base,
            host,
        })
    }

    /// The absolute URI for a request whose client-side target was `pq`.
    pub fn uri_for(&self, pq: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        let pq = pq.map_or("/", PathAndQuery::as_str);
        let path_and_query = if self.base.is_empty() {
            PathAndQuery::try_from(pq)?
        } else {
            // `pq` starts with `/` in origin-form (or is `*`, which keeps its
            // meaning only without a base).
            PathAndQuery::try_from(format!("{}{}", self.base, pq))?
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(text: &str) -> Result<Upstream, Error> {
        Upstream::parse(&text.parse::<Uri>().expect("test URL"))
    }

    #[test]
    fn a_base_path_is_put_in_front_of_request_paths() {
        let up = upstream("http://127.0.0.1:8081/api/").expect("valid");
        let pq = PathAndQuery::from_static("/orders/7?x=1");
        assert_eq!(
            up.uri_for(Some(&pq)).expect("uri").to_string(),
            "http://127.0.0.1:8081/api/orders/7?x=1"
        );
        assert_eq!(up.display, "http://127.0.0.1:8081/api");
        assert_eq!(up.host, "127.0.0.1:8081");
    }

    #[test]
    fn without_a_base_the_path_is_kept_as_is() {
        let up = upstream("http://localhost:9000").expect("valid");
        let pq = PathAndQuery::from_static("/a//b?q");
        assert_eq!(up.uri_for(Some(&pq)).expect("uri").to_string(), "http://localhost:9000/a//b?q");
        assert_eq!(up.uri_for(None).expect("uri").to_string(), "http://localhost:9000/");
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_upstreams() {
        assert!(upstream("https://example.test").is_err());
        assert!(upstream("/relative").is_err());
        assert!(upstream("http://user:pw@example.test").is_err());
    }
}
