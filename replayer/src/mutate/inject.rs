//! The field-injection family (mass assignment): a field a resource's
//! answers show but no recorded create or update of it ever sent (`status`,
//! `role`, `balance`, `is_admin`) is added to a create or an update, with a
//! plausible value other than the one the server set in calibration.
//!
//! A per-user singleton (`PUT /me`) is written the same way, its fields
//! those its reads show. Only fields whose type says what a different
//! value is are tried: flags, numbers and enum-like words. Ids, the values other requests were linked
//! to, and volatile values are left out.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};
use venomqa_learner::{Action, Location, Schema};

use crate::mutate::journey::Journey;
use crate::run::request::{BodyTemplate, RequestTemplate};
use crate::run::sequence::Sequence;
use crate::setup::plan::Plan;

/// `idem_salt` of the first injected field; each field gets its own, so two
/// injections into the same step are two cases.
const INJECTED_SALT: u32 = 100;

/// A field that can be injected into a resource's writes, and the words
/// its values took (for enum-like fields).
#[derive(Clone, Debug, PartialEq)]
struct Injectable {
    pub field: String,
    pub kind: FieldKind,
}

/// What a different value of a field is.
#[derive(Clone, Debug, PartialEq)]
enum FieldKind {
    Flag,
    Number,
    Word(Vec<String>),
}

impl Journey<'_> {
    /// Each create and update of a resource with each injectable field added.
    pub(super) fn field_injection(&self) -> Vec<Sequence> {
        let mut out = Vec::new();
        for (i, s) in self.steps().iter().enumerate() {
            let c = &s.call;
            let singleton = self.plan.singleton_of(c.action());
            let Some(r) = c.creates.or(c.acts_on).or(singleton) else { continue };
            let info = &self.plan.resources[r];
            // A singleton's (`/me`) every write updates it.
            let update = if singleton.is_some() {
                !c.is_read()
            } else {
                self.plan.model.resource(&info.name).is_some_and(|m| {
                    c.creates.is_none() && m.update.iter().any(|u| u == c.action())
                })
            };
            if c.login || c.logout || (c.creates.is_none() && !update) {
                continue;
            }
            let Some(current) = self.calibrated_read(i) else { continue };
            for (n, inj) in injectable(self.plan, r).into_iter().enumerate() {
                let Some(value) = inj.kind.other_than(current.get(&inj.field)) else { continue };
                let Some(template) = with_body_field(&c.template, &inj.field, value) else {
                    continue;
                };
                let mut step = s.clone();
                step.call.template = template;
                step.call.idem_salt = INJECTED_SALT + n as u32;
                let mut steps = self.steps()[..i].to_vec();
                steps.push(step.focus());
                out.push(self.new_seq(steps));
            }
        }
        out
    }

    /// The instance step `i` wrote, as calibration read it back after the step.
    fn calibrated_read(&self, i: usize) -> Option<&serde_json::Map<String, Value>> {
        let k = self.baseline.trace.steps.get(i)?.instance?;
        self.baseline.trace.after(i, k)?.json.as_ref()?.as_object()
    }
}

impl FieldKind {
    /// A value of this kind that differs from `current`.
    fn other_than(&self, current: Option<&Value>) -> Option<Value> {
        match self {
            FieldKind::Flag => Some(json!(!current?.as_bool()?)),
            FieldKind::Number => {
                let n = current.and_then(Value::as_i64).unwrap_or(0);
                Some(json!(n.saturating_add(1000)))
            }
            FieldKind::Word(words) => {
                let now = current.and_then(Value::as_str);
                words.iter().rev().find(|w| Some(w.as_str()) != now).map(|w| json!(w))
            }
        }
    }
}

