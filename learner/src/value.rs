//! What a single value looks like: an id (number, UUID, hex, random token),
//! a word, a timestamp. Templating, shapes, links and volatility all rest on
//! this one classification, so they agree with each other.

use serde::{Deserialize, Serialize};

/// The look of one value, most specific first.
///
/// `Number`, `Uuid`, `Hex` and `Token` are id-like: a path segment of those
/// kinds is a parameter even when seen once, because an id must never leak
/// into a template. `Slug` is a word that became a parameter because it had
/// too many values or an earlier response produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueKind {
    /// Decimal digits only: `17`, `2024`.
    Number,
    /// `8-4-4-4-12` hex digits.
    Uuid,
    /// Eight or more hex digits mixing digits and letters (object ids, hashes).
    Hex,
    /// Random-looking: letters and digits mixed (`ord_k3j5x9a2`), or a
    /// redaction pseudonym (`~r:3fa9c2d1e0b47a55`).
    Token,
    /// A word-like value that behaves as a parameter.
    Slug,
    /// An RFC 3339 or HTTP date.
    Timestamp,
    /// Anything else: words, sentences, emails.
    Text,
}

impl ValueKind {
    /// Whether a value of this kind identifies something rather than saying something.
    pub fn is_id_like(self) -> bool {
        matches!(self, ValueKind::Number | ValueKind::Uuid | ValueKind::Hex | ValueKind::Token)
    }

    /// The kebab-case name used in the model and in OpenAPI formats.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Number => "number",
            ValueKind::Uuid => "uuid",
            ValueKind::Hex => "hex",
            ValueKind::Token => "token",
            ValueKind::Slug => "slug",
            ValueKind::Timestamp => "timestamp",
            ValueKind::Text => "text",
        }
    }

    /// Index into a per-kind counter array.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Every kind, in counter-array order.
    pub(crate) const ALL: [ValueKind; 7] = [
        ValueKind::Number,
        ValueKind::Uuid,
        ValueKind::Hex,
        ValueKind::Token,
        ValueKind::Slug,
        ValueKind::Timestamp,
        ValueKind::Text,
    ];
}

/// Classifies one string value. Never `Slug`: that is decided by position.
pub fn classify(value: &str) -> ValueKind {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return ValueKind::Text;
    }
    if bytes.len() <= 20 && bytes.iter().all(u8::is_ascii_digit) {
        return ValueKind::Number;
    }
    if is_uuid(bytes) {
        return ValueKind::Uuid;
    }
    if is_timestamp(bytes) {
        return ValueKind::Timestamp;
    }
    if bytes.len() >= 8
        && bytes.iter().all(u8::is_ascii_hexdigit)
        && bytes.iter().any(u8::is_ascii_digit)
        && bytes.iter().any(u8::is_ascii_alphabetic)
    {
        return ValueKind::Hex;
    }
    if is_token(value) {
        return ValueKind::Token;
    }
    ValueKind::Text
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `2024-05-01T10:00:00Z`-like or `Tue, 15 Nov 1994 08:12:31 GMT`-like.
fn is_timestamp(b: &[u8]) -> bool {
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let date = b.len() == 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    let rfc3339 = b.len() >= 16
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b' ')
        && digits(11..13)
        && b[13] == b':';
    let http_date = b.len() >= 25
        && b[0].is_ascii_uppercase()
        && b[3] == b','
        && b[4] == b' '
        && digits(5..7)
        && b.ends_with(b"GMT");
    date || rfc3339 || http_date
}

/// Random-looking identifiers: a pseudonym, or (after an optional short
/// `prefix_`) six or more alphanumerics with at least two digits and a
/// letter, or a long run with digits such as base64 or JWT-ish tokens.
fn is_token(value: &str) -> bool {
    if value.starts_with("~r:") {
        return true;
    }
    let (prefixed, core) = match value.find(['_', '-']) {
        Some(i) if (1..=6).contains(&i) && value[..i].bytes().all(|c| c.is_ascii_alphabetic()) => {
            (true, &value[i + 1..])
        }
        _ => (false, value),
    };
    let alnum = core.bytes().all(|c| c.is_ascii_alphanumeric());
    let digits = core.bytes().filter(u8::is_ascii_digit).count();
    let letters = core.bytes().filter(u8::is_ascii_alphabetic).count();
    if alnum && core.len() >= 6 && digits >= 2 && letters >= 1 {
        return true;
    }
    // `ord_` + random base32 (`ord_kqzxwv3abmtp`): a typed id whose random
    // part happens to hold one digit or none, told from words by the
    // consonant runs that words do not have.
    if prefixed && alnum && core.len() >= 8 && (digits >= 1 || longest_consonant_run(core) >= 4) {
        return true;
    }
    let tokenish = core.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_.=+/".contains(&c));
    tokenish && core.len() >= 20 && digits >= 1 && letters >= 1
}

