//! Redaction at rest: secrets become stable keyed pseudonyms before an
//! exchange is written, so they never touch the disk while the learner can
//! still see that the `token` a login returned is the bearer sent next.
//!
//! A pseudonym is `~r:` followed by the first 8 bytes of
//! HMAC-SHA256(store key, secret) in hex. The key is random per store and kept
//! in it, so equal secrets give equal pseudonyms within a store, and a
//! pseudonym says nothing about the secret without the store.
//!
//! ```
//! use venomqa_traffic::Redactor;
//! let r = Redactor::new(&[7u8; 32]);
//! let p = r.pseudonym(b"hunter2");
//! assert!(p.starts_with("~r:") && p.len() == 19);
//! assert_eq!(r.pseudonym(p.as_bytes()), p); // already redacted: unchanged
//! ```
//!
//! What is replaced: the values of `Authorization` and `Proxy-Authorization`
//! (the scheme is kept: `Bearer ~r:…`), of each cookie in `Cookie`, of the
//! cookie in `Set-Cookie` (attributes kept), of any header whose name
//! contains `auth` or a secret word (`X-Api-Key`, `X-Auth-Token`); and, in
//! JSON bodies (any depth), form bodies, multipart parts and the query
//! strings of the url, `Location` and `Referer`, the values of fields named
//! like a secret (see [`names`]: `password`, `token`, `pin`, `otp`, …), and
//! every string and number inside such a field when its value is an object
//! or a list. Bodies sent gzip, deflate or br are decoded first
//! ([`encoding`]); a body in an encoding that cannot be read is not kept.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use std::sync::{Arc, Mutex, PoisonError};

use crate::jsonscan::rewrite_scalars;
use crate::{Body, Exchange, Headers};

mod encoding;
mod multipart;
mod names;

pub use encoding::{decode_body, DecodeOutcome, DECODED_FROM};

use names::{contains_ignore_case, may_name_a_secret, starts_with_ignore_case};
pub use names::{is_secret_header, is_secret_name, ExtraNames};

/// What every pseudonym starts with.
pub const PSEUDONYM_PREFIX: &str = "~r:";

/// The header that says why a body was not kept.
pub const BODY_NOT_KEPT: &str = "venomqa-body-not-kept";

/// Replaces secrets by keyed pseudonyms; cheap to clone.
#[derive(Clone)]
pub struct Redactor {
    mac: Hmac<Sha256>,
    /// Names the user declared secret (`--redact-field`, `--redact-header`).
    extra: Arc<ExtraNames>,
    /// Pseudonyms made lately, shared by clones: a session sends the same
    /// token with every request (and its session key is made of it too),
    /// and an HMAC-SHA256 costs about 7k instructions where a lookup costs
    /// a few hundred. Emptied when it holds [`MEMO_LIMIT`] of them.
    memo: Arc<Mutex<foldhash::HashMap<Vec<u8>, String>>>,
    /// Whether a name is secret, remembered per name, shared by clones:
    /// the same few dozen header and field names come with every exchange,
    /// and the answer (a search for every secret word, and the declared
    /// names) costs far more than a lookup.
    verdicts: Arc<Mutex<NameVerdicts>>,
}

/// What [`Redactor`] remembers of names; each map is emptied when it holds
/// [`MEMO_LIMIT`] of them.
#[derive(Default)]
struct NameVerdicts {
    headers: foldhash::HashMap<Box<str>, bool>,
    fields: foldhash::HashMap<Box<[u8]>, bool>,
}

/// Longest name whose verdict is remembered: longer ones are rare and
/// would only crowd the maps.
const VERDICT_NAME_MAX: usize = 64;

