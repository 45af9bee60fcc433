//! One QA session's conversation with the library over HTTP: the `sid`
//! cookie kept the way a browser keeps it, and each answer checked against
//! the status the happy path expects.
//!
//! Every request carries `X-Session`, so a recorder groups it with its
//! session. An unexpected answer is logged and returned as `None`; the
//! journey then drops what depended on it, so a surprising library never
//! leads the driver into a sequence it did not plan.

use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::driver::text::snippet;
use crate::driver::{DriveError, DriveStep, UnexpectedAnswer};

/// A request body as a browser or script would send it.
pub(crate) enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

/// One request: the endpoint as a template for the report, the real path for the wire.
pub(crate) struct Call {
    pub method: Method,
    pub endpoint: &'static str,
    pub path: String,
    pub expected: StatusCode,
    pub body: Body,
    pub headers: Vec<(&'static str, String)>,
}

impl Call {
    /// A call to `path`, expecting `expected`.
    pub fn new(method: Method, endpoint: &'static str, path: String, expected: StatusCode) -> Call {
        Call { method, endpoint, path, expected, body: Body::None, headers: Vec::new() }
    }

    /// A `POST` to `path`, expecting `expected`.
    pub fn post(endpoint: &'static str, path: String, expected: StatusCode) -> Call {
        Call::new(Method::POST, endpoint, path, expected)
    }

    /// A `GET` of `path`, expecting 200.
    pub fn get(endpoint: &'static str, path: String) -> Call {
        Call::new(Method::GET, endpoint, path, StatusCode::OK)
    }

    /// The same call with a JSON body.
    pub fn json(mut self, body: Value) -> Call {
        self.body = Body::Json(body);
        self
    }

    /// The same call with one more header.
    pub fn header(mut self, name: &'static str, value: String) -> Call {
        self.headers.push((name, value));
        self
    }
}

/// An answer with the expected status.
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Value,
}

/// What a session sent and what came back.
#[derive(Default)]
pub(crate) struct VisitLog {
    pub steps: Vec<DriveStep>,
    pub unexpected: Vec<UnexpectedAnswer>,
}

/// A session in progress: the client, who it is, and its cookie.
pub(crate) struct Visit<'a> {
    client: &'a Client,
    base: &'a str,
    index: usize,
    session_id: &'a str,
    /// The `sid` cookie, once logged in.
    sid: Option<String>,
    pub log: VisitLog,
}

impl<'a> Visit<'a> {
    pub fn new(client: &'a Client, base: &'a str, index: usize, session_id: &'a str) -> Self {
        Visit { client, base, index, session_id, sid: None, log: VisitLog::default() }
    }

    /// Keeps the `sid` a login's `Set-Cookie` carries; false when there is none.
    pub fn keep_cookie(&mut self, answer: &Answer) -> bool {
        let sid = answer
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.trim().strip_prefix("sid="))
            .find(|sid| !sid.is_empty())
            .map(str::to_string);
        self.sid = sid;
        self.sid.is_some()
    }

    /// Forgets the cookie, as a browser does on the logout's expired `Set-Cookie`.
    pub fn forget_cookie(&mut self) {
        self.sid = None;
    }

    /// Sends one request; `None` when the status was not the expected one (logged).
    pub async fn send(&mut self, call: Call) -> Result<Option<Answer>, DriveError> {
        let url = format!("{}{}", self.base, call.path);
        let mut request =
            self.client.request(call.method.clone(), &url).header("x-session", self.session_id);
        if let Some(sid) = &self.sid {
            request = request.header(COOKIE, format!("sid={sid}"));
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        request = match &call.body {
            Body::None => request,
            Body::Json(body) => request.json(body),
            Body::Form(fields) => request.form(fields),
        };
        let failed = |err: reqwest::Error| DriveError::request(&call.method, &url, &err);
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(failed)?;
        self.log.steps.push(DriveStep {
            session: self.index,
            order: None,
            endpoint: call.endpoint.to_string(),
            status: status.as_u16(),
        });
        if status != call.expected {
            let problem = format!(
                "expected {}, got {}: {}",
                call.expected.as_u16(),
                status.as_u16(),
                snippet(&bytes)
            );
            self.note(&call, status, problem);
            return Ok(None);
        }
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Some(Answer { headers, body }))
    }

    /// Logs an answer that came with the right status and the wrong content.
    pub fn note_problem(&mut self, endpoint: &'static str, path: &str, problem: &str) {
        self.log.unexpected.push(UnexpectedAnswer {
            session_id: self.session_id.to_string(),
            endpoint: endpoint.to_string(),
            path: path.to_string(),
            expected: 200,
            status: 200,
            problem: problem.to_string(),
        });
    }

    fn note(&mut self, call: &Call, status: StatusCode, problem: String) {
        self.log.unexpected.push(UnexpectedAnswer {
            session_id: self.session_id.to_string(),
            endpoint: call.endpoint.to_string(),
            path: call.path.clone(),
            expected: call.expected.as_u16(),
            status: status.as_u16(),
            problem,
        });
    }
}
