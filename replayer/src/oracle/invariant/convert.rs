//! CEL values from JSON, and CEL's evaluation errors in words a user of an
//! invariant can act on.

use std::sync::Arc;

use cel::{ExecutionError, Value};

/// JSON → CEL, numbers as documented in the module docs.
pub(super) fn json_to_cel(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // `i64::MIN as f64` is exact; `i64::MAX as f64` rounds up to 2^63,
                // hence the strict upper bound.
                if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    Value::Int(f as i64)
                } else {
                    Value::Float(f)
                }
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(json_to_cel).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: std::collections::HashMap<cel::objects::Key, Value> = fields
                .iter()
                .map(|(k, v)| (cel::objects::Key::from(k.as_str()), json_to_cel(v)))
                .collect();
            Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

/// A short rendering of a CEL value for messages.
pub(super) fn describe_value(value: &Value) -> String {
    let text = match value {
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => format!("{u}u"),
        Value::Float(f) => f.to_string(),
        Value::String(s) => format!("{:?}", s.as_str()),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!("a list of {}", items.len()),
        Value::Map(map) => format!("a map of {} fields", map.map.len()),
        other => format!("{other:?}"),
    };
    truncate(&text, 80)
}

pub(super) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// Rewrites the interpreter's error into words a user of the invariant can act on.
pub(super) fn evaluation_message(error: &ExecutionError, variable: &str) -> String {
    match error {
        ExecutionError::NoSuchKey(key) => format!("no field `{key}` (missing from the {variable})"),
        ExecutionError::UndeclaredReference(name) => {
            format!("unknown name `{name}`: the resource is seen as `{variable}`")
        }
        ExecutionError::NoSuchOverload(overload) => {
            let function = match operator_symbol(overload.function()).as_str() {
                "." => "field access `.`".to_string(),
                other => format!("`{other}`"),
            };
            format!(
                "type mismatch: {function} cannot take ({})",
                overload.argument_types().join(", ")
            )
        }
        ExecutionError::ValuesNotComparable(a, b) => format!(
            "type mismatch: cannot compare {} {} with {} {}",
            type_name(a),
            describe_value(a),
            type_name(b),
            describe_value(b)
        ),
        ExecutionError::UnsupportedBinaryOperator(op, a, b) => {
            let symbol = match *op {
                "add" => "+",
                "sub" => "-",
                "mul" => "*",
                "div" => "/",
                "rem" => "%",
                other => other,
            };
            format!("type mismatch: `{symbol}` cannot take ({}, {})", type_name(a), type_name(b))
        }
        other => other.to_string(),
    }
}

/// The CEL name of a value's type (`double`, where the crate says `float`).
pub(super) fn type_name(value: &Value) -> String {
    match value {
        Value::Float(_) => "double".to_string(),
        Value::Map(_) => "map".to_string(),
        other => other.type_of().to_string(),
    }
}

/// `_<=_` → `<=`, `!_` → `!`, `_[_]` → `[]`; function names unchanged.
pub(super) fn operator_symbol(function: &str) -> String {
    if function.contains('_') && !function.chars().any(|c| c.is_ascii_alphanumeric()) {
        function.replace('_', "")
    } else {
        function.to_string()
    }
}
