//! HAR 1.2 import and export: how exchanges travel between venomqa and
//! browser devtools, mitmproxy and other HTTP tools.
//!
//! [`write_har`] streams a log entry by entry, so exporting a large store
//! never holds it in memory; [`read_har`] reads a log back. Our own exports
//! round-trip every field of [`Exchange`] exactly; HARs from other tools are
//! read leniently (missing optional fields, `status: 0`, negative timings,
//! any UTC offset, HTTP/2 pseudo-headers, unknown fields).
//!
//! ```
//! use venomqa_traffic::{read_har, write_har, Exchange};
//! # fn demo(exchanges: Vec<Exchange>) -> Result<(), venomqa_traffic::HarError> {
//! let mut file = Vec::new();
//! write_har(exchanges.clone(), &mut file)?;
//! assert_eq!(read_har(file.as_slice())?, exchanges);
//! # Ok(()) }
//! ```
//!
//! Where each field goes. Standard HAR fields carry what devtools shows;
//! underscore fields (allowed by HAR 1.2) carry what HAR has no place for,
//! and take precedence on import:
//!
//! | Exchange | HAR entry |
//! |---|---|
//! | `id`, `session`, `client` | `_id`, `_session`, `_client` |
//! | `started_at` | `startedDateTime` (milliseconds, UTC) and `_startedAtNs` (exact) |
//! | `duration_ns` | `time` and `timings.wait` (ms) and `_durationNs` (exact) |
//! | `request.url` | `request.url`, made absolute with the `Host` header for an origin-form url, which then also goes to `request._url` |
//! | headers | `headers[]` in order; a value that is not UTF-8 is lossy in `value` and exact in `_valueBase64` |
//! | request body | `request.postData.text`, base64 with `_encoding: "base64"` when not UTF-8 |
//! | response body | `response.content.text`, base64 with `encoding: "base64"` when not UTF-8 |
//! | body length, cut | `_originalSize`, `_truncated` on `postData` / `content` |
//! | `error` | `_error {kind, message}`; with no response, `response.status` is 0 |
//!
//! Bodies in a venomqa export are the bytes seen on the wire (still
//! compressed when `Content-Encoding` says so); devtools and mitmproxy save
//! decoded bodies, and an import keeps what the file holds.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::error::Category;
use serde_json::{Map, Value};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

use crate::{Body, Exchange, ExchangeError, Header, Headers, Request, Response, SessionKey};

/// Why a HAR could not be written or read, precise enough to fix the file.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    /// The input is not JSON at all.
    #[error("not a HAR file: invalid JSON at line {line}, column {column}: {reason}")]
    NotJson { line: usize, column: usize, reason: String },
    /// The input is JSON but not shaped like a HAR log.
    #[error("not a HAR file: {0}")]
    NotHar(String),
    /// One entry cannot become an exchange; `index` counts from 0, as in
    /// `log.entries[index]`, and `field` is the path inside the entry.
    #[error("HAR entry {index} (log.entries[{index}]): {field} {reason}")]
    BadEntry { index: usize, field: String, reason: String },
    /// The input could not be read.
    #[error("could not read the HAR: {0}")]
    Read(std::io::Error),
    /// The output could not be written.
    #[error("could not write the HAR: {0}")]
    Write(std::io::Error),
}

// ---------------------------------------------------------------- export

