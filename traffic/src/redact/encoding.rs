//! Bodies sent with a `Content-Encoding` (most APIs gzip their answers to
//! browsers) are decoded before redaction, so a `{"password": …}` inside a
//! gzip body is found like any other. What is stored is the redacted,
//! decoded body; the `Content-Encoding` header is renamed
//! [`DECODED_FROM`], which says how the body travelled. The bytes the proxy
//! forwarded were never touched: this runs on the copy being stored.

use std::io::Read;

use crate::{Body, Headers};

/// The header a decoded body's `Content-Encoding` becomes in the store.
pub const DECODED_FROM: &str = "venomqa-decoded-from";

/// How much a body may grow when decoded: a compression bomb is cut here
/// and kept as a truncated body.
const DECODED_LIMIT: u64 = 64 * 1024 * 1024;

/// The codings this decodes, by their `Content-Encoding` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    fn named(name: &str) -> Option<Coding> {
        let name = name.trim();
        let is = |other: &str| name.eq_ignore_ascii_case(other);
        match () {
            _ if is("gzip") || is("x-gzip") => Some(Coding::Gzip),
            _ if is("deflate") => Some(Coding::Deflate),
            _ if is("br") => Some(Coding::Brotli),
            _ => None,
        }
    }
}

/// What became of an encoded body.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeOutcome {
    /// Nothing to do: no `Content-Encoding`, or `identity`.
    Plain,
    /// Decoded (as far as the captured bytes went when cut short).
    Decoded,
    /// Text under an encoding header: a HAR's `content.text` is decoded
    /// already while its headers still say `gzip`. Kept as it is.
    AlreadyDecoded,
    /// Bytes this cannot decode (`zstd`, or a damaged stream) that are not
    /// text either: nothing in them can be read, or redacted.
    Opaque,
}

/// Decodes `body` in place by the `Content-Encoding` of `headers` (each
/// coding of a list, last applied first), renaming the header to
/// [`DECODED_FROM`] when the body as kept is no longer encoded.
pub fn decode_body(headers: &mut Headers, body: &mut Body) -> DecodeOutcome {
    let Some(encoding) = headers.get_str("content-encoding").map(str::to_string) else {
        return DecodeOutcome::Plain;
    };
    let names: Vec<&str> = encoding
        .split(',')
        .map(str::trim)
        .filter(|n| !n.eq_ignore_ascii_case("identity"))
        .collect();
    if names.is_empty() || body.bytes.is_empty() {
        return DecodeOutcome::Plain;
    }
    let codings: Option<Vec<Coding>> = names.iter().rev().map(|n| Coding::named(n)).collect();
    let Some((bytes, complete)) = codings.and_then(|codings| decode_all(&codings, &body.bytes))
    else {
        if !is_text(&body.bytes) {
            return DecodeOutcome::Opaque;
        }
        mark_decoded(headers, &encoding);
        return DecodeOutcome::AlreadyDecoded;
    };
    let cut = body.truncated || !complete;
    body.original_len =
        if cut { body.original_len.max(bytes.len() as u64) } else { bytes.len() as u64 };
    body.truncated = cut;
    body.bytes = bytes;
    mark_decoded(headers, &encoding);
    DecodeOutcome::Decoded
}

/// Renames `Content-Encoding` to [`DECODED_FROM`]: the body kept is plain.
fn mark_decoded(headers: &mut Headers, encoding: &str) {
    headers.0.retain(|h| !h.name.eq_ignore_ascii_case("content-encoding"));
    headers.push(DECODED_FROM, encoding);
}

/// Undoes `codings` in turn: the bytes and whether they are whole.
fn decode_all(codings: &[Coding], bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    let mut bytes = std::borrow::Cow::Borrowed(bytes);
    let mut complete = true;
    for &coding in codings {
        let (decoded, whole) = decode(coding, &bytes)?;
        bytes = std::borrow::Cow::Owned(decoded);
        complete &= whole;
    }
    Some((bytes.into_owned(), complete))
}

