//! Shape inference: what the bodies and query strings of an action look
//! like, as a small JSON Schema subset that a person can read and OpenAPI can
//! use unchanged.
//!
//! Accumulators merge one value at a time and keep bounded state (at most
//! [`MAX_PROPERTIES`] named properties per object, a few enum values per
//! string), so a map keyed by ids folds into `additionalProperties` instead
//! of growing a property per id.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::value::{classify, is_enum_word, ValueKind};

/// Properties kept per object before the rest fold into `additionalProperties`.
const MAX_PROPERTIES: usize = 64;
/// Distinct string values kept to offer an `enum`.
const MAX_ENUM: usize = 8;
/// JSON bodies per action side that shape the schema: enough to see every
/// field and variant that matters, and learning 1M exchanges stays cheap.
const SCHEMA_SAMPLE: u64 = 2000;
/// Nesting followed before a value is just "something".
const MAX_DEPTH: usize = 24;

/// The inferred schema of JSON values: `type`, `format`, `enum`,
/// `properties`/`required`/`additionalProperties` and `items`, as in JSON
/// Schema 2020-12 (which OpenAPI 3.1 uses).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// JSON types seen: one name, or several for a union (`["string", "null"]`).
    #[serde(rename = "type", default, skip_serializing_if = "Vec::is_empty", with = "one_or_many")]
    pub types: Vec<String>,
    /// What every string looked like: `uuid`, `date-time`, `hex`, `token`, `number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The few word values a string took, when it looks like an enum.
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enumeration: Option<Vec<String>>,
    /// Named object members.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Schema>,
    /// Members present in every object seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Members keyed by ids or too many to name.
    #[serde(rename = "additionalProperties", default, skip_serializing_if = "Option::is_none")]
    pub additional_properties: Option<Box<Schema>>,
    /// Array elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Schema>>,
}

mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    pub fn serialize<S: Serializer>(types: &[String], s: S) -> Result<S::Ok, S::Error> {
        match types {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        })
    }
}

/// What the bodies of one side of an action looked like.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyShape {
    /// `json`, `non-json` or `empty`: the most informative kind seen.
    pub kind: BodyKind,
    /// Content types of non-JSON bodies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_types: Vec<String>,
    /// The schema of the JSON bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    /// Some observations had no body while others had one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// Which kind of body an action carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyKind {
    /// No body was ever seen.
    #[default]
    Empty,
    /// At least one body parsed as JSON.
    Json,
    /// Bodies were seen and none was JSON (HTML, text, binary, truncated JSON).
    NonJson,
}

/// One query key of an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryParam {
    /// What its values looked like.
    pub kind: ValueKind,
    /// Present in every request of the action.
    pub required: bool,
    /// Requests that carried it.
    pub count: u64,
}

/// A parsed body, computed once per exchange and shared by every consumer.
#[derive(Debug)]
pub(crate) enum ParsedBody {
    Empty,
    Json(Value),
    NonJson(Option<String>),
}

