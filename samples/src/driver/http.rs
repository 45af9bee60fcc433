//! The HTTP client both sample drivers (the shop's and the library's) send
//! with: plain `http://` or `https://` with the trust the options give, an
//! HTTP proxy from the environment, a bound on each request; and what a
//! refused certificate is told as.

use std::time::Duration;

use venomqa_tls::ClientTrust;

use super::text::error_chain;
use super::DriveError;

/// How long one request may take before the run fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client saying it is `user_agent`, trusting what `trust` says.
///
/// reqwest reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`
/// here, when the client is built.
pub(crate) fn client(user_agent: &str, trust: &ClientTrust) -> Result<reqwest::Client, DriveError> {
    // reqwest is built without HTTP/2: offer HTTP/1.1 alone.
    let tls = trust
        .client_config(&[b"http/1.1"])
        .map_err(|err| DriveError::Client(format!("cannot set TLS up: {}", error_chain(&err))))?;
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(REQUEST_TIMEOUT)
        .use_preconfigured_tls(std::sync::Arc::unwrap_or_clone(tls))
        .build()
        .map_err(|err| DriveError::Client(error_chain(&err)))
}

/// Why a request failed, in words: a refused certificate named with what
/// fixes it, anything else with its causes.
pub(crate) fn failure(err: &reqwest::Error) -> String {
    match venomqa_tls::describe_error(err) {
        Some(problem) => format!(
            "the server could not be trusted: {problem}; trust the CA that signed it \
             (`sample drive --ca FILE`; `sample serve --tls` writes its CA with \
             `--tls-ca-out FILE`) or skip the check with `--insecure`"
        ),
        None => error_chain(err),
    }
}
