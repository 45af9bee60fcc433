//! Volatile fields: response values that change on every call (ids,
//! timestamps, request ids, `Date`), which state fingerprints and response
//! comparisons must ignore or every replay would look like a change.
//!
//! A field is volatile for an action when nearly every observation (of the
//! first [`SAMPLE`]) had a value not seen before *and* the values look like
//! ids or timestamps; `amount` values that happen to differ are state, not
//! noise, so plain numbers count only in id-named fields.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde_json::Value;
use venomqa_traffic::Headers;

use crate::model::{Location, VolatileField};
use crate::shape::ParsedBody;
use crate::value::{classify, is_id_name, leaf_text, walk_leaves, ValueKind};

/// Observations per field that decide; later ones are not hashed.
const SAMPLE: u32 = 64;
/// Fields tracked per action.
const MAX_FIELDS: usize = 256;

#[derive(Debug, Default)]
struct FieldAcc {
    observed: u32,
    distinct: HashSet<u64>,
    kinds: [u32; 7],
    id_named: bool,
}

/// Per action and response location, how often values repeat.
#[derive(Debug, Default)]
pub(crate) struct VolatileAcc {
    fields: HashMap<(u32, Location), FieldAcc>,
    per_action: HashMap<u32, usize>,
    /// Responses looked at per action: after a few hundred every field
    /// has its sample, so later responses are skipped whole.
    looked: HashMap<u32, u32>,
}

impl VolatileAcc {
    pub(crate) fn observe(&mut self, action: u32, body: &ParsedBody, headers: &Headers) {
        let looked = self.looked.entry(action).or_default();
        if *looked >= SAMPLE * 4 {
            return;
        }
        *looked += 1;
        if let Some(json) = body.json() {
            walk_leaves(json, &mut |path, leaf| {
                if let Some(text) = leaf_text(leaf) {
                    let id_named = is_id_name(path.key());
                    let kind = if matches!(leaf, Value::Number(_)) {
                        ValueKind::Number
                    } else {
                        classify(&text)
                    };
                    self.add(
                        action,
                        Location::Body { pointer: path.general() },
                        &text,
                        kind,
                        id_named,
                    );
                }
            });
        }
        for header in headers.iter() {
            let name = header.name.to_ascii_lowercase();
            if name == "set-cookie" || name == "content-length" {
                continue;
            }
            let value = header.value_str();
            let value = value.trim().trim_start_matches("W/").trim_matches('"');
            self.add(action, Location::Header { name }, value, classify(value), false);
        }
    }

    fn add(&mut self, action: u32, at: Location, value: &str, kind: ValueKind, id_named: bool) {
        let key = (action, at);
        if !self.fields.contains_key(&key) {
            let n = self.per_action.entry(action).or_default();
            if *n >= MAX_FIELDS {
                return;
            }
            *n += 1;
        }
        let acc = self.fields.entry(key).or_default();
        if acc.observed >= SAMPLE {
            return;
        }
        acc.observed += 1;
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        acc.distinct.insert(h.finish());
        acc.kinds[kind.index()] += 1;
        acc.id_named |= id_named;
    }

    pub(crate) fn finish(&self, action_ids: &[String]) -> Vec<VolatileField> {
        let mut out: Vec<VolatileField> = self
            .fields
            .iter()
            .filter(|(_, f)| f.observed >= 3 && f.distinct.len() as u32 * 10 >= f.observed * 9)
            .filter_map(|((action, at), f)| {
                let kind = ValueKind::ALL
                    .iter()
                    .copied()
                    .max_by_key(|k| (f.kinds[k.index()], std::cmp::Reverse(k.index())))?;
                let ok = match kind {
                    ValueKind::Uuid | ValueKind::Hex | ValueKind::Token | ValueKind::Timestamp => {
                        true
                    }
                    ValueKind::Number => f.id_named,
                    _ => false,
                };
                ok.then(|| VolatileField {
                    action: action_ids.get(*action as usize).cloned().unwrap_or_default(),
                    at: at.clone(),
                    kind,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.action, &a.at).cmp(&(&b.action, &b.at)));
        out
    }
}