/// Writes `exchanges` as a HAR 1.2 log, one entry at a time, and returns the
/// number of entries written.
pub fn write_har<W: Write>(
    exchanges: impl IntoIterator<Item = Exchange>,
    out: W,
) -> Result<usize, HarError> {
    let mut out = BufWriter::new(out);
    let creator = Creator { name: "venomqa", version: env!("CARGO_PKG_VERSION") };
    out.write_all(br#"{"log":{"version":"1.2","creator":"#).map_err(HarError::Write)?;
    serde_json::to_writer(&mut out, &creator).map_err(|e| HarError::Write(e.into()))?;
    out.write_all(br#","entries":["#).map_err(HarError::Write)?;
    let mut written = 0;
    for exchange in exchanges {
        // One entry a line: the file stays greppable and diffable.
        out.write_all(if written == 0 { b"\n" } else { b",\n" }).map_err(HarError::Write)?;
        serde_json::to_writer(&mut out, &entry_out(&exchange))
            .map_err(|e| HarError::Write(e.into()))?;
        written += 1;
    }
    out.write_all(b"\n]}}\n").map_err(HarError::Write)?;
    out.flush().map_err(HarError::Write)?;
    Ok(written)
}

#[derive(Serialize)]
struct Creator {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryOut<'a> {
    started_date_time: String,
    time: f64,
    request: RequestOut<'a>,
    response: ResponseOut<'a>,
    cache: Empty,
    timings: TimingsOut,
    #[serde(rename = "_id")]
    id: u64,
    #[serde(rename = "_session")]
    session: &'a str,
    #[serde(rename = "_startedAtNs")]
    started_at_ns: u64,
    #[serde(rename = "_durationNs")]
    duration_ns: u64,
    #[serde(rename = "_client", skip_serializing_if = "Option::is_none")]
    client: Option<&'a str>,
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<ErrorOut<'a>>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ErrorOut<'a> {
    kind: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct NameValueOut<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
    #[serde(rename = "_valueBase64", skip_serializing_if = "Option::is_none")]
    value_base64: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestOut<'a> {
    method: &'a str,
    url: Cow<'a, str>,
    http_version: &'a str,
    cookies: Vec<NameValueOut<'a>>,
    headers: Vec<NameValueOut<'a>>,
    query_string: Vec<NameValueOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostDataOut<'a>>,
    headers_size: i64,
    body_size: u64,
    #[serde(rename = "_url", skip_serializing_if = "Option::is_none")]
    wire_url: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostDataOut<'a> {
    mime_type: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Cow<'a, str>>,
    #[serde(rename = "_encoding", skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(rename = "_originalSize")]
    original_size: u64,
    #[serde(rename = "_truncated")]
    truncated: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseOut<'a> {
    status: u16,
    status_text: &'static str,
    http_version: &'a str,
    cookies: Vec<NameValueOut<'a>>,
    headers: Vec<NameValueOut<'a>>,
    content: ContentOut<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: Cow<'a, str>,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContentOut<'a> {
    size: u64,
    mime_type: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(rename = "_originalSize")]
    original_size: u64,
    #[serde(rename = "_truncated")]
    truncated: bool,
}

/// We only know the whole duration, so it all goes to `wait`; `time` must
/// equal the sum of the timings that are not -1.
#[derive(Serialize)]
struct TimingsOut {
    blocked: i64,
    dns: i64,
    connect: i64,
    send: f64,
    wait: f64,
    receive: f64,
    ssl: i64,
}

fn entry_out(exchange: &Exchange) -> EntryOut<'_> {
    let ms = exchange.duration_ns as f64 / 1e6;
    EntryOut {
        started_date_time: rfc3339_millis(exchange.started_at),
        time: ms,
        request: request_out(&exchange.request),
        response: response_out(exchange.response.as_ref()),
        cache: Empty {},
        timings: TimingsOut {
            blocked: -1,
            dns: -1,
            connect: -1,
            send: 0.0,
            wait: ms,
            receive: 0.0,
            ssl: -1,
        },
        id: exchange.id,
        session: exchange.session.as_str(),
        started_at_ns: exchange.started_at,
        duration_ns: exchange.duration_ns,
        client: exchange.client.as_deref(),
        error: exchange.error.as_ref().map(|e| ErrorOut { kind: &e.kind, message: &e.message }),
    }
}

fn request_out(request: &Request) -> RequestOut<'_> {
    let url = absolute_url(request);
    let wire_url = (url != request.url).then_some(request.url.as_str());
    let body = &request.body;
    let post_data =
        (!body.bytes.is_empty() || body.original_len != 0 || body.truncated).then(|| {
            let (text, encoding) = body_text(&body.bytes);
            PostDataOut {
                mime_type: content_type(&request.headers).unwrap_or(Cow::Borrowed("")),
                text,
                encoding,
                original_size: body.original_len,
                truncated: body.truncated,
            }
        });
    RequestOut {
        method: &request.method,
        url,
        http_version: &request.version,
        cookies: request_cookies(&request.headers),
        headers: request.headers.iter().map(header_out).collect(),
        query_string: query_string(request.query().unwrap_or("")),
        post_data,
        headers_size: -1,
        body_size: body.original_len,
        wire_url,
    }
}

fn response_out(response: Option<&Response>) -> ResponseOut<'_> {
    let Some(response) = response else {
        return ResponseOut {
            status: 0,
            status_text: "",
            http_version: "",
            cookies: Vec::new(),
            headers: Vec::new(),
            content: ContentOut {
                size: 0,
                mime_type: Cow::Borrowed("x-unknown"),
                text: None,
                encoding: None,
                original_size: 0,
                truncated: false,
            },
            redirect_url: Cow::Borrowed(""),
            headers_size: -1,
            body_size: -1,
        };
    };
    let body = &response.body;
    let (text, encoding) = body_text(&body.bytes);
    ResponseOut {
        status: response.status,
        status_text: reason_phrase(response.status),
        http_version: &response.version,
        cookies: response_cookies(&response.headers),
        headers: response.headers.iter().map(header_out).collect(),
        content: ContentOut {
            size: body.original_len,
            mime_type: content_type(&response.headers).unwrap_or(Cow::Borrowed("x-unknown")),
            text,
            encoding,
            original_size: body.original_len,
            truncated: body.truncated,
        },
        redirect_url: response.headers.get("location").map_or(Cow::Borrowed(""), lossy),
        headers_size: -1,
        body_size: i64::try_from(body.original_len).unwrap_or(i64::MAX),
    }
}

