//! The reproducer's script variables: which values of a recorded sequence
//! the server produced, and splicing them into later requests as shell
//! variables extracted from the live responses.
//!
//! [`SentRequest`] records what was sent, not where each value came from, so
//! the script works that out from the recording: a value in an earlier JSON
//! response that no earlier request contained (so the server produced it: an
//! id, a token) and that looks like an identifier (a string with a digit, or
//! long; an integer, which is only matched as a whole path segment or query
//! value) is extracted from that response at run time, wherever a later
//! request used it. Everything else is sent literally as recorded — notably
//! validators and cookies that came in response *headers*, which the
//! recording does not keep. A variable is only emitted when the script's own
//! extraction (`grep`/`sed` for the first `"key": value` in the body, no
//! `jq` needed) finds the recorded value in the recorded response, so it
//! cannot pick the wrong field of the same name. The script's header says
//! which values it extracts. (The script's shell helper is still called
//! `capture`: the scripts venomqa writes stay as they were.)

use crate::oracle::finding::SentRequest;

/// Headers curl must compute itself besides the hop-by-hop ones, or that
/// would make the response unreadable to the extraction (compression), or name
/// the recorded host.
const SKIPPED_HEADERS: &[&str] = &["host", "content-length", "accept-encoding"];

/// Shell helpers emitted only when the script extracts a variable.
pub(super) const EXTRACT_FUNCTIONS: &str = r#"
# json_field FILE KEY: the value of the first "KEY": in FILE, a string without
# escapes, a number or a boolean (what venomqa checked against the recorded response).
json_field() {
  { grep -oE '"'"$2"'"[[:space:]]*:[[:space:]]*("[^"\\]*"|-?[0-9][0-9.eE+-]*|true|false)' "$1" || true; } \
    | head -n 1 | sed -E 's/^"[^"]*"[[:space:]]*:[[:space:]]*//; s/^"(.*)"$/\1/'
}
# capture FILE KEY STEP: json_field, or stop: the rest of the sequence needs it.
capture() {
  local value
  value="$(json_field "$1" "$2")"
  if [ -z "$value" ]; then
    echo "step $3: no \"$2\" in the response; cannot go on" >&2
    exit 1
  fi
  printf '%s' "$value"
}
"#;

/// A value read from step `step`'s response into shell variable `var`.
pub(super) struct ScriptVar {
    pub(super) var: String,
    pub(super) step: usize,
    pub(super) key: String,
    pub(super) value: String,
    /// An integer: matched only as a whole path segment or query value.
    pub(super) integer: bool,
}

/// A shell word being built: literal text and captured variables.
#[derive(Clone, Debug)]
pub(super) enum Piece {
    Lit(String),
    Var(String),
}

/// The parts of one request with captured values spliced in.
pub(super) struct Bound {
    pub(super) url: Vec<Piece>,
    pub(super) headers: Vec<(String, Vec<Piece>)>,
    pub(super) body: Option<Vec<Piece>>,
}

/// The URL after the base, when the URL starts with it.
fn url_rest<'a>(url: &'a str, base: &str) -> Option<&'a str> {
    if base.is_empty() {
        return None;
    }
    let rest = url.strip_prefix(base)?;
    (rest.is_empty() || rest.starts_with(['/', '?', '#'])).then_some(rest)
}

/// Every value worth capturing: produced by a response, not chosen by the
/// client, looking like an identifier or put into a later request by one of
/// the model's links (a code of letters only), and found by the script's
/// extraction.
pub(super) fn find_script_vars(requests: &[SentRequest], base: &str) -> Vec<ScriptVar> {
    let mut vars: Vec<ScriptVar> = Vec::new();
    for (j, r) in requests.iter().enumerate() {
        // The body of one of N concurrent copies is no base for later steps.
        if r.copies > 1 {
            continue;
        }
        let Some(body) = r.response_body.as_deref() else { continue };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else { continue };
        let mut scalars = Vec::new();
        collect_scalars(&json, None, &mut scalars);
        for (key, value, integer) in scalars {
            if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                || key.is_empty()
                || !(looks_like_id(&value, integer)
                    || requests[j + 1..].iter().any(|later| later.linked.contains(&value)))
                || vars.iter().any(|c| c.value == value)
                || requests[..=j].iter().any(|earlier| request_mentions(earlier, base, &value))
                || first_json_field(body, &key).as_deref() != Some(value.as_str())
            {
                continue;
            }
            let mut var = format!("S{}_", j + 1);
            var.extend(key.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            }));
            if vars.iter().any(|c| c.var == var) {
                continue;
            }
            vars.push(ScriptVar { var, step: j, key, value, integer });
        }
    }
    // Longest values first, so a value inside a longer one is not spliced into it.
    vars.sort_by(|a, b| b.value.len().cmp(&a.value.len()).then(a.step.cmp(&b.step)));
    vars
}

