//! The configuration file as TOML gives it: every table refuses unknown
//! keys, and the values that can be wrong keep their spans so an error
//! names its line and column.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) store: Option<String>,
    pub(super) model: Option<String>,
    #[serde(default)]
    pub(super) target: RawTarget,
    pub(super) reset: Option<RawReset>,
    pub(super) auth: Option<RawAuth>,
    #[serde(default)]
    pub(super) users: BTreeMap<String, BTreeMap<String, Spanned<Secret>>>,
    pub(super) mutations: Option<RawMutations>,
    pub(super) budget: Option<RawBudget>,
    #[serde(default)]
    pub(super) invariants: Vec<RawInvariant>,
    pub(super) report: Option<RawReport>,
    pub(super) explore: Option<RawExplore>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub(super) url: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<DurationValue>>,
    pub(super) parallel: Option<usize>,
    pub(super) ca: Option<Spanned<String>>,
    pub(super) insecure: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum DurationValue {
    Seconds(f64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReset {
    pub(super) request: Option<Spanned<String>>,
    pub(super) command: Option<Spanned<String>>,
    pub(super) scope: Option<Spanned<String>>,
    pub(super) tries: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    pub(super) login: Option<String>,
    pub(super) logout: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMutations {
    pub(super) enabled: Option<Vec<Spanned<String>>>,
    pub(super) concurrency: Option<u32>,
    pub(super) repeat: Option<u32>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBudget {
    pub(super) sequences: Option<u64>,
    pub(super) requests: Option<u64>,
    pub(super) seconds: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExplore {
    pub(super) enabled: Option<bool>,
    pub(super) strategy: Option<Spanned<String>>,
    pub(super) max_depth: Option<Spanned<i64>>,
    pub(super) requests: Option<u64>,
    pub(super) seconds: Option<u64>,
    pub(super) seed: Option<u64>,
    pub(super) try_disabled: Option<bool>,
    pub(super) checkpoint: Option<Spanned<String>>,
    pub(super) rollback: Option<Spanned<String>>,
    pub(super) database: Option<Spanned<Secret>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInvariant {
    pub(super) name: String,
    pub(super) resource: String,
    pub(super) expr: Spanned<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReport {
    pub(super) json: Option<String>,
    pub(super) junit: Option<String>,
    pub(super) html: Option<String>,
    pub(super) out: Option<String>,
}

/// A user's field: a literal string or `{ env = "VAR" }`.
pub(super) enum Secret {
    Literal(String),
    Env(String),
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or { env = \"VARIABLE\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::Literal(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret::Literal(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
                let mut var = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "env" || var.is_some() {
                        return Err(de::Error::custom(format!(
                            "unknown key `{key}`: a secret is {{ env = \"VARIABLE\" }}"
                        )));
                    }
                    var = Some(map.next_value::<String>()?);
                }
                var.map(Secret::Env)
                    .ok_or_else(|| de::Error::custom("a secret table needs `env = \"VARIABLE\"`"))
            }
        }
        d.deserialize_any(SecretVisitor)
    }
}
