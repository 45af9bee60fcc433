//! The headers that describe one connection rather than the message.
//!
//! The proxy strips them on the way through, the replayer never re-sends
//! them as recorded, and reproducer scripts leave them to curl: one list,
//! so the three cannot drift apart.

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus `Proxy-Connection`, which old clients still send; lowercase.
///
/// `Trailer` is deliberately not here although some proxies strip it: it is
/// end-to-end in RFC 9110 (§6.6.2), and stripping it would silently drop a
/// gRPC-style trailer on the way through.
pub const HOP_BY_HOP_HEADERS: [&str; 6] =
    ["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"];

/// Whether `name` (any case) is one of [`HOP_BY_HOP_HEADERS`].
pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP_HEADERS.iter().any(|hop| name.eq_ignore_ascii_case(hop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_headers_are_hop_by_hop_in_any_case_and_message_headers_are_not() {
        assert!(is_hop_by_hop("Connection"));
        assert!(is_hop_by_hop("transfer-encoding"));
        assert!(is_hop_by_hop("PROXY-CONNECTION"));
        assert!(!is_hop_by_hop("trailer"));
        assert!(!is_hop_by_hop("content-type"));
    }
}
