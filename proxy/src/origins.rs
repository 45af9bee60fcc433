//! A forward proxy's origins: the upstream each request (absolute-form:
//! `GET http://host/path`) or tunnel (`CONNECT host:443`) names, made once
//! per origin and shared by every connection, so that a client connection's
//! upstream connections to one origin are reused.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use http::uri::Authority;
use http::Uri;

use crate::config::{Forward, Upstream};
use crate::fault::Fault;

/// Origins remembered at most; past this the memory starts again.
const MAX_ORIGINS: usize = 4096;

/// What a forward proxy knows of where requests go.
#[derive(Debug)]
pub(crate) struct Forwarding {
    pub config: Forward,
    /// How `https://` origins are reached (the proxy's upstream trust).
    tls: Arc<rustls::ClientConfig>,
    /// Upstreams by authority (lower case): `http://` ones, then `https://` ones.
    origins: Mutex<[HashMap<String, Arc<Upstream>>; 2]>,
}

impl Forwarding {
    pub fn new(config: Forward, tls: Arc<rustls::ClientConfig>) -> Self {
        Forwarding { config, tls, origins: Mutex::default() }
    }

    /// The upstream of a request sent to the forward proxy: the origin its
    /// absolute-form target names.
    pub fn for_request(&self, uri: &Uri) -> Result<Arc<Upstream>, Fault> {
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme @ ("http" | "https")), Some(authority)) => self.origin(scheme, authority),
            _ => Err(Fault::not_absolute()),
        }
    }

    /// The upstream for `scheme://authority`.
    pub fn origin(&self, scheme: &str, authority: &Authority) -> Result<Arc<Upstream>, Fault> {
        // Looked up without allocating when the authority is in lower case
        // already (as clients send it): this runs for every request.
        let text = authority.as_str();
        let name: Cow<'_, str> = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        };
        let secure = scheme == "https";
        let mut origins = self.origins.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(upstream) = origins[usize::from(secure)].get(name.as_ref()) {
            return Ok(upstream.clone());
        }
        let uri: Uri = format!("{scheme}://{name}")
            .parse()
            .map_err(|_| Fault::bad_connect_target(authority.as_str()))?;
        let upstream = Upstream::parse(&uri, &self.tls).map_err(|err| Fault {
            kind: "bad-request",
            status: http::StatusCode::BAD_REQUEST,
            message: err.to_string(),
        })?;
        let kept = &mut origins[usize::from(secure)];
        if kept.len() >= MAX_ORIGINS {
            kept.clear();
        }
        let upstream = Arc::new(upstream);
        kept.insert(name.into_owned(), upstream.clone());
        Ok(upstream)
    }
}
