//! Sessions: which user journey an exchange belongs to.
//!
//! A [`SessionRules`] list (`--session-by header:x-session,client`) is tried
//! in order; the first rule that finds a value names the session:
//! `x-session:s-17`, `authorization:~r:3fa9c2d1e0b47a55`, `cookie:sid=~r:…`,
//! `client:127.0.0.1`. Values the redactor would hide are pseudonymised here
//! too (when redaction is on), so a session key never carries a secret.
//!
//! A rule matches by the request first, then by *claim*: a token or cookie
//! rule also takes the exchange whose response issued that token or cookie
//! (the login answering `Set-Cookie: sid=…` or `{"token": "…"}`), so that a
//! journey starts at its sign-in and not one step later.
//!
//! The same key seen again after more than the idle gap starts a new session:
//! `key#2`, `key#3`, … The store keeps the last time and generation of each
//! key, so a new `record` run continues where the previous one stopped.
//!
//! ```
//! use venomqa_traffic::SessionRules;
//! let rules: SessionRules = "header:X-Session,cookie:sid,client".parse().unwrap();
//! assert_eq!(rules.to_string(), "header:x-session,cookie:sid,client");
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::jsonscan::rewrite_scalars;
use crate::redact::{credential, is_secret_header, trim};
use crate::{Error, Exchange, Headers, Redactor};

/// The rules used when none are given.
pub const DEFAULT_SESSION_RULES: &str =
    "header:x-session,header:authorization,cookie:*,header:x-api-key,client";

/// How long a key may stay quiet before its next exchange starts a new session.
pub const DEFAULT_IDLE_GAP: Duration = Duration::from_secs(30 * 60);

/// The key of exchanges that no rule matched (no header, cookie or client).
pub const UNMATCHED_SESSION: &str = "unmatched";

/// One way of telling journeys apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionRule {
    /// The value of a request header (name kept in lower case).
    Header(String),
    /// The value of a request cookie (names are case-sensitive).
    Cookie(String),
    /// `cookie:*`: the value of the first request cookie named like a
    /// server-side session (`sid`, `sessionid`, `connect.sid`,
    /// `JSESSIONID`, `PHPSESSID`, `_app_session`, ...).
    SessionCookie,
    /// The client's IP address, without its port.
    Client,
}

/// Rules tried in order until one finds a value; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRules {
    rules: Vec<SessionRule>,
    /// Per rule, whether it names a secret header: asked once here rather
    /// than of every exchange (the writer keys each one).
    secret: Vec<bool>,
}

impl SessionRules {
    /// A list of rules; `None` when it is empty.
    pub fn new(rules: Vec<SessionRule>) -> Option<Self> {
        (!rules.is_empty()).then(|| SessionRules::of(rules))
    }

    fn of(rules: Vec<SessionRule>) -> Self {
        let secret = rules
            .iter()
            .map(|rule| matches!(rule, SessionRule::Header(name) if is_secret_header(name)))
            .collect();
        SessionRules { rules, secret }
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[SessionRule] {
        &self.rules
    }

    /// The session key of `exchange` before any idle-gap suffix; secret
    /// values become pseudonyms when a redactor is given.
    pub fn base_key(&self, exchange: &Exchange, redactor: Option<&Redactor>) -> String {
        for (rule, &secret) in self.rules.iter().zip(&self.secret) {
            if let Some(key) = rule.request_key(exchange, secret, redactor) {
                return key;
            }
            if let Some(key) = rule.claim_key(exchange, secret, redactor) {
                return key;
            }
        }
        UNMATCHED_SESSION.to_string()
    }
}

impl Default for SessionRules {
    fn default() -> Self {
        SessionRules::of(vec![
            SessionRule::Header("x-session".into()),
            SessionRule::Header("authorization".into()),
            SessionRule::SessionCookie,
            // A key of the user's own, after cookies: a browser app may send
            // one key for all its users beside each user's session cookie.
            SessionRule::Header("x-api-key".into()),
            SessionRule::Client,
        ])
    }
}

impl SessionRule {
    /// The key this rule gives from the request, if the request has a value.
    /// `secret`: the rule's header is a secret one.
    fn request_key(
        &self,
        exchange: &Exchange,
        secret: bool,
        redactor: Option<&Redactor>,
    ) -> Option<String> {
        let headers = &exchange.request.headers;
        match self {
            SessionRule::Header(name) => {
                let value = header_value(headers, name)?;
                Some(header_key(name, value, secret, redactor))
            }
            SessionRule::Cookie(_) | SessionRule::SessionCookie => {
                let (name, value) = headers.get_all("cookie").find_map(|line| {
                    line.split(|&b| b == b';').find_map(|pair| self.cookie_of(pair))
                })?;
                Some(cookie_key(name, value, redactor))
            }
            SessionRule::Client => {
                let client = exchange.client.as_deref()?;
                Some(["client:", &client_ip(client)].concat())
            }
        }
    }

