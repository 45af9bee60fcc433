//! The record types every stage shares: one [`Exchange`] is one request and
//! its response (or the error that replaced it) as seen on the wire.

use serde::{Deserialize, Serialize};

/// Time-ordered, store-unique identifier of an exchange.
///
/// Ids are nanoseconds since the Unix epoch of the exchange's start, bumped
/// by one where two exchanges started in the same nanosecond, so sorting by
/// id is sorting by time and a range of ids is a range of time.
pub type ExchangeId = u64;

/// The journey an exchange belongs to, e.g. `x-session:s-17` or
/// `authorization:~r:3fa9c2d1e0b47a55` (secrets appear only as pseudonyms).
/// A key seen again after an idle gap gets a `#2`, `#3`, ... suffix.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SessionKey(pub String);

impl SessionKey {
    /// The key as text, as the CLI shows and takes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One header line; names keep the case they had on the wire and values are
/// raw bytes, because HTTP allows values that are not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The name, in the case it had on the wire.
    pub name: String,
    /// The value's raw bytes.
    #[serde(with = "as_bytes")]
    pub value: Vec<u8>,
}

impl Header {
    /// A header line from a name and value of any string-ish type.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Header { name: name.into(), value: value.into() }
    }

    /// The value as text, lossy for the rare non-UTF-8 value.
    pub fn value_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }
}

/// A JSON text without the UTF-8 byte order mark some servers send first
/// (RFC 8259 lets a parser ignore one; serde_json refuses it). Any other
/// text is returned as it is.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Header lines in wire order, duplicates kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_slice())
    }

    /// The first value of `name` as text, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_slice())
    }

    /// Adds a line at the end, as a later line on the wire.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.0.push(Header::new(name, value));
    }

    /// Every line, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    /// How many lines (a duplicate name counts each time).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no line at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A captured body: the first bytes up to the capture cap, the length the
/// body really had, and whether the capture stopped short of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// The bytes captured: all of them, or the first up to the cap.
    #[serde(with = "as_bytes")]
    pub bytes: Vec<u8>,
    /// How long the body really was on the wire.
    pub original_len: u64,
    /// Whether `bytes` stops short of `original_len`.
    pub truncated: bool,
}

impl Body {
    /// A body captured whole.
    pub fn complete(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        Body { original_len: bytes.len() as u64, bytes, truncated: false }
    }

    /// Whether the body had no bytes on the wire (not just none kept).
    pub fn is_empty(&self) -> bool {
        self.original_len == 0
    }
}

/// The request half of an exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// As the client sent it: origin-form (`/orders/7?x=1`) for a reverse
    /// proxy, absolute-form for a forward proxy or a HAR import.
    pub url: String,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub version: String,
    /// As the client sent them, before the proxy touched hop-by-hop ones.
    pub headers: Headers,
    /// The request body as captured.
    pub body: Body,
}

impl Request {
    /// The path without the query string, whatever form the url has.
    pub fn path(&self) -> &str {
        let rest = match self.url.find("://") {
            Some(scheme_end) => {
                let after = &self.url[scheme_end + 3..];
                match after.find('/') {
                    Some(slash) => &after[slash..],
                    None => "/",
                }
            }
            None => self.url.as_str(),
        };
        let end = rest.find(['?', '#']).unwrap_or(rest.len());
        &rest[..end]
    }

    /// The query string without the `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        let start = self.url.find('?')? + 1;
        let end = self.url[start..].find('#').map_or(self.url.len(), |e| start + e);
        Some(&self.url[start..end])
    }
}

/// The response half of an exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The status code (`200`, `404`, ...).
    pub status: u16,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub version: String,
    /// As the upstream sent them, hop-by-hop ones included.
    pub headers: Headers,
    /// The response body as captured.
    pub body: Body,
}

/// Why an exchange has no response from the upstream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeError {
    /// A short machine-friendly kind: `refused`, `reset`, `timeout`,
    /// `bad-request`, `client-gone`, ...
    pub kind: String,
    /// What failed, in words a person can act on.
    pub message: String,
}

/// One request/response pair as seen on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Assigned by the store when the exchange is appended; 0 before that.
    pub id: ExchangeId,
    /// Assigned by the store's session rule when appended, unless already set
    /// (an import that carries its sessions).
    pub session: SessionKey,
    /// Unix time in nanoseconds when the request started.
    pub started_at: u64,
    /// From the request's start to the end of the response body.
    pub duration_ns: u64,
    /// The client's socket address (`127.0.0.1:53122`), when known.
    pub client: Option<String>,
    /// What the client asked.
    pub request: Request,
    /// The upstream's answer; `None` when `error` says why there is none.
    pub response: Option<Response>,
    /// Why the exchange ended badly: no response, or one cut short.
    pub error: Option<ExchangeError>,
}

/// `Vec<u8>` fields as serde bytes rather than a sequence of `u8`: postcard
/// (the store) writes both the same way, a varint length then the bytes,
/// and JSON both as an array of numbers, but bytes go in one copy instead
/// of one call each, which is most of the cost of encoding a record.
mod as_bytes {
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_bytes(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> de::Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
            Ok(bytes.to_vec())
        }

        fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(bytes)
        }

        /// Formats without bytes (JSON) give a sequence of numbers.
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(byte) = seq.next_element::<u8>()? {
                out.push(byte);
            }
            Ok(out)
        }
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn unix_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Header` and `Body` as they were derived before `as_bytes`.
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct PlainHeader {
        name: String,
        value: Vec<u8>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct PlainBody {
        bytes: Vec<u8>,
        original_len: u64,
        truncated: bool,
    }

    #[test]
    fn byte_fields_encode_as_a_sequence_of_u8_did() {
        let all: Vec<u8> = (0..=255u8).cycle().take(300).collect(); // a 2-byte length
        for value in [vec![], vec![0u8], b"Bearer abc".to_vec(), all] {
            let header = Header::new("X-Raw", value.clone());
            let plain = PlainHeader { name: "X-Raw".into(), value: value.clone() };
            let bytes = postcard::to_stdvec(&header).unwrap();
            assert_eq!(bytes, postcard::to_stdvec(&plain).unwrap());
            assert_eq!(postcard::from_bytes::<Header>(&bytes).unwrap(), header);
            let json = serde_json::to_string(&header).unwrap();
            assert_eq!(json, serde_json::to_string(&plain).unwrap());
            assert_eq!(serde_json::from_str::<Header>(&json).unwrap(), header);

            let body = Body { bytes: value.clone(), original_len: 7, truncated: true };
            let plain = PlainBody { bytes: value, original_len: 7, truncated: true };
            let bytes = postcard::to_stdvec(&body).unwrap();
            assert_eq!(bytes, postcard::to_stdvec(&plain).unwrap());
            assert_eq!(postcard::from_bytes::<Body>(&bytes).unwrap(), body);
            assert_eq!(
                serde_json::to_string(&body).unwrap(),
                serde_json::to_string(&plain).unwrap()
            );
        }
    }
}
