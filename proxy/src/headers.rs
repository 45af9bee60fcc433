//! Header rewriting for the forward and respond phases: strip hop-by-hop
//! headers, point `Host` at the upstream, and (only when asked) add
//! `Forwarded` / `X-Forwarded-For`. Everything else passes as it came, in
//! order, duplicates included.

use std::net::{IpAddr, SocketAddr};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// [`venomqa_traffic::HOP_BY_HOP_HEADERS`] as header names, so the hot path
/// compares interned names instead of strings (a test keeps the two lists
/// equal). hyper only sends the trailer fields that a `Trailer` header
/// announces, one more reason `Trailer` is not among them.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The connection-level headers a message carries, found in one pass over
/// its header names. Most messages carry none of them, and then the
/// functions below look nothing up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HopHeaders(u8);

const CONNECTION: u8 = 1;
const UPGRADE: u8 = 2;
const TE: u8 = 4;
/// Any other name in [`HOP_BY_HOP`].
const OTHER: u8 = 8;

impl HopHeaders {
    pub fn scan(headers: &HeaderMap) -> Self {
        let mut bits = 0;
        for name in headers.keys() {
            bits |= if name == header::CONNECTION {
                CONNECTION
            } else if name == header::UPGRADE {
                UPGRADE
            } else if name == header::TE {
                TE
            } else if HOP_BY_HOP.contains(name) {
                OTHER
            } else {
                0
            };
        }
        HopHeaders(bits)
    }

    fn has(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

/// Whether `headers` ask to switch protocols: `Connection: upgrade` and an
/// `Upgrade` header (HTTP/1.1 only; the caller checks the version).
///
/// An upgrade to `h2c` alone does not count: it is an offer the upstream may
/// ignore, and taken up it would turn the connection into an opaque tunnel
/// the proxy could no longer record. Treated as a plain request, its
/// `Upgrade` and `HTTP2-Settings` headers are stripped as hop-by-hop and
/// the exchange stays HTTP/1.1.
pub(crate) fn wants_upgrade(headers: &HeaderMap, hop: HopHeaders) -> bool {
    if !hop.has(CONNECTION | UPGRADE) {
        return false;
    }
    let mut protocols = headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty());
    protocols.any(|p| !p.eq_ignore_ascii_case("h2c"))
        && connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"))
}

/// Removes hop-by-hop headers, keeping the order of everything else. For an
/// upgrade, `Upgrade` stays and `Connection` becomes just `upgrade`, since
/// the upgrade is what the two ends negotiate through the proxy.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, hop: HopHeaders, upgrade: bool) {
    if hop == HopHeaders::default() && !upgrade {
        return;
    }
    // Only `Connection` can name more headers to remove.
    let listed: Vec<HeaderName> = if hop.has(CONNECTION) {
        connection_tokens(headers)
            .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
            .collect()
    } else {
        Vec::new()
    };
    let doomed = |name: &HeaderName| {
        if upgrade && (name == header::UPGRADE || name == header::CONNECTION) {
            return false;
        }
        HOP_BY_HOP.contains(name) || listed.contains(name)
    };
    if headers.keys().any(&doomed) {
        // `HeaderMap::remove` swaps the last header into the hole, which
        // would reorder the rest; rebuilding keeps the order and is rare
        // enough (most messages carry none of these) not to matter.
        let old = std::mem::replace(headers, HeaderMap::with_capacity(headers.len()));
        let mut current: Option<HeaderName> = None;
        for (name, value) in old {
            // `into_iter` names only the first value of each header.
            if let Some(name) = name {
                current = Some(name);
            }
            if let Some(name) = &current {
                if !doomed(name) {
                    headers.append(name.clone(), value);
                }
            }
        }
    }
    // A `Connection` that says nothing but `upgrade` passes as it came
    // (`Upgrade` keeps its capital); anything more is cut down to that.
    if upgrade && !connection_tokens(headers).all(|t| t.eq_ignore_ascii_case("upgrade")) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Whether the client accepts trailers (`TE: trailers`). `TE` is
/// hop-by-hop, but this part of it must travel on: hyper's server (like
/// others) sends trailers only to a client that said it accepts them, and
/// the proxy passes them on unchanged.
pub(crate) fn accepts_trailers(headers: &HeaderMap, hop: HopHeaders) -> bool {
    hop.has(TE)
        && headers
            .get_all(header::TE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("trailers")))
}