fn longest_consonant_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.bytes() {
        if c.is_ascii_alphabetic() && !b"aeiouyAEIOUY".contains(&c) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Whether a word could be an enum value (a state name): short, no spaces,
/// letters first.
pub fn is_enum_word(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 40
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        && classify(value) == ValueKind::Text
}

/// Whether a JSON field name says "this identifies something": its values
/// are worth linking even when they look like plain words or small numbers.
pub fn is_id_name(name: &str) -> bool {
    const EXACT: [&str; 16] = [
        "id",
        "uuid",
        "guid",
        "key",
        "slug",
        "token",
        "sid",
        "session",
        "handle",
        "username",
        "login",
        "ref",
        "reference",
        "code",
        "number",
        "etag",
    ];
    const SUFFIXES: [&str; 9] =
        ["_id", "-id", "_key", "_token", "_uuid", "_slug", "_ref", "_number", "_ids"];
    let ends_with_ci = |suffix: &str| {
        name.len() >= suffix.len()
            && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    EXACT.iter().any(|e| name.eq_ignore_ascii_case(e))
        || SUFFIXES.iter().any(|s| ends_with_ci(s))
        || (name.ends_with("Id") && name.len() > 2)
        || (name.ends_with("Token") && name.len() > 5)
        || (name.ends_with("Key") && name.len() > 3)
}

/// `orders` → `order`, `categories` → `category`, `order-items` → `order_item`:
/// parameter names come from the collection before them.
pub fn singular(word: &str) -> String {
    let w: String = word
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let stem = singular_word(w.trim_matches('_'));
    if stem.is_empty() {
        "id".to_string()
    } else {
        stem
    }
}

/// The singular of one English plural, its case kept: `orders` → `order`,
/// `categories` → `category`, `addresses` → `address`, `boxes` → `box`,
/// `statuses` → `status`. A word that does not end in a plural `s`
/// (`people`, `status`, `access`, `series`) stays as it is.
///
/// The one rule for naming by resource: path parameters (`{order_id}`),
/// resource singulars and the replayer's invariant variables all use it.
pub fn singular_word(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    // Words that end like plurals but are not, or are their own plural.
    const STAYS: &[&str] = &["series", "species", "news", "status", "bus", "alias"];
    const IRREGULAR: &[(&str, &str)] =
        &[("statuses", "status"), ("buses", "bus"), ("aliases", "alias"), ("indices", "index")];
    if STAYS.contains(&lower.as_str()) {
        return word.to_string();
    }
    if let Some((_, one)) = IRREGULAR.iter().find(|(many, _)| *many == lower) {
        return keep_case(word, one);
    }
    let stem = |n: usize| word[..word.len() - n].to_string();
    if lower.len() > 3 && lower.ends_with("ies") {
        let y = if word.ends_with("IES") { "Y" } else { "y" };
        return stem(3) + y;
    }
    for suffix in ["sses", "shes", "ches", "xes", "zzes"] {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            return stem(2);
        }
    }
    if lower.ends_with("ss") || lower.ends_with("us") || lower.ends_with("is") {
        return word.to_string();
    }
    if lower.len() > 1 && lower.ends_with('s') {
        return stem(1);
    }
    word.to_string()
}

/// `replacement` in upper case when `original` was written all in capitals.
fn keep_case(original: &str, replacement: &str) -> String {
    if original.chars().all(|c| !c.is_ascii_lowercase()) {
        replacement.to_ascii_uppercase()
    } else {
        replacement.to_string()
    }
}

/// Appends one JSON pointer token, escaped per RFC 6901.
pub(crate) fn push_pointer(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// A scalar JSON leaf worth comparing: strings and integers, as text.
pub(crate) fn leaf_text(value: &serde_json::Value) -> Option<std::borrow::Cow<'_, str>> {
    match value {
        serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
            Some(std::borrow::Cow::Owned(n.to_string()))
        }
        _ => None,
    }
}

