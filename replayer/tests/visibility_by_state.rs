//! A resource public in some states only: a published article anyone may
//! read, a draft its author's alone. Another user's reads seen only of
//! published articles make articles public when published, not when draft,
//! so a draft another user can read is still a leak.

mod toy;

use toy::{findings, record, summary, Visit};
use venomqa_replayer::OracleKind;

/// Alice writes, reads and publishes an article; bob reads it published.
async fn articles_published_and_read(base: String) {
    for round in 0..2 {
        let alice = Visit::login(&base, &format!("write-{round}"), "alice").await;
        let article = alice.with("POST", "/articles", serde_json::json!({"title": "news"})).await;
        let path = format!("/articles/{}", article["id"].as_str().expect("an id"));
        alice.send("GET", &path, None).await;
        alice.send("POST", &format!("{path}/publish"), None).await;
        let bob = Visit::login(&base, &format!("read-{round}"), "bob").await;
        bob.send("GET", &path, None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thing_public_once_published_is_private_while_draft() {
    let learned = record(articles_published_and_read).await;
    let articles = learned.model.resources.iter().find(|r| r.name == "articles").expect("articles");
    assert_eq!(
        articles.ownership.visibility.as_deref(),
        Some("public"),
        "{:?}",
        articles.ownership
    );
    assert_eq!(articles.ownership.public_in, ["published"]);

    let leaked = findings(&learned, "as-other-user", &["draft-leak"]).await;
    let draft = leaked
        .iter()
        .find(|f| f.actions.last().map(String::as_str) == Some("GET /articles/{article_id}"));
    let draft = draft.unwrap_or_else(|| panic!("bob reads alice's draft: {:#?}", summary(&leaked)));
    assert_eq!(draft.oracle, OracleKind::CrossUser);

    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
