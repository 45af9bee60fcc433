//! Comparing what the target shows: JSON flattened to pointer → scalar, the
//! [`Noise`] of values that differ between identical runs (they never count
//! as a change), and the changes between two reads of an instance.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::run::execute::Snapshot;

/// Values that differ between identical runs: never a change.
#[derive(Clone, Debug, Default)]
pub(crate) struct Noise {
    /// (resource index, normalized pointer) in probe reads.
    pub resource: HashSet<(usize, String)>,
    /// (action, normalized pointer) in responses.
    pub response: HashSet<(String, String)>,
}

impl Noise {
    pub fn merge(&mut self, other: Noise) {
        self.resource.extend(other.resource);
        self.response.extend(other.response);
    }
}

/// Every scalar of `value` by JSON pointer (arrays by index; empty
/// containers are scalars so that `[]` → `[x]` is a change).
pub(crate) fn flatten(value: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    walk(value, &mut String::new(), &mut out);
    out
}

fn walk<'a>(value: &'a Value, path: &mut String, out: &mut BTreeMap<String, &'a Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(v, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                walk(v, path, out);
                path.truncate(len);
            }
        }
        scalar => {
            out.insert(path.clone(), scalar);
        }
    }
}

/// Normalized pointers whose values differ between `a` and `b`.
pub(crate) fn differing(a: Option<&Value>, b: Option<&Value>) -> Vec<String> {
    let (fa, fb) = match (a, b) {
        (Some(a), Some(b)) => (flatten(a), flatten(b)),
        _ => return Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for (k, v) in &fa {
        if fb.get(k) != Some(v) {
            out.push(normalize(k));
        }
    }
    for k in fb.keys() {
        if !fa.contains_key(k) {
            out.push(normalize(k));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// How `after` differs from `before` for an instance of `resource`, noise
/// left out: one line per change (`status: "paid" → "refunded"`).
pub(crate) fn changes(
    before: &Snapshot,
    after: &Snapshot,
    resource: usize,
    noise: &Noise,
) -> Vec<String> {
    if before.status != after.status {
        return vec![format!("read-back status {} → {}", before.status, after.status)];
    }
    let (Some(a), Some(b)) = (&before.json, &after.json) else { return Vec::new() };
    let (fa, fb) = (flatten(a), flatten(b));
    let quiet = |k: &str| noise.resource.contains(&(resource, normalize(k)));
    let mut out = Vec::new();
    for (k, v) in &fa {
        if quiet(k) {
            continue;
        }
        match fb.get(k) {
            Some(w) if w == v => {}
            Some(w) => out.push(format!("{}: {v} → {w}", show(k))),
            None => out.push(format!("{}: {v} → (gone)", show(k))),
        }
    }
    for (k, w) in &fb {
        if !fa.contains_key(k) && !quiet(k) {
            out.push(format!("{}: (none) → {w}", show(k)));
        }
    }
    out
}

/// Like [`changes`], between reads of two *different runs*' instances: the
/// instances' own ids (`id_a` in `a`, `id_b` in `b`) count as equal.
pub(crate) fn changes_across(
    a: &Snapshot,
    b: &Snapshot,
    resource: usize,
    noise: &Noise,
    id_a: &str,
    id_b: &str,
) -> Vec<String> {
    if a.status != b.status {
        return vec![format!("read-back status {} → {}", a.status, b.status)];
    }
    let (Some(ja), Some(jb)) = (&a.json, &b.json) else { return Vec::new() };
    let (fa, fb) = (flatten(ja), flatten(jb));
    let is_id = |v: Option<&&Value>, id: &str| v.and_then(|v| v.as_str()) == Some(id);
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !noise.resource.contains(&(resource, normalize(k))))
        .filter(|k| {
            let (va, vb) = (fa.get(*k), fb.get(*k));
            va != vb && !(is_id(va, id_a) && is_id(vb, id_b))
        })
        .map(|k| show(k))
        .collect()
}

/// A JSON pointer with array indexes as `*`, for noise keys.
pub(crate) fn normalize(pointer: &str) -> String {
    pointer
        .split('/')
        .map(
            |seg| {
                if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    seg
                }
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// `/refunded` → `refunded`, `/items/0/qty` → `items.0.qty`.
fn show(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// Whether `body` holds `id` as a JSON string or number anywhere.
pub(crate) fn holds_id(body: &Value, id: &str) -> bool {
    match body {
        Value::String(s) => s == id,
        Value::Number(n) => n.to_string() == id,
        Value::Array(items) => items.iter().any(|v| holds_id(v, id)),
        Value::Object(map) => map.values().any(|v| holds_id(v, id)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_leave_noise_out_and_name_each_field() {
        let before = Snapshot {
            status: 200,
            json: Some(json!({"status": "paid", "at": 1, "n": [1]})),
            seen_in: None,
            read: None,
        };
        let after = Snapshot {
            status: 200,
            json: Some(json!({"status": "refunded", "at": 2, "n": [1]})),
            seen_in: None,
            read: None,
        };
        let mut noise = Noise::default();
        noise.resource.insert((0, "/at".into()));
        assert_eq!(changes(&before, &after, 0, &noise), ["status: \"paid\" → \"refunded\""]);
        assert!(changes(&before, &before, 0, &noise).is_empty());
    }

    #[test]
    fn differing_normalizes_array_indexes() {
        let a = json!({"orders": [{"id": "a"}]});
        let b = json!({"orders": [{"id": "b"}]});
        assert_eq!(differing(Some(&a), Some(&b)), ["/orders/*/id"]);
    }
}
