//! State kept in timestamps: an account is frozen while its `frozen_at`
//! is set and not frozen while it is `null`; a post is published once its
//! `publishedAt` is. A field named like a moment (`…_at`, `…At`, `…_on`)
//! whose values are timestamps or `null` gives two states, named by its
//! stem: `frozen` and `not-frozen`.
//!
//! Shared by the learner, which builds machines from these names, and the
//! replayer, which reads an instance's state back the same way.

use serde_json::Value;

use crate::value::{classify, ValueKind};

/// Seconds since 1970 from 2001-09-09 on, and milliseconds: an integer
/// this large in a field named like a moment is one.
const EPOCH_MIN: u64 = 1_000_000_000;

/// `frozen` of `frozen_at`, `published` of `publishedAt`, `closed` of
/// `closed_on`; `None` for a name that does not say "when".
pub fn stamp_stem(field: &str) -> Option<&str> {
    let stem = field
        .strip_suffix("_at")
        .or_else(|| field.strip_suffix("_on"))
        .or_else(|| field.strip_suffix("At"))
        .or_else(|| field.strip_suffix("On"))?;
    let plausible = stem.len() >= 2 && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plausible.then_some(stem)
}

/// The state a timestamp field shows: its stem when set (a timestamp or
/// an epoch number), `not-<stem>` when `null`; `None` when the field is
/// not named like a moment or holds anything else.
pub fn stamp_state(field: &str, value: &Value) -> Option<String> {
    let stem = stamp_stem(field)?;
    match value {
        Value::Null => Some(format!("not-{stem}")),
        v if is_moment(v) => Some(stem.to_string()),
        _ => None,
    }
}

/// A timestamp string or an epoch number.
pub(crate) fn is_moment(value: &Value) -> bool {
    match value {
        Value::String(s) => classify(s) == ValueKind::Timestamp,
        Value::Number(n) => n.as_u64().is_some_and(|n| n >= EPOCH_MIN),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_moment_field_names_its_state_by_its_stem() {
        assert_eq!(
            stamp_state("frozen_at", &json!("2026-12-07T16:56:25Z")).as_deref(),
            Some("frozen")
        );
        assert_eq!(stamp_state("frozen_at", &json!(null)).as_deref(), Some("not-frozen"));
        assert_eq!(stamp_state("publishedAt", &json!(1733590000)).as_deref(), Some("published"));
        assert_eq!(stamp_state("closed_on", &json!("2026-12-07")).as_deref(), Some("closed"));
    }

    #[test]
    fn other_names_and_other_values_show_no_state() {
        for (field, value) in [
            ("frozen", json!("2026-12-07T16:56:25Z")),
            ("format", json!(null)),
            ("frozen_at", json!("soon")),
            ("frozen_at", json!(17)),
            ("frozen_at", json!(true)),
            ("_at", json!(null)),
        ] {
            assert_eq!(stamp_state(field, &value), None, "{field}: {value}");
        }
    }
}