/// The scalar fields of a JSON document, as (key, text, is-integer), in
/// document order; array elements take the key of their array.
fn collect_scalars(
    json: &serde_json::Value,
    key: Option<&str>,
    out: &mut Vec<(String, String, bool)>,
) {
    match json {
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                collect_scalars(v, Some(k), out);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                collect_scalars(v, key, out);
            }
        }
        serde_json::Value::String(s) => {
            if let Some(k) = key {
                out.push((k.to_string(), s.clone(), false));
            }
        }
        serde_json::Value::Number(n) => {
            if let (Some(k), Some(i)) = (key, n.as_u64()) {
                out.push((k.to_string(), i.to_string(), true));
            }
        }
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

/// Identifiers and tokens, not words: an integer, or a string without
/// whitespace or quotes that has a digit or is long.
fn looks_like_id(value: &str, integer: bool) -> bool {
    if integer {
        return !value.is_empty();
    }
    let plain =
        value.len() >= 2 && !value.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\');
    plain && (value.chars().any(|c| c.is_ascii_digit()) || value.len() >= 16)
}

/// Whether a request already carried `value` (so the client chose it).
fn request_mentions(r: &SentRequest, base: &str, value: &str) -> bool {
    let url = url_rest(&r.url, base).unwrap_or(&r.url);
    contains_token(url, value)
        || r.headers.iter().any(|(_, v)| contains_token(v, value))
        || r.body.as_deref().is_some_and(|b| contains_token(b, value))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Byte ranges where `value` occurs in `text` as a whole token: not inside a
/// longer run of letters, digits, `-` and `_`.
pub(super) fn token_matches(text: &str, value: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if value.is_empty() {
        return found;
    }
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = text[from..].find(value) {
        let start = from + offset;
        let end = start + value.len();
        let before_ok = start == 0 || !is_word_byte(bytes[start - 1]);
        let after_ok = end == bytes.len() || !is_word_byte(bytes[end]);
        if before_ok && after_ok {
            found.push((start, end));
            from = end;
        } else {
            // Advance one character, staying on a char boundary.
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

fn contains_token(text: &str, value: &str) -> bool {
    !token_matches(text, value).is_empty()
}

/// What the script's `json_field` extracts from `body`: the first
/// `"key"[ \t]*:[ \t]*` followed by `"[^"\\]*"`, `-?[0-9][0-9.eE+-]*`, `true` or `false`,
/// on one line, unquoted. Must stay in step with [`EXTRACT_FUNCTIONS`].
pub(super) fn first_json_field(body: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r');
    let bytes = body.as_bytes();
    let mut from = 0;
    while let Some(offset) = body[from..].find(&needle) {
        let start = from + offset;
        from = start + 1;
        let mut k = start + needle.len();
        while k < bytes.len() && blank(bytes[k]) {
            k += 1;
        }
        if bytes.get(k) != Some(&b':') {
            continue;
        }
        k += 1;
        while k < bytes.len() && blank(bytes[k]) {
            k += 1;
        }
        match bytes.get(k) {
            Some(b'"') => {
                let rest = &body[k + 1..];
                if let Some(end) = rest.find(['"', '\\', '\n']) {
                    if rest.as_bytes()[end] == b'"' {
                        return Some(rest[..end].to_string());
                    }
                }
            }
            Some(b't' | b'f') => {
                if let Some(word) = ["true", "false"].iter().find(|w| body[k..].starts_with(**w)) {
                    return Some((*word).to_string());
                }
            }
            Some(&b) if b == b'-' || b.is_ascii_digit() => {
                let mut e = k;
                if b == b'-' {
                    e += 1;
                }
                if !bytes.get(e).is_some_and(u8::is_ascii_digit) {
                    continue;
                }
                while e < bytes.len()
                    && (bytes[e].is_ascii_digit()
                        || matches!(bytes[e], b'.' | b'e' | b'E' | b'+' | b'-'))
                {
                    e += 1;
                }
                return Some(body[k..e].to_string());
            }
            _ => {}
        }
    }
    None
}

/// Splices the usable script variables into one request.
pub(super) fn bind_request(
    r: &SentRequest,
    base: &str,
    vars: &[ScriptVar],
    usable: &[usize],
    used: &mut [bool],
) -> Bound {
    let mut url = match url_rest(&r.url, base) {
        Some(rest) => vec![Piece::Var("TARGET".to_string()), Piece::Lit(rest.to_string())],
        None => vec![Piece::Lit(r.url.clone())],
    };
    let mut headers: Vec<(String, Vec<Piece>)> = r
        .headers
        .iter()
        .filter(|(name, _)| {
            !SKIPPED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
                && !venomqa_traffic::is_hop_by_hop(name)
        })
        .map(|(name, value)| (name.clone(), vec![Piece::Lit(value.clone())]))
        .collect();
    let mut body = r.body.as_ref().map(|b| vec![Piece::Lit(b.clone())]);
    // A user's secret, written as its variable, is read from the environment.
    split_variables(&mut url);
    headers.iter_mut().for_each(|(_, value)| split_variables(value));
    if let Some(body) = &mut body {
        split_variables(body);
    }
    for &c in usable {
        let var = &vars[c];
        let mut hit = false;
        if var.integer {
            hit |= splice(&mut url, var, integer_spots);
        } else {
            hit |= splice(&mut url, var, token_matches);
            for (_, value) in &mut headers {
                hit |= splice(value, var, token_matches);
            }
            if let Some(body) = &mut body {
                hit |= splice(body, var, token_matches);
            }
        }
        if hit {
            used[c] = true;
        }
    }
    Bound { url, headers, body }
}

/// The literal pieces of `word` with each `${VENOMQA_…}` they name made a
/// variable piece.
fn split_variables(word: &mut Vec<Piece>) {
    replace_in_literals(word, variable_spots);
}

/// Replaces, in the literal pieces of `word`, each (start, end, variable)
/// `spots` finds by that variable; whether any was replaced.
fn replace_in_literals(
    word: &mut Vec<Piece>,
    spots: impl Fn(&str) -> Vec<(usize, usize, String)>,
) -> bool {
    let mut hit = false;
    let mut out = Vec::with_capacity(word.len());
    for piece in word.drain(..) {
        let Piece::Lit(text) = piece else {
            out.push(piece);
            continue;
        };
        let mut last = 0;
        for (start, end, name) in spots(&text) {
            if start > last {
                out.push(Piece::Lit(text[last..start].to_string()));
            }
            out.push(Piece::Var(name));
            last = end;
            hit = true;
        }
        // An empty literal stays: an empty header value is still a value.
        if last < text.len() || last == 0 {
            out.push(Piece::Lit(text[last..].to_string()));
        }
    }
    *word = out;
    hit
}

/// Where `text` names a `${VENOMQA_…}` variable: (start, end, name).
fn variable_spots(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("${VENOMQA_").map(|i| from + i) {
        let Some(len) = text[at + 2..].find('}') else { break };
        let name = &text[at + 2..at + 2 + len];
        let end = at + 3 + len;
        if name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            out.push((at, end, name.to_string()));
        }
        from = end;
    }
    out
}

/// Where an integer stands alone in a URL: a whole path segment, or a whole
/// query value.
fn integer_spots(text: &str, value: &str) -> Vec<(usize, usize)> {
    token_matches(text, value)
        .into_iter()
        .filter(|&(start, end)| {
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            matches!(before, Some('/' | '=')) && matches!(after, None | Some('/' | '?' | '&' | '#'))
        })
        .collect()
}

/// Replaces the matches of `var` in the literal pieces of `word` by its
/// variable; whether any was replaced.
fn splice(
    word: &mut Vec<Piece>,
    var: &ScriptVar,
    find: fn(&str, &str) -> Vec<(usize, usize)>,
) -> bool {
    replace_in_literals(word, |text| {
        let spots = find(text, &var.value).into_iter();
        spots.map(|(start, end)| (start, end, var.var.clone())).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_is_found_by_its_name_and_nothing_else_is() {
        let text = r#"{"a":"${VENOMQA_ALICE_PASSWORD}","b":"${HOME}","c":"${VENOMQA_x}"}"#;
        let spots = variable_spots(text);
        assert_eq!(spots.len(), 1, "{spots:?}");
        let (start, end, name) = &spots[0];
        assert_eq!(&text[*start..*end], "${VENOMQA_ALICE_PASSWORD}");
        assert_eq!(name, "VENOMQA_ALICE_PASSWORD");
    }
}
