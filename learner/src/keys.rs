//! Per-user keys: an API with no login whose requests authenticate with a
//! key of the user's own that no answer handed out (`Authorization: Bearer
//! sk_test_…`, `X-Api-Key: …`). The recording shows which header carries
//! the key and which keys were used (as the store pseudonymised them), so
//! that replay can send each test user's own key in their place.

use std::collections::BTreeMap;

use venomqa_traffic::{is_pseudonym, is_secret_header, Request};

use crate::model::{KeyAuth, Location, Model};
use crate::wire::authorization_token;

/// The most keys a model lists: each stands for a test user to configure.
const MAX_KEYS: usize = 32;

/// The credential headers requests sent, with the keys seen in each.
#[derive(Debug, Default)]
pub(crate) struct KeyAcc {
    requests: u64,
    headers: BTreeMap<String, SentKeys>,
}

/// One credential header: how many requests carried it, and its distinct
/// pseudonymised values in order of first use.
#[derive(Debug, Default)]
struct SentKeys {
    requests: u64,
    keys: Vec<String>,
}

/// `Authorization`, or a header named for a key or a token that the
/// redactor hides (`X-Api-Key`, `X-Auth-Token`); not the idempotency key,
/// nor cookies. Asked of every header of every request: the cheap tests
/// come first.
fn is_key_header(name: &str) -> bool {
    let has = |word: &[u8]| {
        name.len() >= word.len()
            && name.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word))
    };
    if name.eq_ignore_ascii_case("authorization") {
        return true;
    }
    (has(b"key") || has(b"token"))
        && !name.eq_ignore_ascii_case("idempotency-key")
        && is_secret_header(name)
}

impl KeyAcc {
    /// Looks at one request's credential headers: `Authorization` (its
    /// token, whatever the scheme; not `Basic`, a user and a password) and
    /// any header named for a key or a token ([`is_key_header`]).
    pub(crate) fn observe(&mut self, request: &Request) {
        self.requests += 1;
        for header in request.headers.iter() {
            let name = header.name.as_str();
            if !is_key_header(name) {
                continue;
            }
            let Ok(value) = std::str::from_utf8(&header.value) else { continue };
            let key = if name.eq_ignore_ascii_case("authorization") {
                authorization_token(value)
            } else {
                Some(value.trim())
            };
            let Some(key) = key.filter(|k| !k.is_empty()) else { continue };
            let sent = match self.headers.get_mut(name) {
                Some(sent) => sent,
                None => self.headers.entry(name.to_ascii_lowercase()).or_default(),
            };
            sent.requests += 1;
            // Only pseudonyms: a store recorded without redaction must not
            // put its users' keys into a model meant to be shared.
            if is_pseudonym(key.as_bytes())
                && sent.keys.len() < MAX_KEYS
                && !sent.keys.iter().any(|k| k == key)
            {
                sent.keys.push(key.to_string());
            }
        }
    }

    /// The per-user key of a model with no login: the credential header at
    /// least half the requests carried (the most carried one), when no
    /// answer fed it (a token an answer handed out is a session's, not a
    /// user's key).
    pub(crate) fn finish(&self, model: &Model) -> Option<KeyAuth> {
        if model.auth.login.is_some() {
            return None;
        }
        let (header, sent) = self
            .headers
            .iter()
            .filter(|(_, sent)| sent.requests * 2 >= self.requests)
            .max_by_key(|(_, sent)| sent.requests)?;
        let handed_out = model.links.iter().any(|link| match &link.to {
            Location::Bearer => header == "authorization",
            Location::Header { name } => name.eq_ignore_ascii_case(header),
            _ => false,
        });
        (!handed_out).then(|| KeyAuth { header: header.clone(), keys: sent.keys.clone() })
    }
}
