//! `multipart/form-data` bodies (sign-up forms with a file, uploads with a
//! password field): each part whose name says secret has its content
//! replaced, and a part that is itself JSON or a form is redacted like a
//! body of its own. Every other byte stays as it was.
//!
//! ```text
//! --BOUNDARY\r\n
//! Content-Disposition: form-data; name="password"\r\n
//! \r\n
//! hunter2\r\n
//! --BOUNDARY--\r\n
//! ```

use super::names::{contains_ignore_case, starts_with_ignore_case};

/// The boundary a `multipart/…; boundary=X` content type names.
pub fn boundary(content_type: &[u8]) -> Option<&[u8]> {
    if !starts_with_ignore_case(content_type, b"multipart/") {
        return None;
    }
    content_type.split(|&b| b == b';').skip(1).find_map(|param| {
        let param = super::trim(param);
        let eq = param.iter().position(|&b| b == b'=')?;
        if !super::trim(&param[..eq]).eq_ignore_ascii_case(b"boundary") {
            return None;
        }
        let value = super::trim(&param[eq + 1..]);
        let value = value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(value);
        (!value.is_empty()).then_some(value)
    })
}

/// One part's place in the body and what its headers say.
pub struct Part<'a> {
    /// The `name` of its `Content-Disposition`.
    pub name: Option<&'a [u8]>,
    /// Its own `Content-Type`.
    pub content_type: Option<&'a [u8]>,
    /// Where its content lies in the body.
    pub content: std::ops::Range<usize>,
}

/// The parts of `body`, cut at `--boundary` lines. A part cut off by the
/// capture cap runs to the end of the body.
pub fn parts<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<Part<'a>> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let starts: Vec<usize> = find_all(body, &delimiter);
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let after = start + delimiter.len();
        if body[after..].starts_with(b"--") {
            break; // the closing delimiter
        }
        let Some(headers_start) = line_end(body, after) else { break };
        let Some(blank) = find(&body[headers_start..], b"\r\n\r\n").map(|p| headers_start + p)
        else {
            break;
        };
        let head = &body[headers_start..blank];
        let content_start = blank + 4;
        // The content ends at the CRLF before the next delimiter.
        let content_end = match starts.get(n + 1) {
            Some(&next) => next.saturating_sub(2).max(content_start),
            None => body.len(),
        };
        out.push(Part {
            name: header(head, b"content-disposition").and_then(disposition_name),
            content_type: header(head, b"content-type"),
            content: content_start..content_end,
        });
    }
    out
}

/// The value of header `name` in a part's header block.
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        super::trim(&line[..colon])
            .eq_ignore_ascii_case(name)
            .then(|| super::trim(&line[colon + 1..]))
    })
}

/// `name` of `form-data; name="password"; filename="x"`.
fn disposition_name(value: &[u8]) -> Option<&[u8]> {
    value.split(|&b| b == b';').skip(1).find_map(|param| {
        let param = super::trim(param);
        let eq = param.iter().position(|&b| b == b'=')?;
        if !super::trim(&param[..eq]).eq_ignore_ascii_case(b"name") {
            return None;
        }
        let v = super::trim(&param[eq + 1..]);
        Some(v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(v))
    })
}

/// Whether a part's content type is JSON.
pub fn is_json(content_type: Option<&[u8]>) -> bool {
    content_type.is_some_and(|t| contains_ignore_case(t, b"json"))
}

/// Whether a part's content type is a form.
pub fn is_form(content_type: Option<&[u8]>) -> bool {
    content_type.is_some_and(|t| starts_with_ignore_case(t, b"application/x-www-form-urlencoded"))
}

/// The index just past the line that starts at `from`.
fn line_end(body: &[u8], from: usize) -> Option<usize> {
    find(&body[from..], b"\n").map(|p| from + p + 1)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every place `needle` starts at the beginning of a line of `body`.
fn find_all(body: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = find(&body[from..], needle) {
        let at = from + p;
        if at == 0 || body[at - 1] == b'\n' {
            out.push(at);
        }
        from = at + needle.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"--XyZ\r\n\
Content-Disposition: form-data; name=\"user\"\r\n\r\n\
ann\r\n\
--XyZ\r\n\
content-disposition: form-data; name=\"password\"\r\n\r\n\
hunter2\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"profile\"; filename=\"p.json\"\r\n\
Content-Type: application/json\r\n\r\n\
{\"token\":\"t\"}\r\n\
--XyZ--\r\n";

    #[test]
    fn the_boundary_is_read_quoted_or_not_and_only_from_multipart() {
        assert_eq!(boundary(b"multipart/form-data; boundary=XyZ"), Some(&b"XyZ"[..]));
        assert_eq!(
            boundary(b"Multipart/Form-Data; charset=x; Boundary=\"a b\""),
            Some(&b"a b"[..])
        );
        assert_eq!(boundary(b"application/json; boundary=XyZ"), None);
        assert_eq!(boundary(b"multipart/form-data"), None);
    }

    #[test]
    fn parts_are_named_typed_and_located() {
        let found = parts(BODY, b"XyZ");
        let seen: Vec<(&[u8], &[u8])> =
            found.iter().map(|p| (p.name.unwrap(), &BODY[p.content.clone()])).collect();
        assert_eq!(
            seen,
            [
                (&b"user"[..], &b"ann"[..]),
                (&b"password"[..], &b"hunter2"[..]),
                (&b"profile"[..], &b"{\"token\":\"t\"}"[..])
            ]
        );
        assert!(is_json(found[2].content_type));
        assert!(!is_json(found[0].content_type));
    }

    #[test]
    fn a_body_cut_short_keeps_its_last_part_to_the_end() {
        let cut = &BODY[..BODY.len() - 16]; // inside the last part's JSON
        let found = parts(cut, b"XyZ");
        assert_eq!(found.len(), 3);
        assert_eq!(found[2].content.end, cut.len());
        // A boundary inside content (not at a line start) cuts nothing.
        let inner = b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx--B y\r\n--B--";
        assert_eq!(parts(inner, b"B").len(), 1);
    }
}
