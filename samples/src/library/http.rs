//! HTTP plumbing for the library: refusals, JSON replies, request bodies as
//! JSON or forms, and the `sid` session cookie.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::state::LibraryError;

/// Largest request body read, in bytes; the library's bodies are tiny.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "sid";

/// The response every route builds: a small, fully buffered body.
pub(crate) type Reply = Response<Full<Bytes>>;

/// A refusal on its way to becoming a `{"error": ...}` response.
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub message: String,
    /// The current `ETag`, on a 412, so a client sees how far behind it is.
    pub etag: Option<String>,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into(), etag: None }
    }

    pub fn into_reply(self) -> Reply {
        let mut reply = json_reply(self.status, &json!({ "error": self.message }));
        if let Some(value) = self.etag.and_then(|tag| HeaderValue::from_str(&tag).ok()) {
            reply.headers_mut().insert(header::ETAG, value);
        }
        reply
    }
}

impl From<LibraryError> for Refusal {
    fn from(err: LibraryError) -> Refusal {
        let status = match &err {
            LibraryError::Unauthenticated => StatusCode::UNAUTHORIZED,
            LibraryError::StaffOnly => StatusCode::FORBIDDEN,
            LibraryError::NotFound(_) => StatusCode::NOT_FOUND,
            LibraryError::Conflict(_) => StatusCode::CONFLICT,
            LibraryError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            LibraryError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            LibraryError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        let etag = match &err {
            LibraryError::PreconditionFailed { current } => Some(current.clone()),
            _ => None,
        };
        Refusal { status, message: err.message(), etag }
    }
}

/// A JSON reply with `status`.
pub(crate) fn json_reply(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    // Serializing our own types and `json!` values cannot fail.
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// 204 with no body.
pub(crate) fn no_content() -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = StatusCode::NO_CONTENT;
    reply
}

/// Adds a header whose value we built ourselves (always visible ASCII).
pub(crate) fn with_header(mut reply: Reply, name: header::HeaderName, value: &str) -> Reply {
    if let Ok(value) = HeaderValue::from_str(value) {
        reply.headers_mut().append(name, value);
    }
    reply
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn session_cookie(sid: &str) -> String {
    format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax")
}

/// The `Set-Cookie` value that tells the browser to forget the session.
pub(crate) fn expired_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The `sid` cookie's value, from any `Cookie` header.
pub(crate) fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// A header as text; a value that is not visible ASCII is a 400.
pub(crate) fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, Refusal> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| {
            Refusal::new(StatusCode::BAD_REQUEST, format!("the {name} header is not visible ASCII"))
        }),
    }
}

/// Whether the request body is an HTML form (`application/x-www-form-urlencoded`).
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/x-www-form-urlencoded"))
}

/// Reads a small body, refusing oversized or unreadable ones.
pub(crate) async fn read_body(req: Request<Incoming>) -> Result<Bytes, Refusal> {
    let collected = Limited::new(req.into_body(), MAX_BODY_BYTES).collect().await;
    collected.map(|body| body.to_bytes()).map_err(|err| {
        if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            let why = format!("the body is larger than {MAX_BODY_BYTES} bytes");
            Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, why)
        } else {
            Refusal::new(StatusCode::BAD_REQUEST, format!("could not read the body: {err}"))
        }
    })
}

/// Parses a JSON body into `T`.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(bytes)
        .map_err(|err| Refusal::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}")))
}

/// The value of `name` in a form body or a query string, percent-decoded.
pub(crate) fn form_field(encoded: &str, name: &str) -> Option<String> {
    encoded
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| percent_decode(key) == name)
        .map(|(_, value)| percent_decode(value))
}

/// Decodes `+` and `%XX` as forms and query strings encode them; a broken
/// escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_percent_decoded() {
        let form = "email=ada%40example.org&password=a+b%2Bc&x=%zz";
        assert_eq!(form_field(form, "email").as_deref(), Some("ada@example.org"));
        assert_eq!(form_field(form, "password").as_deref(), Some("a b+c"));
        assert_eq!(form_field(form, "x").as_deref(), Some("%zz"));
        assert_eq!(form_field(form, "name"), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; sid=abc; lang=en"));
        assert_eq!(session_id(&headers).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("sid="));
        assert_eq!(session_id(&headers), None);
    }
}
