//! A resource made with `PUT` at a key the client chose (`PUT
//! /shelves/alice-books` answering `201 Created`): the `PUT` is its create,
//! the key its answer names is the instance's id, and another user sending
//! that `PUT` to the same key is a write on someone else's instance.

mod toy;

use toy::{findings, record, summary, Visit};
use venomqa_replayer::OracleKind;

/// Each user makes a shelf of their own, reads it, and relabels it.
async fn shelves_made_and_relabelled(base: String) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::login(&base, &format!("shelves-{n}"), user).await;
        let path = format!("/shelves/{user}-books");
        v.with("PUT", &path, serde_json::json!({"label": format!("{user}'s books")})).await;
        v.send("GET", &path, None).await;
        v.with("PUT", &path, serde_json::json!({"label": "novels and essays"})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_at_the_clients_key_is_a_create_another_user_must_not_repeat() {
    let learned = record(shelves_made_and_relabelled).await;
    let shelves = learned.model.resources.iter().find(|r| r.name == "shelves").expect("shelves");
    assert_eq!(shelves.create.as_deref(), Some("PUT /shelves/{name}"));
    assert!(
        learned
            .model
            .links
            .iter()
            .any(|l| l.consumer == "GET /shelves/{name}" && l.producer == "PUT /shelves/{name}"),
        "the key the PUT's answer names feeds the read: {:#?}",
        learned.model.links
    );

    let found = findings(&learned, "as-other-user", &["shelf-overwrite"]).await;
    let overwritten =
        found.iter().find(|f| f.actions.last().map(String::as_str) == Some("PUT /shelves/{name}"));
    let overwritten =
        overwritten.unwrap_or_else(|| panic!("bob relabels alice's shelf: {:#?}", summary(&found)));
    assert_eq!(overwritten.oracle, OracleKind::CrossUser);

    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
