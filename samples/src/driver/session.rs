//! Playing one planned session against the shop over HTTP.
//!
//! Every request carries `X-Session`, and after login `Authorization`. The
//! driver checks each answer against the status the happy path expects; an
//! unexpected answer is recorded and the order it concerns is left alone from
//! then on (if it was the login, the whole session is), so a surprising shop
//! never leads the driver into a sequence that was not planned.

use reqwest::header::{HeaderMap, ETAG};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use super::plan::{OrderPlan, SessionPlan, Step};
use super::text::snippet;
use super::{DriveError, DriveStep, UnexpectedAnswer};
use crate::ids::random_chars;

/// What a session sent and what came back.
#[derive(Default)]
pub(crate) struct SessionLog {
    pub steps: Vec<DriveStep>,
    pub unexpected: Vec<UnexpectedAnswer>,
}

/// An answer with the status the plan expected.
struct Answer {
    headers: HeaderMap,
    body: Value,
}

/// One request to send: the endpoint as a template for the report, the real path for the wire.
struct Call {
    method: Method,
    endpoint: &'static str,
    path: String,
    expected: StatusCode,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    fn new(method: Method, endpoint: &'static str, path: String, expected: StatusCode) -> Call {
        Call { method, endpoint, path, expected, body: None, headers: vec![] }
    }
}

pub(crate) struct SessionRun<'a> {
    client: &'a Client,
    base: &'a str,
    index: usize,
    session_id: &'a str,
    token: Option<String>,
    /// The plan's order the next requests concern, for the report.
    order: Option<usize>,
    log: SessionLog,
}

impl<'a> SessionRun<'a> {
    pub fn new(client: &'a Client, base: &'a str, index: usize, session_id: &'a str) -> Self {
        SessionRun {
            client,
            base,
            index,
            session_id,
            token: None,
            order: None,
            log: SessionLog::default(),
        }
    }

    /// Plays the whole plan; only a transport failure is an error.
    pub async fn play(mut self, plan: &SessionPlan) -> Result<SessionLog, DriveError> {
        let mut login = Call::new(Method::POST, "POST /login", "/login".into(), StatusCode::OK);
        login.body =
            Some(json!({ "username": plan.user.username, "password": plan.user.password }));
        let Some(answer) = self.send(login).await? else { return Ok(self.log) };
        match answer.body.get("token").and_then(Value::as_str) {
            Some(token) => self.token = Some(token.to_string()),
            None => {
                self.note_problem(
                    "POST /login",
                    "/login",
                    StatusCode::OK,
                    "the answer has no `token`",
                );
                return Ok(self.log);
            }
        }

        let mut orders: Vec<(usize, String, &OrderPlan)> = Vec::new();
        for (k, order) in plan.orders.iter().enumerate() {
            self.order = Some(k);
            if let Some(id) = self.create(order).await? {
                orders.push((k, id, order));
            }
        }
        self.order = None;
        self.list().await?;

        // Work on the orders in rounds, one step of each in turn, the way a
        // tester moves between browser tabs; an order whose step was answered
        // unexpectedly drops out.
        let mut live: Vec<bool> = vec![true; orders.len()];
        let rounds = orders.iter().map(|(_, _, o)| o.steps.len()).max().unwrap_or(0);
        for round in 0..rounds {
            for (slot, (k, id, order)) in orders.iter().enumerate() {
                if let (true, Some(step)) = (live[slot], order.steps.get(round)) {
                    self.order = Some(*k);
                    live[slot] = self.step(id, step).await?;
                }
            }
        }
        self.order = None;

        if plan.list_at_end {
            self.list().await?;
        }
        if plan.logout {
            let logout =
                Call::new(Method::POST, "POST /logout", "/logout".into(), StatusCode::NO_CONTENT);
            if self.send(logout).await?.is_some() {
                self.token = None;
            }
        }
        Ok(self.log)
    }

    async fn create(&mut self, order: &OrderPlan) -> Result<Option<String>, DriveError> {
        let mut call =
            Call::new(Method::POST, "POST /orders", "/orders".into(), StatusCode::CREATED);
        call.body = Some(json!({ "item": order.item, "amount": order.amount }));
        let Some(answer) = self.send(call).await? else { return Ok(None) };
        match answer.body.get("id").and_then(Value::as_str) {
            Some(id) => Ok(Some(id.to_string())),
            None => {
                self.note_problem(
                    "POST /orders",
                    "/orders",
                    StatusCode::CREATED,
                    "the answer has no `id`",
                );
                Ok(None)
            }
        }
    }