/// `template` with `field` set to `value` at the top of its JSON object body.
fn with_body_field(
    template: &Arc<RequestTemplate>,
    field: &str,
    value: Value,
) -> Option<Arc<RequestTemplate>> {
    let BodyTemplate::Json(Value::Object(map)) = &template.body else { return None };
    let mut map = map.clone();
    map.insert(field.to_string(), value);
    let mut t = RequestTemplate::clone(template);
    t.body = BodyTemplate::Json(Value::Object(map));
    Some(Arc::new(t))
}

/// Fields resource `r`'s answers show and none of its creates or updates
/// sent, typed so a different value can be chosen; ids, linked values and
/// volatile values left out.
fn injectable(plan: &Plan, r: usize) -> Vec<Injectable> {
    let info = &plan.resources[r];
    let actions = |ids: &[&String]| -> Vec<&Action> {
        ids.iter().filter_map(|id| plan.model.action(id)).collect()
    };
    let mut excluded: BTreeSet<String> = BTreeSet::new();
    // A collection's creates and updates, or a singleton's writes; and what reads it.
    let (writes, shown): (Vec<&String>, Vec<&String>) = if info.singleton.is_empty() {
        let Some(res) = plan.model.resource(&info.name) else { return Vec::new() };
        excluded.insert(res.id_param.clone());
        excluded.extend(res.id_pointer.as_deref().map(top_field));
        let writes: Vec<&String> = res.create.iter().chain(&res.update).collect();
        let shown = writes.iter().copied().chain(&res.read).collect();
        (writes, shown)
    } else {
        let is_read = |a: &&String| a.starts_with("GET ");
        (info.singleton.iter().filter(|a| !is_read(a)).collect(), info.singleton.iter().collect())
    };
    for a in actions(&writes) {
        excluded.extend(properties(a.request.schema.as_ref()).map(|(k, _)| k.clone()));
    }
    for link in &plan.model.links {
        if let Location::Body { pointer } = &link.from {
            if shown.iter().any(|s| **s == link.producer) {
                excluded.insert(top_field(pointer));
            }
        }
    }
    for v in plan.model.volatile.iter().filter(|v| shown.iter().any(|s| **s == v.action)) {
        if let Location::Body { pointer } = &v.at {
            excluded.insert(top_field(pointer));
        }
    }
    let mut out: Vec<Injectable> = Vec::new();
    for a in actions(&shown) {
        let ok = a.responses.iter().filter(|(s, _)| (200..300).contains(*s));
        for (field, schema) in ok.flat_map(|(_, r)| properties(r.body.schema.as_ref())) {
            if excluded.contains(field) || out.iter().any(|i| &i.field == field) {
                continue;
            }
            if let Some(kind) = kind_of(schema) {
                out.push(Injectable { field: field.clone(), kind });
            }
        }
    }
    // The state first, then flags (`is_admin`), words (`role`), numbers:
    // the engine keeps one finding per action, the surest one.
    let state = plan.resources[r].state_field.as_deref();
    out.sort_by_key(|i| match &i.kind {
        _ if state == Some(i.field.as_str()) => 0,
        FieldKind::Flag => 1,
        FieldKind::Word(_) => 2,
        FieldKind::Number => 3,
    });
    out
}

fn properties(schema: Option<&Schema>) -> impl Iterator<Item = (&String, &Schema)> {
    schema.into_iter().flat_map(|s| s.properties.iter())
}

/// `/status` → `status`, `/items/*/sku` → `items`.
fn top_field(pointer: &str) -> String {
    pointer.trim_start_matches('/').split('/').next().unwrap_or_default().to_string()
}

/// What a different value of a field of this schema is; `None` for free
/// text, ids, objects and arrays.
fn kind_of(schema: &Schema) -> Option<FieldKind> {
    let types: Vec<&str> =
        schema.types.iter().map(String::as_str).filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["boolean"] => Some(FieldKind::Flag),
        ["integer"] | ["number"] if schema.format.is_none() => Some(FieldKind::Number),
        ["string"] => match &schema.enumeration {
            Some(words) if words.len() >= 2 => Some(FieldKind::Word(words.clone())),
            _ => None,
        },
        _ => None,
    }
}
