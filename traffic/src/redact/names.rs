//! Which field and header names hold secrets.
//!
//! Two kinds of words. Long ones (`password`, `token`, `private_key`) are
//! unmistakable wherever they appear in a name: `user_password_hash`,
//! `accessToken`. Short ones (`pin`, `otp`, `pan`, `ssn`) are secrets only
//! as a whole word of the name (`pin`, `card_pin`, `pinCode`, `otp_code`),
//! never inside another word (`shipping`, `company`, `lessons`). Words are
//! split at anything not a letter or digit, at a lower-to-upper case step
//! (`cardPin`); digits separate words too (`cvv2`).
//!
//! A user adds names of their own API's secrets (`--redact-field`,
//! `--redact-header`), matched as whole names, case ignored: see
//! [`ExtraNames`].

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// Secret wherever they appear in a name, case ignored.
const LONG_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "privatekey",
    "private-key",
    "credential",
    "mfa_code",
    "mfacode",
    "card_number",
    "cardnumber",
    "card-number",
    "credit_card",
    "creditcard",
];

/// Secret as a whole word of a name, case ignored.
const SHORT_WORDS: &[&str] =
    &["pwd", "pin", "otp", "totp", "hotp", "mfa", "ssn", "pan", "cvv", "cvc", "session"];

/// Short words that do not make a header secret: `X-Session` is the
/// journey tag QA clients send for venomqa to group their sessions by (a
/// session credential comes in a cookie or an `X-Session-Token`).
const NOT_IN_HEADERS: &[&str] = &["session"];

/// Every word, long ones first, found in one pass over a name (or a whole
/// body, as a quick test before scanning it): names are checked for every
/// header and every JSON field of every exchange stored.
static WORDS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(LONG_WORDS.iter().chain(SHORT_WORDS))
        .expect("the secret words make an automaton")
});

/// Whether `text` holds a secret word anywhere, whole or not: a quick test
/// (the automaton stops at the first) before looking at a body's fields
/// one by one. True whenever [`is_secret_name`] of the text would be.
pub(crate) fn may_name_a_secret(text: &[u8]) -> bool {
    WORDS.is_match(text)
}

/// Whether a field name (JSON key, form or query field, multipart part)
/// says its value is a secret.
pub fn is_secret_name(name: &[u8]) -> bool {
    has_secret_word(name, &[])
}

/// Whether the redactor replaces the value of the header `name`: the
/// credential and cookie headers, and any header named like a secret or
/// like auth (`X-Auth-User`), except `WWW-Authenticate`, which only names
/// the schemes a server accepts.
pub fn is_secret_header(name: &str) -> bool {
    let is = |other: &str| name.eq_ignore_ascii_case(other);
    is("cookie")
        || is("set-cookie")
        || (contains_ignore_case(name.as_bytes(), b"auth") && !is("www-authenticate"))
        || has_secret_word(name.as_bytes(), NOT_IN_HEADERS)
}

/// A long word anywhere in `name`, or a short word not in `except` as a
/// whole word of it.
fn has_secret_word(name: &[u8], except: &[&str]) -> bool {
    WORDS.find_overlapping_iter(name).any(|found| {
        let pattern = found.pattern().as_usize();
        let Some(short) = pattern.checked_sub(LONG_WORDS.len()) else { return true };
        !except.contains(&SHORT_WORDS[short]) && is_whole_word(name, found.start(), found.end())
    })
}

/// Whether `name[start..end]` (letters) is a whole word of `name`: a word
/// is a run of letters, also ending before an upper-case letter that
/// follows a lower-case one (`cardPin`); anything else separates words.
fn is_whole_word(name: &[u8], start: usize, end: usize) -> bool {
    let case_step = |at: usize| name[at - 1].is_ascii_lowercase() && name[at].is_ascii_uppercase();
    let starts = start == 0 || !name[start - 1].is_ascii_alphabetic() || case_step(start);
    let ends = end == name.len() || !name[end].is_ascii_alphabetic() || case_step(end);
    starts && ends
}

/// Names a user declared secret on top of the built-in words, each matched
/// as a whole field or header name, case ignored.
#[derive(Clone, Debug, Default)]
pub struct ExtraNames {
    fields: Vec<String>,
    headers: Vec<String>,
}

impl ExtraNames {
    /// Field names (`--redact-field`) and header names (`--redact-header`).
    pub fn new(fields: &[String], headers: &[String]) -> ExtraNames {
        let clean = |names: &[String]| -> Vec<String> {
            names.iter().map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()).collect()
        };
        ExtraNames { fields: clean(fields), headers: clean(headers) }
    }

    /// Whether `name` is one of the declared fields.
    pub fn is_field(&self, name: &[u8]) -> bool {
        self.fields.iter().any(|f| name.eq_ignore_ascii_case(f.as_bytes()))
    }

    /// Whether `name` is one of the declared headers.
    pub fn is_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| name.eq_ignore_ascii_case(h))
    }

    /// Whether any declared field name appears anywhere in `text`: a quick
    /// test before scanning a body.
    pub fn any_field_in(&self, text: &[u8]) -> bool {
        self.fields.iter().any(|f| contains_ignore_case(text, f.as_bytes()))
    }
}

