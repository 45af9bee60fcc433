//! Control requests: a suspicious answer is sent again with a made-up id or
//! a made-up token, so a target that answers 2xx to anything yields no
//! finding.

use crate::error::Error;
use crate::oracle::finding::SentRequest;
use crate::oracle::Oracles;
use crate::run::request::Reply;

impl Oracles<'_> {
    /// A request sent again with another URL or headers.
    pub(super) async fn control(
        &self,
        sent: &SentRequest,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Reply, Error> {
        let client = self.runner.client;
        client.resend(sent, url, headers).await.map_err(|err| client.stopped(err))
    }
}

/// An id of the same shape that no one created: the last alphanumerics rotated.
pub(crate) fn bogus(id: &str) -> String {
    let mut chars: Vec<char> = id.chars().collect();
    for c in chars.iter_mut().rev().take(4) {
        *c = match *c {
            '0'..='9' => char::from(b'0' + ((*c as u8 - b'0' + 5) % 10)),
            'a'..='z' => char::from(b'a' + ((*c as u8 - b'a' + 13) % 26)),
            'A'..='Z' => char::from(b'A' + ((*c as u8 - b'A' + 13) % 26)),
            other => other,
        };
    }
    chars.into_iter().collect()
}

/// `headers` with their credentials (`authorization`, `cookie`) replaced
/// by ones of the same shape that no one issued: the control request that
/// tells a target checking credentials from one that takes anything.
pub(super) fn with_bogus_credentials(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| match n.as_str() {
            "authorization" | "cookie" => (n.clone(), bogus_credentials(v)),
            _ => (n.clone(), v.clone()),
        })
        .collect()
}

/// Credentials of the same shape that no one issued.
pub(super) fn bogus_credentials(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, token)) if !value.contains('=') => format!("{scheme} {}", bogus(token)),
        _ => value
            .split("; ")
            .map(|pair| match pair.split_once('=') {
                Some((n, v)) => format!("{n}={}", bogus(v)),
                None => bogus(pair),
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}
