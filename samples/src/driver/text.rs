//! What both sample drivers (the shop's and the library's) say about the
//! requests they send: the base URL they accept, an error with its causes,
//! the start of a body.

use super::DriveError;

/// `base` without a trailing slash, when it is an `http://` or `https://`
/// URL without a query or fragment; `app` names the sample in the error.
pub(crate) fn sample_base(base: &str, app: &str) -> Result<String, DriveError> {
    let trimmed = base.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|err| DriveError::Options(format!("base `{base}` is not a URL: {err}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(DriveError::Options(format!(
            "base `{base}`: the sample {app} is reached by http:// or https://"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(DriveError::Options(format!(
            "base `{base}` must not have a query or fragment"
        )));
    }
    Ok(trimmed.to_string())
}

/// An error and its causes on one line: reqwest's own message alone rarely says what failed.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The start of a body, for a report line.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut snippet: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        snippet.push('…');
    }
    snippet
}