/// Adds the proxy's hop to `Forwarded` (RFC 7239) and `X-Forwarded-For`.
/// `original_host` is the `Host` the client sent, before the rewrite.
pub(crate) fn add_forwarded(
    headers: &mut HeaderMap,
    client: SocketAddr,
    original_host: Option<&HeaderValue>,
) {
    let ip = client.ip();
    let node = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("\"[{v6}]\""),
    };
    let mut forwarded = format!("for={node};proto=http");
    if let Some(host) = original_host.and_then(|h| h.to_str().ok()) {
        if !host.is_empty() && !host.contains(['"', '\\']) {
            forwarded.push_str(&format!(";host=\"{host}\""));
        }
    }
    if let Ok(value) = HeaderValue::from_str(&forwarded) {
        headers.append(header::FORWARDED, value);
    }

    // X-Forwarded-For is one comma-separated list, client first; many
    // servers read only one line of it, so the hops stay on one line.
    let xff = HeaderName::from_static("x-forwarded-for");
    let mut chain: Vec<String> =
        headers.get_all(&xff).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
    chain.push(ip.to_string());
    if let Ok(value) = HeaderValue::from_str(&chain.join(", ")) {
        headers.insert(xff, value);
    }
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in lines {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn strip(headers: &mut HeaderMap, upgrade: bool) {
        let hop = HopHeaders::scan(headers);
        strip_hop_by_hop(headers, hop, upgrade);
    }

    fn lines(headers: &HeaderMap) -> Vec<(String, String)> {
        headers.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned())).collect()
    }

    #[test]
    fn the_hop_by_hop_names_are_the_shared_list() {
        let hop_by_hop = HOP_BY_HOP;
        let names: Vec<&str> = hop_by_hop.iter().map(HeaderName::as_str).collect();
        assert_eq!(names, venomqa_traffic::HOP_BY_HOP_HEADERS);
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_lists_go_the_rest_keep_their_order() {
        let mut headers = map(&[
            ("a", "1"),
            ("connection", "keep-alive, X-Secret-Hop"),
            ("b", "2"),
            ("x-secret-hop", "x"),
            ("keep-alive", "timeout=5"),
            ("a", "3"),
            ("transfer-encoding", "chunked"),
            ("trailer", "grpc-status"),
            ("te", "trailers"),
            ("c", "4"),
        ]);
        strip(&mut headers, false);
        let expected = [("a", "1"), ("a", "3"), ("b", "2"), ("trailer", "grpc-status"), ("c", "4")];
        assert_eq!(lines(&headers), expected.map(|(n, v)| (n.to_owned(), v.to_owned())));
    }

    #[test]
    fn an_upgrade_keeps_upgrade_and_a_bare_connection_upgrade() {
        let mut headers = map(&[
            ("host", "h"),
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "websocket"),
            ("keep-alive", "x"),
        ]);
        assert!(wants_upgrade(&headers, HopHeaders::scan(&headers)));
        strip(&mut headers, true);
        let expected = [("host", "h"), ("connection", "upgrade"), ("upgrade", "websocket")];
        assert_eq!(lines(&headers), expected.map(|(n, v)| (n.to_owned(), v.to_owned())));

        let mut answer = map(&[("upgrade", "websocket"), ("connection", "Upgrade")]);
        strip(&mut answer, true);
        assert_eq!(answer["connection"], "Upgrade");
    }

    #[test]
    fn an_h2c_upgrade_offer_is_a_plain_request_with_its_offer_stripped() {
        let mut headers = map(&[
            ("host", "h"),
            ("connection", "Upgrade, HTTP2-Settings"),
            ("upgrade", "h2c"),
            ("http2-settings", "AAMAAABkAARAAAAAAAIAAAAA"),
        ]);
        assert!(!wants_upgrade(&headers, HopHeaders::scan(&headers)));
        strip(&mut headers, false);
        assert_eq!(lines(&headers), [("host".to_owned(), "h".to_owned())]);
        let both = map(&[("connection", "upgrade"), ("upgrade", "h2c, websocket")]);
        assert!(wants_upgrade(&both, HopHeaders::scan(&both)));
    }

    #[test]
    fn one_scan_finds_the_connection_level_headers_and_nothing_else() {
        let plain = map(&[("host", "h"), ("content-length", "2"), ("x-upgrade", "no")]);
        assert_eq!(HopHeaders::scan(&plain), HopHeaders::default());
        let mut kept = plain.clone();
        strip(&mut kept, false);
        assert_eq!(kept, plain);
        let hop = HopHeaders::scan(&map(&[("keep-alive", "1"), ("te", "trailers")]));
        assert!(hop.has(TE | OTHER) && !hop.has(CONNECTION) && !hop.has(UPGRADE));
    }

    #[test]
    fn te_trailers_is_recognised_among_other_codings() {
        let accepts = |headers: HeaderMap| accepts_trailers(&headers, HopHeaders::scan(&headers));
        assert!(accepts(map(&[("te", "gzip;q=0.5, Trailers")])));
        assert!(!accepts(map(&[("te", "gzip")])));
        assert!(!accepts(map(&[])));
    }

    #[test]
    fn forwarded_headers_append_this_hop() {
        let mut headers = map(&[("x-forwarded-for", "10.0.0.1"), ("x-forwarded-for", "10.0.0.2")]);
        let host = HeaderValue::from_static("shop.test:8080");
        add_forwarded(&mut headers, "127.0.0.1:5000".parse().expect("addr"), Some(&host));
        assert_eq!(headers["forwarded"], "for=127.0.0.1;proto=http;host=\"shop.test:8080\"");
        assert_eq!(headers["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 127.0.0.1");
        add_forwarded(&mut headers, "[::1]:5000".parse().expect("addr"), None);
        assert_eq!(
            headers.get_all("forwarded").iter().nth(1).expect("second hop"),
            "for=\"[::1]\";proto=http"
        );
    }
}

