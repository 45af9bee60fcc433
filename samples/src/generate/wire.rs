//! The wire: requests and answers with the headers the driver's HTTP client
//! and the shop (hyper) send, in their order, as the proxy captures them.

use serde::Serialize;
use venomqa_traffic::{Body, Exchange, Headers, Request, Response};

use super::{HOST, NS_PER_SEC};

/// The per-session request headers.
#[derive(Debug)]
pub(super) struct RequestHeaders {
    pub x_session: String,
    pub authorization: Option<String>,
    pub user_agent: &'static str,
}

/// One request and the shop's answer, before they become an [`Exchange`].
#[derive(Debug)]
pub(super) struct Call {
    pub method: &'static str,
    pub path: String,
    /// Headers the endpoint needs (`Idempotency-Key`, `If-Match`).
    pub headers: Vec<(&'static str, String)>,
    /// JSON request body; empty for none.
    pub body: Vec<u8>,
    pub status: u16,
    /// JSON answer; empty for none.
    pub answer: Vec<u8>,
    /// `ETag`, `Location`, `WWW-Authenticate`.
    pub answer_headers: Vec<(&'static str, String)>,
    pub duration: u64,
}

impl Call {
    pub(super) fn new(method: &'static str, path: String, status: u16, duration: u64) -> Call {
        Call {
            method,
            path,
            headers: Vec::new(),
            body: Vec::new(),
            status,
            answer: Vec::new(),
            answer_headers: Vec::new(),
            duration,
        }
    }

    pub(super) fn into_exchange(self, now: u64, port: u16, common: RequestHeaders) -> Exchange {
        let mut headers = Headers::default();
        headers.push("x-session", common.x_session);
        if let Some(authorization) = common.authorization {
            headers.push("authorization", authorization);
        }
        for (name, value) in self.headers {
            headers.push(name, value);
        }
        if !self.body.is_empty() {
            headers.push("content-type", "application/json");
        }
        headers.push("accept", "*/*");
        headers.push("user-agent", common.user_agent);
        headers.push("host", HOST);
        let request = request(self.method, self.path, headers, self.body);
        let response = response(self.status, now + self.duration, self.answer_headers, self.answer);
        exchange(now, self.duration, port, request, response)
    }
}

pub(super) fn request(method: &str, url: String, mut headers: Headers, body: Vec<u8>) -> Request {
    if !body.is_empty() {
        headers.push("content-length", body.len().to_string());
    }
    Request {
        method: method.to_string(),
        url,
        version: "HTTP/1.1".into(),
        headers,
        body: Body::complete(body),
    }
}

/// An answer with the headers the shop (hyper) writes, in its order.
pub(super) fn response(
    status: u16,
    done_ns: u64,
    extra: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> Response {
    let mut headers = Headers::default();
    if !body.is_empty() {
        headers.push("content-type", "application/json");
    }
    for (name, value) in extra {
        headers.push(name, value);
    }
    if !body.is_empty() {
        headers.push("content-length", body.len().to_string());
    }
    headers.push("date", http_date(done_ns / NS_PER_SEC));
    Response { status, version: "HTTP/1.1".into(), headers, body: Body::complete(body) }
}

pub(super) fn exchange(
    now: u64,
    duration: u64,
    port: u16,
    request: Request,
    response: Response,
) -> Exchange {
    Exchange {
        id: 0,
        session: Default::default(),
        started_at: now,
        duration_ns: duration,
        client: Some(format!("127.0.0.1:{port}")),
        request,
        response: Some(response),
        error: None,
    }
}

pub(super) fn json(value: &impl Serialize) -> Vec<u8> {
    // Our own structs of strings and numbers always serialise.
    serde_json::to_vec(value).unwrap_or_default()
}

pub(super) fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// An IMF-fixdate (`Thu, 26 Nov 2026 16:31:34 GMT`), as the `Date` header has it.
fn http_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm), for dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::DEFAULT_START_NS;

    #[test]
    fn dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_795_710_694), "Thu, 26 Nov 2026 16:31:34 GMT");
        assert_eq!(http_date(DEFAULT_START_NS / NS_PER_SEC), "Mon, 02 Nov 2026 09:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