/// HAR tools expect absolute urls; a reverse proxy sees origin-form ones.
fn absolute_url(request: &Request) -> Cow<'_, str> {
    if !request.url.starts_with('/') {
        return Cow::Borrowed(&request.url);
    }
    let host = request.headers.get_str("host").filter(|h| !h.is_empty()).unwrap_or("localhost");
    Cow::Owned(format!("http://{host}{}", request.url))
}

fn body_text(bytes: &[u8]) -> (Option<Cow<'_, str>>, Option<&'static str>) {
    if bytes.is_empty() {
        return (None, None);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (Some(Cow::Borrowed(text)), None),
        Err(_) => (Some(Cow::Owned(STANDARD.encode(bytes))), Some("base64")),
    }
}

fn header_out(header: &Header) -> NameValueOut<'_> {
    match std::str::from_utf8(&header.value) {
        Ok(value) => NameValueOut {
            name: Cow::Borrowed(&header.name),
            value: Cow::Borrowed(value),
            value_base64: None,
        },
        Err(_) => NameValueOut {
            name: Cow::Borrowed(&header.name),
            value: header.value_str(),
            value_base64: Some(STANDARD.encode(&header.value)),
        },
    }
}

fn name_value<'a>(name: &'a str, value: &'a str) -> NameValueOut<'a> {
    NameValueOut { name: Cow::Borrowed(name), value: Cow::Borrowed(value), value_base64: None }
}

fn owned_name_value(name: &str, value: &str) -> NameValueOut<'static> {
    NameValueOut {
        name: Cow::Owned(name.to_owned()),
        value: Cow::Owned(value.to_owned()),
        value_base64: None,
    }
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn content_type(headers: &Headers) -> Option<Cow<'_, str>> {
    headers.get("content-type").map(lossy)
}

fn query_string(query: &str) -> Vec<NameValueOut<'_>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            name_value(name, value)
        })
        .collect()
}

