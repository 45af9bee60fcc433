//! The learned actions as an OpenAPI 3.1 document, so the API venomqa saw
//! can feed other tools: paths and parameters, request and response JSON
//! schemas inferred from bodies, the observed status codes, an
//! `operationId` per action, and every data-flow link as an OpenAPI Link
//! Object on the response that produces the value.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::model::{Action, Location, Model};
use crate::shape::{BodyKind, BodyShape};
use crate::value::ValueKind;

/// `POST /orders/{order_id}/pay` → `post_orders_order_id_pay`, unique per model.
fn operation_ids(model: &Model) -> HashMap<String, String> {
    let mut used = HashSet::new();
    let mut out = HashMap::new();
    for a in &model.actions {
        let mut base = a.method.to_ascii_lowercase();
        for c in a.template.chars() {
            let c = if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' };
            if c != '_' || !base.ends_with('_') {
                base.push(c);
            }
        }
        let base = base.trim_end_matches('_').to_string();
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        out.insert(a.id.clone(), id);
    }
    out
}

fn param_schema(kind: ValueKind) -> Value {
    match kind {
        ValueKind::Number => json!({"type": "integer"}),
        ValueKind::Uuid => json!({"type": "string", "format": "uuid"}),
        ValueKind::Timestamp => json!({"type": "string", "format": "date-time"}),
        other => json!({"type": "string", "format": other.name()}),
    }
}

fn content(body: &BodyShape) -> Option<Value> {
    match body.kind {
        BodyKind::Empty => None,
        BodyKind::Json => {
            let schema = body
                .schema
                .as_ref()
                .map_or(json!({}), |s| serde_json::to_value(s).unwrap_or(json!({})));
            Some(json!({"application/json": {"schema": schema}}))
        }
        BodyKind::NonJson => {
            let mut map = Map::new();
            let types = if body.content_types.is_empty() {
                vec!["application/octet-stream".to_string()]
            } else {
                body.content_types.clone()
            };
            for ct in types {
                map.insert(ct, json!({}));
            }
            Some(Value::Object(map))
        }
    }
}

/// The runtime expression that reads a producer's value, when OpenAPI has one.
fn expression(from: &Location) -> Option<String> {
    match from {
        Location::Body { pointer } if !pointer.contains('*') => {
            Some(format!("$response.body#{pointer}"))
        }
        Location::Header { name } => Some(format!("$response.header.{name}")),
        _ => None,
    }
}

/// The link parameter a consumer location is, and its value.
fn link_parameter(to: &Location, expr: String) -> Option<(String, String)> {
    match to {
        Location::Path { name } => Some((name.clone(), expr)),
        Location::Query { key } => Some((key.clone(), expr)),
        Location::Header { name } => Some((name.clone(), expr)),
        Location::Bearer => {
            Some(("header.Authorization".to_string(), format!("Bearer {{{expr}}}")))
        }
        _ => None,
    }
}

fn operation(model: &Model, a: &Action, ops: &HashMap<String, String>) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(ops.get(&a.id)));
    op.insert("summary".into(), json!(a.id));
    let mut parameters = Vec::new();
    for p in &a.params {
        parameters.push(
            json!({"name": p.name, "in": "path", "required": true, "schema": param_schema(p.kind)}),
        );
    }
    for (key, q) in &a.query {
        parameters.push(json!({"name": key, "in": "query", "required": q.required, "schema": param_schema(q.kind)}));
    }
    for h in &a.headers {
        parameters.push(
            json!({"name": h, "in": "header", "required": false, "schema": {"type": "string"}}),
        );
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(content) = content(&a.request) {
        op.insert(
            "requestBody".into(),
            json!({"required": !a.request.optional, "content": content}),
        );
    }
    let mut responses = Map::new();
    for (status, r) in &a.responses {
        let mut response = Map::new();
        response.insert("description".into(), json!(format!("observed {} times", r.count)));
        if let Some(content) = content(&r.body) {
            response.insert("content".into(), content);
        }
        // One Link Object per consumer, with every parameter this response feeds it.
        let mut links: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for l in model.links.iter().filter(|l| l.producer == a.id && l.status == *status) {
            let (Some(consumer_op), Some(expr)) = (ops.get(&l.consumer), expression(&l.from))
            else {
                continue;
            };
            let Some((name, value)) = link_parameter(&l.to, expr) else { continue };
            let link = links.entry(consumer_op.clone()).or_default();
            link.insert(name, json!(value));
        }
        if !links.is_empty() {
            let links: Map<String, Value> = links
                .into_iter()
                .map(|(consumer, parameters)| {
                    (consumer.clone(), json!({"operationId": consumer, "parameters": parameters}))
                })
                .collect();
            response.insert("links".into(), Value::Object(links));
        }
        responses.insert(status.to_string(), Value::Object(response));
    }
    // Statuses the recording never showed are not undocumented behaviour:
    // schema-driven fuzzers read `default` as "any other answer".
    responses.insert(
        "default".into(),
        json!({"description": "any other status: not observed in the recording"}),
    );
    op.insert("responses".into(), Value::Object(responses));
    match a.auth.as_deref() {
        Some("bearer") => {
            op.insert("security".into(), json!([{"bearerAuth": []}]));
        }
        Some("basic") => {
            op.insert("security".into(), json!([{"basicAuth": []}]));
        }
        Some(cookie) if cookie.starts_with("cookie:") => {
            op.insert("security".into(), json!([{ cookie_scheme(cookie): [] }]));
        }
        _ => {}
    }
    Value::Object(op)
}

fn cookie_scheme(auth: &str) -> String {
    format!("cookieAuth_{}", auth.trim_start_matches("cookie:"))
}

/// The model's actions as an OpenAPI 3.1 document (JSON).
pub fn render_openapi(model: &Model) -> Value {
    let ops = operation_ids(model);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut schemes = Map::new();
    for a in &model.actions {
        paths
            .entry(a.template.clone())
            .or_default()
            .insert(a.method.to_ascii_lowercase(), operation(model, a, &ops));
        match a.auth.as_deref() {
            Some("bearer") => {
                schemes.insert("bearerAuth".into(), json!({"type": "http", "scheme": "bearer"}));
            }
            Some("basic") => {
                schemes.insert("basicAuth".into(), json!({"type": "http", "scheme": "basic"}));
            }
            Some(cookie) if cookie.starts_with("cookie:") => {
                let name = cookie.trim_start_matches("cookie:");
                schemes.insert(
                    cookie_scheme(cookie),
                    json!({"type": "apiKey", "in": "cookie", "name": name}),
                );
            }
            _ => {}
        }
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "API learned by venomqa",
            "version": format!("model-{}", model.version),
            "description": format!(
                "Learned from {} recorded exchanges in {} sessions; only observed behaviour is described.",
                model.source.used, model.source.sessions
            ),
        },
        "paths": paths,
    });
    if !schemes.is_empty() {
        doc["components"] = json!({"securitySchemes": schemes});
    }
    doc
}