    async fn list(&mut self) -> Result<(), DriveError> {
        let call = Call::new(Method::GET, "GET /orders", "/orders".into(), StatusCode::OK);
        self.send(call).await?;
        Ok(())
    }

    /// One step on an order; false when it was answered unexpectedly.
    async fn step(&mut self, id: &str, step: &Step) -> Result<bool, DriveError> {
        let order_path = format!("/orders/{id}");
        let call = match step {
            Step::Pay => {
                // A fresh key for every pay: the driver never retries, so it
                // never exercises the idempotency path itself.
                let key = format!("idem-{}", random_chars(20));
                let mut call = Call::new(
                    Method::POST,
                    "POST /orders/{id}/pay",
                    format!("{order_path}/pay"),
                    StatusCode::OK,
                );
                call.headers.push(("idempotency-key", key));
                call
            }
            Step::Ship => Call::new(
                Method::POST,
                "POST /orders/{id}/ship",
                format!("{order_path}/ship"),
                StatusCode::OK,
            ),
            Step::Refund => Call::new(
                Method::POST,
                "POST /orders/{id}/refund",
                format!("{order_path}/refund"),
                StatusCode::OK,
            ),
            Step::Cancel => Call::new(
                Method::POST,
                "POST /orders/{id}/cancel",
                format!("{order_path}/cancel"),
                StatusCode::OK,
            ),
            Step::Delete => {
                Call::new(Method::DELETE, "DELETE /orders/{id}", order_path, StatusCode::NO_CONTENT)
            }
            Step::Read => Call::new(Method::GET, "GET /orders/{id}", order_path, StatusCode::OK),
            Step::EditNote(note) => return self.edit_note(&order_path, note).await,
        };
        Ok(self.send(call).await?.is_some())
    }

    /// A fresh read, then a `PATCH` carrying that read's `ETag` in `If-Match`.
    async fn edit_note(&mut self, order_path: &str, note: &str) -> Result<bool, DriveError> {
        let read =
            Call::new(Method::GET, "GET /orders/{id}", order_path.to_string(), StatusCode::OK);
        let Some(answer) = self.send(read).await? else { return Ok(false) };
        let Some(etag) = answer.headers.get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string)
        else {
            self.note_problem(
                "GET /orders/{id}",
                order_path,
                StatusCode::OK,
                "the answer has no ETag",
            );
            return Ok(false);
        };
        let mut patch =
            Call::new(Method::PATCH, "PATCH /orders/{id}", order_path.to_string(), StatusCode::OK);
        patch.body = Some(json!({ "note": note }));
        patch.headers.push(("if-match", etag));
        Ok(self.send(patch).await?.is_some())
    }

    /// Sends one request; `None` when the status was not the expected one (recorded).
    async fn send(&mut self, call: Call) -> Result<Option<Answer>, DriveError> {
        let url = format!("{}{}", self.base, call.path);
        let mut request =
            self.client.request(call.method.clone(), &url).header("x-session", self.session_id);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let failed = |err: reqwest::Error| DriveError::request(&call.method, &url, &err);
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(failed)?;
        self.log.steps.push(DriveStep {
            session: self.index,
            order: self.order,
            endpoint: call.endpoint.to_string(),
            status: status.as_u16(),
        });

        if status != call.expected {
            self.log.unexpected.push(UnexpectedAnswer {
                session_id: self.session_id.to_string(),
                endpoint: call.endpoint.to_string(),
                path: call.path,
                expected: call.expected.as_u16(),
                status: status.as_u16(),
                problem: format!(
                    "expected {}, got {}: {}",
                    call.expected.as_u16(),
                    status.as_u16(),
                    snippet(&bytes)
                ),
            });
            return Ok(None);
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok(Some(Answer { headers, body }))
    }

    fn note_problem(&mut self, endpoint: &str, path: &str, status: StatusCode, problem: &str) {
        self.log.unexpected.push(UnexpectedAnswer {
            session_id: self.session_id.to_string(),
            endpoint: endpoint.to_string(),
            path: path.to_string(),
            expected: status.as_u16(),
            status: status.as_u16(),
            problem: problem.to_string(),
        });
    }
}