/// One step into a JSON document.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Where a leaf sits, kept as borrowed steps so that pointers are only
/// rendered for the few leaves that matter.
#[derive(Debug, Default)]
pub(crate) struct JsonPath<'a> {
    segs: Vec<Seg<'a>>,
}

impl<'a> JsonPath<'a> {
    /// The member name the leaf (or its enclosing array) sits under.
    pub(crate) fn key(&self) -> &'a str {
        self.segs
            .iter()
            .rev()
            .find_map(|s| match s {
                Seg::Key(k) => Some(*k),
                Seg::Index(_) => None,
            })
            .unwrap_or("")
    }

    /// The RFC 6901 pointer with array indexes: `/items/3/id`.
    pub(crate) fn exact(&self) -> String {
        self.render(false)
    }

    /// The pointer with `*` for any array index: `/items/*/id`.
    pub(crate) fn general(&self) -> String {
        self.render(true)
    }

    /// Whether the leaf is inside an array (exact and general differ).
    pub(crate) fn in_array(&self) -> bool {
        self.segs.iter().any(|s| matches!(s, Seg::Index(_)))
    }

    fn render(&self, general: bool) -> String {
        let mut out = String::new();
        for seg in &self.segs {
            match seg {
                Seg::Key(k) => push_pointer(&mut out, k),
                Seg::Index(_) if general => out.push_str("/*"),
                Seg::Index(i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        out
    }
}

/// Calls `visit(path, value)` for every scalar leaf of `value`, depth first
/// in document order. Depth and array lengths are capped so a hostile body
/// cannot blow the stack or the time budget.
pub(crate) fn walk_leaves<'a>(
    value: &'a serde_json::Value,
    visit: &mut dyn FnMut(&JsonPath<'a>, &'a serde_json::Value),
) {
    fn go<'a>(
        value: &'a serde_json::Value,
        path: &mut JsonPath<'a>,
        visit: &mut dyn FnMut(&JsonPath<'a>, &'a serde_json::Value),
    ) {
        if path.segs.len() > 32 {
            return;
        }
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    path.segs.push(Seg::Key(k));
                    go(v, path, visit);
                    path.segs.pop();
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate().take(1000) {
                    path.segs.push(Seg::Index(i));
                    go(v, path, visit);
                    path.segs.pop();
                }
            }
            leaf => visit(path, leaf),
        }
    }
    go(value, &mut JsonPath::default(), visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_told_from_words() {
        assert_eq!(classify("17"), ValueKind::Number);
        assert_eq!(classify("3f2b8c1e-9d4a-4b6e-8f00-1a2b3c4d5e6f"), ValueKind::Uuid);
        assert_eq!(classify("507f1f77bcf86cd799439011"), ValueKind::Hex);
        assert_eq!(classify("ord_k3j5x9a2"), ValueKind::Token);
        assert_eq!(classify("ord_kqzxwvabmtpe"), ValueKind::Token);
        assert_eq!(classify("ord_abcdefgh2jkl"), ValueKind::Token);
        assert_eq!(classify("user_settings"), ValueKind::Text);
        assert_eq!(classify("~r:3fa9c2d1e0b47a55"), ValueKind::Token);
        assert_eq!(classify("2024-05-01T10:00:00Z"), ValueKind::Timestamp);
        for word in ["orders", "pending", "red-shoes", "v1", "api", "oauth2", "html5", "deadbeef"] {
            assert_eq!(classify(word), ValueKind::Text, "{word}");
        }
    }

    #[test]
    fn collections_become_singular_names() {
        assert_eq!(singular("orders"), "order");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("order-items"), "order_item");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("statuses"), "status");
        assert_eq!(singular("sizes"), "size");
        assert_eq!(singular("series"), "series");
    }

    #[test]
    fn pointers_escape_slash_and_tilde() {
        let mut p = String::new();
        push_pointer(&mut p, "a/b~c");
        assert_eq!(p, "/a~1b~0c");
    }
}