    /// The key this rule gives from what the response issued: a `Set-Cookie`
    /// for a cookie rule; for a header rule the same header in the response
    /// or, for a credential header, a token field of a JSON body.
    fn claim_key(
        &self,
        exchange: &Exchange,
        secret: bool,
        redactor: Option<&Redactor>,
    ) -> Option<String> {
        let response = exchange.response.as_ref()?;
        match self {
            SessionRule::Header(name) => {
                if let Some(value) = header_value(&response.headers, name) {
                    return Some(header_key(name, value, secret, redactor));
                }
                if !is_credential_header(name, secret) {
                    return None;
                }
                let token = json_token(&response.body.bytes)?;
                Some(header_key(name, &token, secret, redactor))
            }
            SessionRule::Cookie(_) | SessionRule::SessionCookie => {
                let (name, value) = response.headers.get_all("set-cookie").find_map(|line| {
                    self.cookie_of(line.split(|&b| b == b';').next().unwrap_or(line))
                })?;
                Some(cookie_key(name, value, redactor))
            }
            SessionRule::Client => None,
        }
    }

    /// The name and value of a cookie `pair` (`name=value`, spaces allowed)
    /// this cookie rule keys by: the named one, or for `cookie:*` one named
    /// like a session.
    fn cookie_of<'a>(&self, pair: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (name, value) = (trim(&pair[..eq]), trim(&pair[eq + 1..]));
        let wanted = match self {
            SessionRule::Cookie(wanted) => name == wanted.as_bytes(),
            SessionRule::SessionCookie => is_session_cookie_name(name),
            SessionRule::Header(_) | SessionRule::Client => false,
        };
        (wanted && !value.is_empty()).then_some((name, value))
    }
}

/// `name:value` of a header rule, the value pseudonymised when it is a secret.
fn header_key(name: &str, value: &[u8], secret: bool, redactor: Option<&Redactor>) -> String {
    // Once an exchange in the writer: pieces joined, not formatted.
    let value = match redactor {
        Some(r) if secret => r.pseudonym(value),
        _ => String::from_utf8_lossy(value).into_owned(),
    };
    [name, ":", &value].concat()
}

/// `cookie:NAME=value`, the value pseudonymised (a cookie is a secret).
fn cookie_key(name: &[u8], value: &[u8], redactor: Option<&Redactor>) -> String {
    let value = match redactor {
        Some(r) => r.pseudonym(value),
        None => String::from_utf8_lossy(value).into_owned(),
    };
    ["cookie:", &String::from_utf8_lossy(name), "=", &value].concat()
}

/// The first non-empty value of a header; for `Authorization`-like headers
/// the credential after the scheme, so `Bearer X` keys like a JSON token `X`.
fn header_value<'a>(headers: &'a Headers, name: &str) -> Option<&'a [u8]> {
    let value = trim(headers.get(name)?);
    let value = if name.ends_with("authorization") { credential(value) } else { value };
    (!value.is_empty()).then_some(value)
}

/// Whether a cookie's name is one frameworks give their session cookie:
/// `sid`, `session`, `sessionid` (Django), `connect.sid` (Express),
/// `JSESSIONID` (Java), `PHPSESSID`, `ASP.NET_SessionId`,
/// `_app_session` (Rails), `laravel_session`, `koa.sess`. Any case, and
/// no allocation: the writer asks it of every cookie no earlier rule took.
fn is_session_cookie_name(name: &[u8]) -> bool {
    const NAMES: [&[u8]; 5] = [b"sid", b"sess", b"session", b"session_id", b"phpsessid"];
    const ENDINGS: [&[u8]; 8] =
        [b"sessionid", b"_session", b"-session", b".session", b".sid", b"_sid", b".sess", b":sess"];
    let ends_with =
        |e: &[u8]| name.len() >= e.len() && name[name.len() - e.len()..].eq_ignore_ascii_case(e);
    NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)) || ENDINGS.iter().any(|e| ends_with(e))
}

/// Headers that carry a credential a login hands out in its JSON body
/// (`secret`: the header is a secret one).
fn is_credential_header(name: &str, secret: bool) -> bool {
    secret && name != "cookie" && name != "set-cookie"
}

/// Field names (lower case, without `_` and `-`) that hold a bearer token.
const TOKEN_FIELDS: &[&str] =
    &["token", "accesstoken", "idtoken", "jwt", "authtoken", "bearertoken", "sessiontoken"];