/// Whether `bytes` are UTF-8 text (a last character cut off allowed).
fn is_text(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// The decoded bytes and whether they are the whole body (not cut off by
/// the capture cap, a damaged stream or [`DECODED_LIMIT`]); `None` when not
/// one byte decodes.
fn decode(coding: Coding, bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    match coding {
        Coding::Gzip => read_all(flate2::read::MultiGzDecoder::new(bytes)),
        // `deflate` is zlib-wrapped by the standard, raw by some servers.
        Coding::Deflate => read_all(flate2::read::ZlibDecoder::new(bytes))
            .or_else(|| read_all(flate2::read::DeflateDecoder::new(bytes))),
        Coding::Brotli => read_all(brotli_decompressor::Decompressor::new(bytes, 4096)),
    }
}

/// Reads a decoder to its end, or as far as it gets.
fn read_all(decoder: impl Read) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut limited = decoder.take(DECODED_LIMIT + 1);
    let complete = match limited.read_to_end(&mut out) {
        Ok(_) => out.len() as u64 <= DECODED_LIMIT,
        Err(_) if !out.is_empty() => false,
        Err(_) => return None,
    };
    out.truncate(DECODED_LIMIT as usize);
    Some((out, complete))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn headers(encoding: &str) -> Headers {
        let mut h = Headers::default();
        h.push("Content-Type", "application/json");
        h.push("Content-Encoding", encoding);
        h
    }

    #[test]
    fn a_gzip_body_is_decoded_and_the_header_says_how_it_travelled() {
        let mut h = headers("gzip");
        let mut body = Body::complete(gzip(br#"{"password":"hunter2"}"#));
        assert_eq!(decode_body(&mut h, &mut body), DecodeOutcome::Decoded);
        assert_eq!(body.bytes, br#"{"password":"hunter2"}"#);
        assert_eq!(body.original_len, 22);
        assert!(!body.truncated);
        assert_eq!(h.get_str("content-encoding"), None);
        assert_eq!(h.get_str(DECODED_FROM), Some("gzip"));
    }

    #[test]
    fn a_gzip_body_cut_short_keeps_what_decodes() {
        let text = format!(r#"{{"password":"hunter2","pad":"{}"}}"#, "x".repeat(5000));
        let whole = gzip(text.as_bytes());
        let mut body = Body {
            bytes: whole[..whole.len() - 8].to_vec(),
            original_len: whole.len() as u64,
            truncated: true,
        };
        assert_eq!(decode_body(&mut headers("gzip"), &mut body), DecodeOutcome::Decoded);
        assert!(body.truncated);
        assert!(body.bytes.starts_with(br#"{"password":"hunter2""#));
    }

    #[test]
    fn stacked_codings_are_undone_last_first() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&gzip(b"{\"token\":\"t\"}")).unwrap();
        let mut body = Body::complete(z.finish().unwrap());
        assert_eq!(decode_body(&mut headers("gzip, deflate"), &mut body), DecodeOutcome::Decoded);
        assert_eq!(body.bytes, b"{\"token\":\"t\"}");
    }

    #[test]
    fn raw_deflate_and_brotli_are_decoded() {
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        d.write_all(b"password=pw").unwrap();
        let mut body = Body::complete(d.finish().unwrap());
        assert_eq!(decode_body(&mut headers("deflate"), &mut body), DecodeOutcome::Decoded);
        assert_eq!(body.bytes, b"password=pw");
        // `{"password":"hunter2"}` compressed by Python's brotli 1.2.1 (quality 11).
        let br = hex(BROTLI_PASSWORD);
        let mut body = Body::complete(br);
        assert_eq!(decode_body(&mut headers("br"), &mut body), DecodeOutcome::Decoded);
        assert_eq!(body.bytes, br#"{"password":"hunter2"}"#);
    }

    #[test]
    fn unknown_or_broken_encodings_are_opaque_unless_already_text() {
        let mut h = headers("zstd");
        let mut body = Body::complete(b"\x28\xb5\x2f\xfd\x00\xff".to_vec());
        assert_eq!(decode_body(&mut h, &mut body), DecodeOutcome::Opaque);
        assert_eq!(h.get_str("content-encoding"), Some("zstd"), "the header stays");
        // A HAR's text under its original `gzip` header.
        let mut h = headers("gzip");
        let mut body = Body::complete(br#"{"password":"pw"}"#.to_vec());
        assert_eq!(decode_body(&mut h, &mut body), DecodeOutcome::AlreadyDecoded);
        assert_eq!(body.bytes, br#"{"password":"pw"}"#);
        assert_eq!(h.get_str(DECODED_FROM), Some("gzip"));
        let mut body = Body::complete(b"plain".to_vec());
        assert_eq!(decode_body(&mut headers("identity"), &mut body), DecodeOutcome::Plain);
    }

    const BROTLI_PASSWORD: &str = "8b0a807b2270617373776f7264223a2268756e74657232227d03";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}
