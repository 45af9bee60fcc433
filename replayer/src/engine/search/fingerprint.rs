//! A path's state, as a number two paths share when the target shows the
//! same thing after them: each instance's last read-back (status and JSON)
//! with the values that change on every run left out (ids, timestamps,
//! request ids: calibration's noise and the fields the learner marked
//! volatile), and which users' sessions have ended.
//!
//! Counters would make every path a new state (a fifth copy of a book, a
//! third refund): a number counts as zero, one or more (or negative), and
//! a list as the set of what its items show, so more of the same is the
//! same state. A bug that needs a count to grow is found on the way, by
//! the oracle that judges each step; only extending such a path is pruned.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

use crate::oracle::diff::{flatten, normalize, Noise};
use crate::run::execute::Trace;
use crate::run::sequence::Sequence;

/// The fingerprint of the state `trace` (a run of `path`) left the target in.
pub(super) fn fingerprint(path: &Sequence, trace: &Trace, noise: &Noise) -> u64 {
    // Fixed keys: the same state hashes alike in every run.
    let mut h = DefaultHasher::new();
    let end = trace.steps.len();
    for (k, instance) in trace.instances.iter().enumerate() {
        instance.resource.hash(&mut h);
        let Some(snap) = trace.before(end, k) else {
            0u8.hash(&mut h);
            continue;
        };
        snap.status.hash(&mut h);
        snap.seen_in.is_some().hash(&mut h);
        if let Some(json) = &snap.json {
            let shown: BTreeSet<(String, String)> = flatten(json)
                .into_iter()
                .map(|(pointer, value)| (normalize(&pointer), value))
                .filter(|(pointer, _)| {
                    !noise.resource.contains(&(instance.resource, pointer.clone()))
                })
                .map(|(pointer, value)| (pointer, abstracted(value)))
                .collect();
            shown.hash(&mut h);
        }
    }
    // Whose session a logout ended: later steps of theirs carry a dead token.
    for (i, step) in path.steps.iter().enumerate().take(end) {
        if step.call.logout && trace.steps[i].reply().is_some_and(|r| r.ok()) {
            ("logout", step.call.user).hash(&mut h);
        }
    }
    h.finish()
}

/// What a state keeps of a value: a number as its sign and whether it is
/// more than one, anything else as it is.
fn abstracted(value: &Value) -> String {
    match value.as_f64() {
        Some(n) if n < 0.0 => "-".to_string(),
        Some(0.0) => "0".to_string(),
        Some(n) if n <= 1.0 => "1".to_string(),
        Some(_) => "n".to_string(),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::run::execute::{Instance, ProbeAt, Snapshot};

    fn trace_showing(order: serde_json::Value) -> Trace {
        let snapshot = Snapshot { status: 200, json: Some(order), seen_in: None, read: None };
        Trace {
            steps: vec![Default::default()],
            instances: vec![Instance {
                resource: 0,
                id: "x".into(),
                params: Vec::new(),
                owner: Some(0),
                reader: Some(0),
                created_at: Some(0),
            }],
            probes: vec![ProbeAt { after: 0, instance: 0, snapshot }],
            aborted: None,
            nonce: 1,
        }
    }

    fn empty_path() -> Sequence {
        Sequence { journey: 0, steps: Vec::new() }
    }

    #[test]
    fn volatile_fields_do_not_tell_states_apart_and_state_fields_do() {
        let mut noise = Noise::default();
        noise.resource.insert((0, normalize("/id")));
        noise.resource.insert((0, normalize("/updated_at")));
        let print = |v| fingerprint(&empty_path(), &trace_showing(v), &noise);
        let a = print(json!({"id": "o1", "status": "paid", "updated_at": "10:00"}));
        let b = print(json!({"id": "o2", "status": "paid", "updated_at": "10:01"}));
        let c = print(json!({"id": "o1", "status": "refunded", "updated_at": "10:00"}));
        assert_eq!(a, b, "ids and timestamps are noise");
        assert_ne!(a, c, "the state field is the state");
        // Counts: zero, one and more are three states; more of the same is one.
        let copies = |n: u64| print(json!({"status": "paid", "refunded": n}));
        assert_ne!(copies(0), copies(1));
        assert_ne!(copies(1), copies(2));
        assert_eq!(copies(2), copies(19000));
        let items = |n: usize| print(json!({"status": "paid", "items": vec!["book"; n]}));
        assert_eq!(items(2), items(5));
        assert_ne!(items(0), items(1));
        // Without the noise, the same two reads are different states.
        let bare = Noise::default();
        let a = fingerprint(&empty_path(), &trace_showing(json!({"id": "o1"})), &bare);
        let b = fingerprint(&empty_path(), &trace_showing(json!({"id": "o2"})), &bare);
        assert_ne!(a, b);
    }
}