impl ParsedBody {
    /// Parses a captured body: JSON when it parses (whatever the content
    /// type claims), otherwise non-JSON with its content type.
    pub(crate) fn parse(bytes: &[u8], truncated: bool, content_type: Option<&str>) -> ParsedBody {
        let bytes = venomqa_traffic::strip_bom(bytes);
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let Some(first) = first else { return ParsedBody::Empty };
        let content_type =
            content_type.map(|ct| ct.split(';').next().unwrap_or(ct).trim().to_ascii_lowercase());
        if !truncated && matches!(first, b'{' | b'[' | b'"')
            || content_type.as_deref().is_some_and(|c| c.contains("json"))
        {
            if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
                return ParsedBody::Json(value);
            }
        }
        ParsedBody::NonJson(content_type)
    }

    pub(crate) fn json(&self) -> Option<&Value> {
        match self {
            ParsedBody::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// Accumulates the bodies of one side of an action.
#[derive(Debug, Default)]
pub(crate) struct BodyAcc {
    empty: u64,
    non_json: u64,
    content_types: BTreeSet<String>,
    json_seen: u64,
    json: Option<SchemaAcc>,
}

impl BodyAcc {
    pub(crate) fn add(&mut self, body: &ParsedBody) {
        match body {
            ParsedBody::Empty => self.empty += 1,
            ParsedBody::Json(v) => {
                // A sample decides the schema; later bodies only count.
                self.json_seen += 1;
                if self.json_seen <= SCHEMA_SAMPLE {
                    self.json.get_or_insert_with(Default::default).add(v, 0);
                }
            }
            ParsedBody::NonJson(ct) => {
                self.non_json += 1;
                if let Some(ct) = ct {
                    if self.content_types.len() < 4 {
                        self.content_types.insert(ct.clone());
                    }
                }
            }
        }
    }

    pub(crate) fn finish(&self) -> BodyShape {
        let kind = if self.json.is_some() {
            BodyKind::Json
        } else if self.non_json > 0 {
            BodyKind::NonJson
        } else {
            BodyKind::Empty
        };
        BodyShape {
            kind,
            content_types: self.content_types.iter().cloned().collect(),
            schema: self.json.as_ref().map(SchemaAcc::finish),
            optional: kind != BodyKind::Empty && self.empty > 0,
        }
    }
}

/// Accumulates JSON values seen at one place.
#[derive(Debug, Default)]
pub(crate) struct SchemaAcc {
    null: u64,
    boolean: u64,
    integer: u64,
    number: u64,
    string: u64,
    string_kinds: [u64; 7],
    values: BTreeSet<String>,
    values_overflow: bool,
    objects: u64,
    properties: BTreeMap<String, (u64, SchemaAcc)>,
    additional: Option<Box<SchemaAcc>>,
    arrays: u64,
    items: Option<Box<SchemaAcc>>,
}

impl SchemaAcc {
    pub(crate) fn add(&mut self, value: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Null => self.null += 1,
            Value::Bool(_) => self.boolean += 1,
            Value::Number(n) if n.is_i64() || n.is_u64() => self.integer += 1,
            Value::Number(_) => self.number += 1,
            Value::String(s) => {
                self.string += 1;
                self.string_kinds[classify(s).index()] += 1;
                if !self.values_overflow {
                    if !is_enum_word(s)
                        || (self.values.len() >= MAX_ENUM && !self.values.contains(s))
                    {
                        self.values_overflow = true;
                        self.values.clear();
                    } else if !self.values.contains(s) {
                        self.values.insert(s.clone());
                    }
                }
            }
            Value::Array(items) => {
                self.arrays += 1;
                let acc = self.items.get_or_insert_with(Default::default);
                for item in items.iter().take(100) {
                    acc.add(item, depth + 1);
                }
            }
            Value::Object(map) => {
                self.objects += 1;
                for (key, v) in map {
                    let named = self.properties.contains_key(key)
                        || (self.properties.len() < MAX_PROPERTIES && !classify(key).is_id_like());
                    if named {
                        let (seen, acc) = self.properties.entry(key.clone()).or_default();
                        *seen += 1;
                        acc.add(v, depth + 1);
                    } else {
                        self.additional.get_or_insert_with(Default::default).add(v, depth + 1);
                    }
                }
            }
        }
    }

    pub(crate) fn finish(&self) -> Schema {
        let mut types = Vec::new();
        let pairs = [
            ("object", self.objects),
            ("array", self.arrays),
            ("string", self.string),
            ("integer", self.integer),
            ("number", self.number),
            ("boolean", self.boolean),
            ("null", self.null),
        ];
        for (name, n) in pairs {
            if n > 0 && !(name == "integer" && self.number > 0) {
                types.push(name.to_string());
            }
        }
        let format =
            (self.string > 0).then(|| string_format(&self.string_kinds, self.string)).flatten();
        let enumeration = (self.string > 0
            && !self.values_overflow
            && !self.values.is_empty()
            && self.string >= 2 * self.values.len() as u64)
            .then(|| self.values.iter().cloned().collect());
        let properties =
            self.properties.iter().map(|(k, (_, acc))| (k.clone(), acc.finish())).collect();
        let required = self
            .properties
            .iter()
            .filter(|(_, (seen, _))| *seen == self.objects && self.objects > 0)
            .map(|(k, _)| k.clone())
            .collect();
        Schema {
            types,
            format,
            enumeration,
            properties,
            required,
            additional_properties: self.additional.as_ref().map(|a| Box::new(a.finish())),
            items: self.items.as_ref().filter(|_| self.arrays > 0).map(|a| Box::new(a.finish())),
        }
    }
}

/// A string format when every string had the same recognisable kind.
fn string_format(kinds: &[u64; 7], total: u64) -> Option<String> {
    let kind = ValueKind::ALL.iter().copied().find(|k| kinds[k.index()] == total)?;
    match kind {
        ValueKind::Uuid => Some("uuid".into()),
        ValueKind::Timestamp => Some("date-time".into()),
        ValueKind::Hex => Some("hex".into()),
        ValueKind::Token => Some("token".into()),
        ValueKind::Number => Some("number".into()),
        _ => None,
    }
}

/// Accumulates the query keys of one action.
#[derive(Debug, Default)]
pub(crate) struct QueryAcc {
    keys: BTreeMap<String, (u64, [u64; 7])>,
}

impl QueryAcc {
    pub(crate) fn add(&mut self, pairs: &[(String, String)]) {
        let mut seen = BTreeSet::new();
        for (key, value) in pairs {
            if !self.keys.contains_key(key) && self.keys.len() >= MAX_PROPERTIES {
                continue;
            }
            let (count, kinds) = self.keys.entry(key.clone()).or_default();
            if seen.insert(key.as_str()) {
                *count += 1;
            }
            kinds[classify(value).index()] += 1;
        }
    }

    pub(crate) fn finish(&self, requests: u64) -> BTreeMap<String, QueryParam> {
        self.keys
            .iter()
            .map(|(key, (count, kinds))| {
                let kind = ValueKind::ALL
                    .iter()
                    .copied()
                    .max_by_key(|k| (kinds[k.index()], std::cmp::Reverse(k.index())))
                    .unwrap_or(ValueKind::Text);
                (key.clone(), QueryParam { kind, required: *count == requests, count: *count })
            })
            .collect()
    }
}

/// Splits a query string into decoded `(key, value)` pairs, in order.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `%2F` → `/`, `+` → space; malformed escapes are kept as written.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_mark_required_formats_and_enums() {
        let mut acc = SchemaAcc::default();
        acc.add(
            &json!({"id": "3f2b8c1e-9d4a-4b6e-8f00-1a2b3c4d5e6f", "status": "created", "n": 1}),
            0,
        );
        acc.add(&json!({"id": "3f2b8c1e-9d4a-4b6e-8f00-1a2b3c4d5e60", "status": "created"}), 0);
        let schema = acc.finish();
        assert_eq!(schema.types, ["object"]);
        assert_eq!(schema.required, ["id", "status"]);
        assert_eq!(schema.properties["id"].format.as_deref(), Some("uuid"));
        assert_eq!(schema.properties["status"].enumeration, Some(vec!["created".to_string()]));
    }

    #[test]
    fn id_keyed_maps_fold_into_additional_properties() {
        let mut acc = SchemaAcc::default();
        acc.add(&json!({"ord_k3j5x9a2": 1, "ord_77ab12cd": 2}), 0);
        let schema = acc.finish();
        assert!(schema.properties.is_empty());
        assert_eq!(schema.additional_properties.unwrap().types, ["integer"]);
    }

    #[test]
    fn queries_decode() {
        assert_eq!(
            parse_query("order=ord_1%2F2&q=red+shoes&flag"),
            [
                ("order".into(), "ord_1/2".into()),
                ("q".into(), "red shoes".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
    }
}
