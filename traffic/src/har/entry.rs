//! One HAR entry into an [`Exchange`]: venomqa's own fields exactly,
//! other tools' fields leniently (missing optional fields, `status: 0`,
//! negative timings, any UTC offset, HTTP/2 pseudo-headers), and errors
//! that name the entry and the field.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

use super::HarError;
use crate::{Body, Exchange, ExchangeError, Headers, Request, Response, SessionKey};

/// A JSON object inside entry `index`, at `path`, with typed getters whose
/// errors name the entry and the field. `null` counts as absent.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    index: usize,
}

impl<'a> Obj<'a> {
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn err(&self, key: &str, reason: impl Into<String>) -> HarError {
        HarError::BadEntry { index: self.index, field: self.field(key), reason: reason.into() }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn object(&self, key: &str) -> Result<Option<Obj<'a>>, HarError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => {
                Ok(Some(Obj { map, path: self.field(key), index: self.index }))
            }
            Some(other) => {
                Err(self.err(key, format!("must be an object, not {}", describe(other))))
            }
        }
    }

    /// The objects of an array field; absent is empty.
    fn objects(&self, key: &str) -> Result<Vec<Obj<'a>>, HarError> {
        let items = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.err(key, format!("must be an array, not {}", describe(other))))
            }
        };
        let field = self.field(key);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => {
                    Ok(Obj { map, path: format!("{field}[{i}]"), index: self.index })
                }
                other => Err(HarError::BadEntry {
                    index: self.index,
                    field: format!("{field}[{i}]"),
                    reason: format!("must be an object, not {}", describe(other)),
                }),
            })
            .collect()
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, HarError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.err(key, format!("must be a string, not {}", describe(other)))),
        }
    }

    fn required_str(&self, key: &str) -> Result<&'a str, HarError> {
        self.str(key)?.ok_or_else(|| self.err(key, "is missing"))
    }

    /// A whole number ≥ 0, also accepted as a string of digits.
    fn u64(&self, key: &str) -> Result<Option<u64>, HarError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let number = match value {
            Value::String(s) => s.trim().parse().ok(),
            other => other.as_u64(),
        };
        number.map(Some).ok_or_else(|| {
            self.err(key, format!("must be a whole number ≥ 0, not {}", describe(value)))
        })
    }

    /// Any number, also accepted as a numeric string.
    fn f64(&self, key: &str) -> Result<Option<f64>, HarError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let number = match value {
            Value::String(s) => s.trim().parse().ok(),
            other => other.as_f64(),
        };
        number
            .map(Some)
            .ok_or_else(|| self.err(key, format!("must be a number, not {}", describe(value))))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, HarError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => {
                Err(self.err(key, format!("must be true or false, not {}", describe(other))))
            }
        }
    }
}

/// A short description of a JSON value for an error message.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() > 40 => {
            format!("{:?}", format!("{}…", s.chars().take(40).collect::<String>()))
        }
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

pub(super) fn entry_to_exchange(index: usize, value: &Value) -> Result<Exchange, HarError> {
    let Value::Object(map) = value else {
        return Err(HarError::BadEntry {
            index,
            field: "entry".to_owned(),
            reason: format!("must be an object, not {}", describe(value)),
        });
    };
    let entry = Obj { map, path: String::new(), index };
    let request = entry.object("request")?.ok_or_else(|| entry.err("request", "is missing"))?;
    let request = read_request(&request)?;
    let started_at = match entry.u64("_startedAtNs")? {
        Some(ns) => ns,
        None => {
            let text = entry.required_str("startedDateTime")?;
            parse_date_time(text).map_err(|why| entry.err("startedDateTime", why))?
        }
    };
    let duration_ns = match entry.u64("_durationNs")? {
        Some(ns) => ns,
        None => har_duration_ns(&entry)?,
    };
    let (response, error) = read_outcome(&entry)?;
    Ok(Exchange {
        id: entry.u64("_id")?.unwrap_or(0),
        session: SessionKey(entry.str("_session")?.unwrap_or("").to_owned()),
        started_at,
        duration_ns,
        client: entry.str("_client")?.map(str::to_owned),
        request,
        response,
        error,
    })
}

fn read_request(request: &Obj) -> Result<Request, HarError> {
    let method = request.required_str("method")?;
    if method.is_empty() {
        return Err(request.err("method", "is empty"));
    }
    let url = match request.str("_url")? {
        Some(url) => url,
        None => request.required_str("url")?,
    };
    if url.is_empty() {
        return Err(request.err("url", "is empty"));
    }
    let body = match request.object("postData")? {
        Some(post_data) => read_post_data(&post_data, request)?,
        None => body_from_size(body_size_hint(request, None)?),
    };
    Ok(Request {
        method: method.to_owned(),
        url: url.to_owned(),
        version: request.str("httpVersion")?.unwrap_or("HTTP/1.1").to_owned(),
        headers: read_headers(request)?,
        body,
    })
}

