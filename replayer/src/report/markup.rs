//! Escaping for the markup reports write by hand (JUnit XML, the HTML page
//! and its SVG): `&<>` become entities, and in attributes `"'` too, with
//! newlines and tabs as character references (so attribute normalization
//! keeps them); characters XML 1.0 forbids (most C0 controls) become U+FFFD.
//! What comes out is valid in XML and in HTML alike, so text from the target
//! (a body holding `<script>`) is only ever shown, never run.

/// Whether XML 1.0 allows the character at all.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes character data.
pub(crate) fn escape_text(text: &str) -> String {
    escape(text, false)
}

/// Escapes an attribute value (double-quoted).
pub(crate) fn escape_attr(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Quotes only need escaping in attributes; text stays readable.
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