/// This proxy's entry in `Via` (RFC 9110 §7.6.3, which asks every proxy
/// to add one): `1.1 venomqa-1f2e3d4c`, a name new in every process, so a
/// request that comes back through the proxy is told from one that passed
/// through another venomqa.
#[derive(Clone, Debug)]
pub(crate) struct ViaMarker {
    /// `venomqa-1f2e3d4c`.
    name: String,
    /// `1.1 venomqa-1f2e3d4c`, ready to append.
    value: HeaderValue,
}

impl ViaMarker {
    /// A marker of its own for this process's proxy.
    pub fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the OS per process: no crate needed.
        let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
        let name = format!("venomqa-{:08x}", random as u32);
        let value = HeaderValue::from_str(&format!("1.1 {name}")).expect("ASCII");
        ViaMarker { name, value }
    }

    /// Whether `headers` show the request passed through this proxy already.
    pub fn seen_in(&self, headers: &HeaderMap) -> bool {
        let name = self.name.as_bytes();
        headers
            .get_all(header::VIA)
            .iter()
            .any(|v| v.as_bytes().windows(name.len()).any(|w| w == name))
    }

    /// Adds this proxy's entry after any the request carries.
    pub fn add_to(&self, headers: &mut HeaderMap) {
        headers.append(header::VIA, self.value.clone());
    }
}