/// The response, or the error that replaced it. `status: 0` is how devtools
/// and mitmproxy record a request that got no response.
fn read_outcome(entry: &Obj) -> Result<(Option<Response>, Option<ExchangeError>), HarError> {
    let error = read_error(entry)?;
    let response = entry.object("response")?;
    let status = match &response {
        Some(response) => read_status(response)?,
        None => 0,
    };
    let response = match response {
        Some(response) if status != 0 => response,
        other => {
            // Chrome and mitmproxy say why in `response._error`.
            let detail = match &other {
                Some(response) => response.str("_error")?,
                None => None,
            };
            return Ok((None, Some(error.unwrap_or_else(|| no_response(detail)))));
        }
    };
    let body = match response.object("content")? {
        Some(content) => read_content(&content, &response)?,
        None => body_from_size(body_size_hint(&response, None)?),
    };
    let response = Response {
        status,
        version: response.str("httpVersion")?.unwrap_or("HTTP/1.1").to_owned(),
        headers: read_headers(&response)?,
        body,
    };
    Ok((Some(response), error))
}

fn read_status(response: &Obj) -> Result<u16, HarError> {
    let Some(value) = response.get("status") else { return Ok(0) };
    let number = match value {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => other.as_f64(),
    };
    match number {
        Some(n) if n.fract() == 0.0 && n <= 0.0 => Ok(0),
        Some(n) if n.fract() == 0.0 && n <= 999.0 => Ok(n as u16),
        _ => Err(response.err(
            "status",
            format!("must be an HTTP status code (0 for none), not {}", describe(value)),
        )),
    }
}

fn read_error(entry: &Obj) -> Result<Option<ExchangeError>, HarError> {
    match entry.get("_error") {
        None => Ok(None),
        Some(Value::String(message)) => Ok(Some(no_response(Some(message)))),
        Some(_) => {
            let error = entry.object("_error")?.ok_or_else(|| entry.err("_error", "is missing"))?;
            Ok(Some(ExchangeError {
                kind: error.str("kind")?.unwrap_or("no-response").to_owned(),
                message: error.str("message")?.unwrap_or("").to_owned(),
            }))
        }
    }
}

/// An error for an entry without a response, its kind guessed from the
/// tool's text (`net::ERR_CONNECTION_REFUSED`, `[Errno 111] Connection refused`).
fn no_response(detail: Option<&str>) -> ExchangeError {
    let Some(detail) = detail.filter(|d| !d.trim().is_empty()) else {
        return ExchangeError {
            kind: "no-response".to_owned(),
            message: "the HAR records no response (status 0) and no reason".to_owned(),
        };
    };
    let lower = detail.to_ascii_lowercase();
    let kind = if lower.contains("refused") {
        "refused"
    } else if lower.contains("reset") {
        "reset"
    } else if lower.contains("timed out")
        || lower.contains("timed_out")
        || lower.contains("timeout")
    {
        "timeout"
    } else {
        "no-response"
    };
    ExchangeError { kind: kind.to_owned(), message: detail.to_owned() }
}

fn read_headers(parent: &Obj) -> Result<Headers, HarError> {
    let mut headers = Headers::default();
    for header in parent.objects("headers")? {
        let name = header.required_str("name")?;
        // HTTP/2 pseudo-headers (`:method`, `:path`, ...) restate the request
        // line in devtools exports; they are not headers anyone can send.
        if name.starts_with(':') {
            continue;
        }
        let value = match header.str("_valueBase64")? {
            Some(encoded) => decode_base64(encoded)
                .map_err(|e| header.err("_valueBase64", format!("is not valid base64: {e}")))?,
            None => header.str("value")?.unwrap_or("").as_bytes().to_vec(),
        };
        headers.push(name, value);
    }
    Ok(headers)
}

fn read_content(content: &Obj, response: &Obj) -> Result<Body, HarError> {
    let bytes = text_bytes(content, "encoding")?;
    let hint = body_size_hint(response, content.f64("size")?)?;
    finish_body(content, bytes, hint)
}

fn read_post_data(post_data: &Obj, request: &Obj) -> Result<Body, HarError> {
    let encoding_key = if post_data.get("_encoding").is_some() { "_encoding" } else { "encoding" };
    let mut bytes = text_bytes(post_data, encoding_key)?;
    if bytes.is_none() {
        // Some tools give a form's fields as `params` and leave `text` out.
        let params = post_data.objects("params")?;
        let mime = post_data.str("mimeType")?.unwrap_or("").to_ascii_lowercase();
        if !params.is_empty() && !mime.starts_with("multipart/") {
            bytes = Some(form_urlencoded(&params)?);
        }
    }
    let hint = body_size_hint(request, None)?;
    finish_body(post_data, bytes, hint)
}