/// The first string field named like a bearer token in a JSON body.
fn json_token(body: &[u8]) -> Option<Vec<u8>> {
    // Every body the proxy sees comes here when no rule matched the request:
    // skip the scan when no field can be a token field. Without escapes the
    // fields are the text itself, and each of those names holds `token` or
    // `jwt`, perhaps spread by `_` and `-`.
    if !body.contains(&b'\\')
        && !contains_squeezed(body, b"token")
        && !contains_squeezed(body, b"jwt")
    {
        return None;
    }
    let mut found = None;
    rewrite_scalars(body, |scalar| {
        if found.is_none() && scalar.is_string && !scalar.value.is_empty() {
            let field = scalar.field.unwrap_or_default();
            if TOKEN_FIELDS.iter().any(|name| squeezed_eq(field, name.as_bytes())) {
                found = Some(scalar.value.to_vec());
            }
        }
        None
    });
    found
}

/// `field` without `_` and `-`, in lower case, is `name`.
fn squeezed_eq(field: &[u8], name: &[u8]) -> bool {
    let mut squeezed =
        field.iter().filter(|&&b| b != b'_' && b != b'-').map(u8::to_ascii_lowercase);
    name.iter().all(|&n| squeezed.next() == Some(n)) && squeezed.next().is_none()
}

/// `text` holds `word` (lower case), case ignored and `_` and `-` allowed
/// between its letters.
fn contains_squeezed(text: &[u8], word: &[u8]) -> bool {
    let Some((&first, rest)) = word.split_first() else { return true };
    text.iter().enumerate().any(|(start, &b)| {
        b.to_ascii_lowercase() == first && {
            let mut after = text[start + 1..].iter().map(u8::to_ascii_lowercase);
            rest.iter().all(|&w| loop {
                match after.next() {
                    Some(b'_' | b'-') => continue,
                    Some(b) => break b == w,
                    None => break false,
                }
            })
        }
    })
}

/// `127.0.0.1:5311` → `127.0.0.1`, `[::1]:5311` → `::1`; anything else as is.
fn client_ip(client: &str) -> String {
    // What the proxy writes for every exchange, `127.0.0.1:5311`, taken
    // apart without parsing and printing the address again.
    if let Some((ip, port)) = client.rsplit_once(':') {
        if is_canonical_ipv4(ip) && is_port(port) {
            return ip.to_owned();
        }
    }
    if let Ok(addr) = client.parse::<std::net::SocketAddr>() {
        return addr.ip().to_string();
    }
    client.to_string()
}

/// `a.b.c.d` exactly as `Ipv4Addr` prints it: four decimal numbers up to
/// 255 without leading zeros.
fn is_canonical_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        let canonical = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && !(part.len() > 1 && part.starts_with('0'))
            && part.parse::<u16>().is_ok_and(|n| n <= 255);
        if !canonical {
            return false;
        }
    }
    parts == 4
}

/// A port as `SocketAddr` parses it: decimal digits up to 65535.
fn is_port(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && text.parse::<u16>().is_ok()
}

impl FromStr for SessionRule {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || Error::SessionRule { rule: s.to_string() };
        if s.eq_ignore_ascii_case("client") {
            return Ok(SessionRule::Client);
        }
        if s.eq_ignore_ascii_case("cookie:*") {
            return Ok(SessionRule::SessionCookie);
        }
        let (kind, name) = s.split_once(':').ok_or_else(bad)?;
        let name = name.trim();
        let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        match kind.trim().to_ascii_lowercase().as_str() {
            "header" if valid && !name.contains(':') => {
                Ok(SessionRule::Header(name.to_ascii_lowercase()))
            }
            "cookie" if valid && !name.contains(['=', ';']) => Ok(SessionRule::Cookie(name.into())),
            _ => Err(bad()),
        }
    }
}

impl FromStr for SessionRules {
    type Err = Error;

    /// `header:NAME`, `cookie:NAME`, `cookie:*`, `client`, or a comma-separated list.
    fn from_str(s: &str) -> Result<Self, Error> {
        let rules = s.split(',').map(str::parse).collect::<Result<Vec<SessionRule>, Error>>()?;
        SessionRules::new(rules).ok_or_else(|| Error::SessionRule { rule: s.to_string() })
    }
}

impl fmt::Display for SessionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionRule::Header(name) => write!(f, "header:{name}"),
            SessionRule::Cookie(name) => write!(f, "cookie:{name}"),
            SessionRule::SessionCookie => f.write_str("cookie:*"),
            SessionRule::Client => f.write_str("client"),
        }
    }
}

impl fmt::Display for SessionRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, rule) in self.rules.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{rule}")?;
        }
        Ok(())
    }
}

/// Where a base key stands: when it was last seen and which `#n` it is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyState {
    pub last_seen: u64,
    pub generation: u32,
}

