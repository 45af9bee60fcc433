//! JSON behind a UTF-8 byte order mark, as some frameworks send it (RFC
//! 8259 lets a parser ignore the mark; serde_json refuses it): learned,
//! replayed and judged as the same JSON without it, through the real proxy
//! and store against a service on loopback.

mod toy;

use serde_json::{json, Value};
use toy::{findings, record, record_shaped, summary, things_archived_and_renamed, Learned};

/// What the model learned of the API, without what differs from one
/// recording to the next (the exchanges it came from: their ids).
fn learned_api(learned: &Learned) -> Value {
    let m = &learned.model;
    let mut actions = json!(m.actions);
    for action in actions.as_array_mut().expect("a list") {
        action.as_object_mut().expect("an action").remove("example");
    }
    json!({
        "actions": actions, "resources": m.resources, "links": m.links,
        "machines": m.machines, "auth": m.auth, "children": m.children,
        "singletons": m.singletons,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_behind_a_byte_order_mark_is_learned_and_judged_as_json() {
    let plain = record(things_archived_and_renamed).await;
    let marked = record_shaped(&["bom"], things_archived_and_renamed).await;
    assert!(
        marked.model.links.iter().any(|l| l.consumer == "POST /things/{thing_id}/rename"),
        "the ids in the answers were read: {:#?}",
        marked.model.links
    );
    assert_eq!(learned_api(&marked), learned_api(&plain));

    let found = findings(&marked, "after-delete", &["rename-archived", "bom"]).await;
    assert!(
        found.iter().any(|f| f.actions.last().map(String::as_str)
            == Some("POST /things/{thing_id}/rename")),
        "the rename after the delete, against answers with the mark: {:#?}",
        summary(&found)
    );
    let quiet = findings(&marked, "after-delete", &["bom"]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
