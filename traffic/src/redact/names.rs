//! Which field and header names hold secrets.
//!
//! Two kinds of words. Long ones (`password`, `token`, `private_key`) are
//! unmistakable wherever they appear in a name: `user_password_hash`,
//! `accessToken`. Short ones (`pin`, `otp`, `pan`, `ssn`) are secrets only
//! as a whole word of the name (`pin`, `card_pin`, `pinCode`, `otp_code`),
//! never inside another word (`shipping`, `company`, `lessons`). Words are
//! split at anything not a letter or digit, at a lower-to-upper case step
//! (`cardPin`) and between letters and digits (`cvv2`).
//!
//! A user adds names of their own API's secrets (`--redact-field`,
//! `--redact-header`), matched as whole names, case ignored: see
//! [`ExtraNames`].

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
    &["pwd", "pin", "otp", "totp", "hotp", "mfa", "ssn", "pan", "cvv", "cvc", "cvv2", "session"];

/// Short words that do not make a header secret: `X-Session` is the
/// journey tag QA clients send for venomqa to group their sessions by (a
/// session credential comes in a cookie or an `X-Session-Token`).
const NOT_IN_HEADERS: &[&str] = &["session"];

/// Whether a field name (JSON key, form or query field, multipart part)
/// says its value is a secret.
pub fn is_secret_name(name: &[u8]) -> bool {
    has_long_word(name) || words(name).any(|w| is_short_word(w, &[]))
}

/// Whether the redactor replaces the value of the header `name`: the
/// credential and cookie headers, and any header named like a secret or
/// like auth (`X-Auth-User`), except `WWW-Authenticate`, which only names
/// the schemes a server accepts.
pub fn is_secret_header(name: &str) -> bool {
    let is = |other: &str| name.eq_ignore_ascii_case(other);
    let bytes = name.as_bytes();
    is("cookie")
        || is("set-cookie")
        || (contains_ignore_case(bytes, b"auth") && !is("www-authenticate"))
        || has_long_word(bytes)
        || words(bytes).any(|w| is_short_word(w, NOT_IN_HEADERS))
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

/// Whether a long word appears in `name`. Called for every scalar of every
/// JSON body and every header: no allocation, and words are compared only
/// where their first letter is.
fn has_long_word(name: &[u8]) -> bool {
    (0..name.len()).any(|at| {
        LONG_WORD_STARTS[usize::from(name[at])] && {
            let first = name[at].to_ascii_lowercase();
            LONG_WORDS.iter().any(|word| {
                word.as_bytes()[0] == first && starts_with_ignore_case(&name[at..], word.as_bytes())
            })
        }
    })
}

/// Whether `word` is a short secret word not in `except`.
fn is_short_word(word: &[u8], except: &[&str]) -> bool {
    word.len() <= 7
        && SHORT_WORDS
            .iter()
            .any(|short| word.eq_ignore_ascii_case(short.as_bytes()) && !except.contains(short))
}

/// The bytes a long word starts with, in either case.
const LONG_WORD_STARTS: [bool; 256] = {
    let mut starts = [false; 256];
    let mut n = 0;
    while n < LONG_WORDS.len() {
        let first = LONG_WORDS[n].as_bytes()[0];
        starts[first.to_ascii_lowercase() as usize] = true;
        starts[first.to_ascii_uppercase() as usize] = true;
        n += 1;
    }
    starts
};

/// The words of a name: runs of letters or of digits, a run of letters
/// also ending before an upper-case letter that follows a lower-case one.
fn words(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < name.len() && !name[at].is_ascii_alphanumeric() {
            at += 1;
        }
        if at >= name.len() {
            return None;
        }
        let start = at;
        let digits = name[at].is_ascii_digit();
        at += 1;
        while at < name.len() {
            let (prev, b) = (name[at - 1], name[at]);
            let same_kind = if digits { b.is_ascii_digit() } else { b.is_ascii_alphabetic() };
            if !same_kind || (prev.is_ascii_lowercase() && b.is_ascii_uppercase()) {
                break;
            }
            at += 1;
        }
        Some(&name[start..at])
    })
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

    fn words_of(name: &str) -> Vec<String> {
        words(name.as_bytes()).map(|w| String::from_utf8_lossy(w).into_owned()).collect()
    }

    #[test]
    fn names_split_into_words_at_separators_case_steps_and_digits() {
        assert_eq!(words_of("card_pin"), ["card", "pin"]);
        assert_eq!(words_of("cardPin"), ["card", "Pin"]);
        assert_eq!(words_of("X-Session-Id"), ["X", "Session", "Id"]);
        assert_eq!(words_of("cvv2"), ["cvv", "2"]);
        assert_eq!(words_of("SSN"), ["SSN"]);
        assert_eq!(words_of("__"), Vec::<String>::new());
        assert_eq!(words_of("é-pin"), ["pin"]);
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