impl KeyState {
    pub fn encode(&self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&self.last_seen.to_be_bytes());
        out[8..].copy_from_slice(&self.generation.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<KeyState> {
        let last_seen = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let generation = u32::from_be_bytes(bytes.get(8..12)?.try_into().ok()?);
        Some(KeyState { last_seen, generation })
    }

    /// The state after seeing the key at `at`: a new generation when the
    /// key was quiet for longer than `gap_ns`. Exchanges arriving slightly
    /// out of order (a slow response finishing late) never open a session.
    pub fn advance(previous: Option<KeyState>, at: u64, gap_ns: u64) -> KeyState {
        match previous {
            None => KeyState { last_seen: at, generation: 1 },
            Some(p) if at > p.last_seen && at - p.last_seen > gap_ns => {
                KeyState { last_seen: at, generation: p.generation.saturating_add(1) }
            }
            Some(p) => KeyState { last_seen: p.last_seen.max(at), generation: p.generation },
        }
    }

    /// `base`, or `base#n` from the second generation on.
    pub fn key(&self, base: &str) -> String {
        if self.generation <= 1 {
            base.to_string()
        } else {
            format!("{base}#{}", self.generation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_address_gives_the_ip_the_slow_way_would() {
        let slow = |client: &str| match client.parse::<std::net::SocketAddr>() {
            Ok(addr) => addr.ip().to_string(),
            Err(_) => client.to_string(),
        };
        for client in [
            "127.0.0.1:5311",
            "10.0.0.255:1",
            "192.168.1.1:65535",
            "192.168.1.1:65536",
            "01.2.3.4:80",
            "1.2.3:80",
            "1.2.3.4.5:80",
            "256.1.1.1:80",
            "1.2.3.4:",
            "1.2.3.4:+80",
            "1.2.3.4",
            "[::1]:5311",
            "[0:0::1]:80",
            "[::ffff:1.2.3.4]:80",
            "shop.test:80",
            "",
            ":80",
            "0.0.0.0:0",
        ] {
            assert_eq!(client_ip(client), slow(client), "{client:?}");
        }
    }

    /// `json_token` as it was before it skipped bodies and stopped
    /// allocating a field name a scalar.
    fn json_token_as_defined(body: &[u8]) -> Option<Vec<u8>> {
        let mut found = None;
        rewrite_scalars(body, |scalar| {
            if found.is_none() && scalar.is_string && !scalar.value.is_empty() {
                let field = scalar.field.unwrap_or_default();
                let squeezed: Vec<u8> = field
                    .iter()
                    .filter(|&&b| b != b'_' && b != b'-')
                    .map(u8::to_ascii_lowercase)
                    .collect();
                if TOKEN_FIELDS.iter().any(|n| n.as_bytes() == squeezed.as_slice()) {
                    found = Some(scalar.value.to_vec());
                }
            }
            None
        });
        found
    }

    #[test]
    fn tokens_are_found_as_defined() {
        let bodies = [
            r#"{"token":"t1"}"#,
            r#"{"user":{"name":"a"},"access_token":"t2","token_type":"Bearer"}"#,
            r#"{"Access-Token":"t3"}"#,
            r#"{"tok_en":"t4"}"#,
            r#"{"t-o-k-e-n":"t5"}"#,
            r#"{"_token":"t6"}"#,
            r#"{"JWT":"t7"}"#,
            r#"{"j_w_t":"t8"}"#,
            r#"{"tokens":["a","b"]}"#,
            r#"{"id_token":""}"#,
            r#"{"id_token":42,"jwt":"t9"}"#,
            r#"{"\u0074oken":"t10"}"#,
            r#"{"session\u0074oken":"t11"}"#,
            r#"{"note":"token","id":"o-1"}"#,
            r#"{"id":"o_7f3k2m","status":"paid","amount":4200}"#,
            r#"["token","jwt"]"#,
            r#"{"token":"cut short"#,
            "",
            "not json at all, token: x",
        ];
        for body in bodies {
            assert_eq!(
                json_token(body.as_bytes()),
                json_token_as_defined(body.as_bytes()),
                "{body}"
            );
        }
        assert_eq!(json_token(br#"{"tok_en":"t4"}"#), Some(b"t4".to_vec()));
        assert_eq!(json_token(br#"{"\u0074oken":"t10"}"#), Some(b"t10".to_vec()));
    }

    #[test]
    fn squeezed_words_are_found_with_separators_and_any_case() {
        assert!(contains_squeezed(b"xx To-K_en", b"token"));
        assert!(contains_squeezed(b"jwt", b"jwt"));
        assert!(!contains_squeezed(b"tok en", b"token"));
        assert!(!contains_squeezed(b"toke", b"token"));
        assert!(!contains_squeezed(b"", b"jwt"));
        assert!(squeezed_eq(b"Access_Token", b"accesstoken"));
        assert!(!squeezed_eq(b"access_tokens", b"accesstoken"));
        assert!(!squeezed_eq(b"access", b"accesstoken"));
    }
}