/// Pseudonyms remembered at most, a few hundred KiB.
const MEMO_LIMIT: usize = 4096;

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    /// A redactor keyed by a store's redaction key.
    pub fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
        Redactor { mac, extra: Arc::default(), memo: Arc::default(), verdicts: Arc::default() }
    }

    /// This redactor, also replacing the values of the fields and headers
    /// `extra` names.
    pub fn with_extra_names(self, extra: ExtraNames) -> Self {
        // The remembered verdicts were made without these names.
        Redactor { extra: Arc::new(extra), verdicts: Arc::default(), ..self }
    }

    /// Whether a field's value is replaced: a secret name, or a declared one.
    fn is_secret_field(&self, name: &[u8]) -> bool {
        self.remembered(
            |v| &mut v.fields,
            name,
            || is_secret_name(name) || self.extra.is_field(name),
        )
    }

    /// Whether a header's whole value is replaced by its name: named like a
    /// secret or like auth, or declared.
    fn is_secret_header(&self, name: &str) -> bool {
        self.remembered(
            |v| &mut v.headers,
            name,
            || is_secret_header(name) || self.extra.is_header(name),
        )
    }

    /// `decide(name)`, remembered in the map `pick` chooses.
    fn remembered<K>(
        &self,
        pick: impl Fn(&mut NameVerdicts) -> &mut foldhash::HashMap<Box<K>, bool>,
        name: &K,
        decide: impl FnOnce() -> bool,
    ) -> bool
    where
        K: ?Sized + std::hash::Hash + Eq + AsRef<[u8]>,
        Box<K>: for<'a> From<&'a K>,
    {
        if name.as_ref().len() > VERDICT_NAME_MAX {
            return decide();
        }
        let verdicts = || self.verdicts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = pick(&mut verdicts()).get(name) {
            return *known;
        }
        let secret = decide();
        let mut verdicts = verdicts();
        let map = pick(&mut verdicts);
        if map.len() >= MEMO_LIMIT {
            map.clear();
        }
        map.insert(name.into(), secret);
        secret
    }

    /// The stable pseudonym of `value`; a value that already is a pseudonym
    /// (a re-imported HAR) is returned unchanged.
    pub fn pseudonym(&self, value: &[u8]) -> String {
        if is_pseudonym(value) {
            return String::from_utf8_lossy(value).into_owned();
        }
        let memo = || self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = memo().get(value) {
            return known.clone();
        }
        let made = self.keyed_pseudonym(value);
        let mut memo = memo();
        if memo.len() >= MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(value.to_vec(), made.clone());
        made
    }

    /// `~r:` and the first 8 bytes of HMAC-SHA256(key, value), in hex.
    fn keyed_pseudonym(&self, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(PSEUDONYM_PREFIX.len() + 16);
        out.push_str(PSEUDONYM_PREFIX);
        for byte in &digest[..8] {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }

    /// Redacts every secret of an exchange in place, bodies decoded first
    /// (see [`decode_bodies`]); true if anything changed.
    pub fn redact_exchange(&self, exchange: &mut Exchange) -> bool {
        let mut changed = decode_bodies(exchange);
        changed |= self.redact_headers(&mut exchange.request.headers);
        if let Some(url) = self.redact_url(&exchange.request.url) {
            exchange.request.url = url;
            changed = true;
        }
        changed |= self.redact_body(&exchange.request.headers, &mut exchange.request.body);
        if let Some(response) = exchange.response.as_mut() {
            changed |= self.redact_headers(&mut response.headers);
            changed |= self.redact_body(&response.headers, &mut response.body);
        }
        changed
    }

    /// Redacts the secret header lines of `headers`; true if anything changed.
    pub fn redact_headers(&self, headers: &mut Headers) -> bool {
        let mut changed = false;
        for header in headers.0.iter_mut() {
            if let Some(value) = self.redact_header_value(&header.name, &header.value) {
                header.value = value;
                changed = true;
            }
        }
        changed
    }

    /// The redacted value of one header line, or `None` if it holds no secret.
    pub fn redact_header_value(&self, name: &str, value: &[u8]) -> Option<Vec<u8>> {
        // Called for every header line: names compared without allocating.
        let is = |other: &str| name.eq_ignore_ascii_case(other);
        match () {
            _ if ends_with_ignore_case(name.as_bytes(), b"authorization") => {
                let range = credential_range(value);
                let cred = &value[range.clone()];
                if cred.is_empty() || is_pseudonym(cred) {
                    return None;
                }
                let pseudonym = self.pseudonym(cred);
                let mut out = Vec::with_capacity(value.len() - cred.len() + pseudonym.len());
                out.extend_from_slice(&value[..range.start]);
                out.extend_from_slice(pseudonym.as_bytes());
                out.extend_from_slice(&value[range.end..]);
                Some(out)
            }
            _ if is("cookie") => self.redact_cookie_pairs(value, usize::MAX),
            _ if is("set-cookie") => self.redact_cookie_pairs(value, 1),
            // Redirects and referrers carry OAuth codes and tokens in queries.
            _ if is("location") || is("referer") || is("content-location") => {
                let url = std::str::from_utf8(value).ok()?;
                self.redact_url(url).map(String::into_bytes)
            }
            _ if self.is_secret_header(name) => {
                let v = trim(value);
                (!v.is_empty() && !is_pseudonym(v)).then(|| self.pseudonym(v).into_bytes())
            }
            _ => None,
        }
    }

    /// Replaces the values of the first `limit` `name=value` pairs of a
    /// cookie header (`Cookie` has many, `Set-Cookie` one, then attributes).
    fn redact_cookie_pairs(&self, value: &[u8], limit: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(value.len() + 16);
        let mut changed = false;
        for (n, segment) in value.split(|&b| b == b';').enumerate() {
            if n > 0 {
                out.push(b';');
            }
            let (prefix, secret) = if n >= limit {
                (segment, &b""[..])
            } else {
                match segment.iter().position(|&b| b == b'=') {
                    Some(eq) => (&segment[..=eq], trim(&segment[eq + 1..])),
                    None => {
                        let t = trim(segment);
                        let lead = segment.len() - trim_start(segment).len();
                        (&segment[..lead], t)
                    }
                }
            };
            if secret.is_empty() || is_pseudonym(secret) {
                out.extend_from_slice(segment);
            } else {
                out.extend_from_slice(prefix);
                out.extend_from_slice(self.pseudonym(secret).as_bytes());
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// The url with the secret fields of its query string redacted, or
    /// `None` if it holds none.
    pub fn redact_url(&self, url: &str) -> Option<String> {
        let start = url.find('?')? + 1;
        let end = url[start..].find('#').map_or(url.len(), |e| start + e);
        let query = self.redact_form(&url.as_bytes()[start..end])?;
        let mut out = String::with_capacity(url.len() + 16);
        out.push_str(&url[..start]);
        out.push_str(&String::from_utf8_lossy(&query));
        out.push_str(&url[end..]);
        Some(out)
    }

    /// Redacts a body by its content type (JSON or form); true if changed.
    /// The stored `original_len` follows the new length, so a truncated body
    /// still says how long the redacted whole would have been.
    pub fn redact_body(&self, headers: &Headers, body: &mut Body) -> bool {
        if body.bytes.is_empty() {
            return false;
        }
        let content_type = headers.get_str("content-type").unwrap_or("").as_bytes();
        let redacted =
            if starts_with_ignore_case(content_type, b"application/x-www-form-urlencoded") {
                self.redact_form(&body.bytes)
            } else if let Some(boundary) = multipart::boundary(content_type) {
                self.redact_multipart(&body.bytes, boundary)
            } else if contains_ignore_case(content_type, b"json") || looks_like_json(&body.bytes) {
                self.redact_json(&body.bytes)
            } else {
                None
            };
        let Some(bytes) = redacted else { return false };
        let (old, new) = (body.bytes.len() as u64, bytes.len() as u64);
        body.original_len = if body.truncated {
            body.original_len.saturating_sub(old).saturating_add(new)
        } else {
            new
        };
        body.bytes = bytes;
        true
    }

    /// JSON with the values of secret-named fields replaced (any depth,
    /// arrays included; numbers become pseudonym strings), and every string
    /// and number inside a secret-named field's object or list; `None` if
    /// unchanged.
    pub fn redact_json(&self, text: &[u8]) -> Option<Vec<u8>> {
        // Without escapes, field names are pieces of the text: when no
        // secret word appears anywhere, no field is secret.
        if !text.contains(&b'\\') && !may_name_a_secret(text) && !self.extra.any_field_in(text) {
            return None;
        }
        rewrite_scalars(text, |scalar| {
            let secret = scalar.fields().any(|f| self.is_secret_field(f));
            if !secret || (scalar.is_string && is_pseudonym(&scalar.value)) {
                return None;
            }
            Some(self.pseudonym(&scalar.value))
        })
    }

    /// `a=1&password=x` with the secret-named values replaced; `None` if
    /// unchanged. Pseudonyms are of the decoded value, so a password sent as
    /// a form equals the same password sent as JSON.
    pub fn redact_form(&self, text: &[u8]) -> Option<Vec<u8>> {
        // Built only once a value is replaced: most queries hide nothing.
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut at = 0;
        for pair in text.split(|&b| b == b'&') {
            let pair_start = at;
            at += pair.len() + 1;
            let Some(eq) = pair.iter().position(|&b| b == b'=') else { continue };
            if !self.is_secret_field(&form_decode(&pair[..eq])) {
                continue;
            }
            let value = form_decode(&pair[eq + 1..]);
            if value.is_empty() || is_pseudonym(&value) {
                continue;
            }
            let out = out.get_or_insert_with(|| Vec::with_capacity(text.len() + 16));
            let value_start = pair_start + eq + 1;
            out.extend_from_slice(&text[copied..value_start]);
            out.extend_from_slice(self.pseudonym(&value).as_bytes());
            copied = pair_start + pair.len();
        }
        let mut out = out?;
        out.extend_from_slice(&text[copied..]);
        Some(out)
    }
}

impl Redactor {
    /// A multipart body with each secret-named part's content replaced,
    /// and JSON and form parts redacted as bodies; `None` if unchanged.
    fn redact_multipart(&self, body: &[u8], boundary: &[u8]) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        for part in multipart::parts(body, boundary) {
            let content = &body[part.content.clone()];
            let replaced = if part.name.is_some_and(|n| self.is_secret_field(n)) {
                let value = trim(content);
                (!value.is_empty() && !is_pseudonym(value))
                    .then(|| self.pseudonym(value).into_bytes())
            } else if multipart::is_json(part.content_type) {
                self.redact_json(content)
            } else if multipart::is_form(part.content_type) {
                self.redact_form(content)
            } else {
                None
            };
            let Some(replaced) = replaced else { continue };
            let out = out.get_or_insert_with(|| Vec::with_capacity(body.len() + 16));
            out.extend_from_slice(&body[copied..part.content.start]);
            out.extend_from_slice(&replaced);
            copied = part.content.end;
        }
        let mut out = out?;
        out.extend_from_slice(&body[copied..]);
        Some(out)
    }
}

/// Decodes the request and response bodies of `exchange` that travelled
/// gzip, deflate or br (see [`decode_body`]); a body in an encoding that
/// cannot be read, and so cannot be redacted, is not kept: its bytes are
/// dropped (its length stays) and a [`BODY_NOT_KEPT`] header says why.
/// True if anything changed.
pub fn decode_bodies(exchange: &mut Exchange) -> bool {
    let request = &mut exchange.request;
    let mut changed = decode_or_drop(&mut request.headers, &mut request.body);
    if let Some(response) = exchange.response.as_mut() {
        changed |= decode_or_drop(&mut response.headers, &mut response.body);
    }
    changed
}

fn decode_or_drop(headers: &mut Headers, body: &mut Body) -> bool {
    match decode_body(headers, body) {
        DecodeOutcome::Plain => false,
        DecodeOutcome::Decoded | DecodeOutcome::AlreadyDecoded => true,
        DecodeOutcome::Opaque => {
            let encoding = headers.get_str("content-encoding").unwrap_or("?").to_string();
            body.bytes.clear();
            body.truncated = true;
            headers.push(
                BODY_NOT_KEPT,
                format!("content-encoding {encoding} cannot be decoded, so not redacted"),
            );
            true
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `value` is a pseudonym: `~r:` and 16 lower-case hex digits.
pub fn is_pseudonym(value: &[u8]) -> bool {
    value.len() == PSEUDONYM_PREFIX.len() + 16
        && value.starts_with(PSEUDONYM_PREFIX.as_bytes())
        && value[PSEUDONYM_PREFIX.len()..].iter().all(|b| HEX.contains(b))
}

fn ends_with_ignore_case(haystack: &[u8], suffix: &[u8]) -> bool {
    haystack.len() >= suffix.len()
        && haystack[haystack.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The credential of an `Authorization` value: what follows the scheme
/// (`Bearer abc` → `abc`), or the whole value when there is no scheme.
pub(crate) fn credential(value: &[u8]) -> &[u8] {
    &value[credential_range(value)]
}

/// Where the credential lies in an `Authorization` value.
fn credential_range(value: &[u8]) -> std::ops::Range<usize> {
    let is_space = |b: &u8| b.is_ascii_whitespace();
    let start = value.iter().position(|b| !is_space(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_space(b)).map_or(start, |p| p + 1);
    match value[start..end].iter().position(is_space) {
        Some(gap) => {
            let after = start + gap;
            let cred =
                value[after..end].iter().position(|b| !is_space(b)).map_or(end, |p| after + p);
            cred..end
        }
        None => start..end,
    }
}

pub(crate) fn trim(v: &[u8]) -> &[u8] {
    let v = trim_start(v);
    let end = v.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |p| p + 1);
    &v[..end]
}

fn trim_start(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(v.len());
    &v[start..]
}

fn looks_like_json(bytes: &[u8]) -> bool {
    matches!(trim_start(crate::record::strip_bom(bytes)).first(), Some(b'{') | Some(b'['))
}

/// Decodes one `application/x-www-form-urlencoded` name or value; borrowed
/// when there is nothing to decode.
fn form_decode(s: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !s.iter().any(|&b| b == b'+' || b == b'%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => match (s.get(i + 1).and_then(hex_val), s.get(i + 2).and_then(hex_val)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

fn hex_val(b: &u8) -> Option<u8> {
    match *b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `redact_form` as it was written before it built its output lazily.
    fn form_as_defined(r: &Redactor, text: &[u8]) -> Option<Vec<u8>> {
        let decode = |s: &[u8]| form_decode(s).into_owned();
        let mut out = Vec::new();
        let mut changed = false;
        for (n, pair) in text.split(|&b| b == b'&').enumerate() {
            if n > 0 {
                out.push(b'&');
            }
            if let Some(eq) = pair.iter().position(|&b| b == b'=') {
                let value = decode(&pair[eq + 1..]);
                if is_secret_name(&decode(&pair[..eq]))
                    && !value.is_empty()
                    && !is_pseudonym(&value)
                {
                    out.extend_from_slice(&pair[..=eq]);
                    out.extend_from_slice(r.pseudonym(&value).as_bytes());
                    changed = true;
                    continue;
                }
            }
            out.extend_from_slice(pair);
        }
        changed.then_some(out)
    }

    #[test]
    fn forms_are_redacted_as_defined() {
        let r = Redactor::new(&[1u8; 32]);
        let p = r.pseudonym(b"x");
        for text in [
            "",
            "a=1",
            "password=x",
            "a=1&password=x&b=2",
            "password=x&token=y",
            "&&password=x&",
            "password=",
            "password",
            "pass%77ord=x",
            "pass+word=x",
            "password=x%20y+z&a",
            "user=a&password=&token=t",
            "=x",
            "a=b=c&password=x=y",
            &format!("password={p}"),
            "expand=items&page=2",
            "api_key=k&apikey=k&API-KEY=k&q=1",
        ] {
            assert_eq!(
                r.redact_form(text.as_bytes()),
                form_as_defined(&r, text.as_bytes()),
                "{text}"
            );
        }
        assert_eq!(&*form_decode(b"a+b%41%zz%4"), b"a bA%zz%4");
        assert!(matches!(form_decode(b"plain"), std::borrow::Cow::Borrowed(_)));
    }

    /// `redact_json` as it was before it skipped bodies without a secret
    /// word.
    fn json_as_defined(r: &Redactor, text: &[u8]) -> Option<Vec<u8>> {
        rewrite_scalars(text, |scalar| {
            let secret = scalar.field.is_some_and(is_secret_name);
            if !secret || (scalar.is_string && is_pseudonym(&scalar.value)) {
                return None;
            }
            Some(r.pseudonym(&scalar.value))
        })
    }

    #[test]
    fn json_is_redacted_as_defined() {
        let r = Redactor::new(&[1u8; 32]);
        for text in [
            r#"{"id":"o_7f3k2m","status":"paid","amount":4200,"items":[{"sku":"A-1"}]}"#,
            r#"{"password":"pw","nested":{"api_key":12,"list":["a"]}}"#,
            r#"{"pass\u0077ord":"pw"}"#,
            r#"{"note":"my password is pw"}"#,
            r#"{"Token":["a","b"],"x":1}"#,
            r#"{"secret":"cut short"#,
            r#"["password","token"]"#,
            "",
            "password",
        ] {
            assert_eq!(
                r.redact_json(text.as_bytes()),
                json_as_defined(&r, text.as_bytes()),
                "{text}"
            );
        }
    }

    #[test]
    fn remembered_pseudonyms_are_the_keyed_ones_and_stay_bounded() {
        let r = Redactor::new(&[1u8; 32]);
        let other = Redactor::new(&[2u8; 32]);
        for n in 0..(MEMO_LIMIT * 2 + 3) {
            let secret = format!("secret-{}", n % (MEMO_LIMIT + 7));
            let p = r.pseudonym(secret.as_bytes());
            assert_eq!(p, r.keyed_pseudonym(secret.as_bytes()), "{secret}");
            assert_ne!(p, other.pseudonym(secret.as_bytes()), "another store's key");
        }
        assert!(r.memo.lock().unwrap().len() <= MEMO_LIMIT);
    }

    #[test]
    fn everything_inside_a_secret_field_is_redacted_whatever_its_type() {
        let r = Redactor::new(&[1u8; 32]);
        let text = br#"{"id":"o1","secret":{"inner":"x","n":5,"on":true,"list":["a",{"b":"c"}]}}"#;
        let got = String::from_utf8(r.redact_json(text).unwrap()).unwrap();
        let p = |v: &[u8]| r.pseudonym(v);
        let want = format!(
            r#"{{"id":"o1","secret":{{"inner":"{}","n":"{}","on":true,"list":["{}",{{"b":"{}"}}]}}}}"#,
            p(b"x"),
            p(b"5"),
            p(b"a"),
            p(b"c")
        );
        assert_eq!(got, want);
    }

    #[test]
    fn multipart_parts_named_secret_and_json_parts_are_redacted() {
        let r = Redactor::new(&[1u8; 32]);
        let mut headers = Headers::default();
        headers.push("Content-Type", "multipart/form-data; boundary=XyZ");
        let text = "--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nann\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"pwd\"\r\n\r\nhunter2\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\n\
                    Content-Type: application/json\r\n\r\n{\"token\":\"t1\"}\r\n--XyZ--\r\n";
        let mut body = Body::complete(text);
        assert!(r.redact_body(&headers, &mut body));
        let got = String::from_utf8(body.bytes).unwrap();
        assert!(!got.contains("hunter2") && !got.contains("t1"), "{got}");
        assert!(got.contains(&r.pseudonym(b"hunter2")) && got.contains(&r.pseudonym(b"t1")));
        assert!(got.contains("\r\n\r\nann\r\n--XyZ\r\n"), "other parts as they were: {got}");
        assert!(got.ends_with("--XyZ--\r\n"));
    }

    #[test]
    fn declared_fields_and_headers_are_redacted_too() {
        let extra = ExtraNames::new(&["birth_date".into()], &["X-Tenant".into()]);
        let r = Redactor::new(&[1u8; 32]).with_extra_names(extra);
        let got = r.redact_json(br#"{"birth_date":"1990-01-01","name":"ann"}"#).unwrap();
        assert_eq!(
            got,
            format!(r#"{{"birth_date":"{}","name":"ann"}}"#, r.pseudonym(b"1990-01-01"))
                .into_bytes()
        );
        assert_eq!(
            r.redact_form(b"birth_date=1990").unwrap(),
            format!("birth_date={}", r.pseudonym(b"1990")).into_bytes()
        );
        assert!(r.redact_header_value("x-tenant", b"acme").is_some());
        assert!(Redactor::new(&[1u8; 32]).redact_header_value("x-tenant", b"acme").is_none());
    }

    /// A `POST /login` without headers, body or answer.
    fn posted() -> Exchange {
        Exchange {
            id: crate::ExchangeId::default(),
            session: crate::SessionKey::default(),
            started_at: 0,
            duration_ns: 0,
            client: None,
            request: crate::Request {
                method: "POST".into(),
                url: "/login".into(),
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::default(),
            },
            response: None,
            error: None,
        }
    }

    #[test]
    fn a_gzip_body_is_stored_decoded_and_redacted() {
        use std::io::Write as _;
        let r = Redactor::new(&[1u8; 32]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(br#"{"password":"hunter2"}"#).unwrap();
        let mut exchange = posted();
        exchange.request.headers.push("Content-Type", "application/json");
        exchange.request.headers.push("Content-Encoding", "gzip");
        exchange.request.body = Body::complete(gz.finish().unwrap());
        assert!(r.redact_exchange(&mut exchange));
        let want = format!(r#"{{"password":"{}"}}"#, r.pseudonym(b"hunter2"));
        assert_eq!(exchange.request.body.bytes, want.into_bytes());
        assert_eq!(exchange.request.headers.get_str(DECODED_FROM), Some("gzip"));
        // Bytes in an encoding that cannot be read are not kept.
        let mut exchange = posted();
        exchange.request.headers.push("Content-Encoding", "zstd");
        exchange.request.body = Body::complete(vec![0x28, 0xb5, 0x2f, 0xfd, 0xff, 0x00]);
        assert!(r.redact_exchange(&mut exchange));
        assert!(exchange.request.body.bytes.is_empty());
        assert_eq!(exchange.request.body.original_len, 6);
        assert!(exchange.request.headers.get_str(BODY_NOT_KEPT).unwrap().contains("zstd"));
    }

    #[test]
    fn header_values_are_redacted_whatever_the_case_of_the_name() {
        let r = Redactor::new(&[1u8; 32]);
        let token = r.pseudonym(b"t0k");
        for name in ["Authorization", "authorization", "PROXY-AUTHORIZATION"] {
            let got = r.redact_header_value(name, b"Bearer t0k").unwrap();
            assert_eq!(got, format!("Bearer {token}").into_bytes(), "{name}");
        }
        for name in ["Cookie", "COOKIE"] {
            let got = r.redact_header_value(name, b"sid=t0k; theme=dark").unwrap();
            let want = format!("sid={token}; theme={}", r.pseudonym(b"dark"));
            assert_eq!(got, want.into_bytes(), "{name}");
        }
        let got = r.redact_header_value("Set-Cookie", b"sid=t0k; Path=/").unwrap();
        assert_eq!(got, format!("sid={token}; Path=/").into_bytes());
        let got = r.redact_header_value("LOCATION", b"/cb?code=1&access_token=t0k").unwrap();
        assert_eq!(got, format!("/cb?code=1&access_token={token}").into_bytes());
        assert_eq!(r.redact_header_value("X-Api-Key", b" t0k ").unwrap(), token.as_bytes());
        assert_eq!(r.redact_header_value("WWW-Authenticate", b"Bearer realm=x"), None);
        assert_eq!(r.redact_header_value("Content-Type", b"application/json"), None);
    }

    #[test]
    fn bodies_are_recognised_whatever_the_case_of_the_content_type() {
        let r = Redactor::new(&[1u8; 32]);
        let mut headers = Headers::default();
        headers.push("content-type", "Application/X-WWW-Form-URLEncoded; charset=UTF-8");
        let mut body = Body::complete("user=a&password=pw");
        assert!(r.redact_body(&headers, &mut body));
        assert_eq!(body.bytes, format!("user=a&password={}", r.pseudonym(b"pw")).into_bytes());
        let mut headers = Headers::default();
        headers.push("Content-Type", "application/vnd.API+JSON");
        let mut body = Body::complete(" \"password\"");
        assert!(!r.redact_body(&headers, &mut body), "a JSON string, no field: nothing to hide");
        let mut body = Body::complete("{\"Password\":\"pw\"}");
        assert!(r.redact_body(&headers, &mut body));
        assert_eq!(body.bytes, format!("{{\"Password\":\"{}\"}}", r.pseudonym(b"pw")).into_bytes());
    }
}
