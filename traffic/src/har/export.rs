//! HAR export: a log written entry by entry, so exporting a large store
//! never holds it in memory. The field mapping is in the module docs of
//! `har`.

use std::borrow::Cow;
use std::io::{BufWriter, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;

use super::HarError;
use crate::{rfc3339_millis, Body, Exchange, Header, Headers, Request, Response};

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
        headers: headers_out(&request.headers, body),
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
        headers: headers_out(&response.headers, body),
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

/// The headers as written, with `content-length` telling the length of the
/// body this file holds: redaction and truncation change a body, and a HAR
/// whose length disagrees with its body is refused by strict readers. A
/// length for a body that never came (`HEAD`, `304`) is left as it was.
fn headers_out<'a>(headers: &'a Headers, body: &Body) -> Vec<NameValueOut<'a>> {
    let had_body = !body.bytes.is_empty() || body.original_len > 0;
    headers
        .iter()
        .map(|h| {
            if had_body && h.name.eq_ignore_ascii_case("content-length") {
                owned_name_value(&h.name, &body.bytes.len().to_string())
            } else {
                header_out(h)
            }
        })
        .collect()
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