/// `haystack` starts with `prefix`, ASCII case ignored.
pub(super) fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

pub(super) fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of a name as the module docs define them: runs of
    /// letters (split before an upper-case letter that follows a
    /// lower-case one) or of digits.
    fn words(name: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < name.len() {
            if !name[at].is_ascii_alphanumeric() {
                at += 1;
                continue;
            }
            let (start, digits) = (at, name[at].is_ascii_digit());
            at += 1;
            while at < name.len() {
                let (prev, b) = (name[at - 1], name[at]);
                let same = if digits { b.is_ascii_digit() } else { b.is_ascii_alphabetic() };
                if !same || (prev.is_ascii_lowercase() && b.is_ascii_uppercase()) {
                    break;
                }
                at += 1;
            }
            out.push(&name[start..at]);
        }
        out
    }

    /// The names' definition, word by word, without the automaton.
    fn secret_as_defined(name: &[u8], except: &[&str]) -> bool {
        let lower = name.to_ascii_lowercase();
        LONG_WORDS.iter().any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
            || words(name).iter().any(|word| {
                SHORT_WORDS
                    .iter()
                    .any(|s| word.eq_ignore_ascii_case(s.as_bytes()) && !except.contains(s))
            })
    }

    #[test]
    fn the_automaton_judges_names_as_the_words_define_them() {
        let parts = [
            "",
            "a",
            "pin",
            "PIN",
            "Pin",
            "pinned",
            "shipping",
            "session",
            "Session",
            "sessions",
            "cvv",
            "cvv2",
            "2",
            "x",
            "_",
            "-",
            ".",
            "é",
            "Code",
            "code",
            "CODE",
            "password",
            "Token",
            "tok",
            "card",
            "number",
            "cardNumber",
            "pan",
            "company",
            "otp",
            "ssn",
        ];
        let mut names: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        for a in &parts {
            for b in &parts {
                names.push(format!("{a}{b}"));
                names.push(format!("{a}_{b}"));
            }
        }
        for name in &names {
            let bytes = name.as_bytes();
            assert_eq!(is_secret_name(bytes), secret_as_defined(bytes, &[]), "{name:?}");
            assert_eq!(
                has_secret_word(bytes, NOT_IN_HEADERS),
                secret_as_defined(bytes, NOT_IN_HEADERS),
                "{name:?} as a header"
            );
        }
    }

    #[test]
    fn short_words_are_secret_only_as_whole_words() {
        for secret in [
            "pin",
            "PIN",
            "card_pin",
            "pinCode",
            "otp",
            "otp_code",
            "totp",
            "mfa_code",
            "ssn",
            "user.ssn",
            "pan",
            "card-pan",
            "cvv",
            "cvv2",
            "cvc",
            "pwd",
            "session",
            "session_id",
            "sessionId",
        ] {
            assert!(is_secret_name(secret.as_bytes()), "{secret}");
        }
        for plain in [
            "shipping", "pinned", "opinion", "company", "span", "expand", "lessons", "sessions",
            "spot", "pwdx", "ssns", "panel", "totals",
        ] {
            assert!(!is_secret_name(plain.as_bytes()), "{plain}");
        }
    }

    #[test]
    fn long_words_are_secret_anywhere_in_a_name() {
        for secret in [
            "password",
            "user_password_hash",
            "clientSecret",
            "client_secret",
            "refresh_token",
            "accessToken",
            "private_key",
            "privateKey",
            "credentials",
            "cardNumber",
            "credit_card_number",
            "passphrase",
            "x-api-key",
        ] {
            assert!(is_secret_name(secret.as_bytes()), "{secret}");
        }
    }

    #[test]
    fn headers_follow_the_names_except_the_journey_tag() {
        for secret in
            ["Authorization", "Cookie", "Set-Cookie", "X-Auth-User", "X-Api-Key", "X-Pin", "X-Otp"]
        {
            assert!(is_secret_header(secret), "{secret}");
        }
        assert!(is_secret_header("X-Session-Token"), "a token");
        for plain in ["x-session", "X-Session-Id", "WWW-Authenticate", "Content-Type", "Location"] {
            assert!(!is_secret_header(plain), "{plain}");
        }
    }

    #[test]
    fn declared_names_match_whole_names_whatever_the_case() {
        let extra = ExtraNames::new(&["Birth_Date".into(), " ".into()], &["X-Tenant".into()]);
        assert!(extra.is_field(b"birth_date"));
        assert!(!extra.is_field(b"birth_date_year"));
        assert!(!extra.is_field(b""), "a blank name declares nothing");
        assert!(extra.is_header("x-tenant"));
        assert!(!extra.is_header("x-tenant-id"));
        assert!(extra.any_field_in(br#"{"BIRTH_DATE":"1990"}"#));
    }
}