/// The bytes of `text`, decoded as `encoding_key` says.
fn text_bytes(obj: &Obj, encoding_key: &str) -> Result<Option<Vec<u8>>, HarError> {
    let Some(text) = obj.str("text")? else { return Ok(None) };
    match obj.str(encoding_key)? {
        None | Some("") => Ok(Some(text.as_bytes().to_vec())),
        Some(encoding) if encoding.eq_ignore_ascii_case("base64") => decode_base64(text)
            .map(Some)
            .map_err(|e| obj.err("text", format!("is not valid base64: {e}"))),
        Some(other) => Err(obj.err(
            encoding_key,
            format!("is {other:?}; only \"base64\" (or no encoding) is understood"),
        )),
    }
}

/// Our `_originalSize`/`_truncated` when present; otherwise a body with its
/// text is whole, and a body whose text was not saved is an empty capture of
/// a body of `hint` bytes.
fn finish_body(obj: &Obj, bytes: Option<Vec<u8>>, hint: Option<u64>) -> Result<Body, HarError> {
    let truncated = obj.bool("_truncated")?;
    Ok(match (obj.u64("_originalSize")?, bytes) {
        (Some(original_len), bytes) => {
            let bytes = bytes.unwrap_or_default();
            let truncated = truncated.unwrap_or(original_len > bytes.len() as u64);
            Body { bytes, original_len, truncated }
        }
        (None, Some(bytes)) => Body::complete(bytes),
        (None, None) => body_from_size(hint),
    })
}

fn body_from_size(size: Option<u64>) -> Body {
    match size {
        Some(len) if len > 0 => Body { bytes: Vec::new(), original_len: len, truncated: true },
        _ => Body::default(),
    }
}

/// The size a tool reports for a body it did not save: `content.size`, else
/// `bodySize`; -1 means unknown.
fn body_size_hint(parent: &Obj, content_size: Option<f64>) -> Result<Option<u64>, HarError> {
    let size = match content_size {
        Some(size) => Some(size),
        None => parent.f64("bodySize")?,
    };
    Ok(size.filter(|s| s.is_finite() && *s > 0.0).map(|s| s as u64))
}

fn form_urlencoded(params: &[Obj]) -> Result<Vec<u8>, HarError> {
    let mut out = Vec::new();
    for (i, param) in params.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        form_encode_into(param.required_str("name")?, &mut out);
        out.push(b'=');
        form_encode_into(param.str("value")?.unwrap_or(""), &mut out);
    }
    Ok(out)
}

/// application/x-www-form-urlencoded, as browsers send it.
fn form_encode_into(text: &str, out: &mut Vec<u8>) {
    for &byte in text.as_bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(byte),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{byte:02X}").as_bytes()),
        }
    }
}

/// Standard base64, tolerant of missing padding and of line breaks.
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        LENIENT.decode(compact)
    } else {
        LENIENT.decode(text)
    }
}

/// RFC 3339 (`Z` or any offset), or failing that ISO 8601, to Unix ns.
fn parse_date_time(text: &str) -> Result<u64, String> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|rfc3339| OffsetDateTime::parse(text, &Iso8601::DEFAULT).map_err(|_| rfc3339));
    let shown = describe(&Value::String(text.to_owned()));
    let time = parsed.map_err(|e| {
        format!("is not an RFC 3339 date-time like 2024-05-14T09:26:41.512Z: {shown} ({e})")
    })?;
    u64::try_from(time.unix_timestamp_nanos()).map_err(|_| format!("is before 1970: {shown}"))
}

/// `time`, or else the sum of the known `timings`; negative means unknown.
fn har_duration_ns(entry: &Obj) -> Result<u64, HarError> {
    let known = |ms: Option<f64>| ms.filter(|ms| ms.is_finite() && *ms >= 0.0);
    if let Some(ms) = known(entry.f64("time")?) {
        return Ok(ms_to_ns(ms));
    }
    let Some(timings) = entry.object("timings")? else { return Ok(0) };
    // `ssl` is left out: HAR 1.2 counts it inside `connect` already.
    let mut total = 0.0;
    for key in ["blocked", "dns", "connect", "send", "wait", "receive"] {
        total += known(timings.f64(key)?).unwrap_or(0.0);
    }
    Ok(ms_to_ns(total))
}

fn ms_to_ns(ms: f64) -> u64 {
    // `as` saturates, which is the right answer for absurd values.
    (ms * 1e6).round() as u64
}
