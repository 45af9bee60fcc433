//! Actions: everything observed about one endpoint (statuses, bodies, query,
//! the headers that change its behaviour, its credentials), accumulated one
//! exchange at a time and turned into the model's [`Action`].

use std::collections::{BTreeMap, BTreeSet};

use venomqa_traffic::Request;

use crate::flow::authorization_token;
use crate::model::{Action, Link, LinkSource, Location, PathParam, ResponseShape};
use crate::shape::{BodyAcc, ParsedBody, QueryAcc};
use crate::template::ActionShape;

/// Request headers that change what a call does, so the replayer must send
/// (and may mutate) them: idempotency keys, conditional-write validators,
/// CSRF and API keys.
const HEADERS_THAT_MATTER: [&str; 10] = [
    "idempotency-key",
    "x-idempotency-key",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "if-modified-since",
    "x-csrf-token",
    "x-xsrf-token",
    "x-api-key",
    "api-key",
];

/// What one endpoint's exchanges looked like so far.
#[derive(Debug, Default)]
pub(crate) struct ActionAcc {
    count: u64,
    example: Option<u64>,
    query: QueryAcc,
    request: BodyAcc,
    responses: BTreeMap<u16, (u64, BodyAcc)>,
    headers: BTreeSet<String>,
    bearer: u64,
    basic: u64,
    cookie: u64,
}

/// One exchange, as the action accumulator needs it.
pub(crate) struct Observed<'a> {
    pub exchange: u64,
    pub request: &'a Request,
    pub query: &'a [(String, String)],
    pub request_body: &'a ParsedBody,
    pub status: u16,
    pub response_body: &'a ParsedBody,
}

impl ActionAcc {
    pub(crate) fn observe(&mut self, o: &Observed<'_>) {
        self.count += 1;
        self.example.get_or_insert(o.exchange);
        self.query.add(o.query);
        self.request.add(o.request_body);
        let (n, body) = self.responses.entry(o.status).or_default();
        *n += 1;
        body.add(o.response_body);
        for header in o.request.headers.iter() {
            let name = header.name.to_ascii_lowercase();
            match name.as_str() {
                "authorization" => {
                    let value = header.value_str();
                    if authorization_token(&value).is_some() {
                        self.bearer += 1;
                    } else if value.trim_start().to_ascii_lowercase().starts_with("basic ") {
                        self.basic += 1;
                    }
                }
                "cookie" => self.cookie += 1,
                _ if HEADERS_THAT_MATTER.contains(&name.as_str()) => {
                    self.headers.insert(name);
                }
                _ => {}
            }
        }
    }

    /// The model's action; `links` are all learned links (for parameter
    /// sources, linked headers and cookie credentials).
    pub(crate) fn finish(&self, shape: &ActionShape, links: &[Link]) -> Action {
        let mine: Vec<&Link> = links.iter().filter(|l| l.consumer == shape.id).collect();
        let params = shape
            .params
            .iter()
            .map(|p| PathParam {
                name: p.name.clone(),
                kind: p.kind,
                source: mine
                    .iter()
                    .find(|l| matches!(&l.to, Location::Path { name } if *name == p.name))
                    .map(|l| LinkSource {
                        action: l.producer.clone(),
                        status: l.status,
                        from: l.from.clone(),
                    }),
            })
            .collect();
        let mut headers = self.headers.clone();
        for link in &mine {
            if let Location::Header { name } = &link.to {
                headers.insert(name.clone());
            }
        }
        let half = |n: u64| n > 0 && n * 2 >= self.count;
        let linked_cookie = mine.iter().find_map(|l| match &l.to {
            Location::Cookie { name } => Some(name.clone()),
            _ => None,
        });
        let auth = if half(self.bearer) {
            Some("bearer".to_string())
        } else if half(self.basic) {
            Some("basic".to_string())
        } else if let Some(name) = linked_cookie {
            Some(format!("cookie:{name}"))
        } else if half(self.cookie) {
            Some("cookie".to_string())
        } else {
            None
        };
        Action {
            id: shape.id.clone(),
            method: shape.method.clone(),
            template: shape.template.clone(),
            params,
            query: self.query.finish(self.count),
            request: self.request.finish(),
            responses: self
                .responses
                .iter()
                .map(|(status, (count, body))| {
                    (*status, ResponseShape { count: *count, body: body.finish() })
                })
                .collect(),
            headers: headers.into_iter().collect(),
            needs_auth: auth.is_some(),
            auth,
            count: self.count,
            example: self.example.unwrap_or_default(),
        }
    }
}
