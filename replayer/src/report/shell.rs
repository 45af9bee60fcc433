//! Text quoted for bash, as the reproducer scripts write it.

/// `it's` → `'it'\''s'`: safe for any text bash can hold.
pub(super) fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Text made safe inside bash double quotes (`"${TARGET:-...}"`).
pub(super) fn escape_double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$' | '`' | '}') {
            out.push('\\');
        }
        if c == '\n' || c == '\r' {
            continue;
        }
        out.push(c);
    }
    out
}
