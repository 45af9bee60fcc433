//! Random identifiers: order ids, tokens, idempotency keys, run ids.

use rand::Rng;

/// `n` random lowercase base32 characters (`a`–`z`, `2`–`7`): unguessable, uncountable, URL-safe.
pub(crate) fn random_chars(n: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rng();
    (0..n).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_random_base32() {
        let id = random_chars(12);
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
        assert_ne!(id, random_chars(12));
    }
}
