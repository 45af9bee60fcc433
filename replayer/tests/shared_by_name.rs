//! Visibility per instance and access by name: a box is `private` or
//! `public` in a field, and its owner may share a private one with a user
//! by name. Another user reading a public box, or a private one its owner
//! shared with them, is no leak; reading a private one is.

mod toy;

use serde_json::json;
use toy::{findings, record, summary, Visit};
use venomqa_replayer::OracleKind;

/// Alice makes a private box she shares with Bob, a public one, and a
/// private one she keeps (and reads twice), each in a session of its own;
/// Bob reads the shared and the public ones.
async fn boxes_shared_and_public(base: String) {
    let mut ids = Vec::new();
    for (n, visibility) in ["private", "public", "private"].into_iter().enumerate() {
        let v = Visit::login(&base, &format!("box-{n}"), "alice").await;
        let made = v.with("POST", "/boxes", json!({"visibility": visibility})).await;
        let id = made["id"].as_str().expect("an id").to_string();
        if n == 0 {
            v.with("PUT", &format!("/boxes/{id}/shares/bob"), json!({})).await;
        }
        v.send("GET", &format!("/boxes/{id}"), None).await;
        if n == 2 {
            // Read again: a journey of its own shape, not the public one's.
            v.send("GET", &format!("/boxes/{id}"), None).await;
        }
        ids.push(id);
    }
    let bob = Visit::login(&base, "box-bob", "bob").await;
    for id in &ids[..2] {
        bob.send("GET", &format!("/boxes/{id}"), None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_box_read_by_another_is_a_leak_a_public_or_shared_one_is_not() {
    let learned = record(boxes_shared_and_public).await;
    let boxes = learned.model.resource("boxes").expect("boxes");
    assert_eq!(boxes.ownership.visibility.as_deref(), Some("public"));
    assert_eq!(
        boxes.ownership.public_by.get("visibility").map(Vec::as_slice),
        Some(&["public".to_string()][..]),
        "bob read the private one by name: {:?}",
        boxes.ownership
    );

    let found = findings(&learned, "as-other-user", &["box-read-any"]).await;
    let leaks: Vec<_> = found.iter().filter(|f| f.oracle == OracleKind::CrossUser).collect();
    assert_eq!(leaks.len(), 1, "{:#?}", summary(&found));
    assert!(leaks[0].summary.starts_with("bob read alice's box"), "{}", leaks[0].summary);

    // Bob reads the public box and the one shared with him: no leak.
    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
