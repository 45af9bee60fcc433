//! A forgiving JSON scanner: visits every scalar of a JSON text together with
//! the name of the field it belongs to, and lets the visitor replace it while
//! every other byte stays exactly as it was.
//!
//! Why not `serde_json::Value`: captured bodies are cut at the capture cap, so
//! a body is often *almost* JSON, and a password in the first megabyte of a
//! truncated body must still be redacted. Rewriting in place also keeps the
//! body byte-identical wherever nothing secret was found (key order,
//! whitespace, number formatting), which matters for HAR round trips.

use std::borrow::Cow;

/// One string or number found in the text.
pub(crate) struct Scalar<'a> {
    /// The field holding the value; for an element of an array, the field
    /// holding the array (`{"tokens": ["a", "b"]}` gives `tokens` for both).
    pub field: Option<&'a [u8]>,
    /// A string (decoded from its escapes) rather than a number (as written).
    pub is_string: bool,
    pub value: Cow<'a, [u8]>,
    /// The containers the value is in, outermost first.
    frames: &'a [Frame<'a>],
}

impl Scalar<'_> {
    /// Every field the value is inside, outermost first, ending with
    /// `field`: `{"secret": {"inner": 1}}` gives `secret`, `inner` for `1`.
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> {
        self.frames.iter().filter_map(|frame| match frame {
            Frame::Object { key, .. } => key.as_deref(),
            Frame::Array { field } => field.as_deref(),
        })
    }
}

/// Keys are borrowed from the text unless they hold escapes: a body is
/// scanned without an allocation a field.
enum Frame<'a> {
    Object { key: Option<Cow<'a, [u8]>>, expect_key: bool },
    Array { field: Option<Cow<'a, [u8]>> },
}

/// The field a value at the current position belongs to.
fn current_field<'s>(stack: &'s [Frame<'_>]) -> Option<&'s [u8]> {
    match stack.last()? {
        Frame::Object { key, .. } => key.as_deref(),
        Frame::Array { field } => field.as_deref(),
    }
}

/// Calls `visit` on every scalar of `text`; a `Some(replacement)` replaces
/// that scalar by the JSON string `replacement`. Returns the rewritten text,
/// or `None` when nothing was replaced. Never fails: bytes it does not
/// understand are passed over.
pub(crate) fn rewrite_scalars(
    text: &[u8],
    mut visit: impl FnMut(&Scalar<'_>) -> Option<String>,
) -> Option<Vec<u8>> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut out = Rewritten::default();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let end = string_end(text, i);
                let content = decode_string(&text[i..end]);
                if let Some(Frame::Object { key, expect_key: true }) = stack.last_mut() {
                    *key = Some(content);
                } else {
                    let scalar = Scalar {
                        field: current_field(&stack),
                        is_string: true,
                        value: content,
                        frames: &stack,
                    };
                    out.offer(text, i..end, visit(&scalar));
                }
                i = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = number_end(text, i);
                let scalar = Scalar {
                    field: current_field(&stack),
                    is_string: false,
                    value: Cow::Borrowed(&text[i..end]),
                    frames: &stack,
                };
                out.offer(text, i..end, visit(&scalar));
                i = end;
            }
            byte => {
                structure(&mut stack, byte);
                i += 1;
            }
        }
    }
    out.finish(text)
}

/// Follows the nesting at one byte that is not a scalar: `{`, `[`, `}`,
/// `]`, `:`, `,`; anything else (whitespace, `true`/`false`/`null`, bytes
/// that are not JSON) changes nothing.
fn structure(stack: &mut Vec<Frame<'_>>, byte: u8) {
    match byte {
        b'{' => stack.push(Frame::Object { key: None, expect_key: true }),
        b'[' => {
            let field = match stack.last() {
                Some(Frame::Object { key, .. }) => key.clone(),
                Some(Frame::Array { field }) => field.clone(),
                None => None,
            };
            stack.push(Frame::Array { field });
        }
        b'}' | b']' => {
            stack.pop();
        }
        b':' => {
            if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                *expect_key = false;
            }
        }
        b',' => {
            if let Some(Frame::Object { key, expect_key }) = stack.last_mut() {
                *key = None;
                *expect_key = true;
            }
        }
        _ => {}
    }
}

/// The output of a rewrite: the text up to `copied`, with replacements.
#[derive(Default)]
struct Rewritten {
    out: Vec<u8>,
    copied: usize,
    changed: bool,
}

impl Rewritten {
    /// Replaces `text[at]` by the JSON string `replacement`, if there is one.
    fn offer(&mut self, text: &[u8], at: std::ops::Range<usize>, replacement: Option<String>) {
        let Some(replacement) = replacement else { return };
        self.out.extend_from_slice(&text[self.copied..at.start]);
        push_json_string(&mut self.out, &replacement);
        self.copied = at.end;
        self.changed = true;
    }

    /// The rewritten text, or `None` if nothing was replaced.
    fn finish(mut self, text: &[u8]) -> Option<Vec<u8>> {
        if !self.changed {
            return None;
        }
        self.out.extend_from_slice(&text[self.copied..]);
        Some(self.out)
    }
}

/// The index just past the number starting at `start`.
fn number_end(text: &[u8], start: usize) -> usize {
    let mut end = start + 1;
    while end < text.len() && matches!(text[end], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
        end += 1;
    }
    end
}

/// The index just past the string starting at `start` (a `"`), or the end of
/// the text when the string is cut off.
fn string_end(text: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < text.len() {
        match text[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    text.len()
}

/// The content of a JSON string token (quotes included in `raw`, the closing
/// one possibly missing), with escapes decoded when they are well formed.
fn decode_string(raw: &[u8]) -> Cow<'_, [u8]> {
    let closed = raw.len() >= 2 && raw.ends_with(b"\"") && !ends_in_escape(raw);
    let inner = if closed { &raw[1..raw.len() - 1] } else { &raw[1..] };
    if !inner.contains(&b'\\') {
        return Cow::Borrowed(inner);
    }
    if closed {
        if let Ok(s) = serde_json::from_slice::<String>(raw) {
            return Cow::Owned(s.into_bytes());
        }
    }
    Cow::Borrowed(inner)
}

/// Whether the final `"` of `raw` is escaped (an odd run of backslashes).
fn ends_in_escape(raw: &[u8]) -> bool {
    let body = &raw[1..raw.len() - 1];
    body.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

fn push_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}