/// `Cookie: a=1; b=2` as HAR's `cookies` list (derived; headers stay the truth).
fn request_cookies(headers: &Headers) -> Vec<NameValueOut<'static>> {
    headers
        .get_all("cookie")
        .flat_map(|value| {
            lossy(value)
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .map(|(name, value)| owned_name_value(name, value))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The name and value of each `Set-Cookie`, attributes left in the header.
fn response_cookies(headers: &Headers) -> Vec<NameValueOut<'static>> {
    headers
        .get_all("set-cookie")
        .filter_map(|value| {
            let value = lossy(value);
            let first = value.split(';').next().unwrap_or("");
            first.trim().split_once('=').map(|(name, value)| owned_name_value(name, value))
        })
        .collect()
}

fn rfc3339_millis(unix_ns: u64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ns)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        // Unreachable: every u64 of nanoseconds is within year 2554.
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

// ---------------------------------------------------------------- import

/// Reads a HAR log into exchanges, in file order. Entries without venomqa's
/// custom fields get id 0 and an empty session, for the store to assign.
pub fn read_har<R: Read>(input: R) -> Result<Vec<Exchange>, HarError> {
    let mut input = BufReader::new(input);
    // Some Windows tools start the file with a UTF-8 byte order mark.
    if input.fill_buf().map_err(HarError::Read)?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let mut state = ImportState::default();
    let mut json = serde_json::Deserializer::from_reader(input);
    let parsed = RootSeed(&mut state).deserialize(&mut json).and_then(|()| json.end());
    // An unusable entry aborts the parse; its own error says more than serde's.
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    parsed.map_err(json_error)?;
    if !state.saw_log {
        return Err(HarError::NotHar(
            "no top-level `log` object (a HAR is {\"log\": {\"entries\": [...]}})".to_owned(),
        ));
    }
    if !state.saw_entries {
        return Err(HarError::NotHar("`log` has no `entries` array".to_owned()));
    }
    Ok(state.exchanges)
}

fn json_error(error: serde_json::Error) -> HarError {
    match error.classify() {
        Category::Io => HarError::Read(error.into()),
        Category::Syntax | Category::Eof => {
            let (line, column) = (error.line(), error.column());
            let full = error.to_string();
            let position = format!(" at line {line} column {column}");
            let reason = match (error.classify(), line, column) {
                (Category::Eof, 1, 0) => "the input is empty".to_owned(),
                _ => full.strip_suffix(&position).unwrap_or(&full).to_owned(),
            };
            HarError::NotJson { line, column, reason }
        }
        Category::Data => HarError::NotHar(error.to_string()),
    }
}

/// What the streaming parse collects: entries are converted one at a time,
/// so only one entry's JSON tree is ever in memory.
#[derive(Default)]
struct ImportState {
    exchanges: Vec<Exchange>,
    failure: Option<HarError>,
    saw_log: bool,
    saw_entries: bool,
}

struct RootSeed<'s>(&'s mut ImportState);
struct LogSeed<'s>(&'s mut ImportState);
struct EntriesSeed<'s>(&'s mut ImportState);

impl<'de> DeserializeSeed<'de> for RootSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a HAR object such as {\"log\": {\"entries\": [...]}}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                state.saw_log = true;
                map.next_value_seed(LogSeed(&mut *state))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a HAR `log` object with an `entries` array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                state.saw_entries = true;
                map.next_value_seed(EntriesSeed(&mut *state))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("`log.entries` as an array of HAR entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.0;
        let mut index = state.exchanges.len();
        while let Some(entry) = seq.next_element::<Value>()? {
            match entry_to_exchange(index, &entry) {
                Ok(exchange) => state.exchanges.push(exchange),
                Err(failure) => {
                    state.failure = Some(failure);
                    return Err(de::Error::custom("unusable HAR entry"));
                }
            }
            index += 1;
        }
        Ok(())
    }
}

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

fn entry_to_exchange(index: usize, value: &Value) -> Result<Exchange, HarError> {
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
