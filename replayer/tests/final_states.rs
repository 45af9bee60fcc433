//! A write on an instance in a final state of its machine (a card `done`,
//! an invoice `void`, a page `archived`) that the recording never saw
//! accepted there is a finding even when the state stays what it was: an
//! edit of a closed thing. And a write spliced in after others sends a
//! fresh validator (`If-Match` from a read just before it), since the one
//! the journey had read is stale by then.

mod toy;

use toy::{findings, record, summary, Visit};
use venomqa_replayer::OracleKind;

/// Each user edits a card (with its `ETag`), finishes another, drops two.
async fn cards_edited_and_closed(base: String) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::login(&base, &format!("cards-{n}"), user).await;
        let id = |answer: serde_json::Value| answer["id"].as_str().expect("an id").to_string();
        let made = || Some(serde_json::json!({"title": "a card"}));
        let edited = id(v.send("POST", "/boards/board-x9/cards", made()).await);
        let path = format!("/cards/{edited}");
        let (_, etag) = v.send_validated("GET", &path, None, None).await;
        let title = Some(serde_json::json!({"title": "renamed"}));
        v.send_validated("PATCH", &path, title, etag.as_deref()).await;
        let done = id(v.send("POST", "/boards/board-x9/cards", made()).await);
        v.send("POST", &format!("/cards/{done}/start"), None).await;
        v.send("POST", &format!("/cards/{done}/finish"), None).await;
        v.send("GET", &format!("/cards/{done}"), None).await;
        let dropped = id(v.send("POST", "/boards/board-x9/cards", made()).await);
        v.send("POST", &format!("/cards/{dropped}/drop"), None).await;
        let started = id(v.send("POST", "/boards/board-x9/cards", made()).await);
        v.send("POST", &format!("/cards/{started}/start"), None).await;
        v.send("POST", &format!("/cards/{started}/drop"), None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_closed_thing_is_found_with_a_fresh_validator() {
    let learned = record(cards_edited_and_closed).await;
    assert!(
        learned.model.links.iter().any(|l| l.consumer == "PATCH /cards/{card_id}"
            && l.to == venomqa_learner::Location::Header { name: "if-match".into() }),
        "the validator is linked: {:#?}",
        learned.model.links
    );

    let found = findings(&learned, "splice", &["edit-done"]).await;
    let edited = found
        .iter()
        .find(|f| f.actions.last().map(String::as_str) == Some("PATCH /cards/{card_id}"));
    let edited =
        edited.unwrap_or_else(|| panic!("the edit of a done card: {:#?}", summary(&found)));
    assert_eq!(edited.oracle, OracleKind::UnexpectedAccept);
    assert!(edited.summary.contains("`done`"), "{}", edited.summary);

    let quiet = findings(&learned, "splice", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
