//! Evidence beyond one read-back, and owners from the model: each kind of
//! evidence against a toy service on loopback, once with the bug that it
//! must find planted and once without, where it must stay silent.

mod toy;

use serde_json::json;
use toy::{findings, record, summary, things_archived_and_renamed, Visit};
use venomqa_replayer::{Confidence, OracleKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_come_from_the_model_never_from_who_touched_an_instance_first() {
    let learned = record(|base| async move {
        for (n, user) in ["alice", "bob"].into_iter().enumerate() {
            // Private notes, seeded: each user lists and reads their own.
            let v = Visit::login(&base, &format!("notes-{n}"), user).await;
            let notes = v.send("GET", "/notes", None).await;
            let id = notes["notes"][0]["id"].as_str().expect("a note").to_string();
            v.send("GET", &format!("/notes/{id}"), None).await;
            // Public posts: everyone reads alice's, and bob likes it.
            let v = Visit::login(&base, &format!("posts-{n}"), user).await;
            v.send("GET", "/posts", None).await;
            v.send("GET", "/posts/post-alice-k2", None).await;
            if user == "bob" {
                v.send("POST", "/posts/post-alice-k2/like", None).await;
            }
            // A shared board, listed and changed by everyone: no owner.
            let v = Visit::login(&base, &format!("boards-{n}"), user).await;
            v.send("GET", "/boards", None).await;
            v.send("GET", "/boards/board-x9", None).await;
            v.with("PATCH", "/boards/board-x9", json!({"title": format!("by {user}")})).await;
        }
    })
    .await;
    let posts = learned.model.resources.iter().find(|r| r.collection == "/posts").expect("posts");
    assert_eq!(posts.ownership.visibility.as_deref(), Some("public"), "{:?}", posts.ownership);

    // A private note read by another user, while a made-up id is refused.
    let leaked = findings(&learned, "as-other-user", &["note-leak"]).await;
    assert_eq!(leaked.len(), 1, "{:#?}", summary(&leaked));
    assert_eq!(leaked[0].oracle, OracleKind::CrossUser);
    assert_eq!(leaked[0].actions.last().map(String::as_str), Some("GET /notes/{note_id}"));
    assert!(leaked[0].evidence.iter().any(|e| e.contains("made-up id")), "{:?}", leaked[0]);

    // Public posts read by others; alice liking her own post, which bob's
    // list had shown him (its `author` says whose it is, not the list); and
    // boards whose owner no evidence names (alice reads one first, then bob
    // changes it): no finding.
    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_deleted_instance_is_judged_by_its_item_in_a_filtered_list() {
    let learned = record(things_archived_and_renamed).await;

    let found = findings(&learned, "after-delete", &["rename-archived"]).await;
    let renamed = found
        .iter()
        .find(|f| f.actions.last().map(String::as_str) == Some("POST /things/{thing_id}/rename"))
        .unwrap_or_else(|| panic!("the rename after the delete: {:#?}", summary(&found)));
    assert_eq!(renamed.oracle, OracleKind::AfterDelete);
    assert_eq!(renamed.confidence, Confidence::High);
    let evidence = renamed.evidence.join("\n");
    assert!(evidence.contains("state=archived") && evidence.contains("renamed"), "{evidence}");

    let quiet = findings(&learned, "after-delete", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_a_read_is_judged_by_its_own_answer_with_low_confidence() {
    let learned = record(|base| async move {
        for (n, user) in ["alice", "bob"].into_iter().enumerate() {
            let v = Visit::login(&base, &format!("tickets-{n}"), user).await;
            let ticket = v.with("POST", "/tickets", json!({"about": "printer"})).await;
            let id = ticket["id"].as_str().expect("an id").to_string();
            v.send("POST", &format!("/tickets/{id}/close"), None).await;
        }
    })
    .await;

    let found = findings(&learned, "as-other-user", &["ticket-cross"]).await;
    assert_eq!(found.len(), 1, "{:#?}", summary(&found));
    assert_eq!(found[0].oracle, OracleKind::CrossUser);
    assert_eq!(found[0].confidence, Confidence::Low, "an answer is weaker than a read-back");
    let evidence = found[0].evidence.join("\n");
    assert!(evidence.contains(r#""open" → "closed""#), "{evidence}");

    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_without_a_read_of_its_own_is_judged_through_its_parent() {
    let learned = record(|base| async move {
        for (n, user) in ["alice", "bob"].into_iter().enumerate() {
            let v = Visit::login(&base, &format!("playlists-{n}"), user).await;
            let list = v.with("POST", "/playlists", json!({"name": "road"})).await;
            let id = list["id"].as_str().expect("an id").to_string();
            let track =
                v.with("POST", &format!("/playlists/{id}/tracks"), json!({"song": "a"})).await;
            let track = track["id"].as_str().expect("a track id").to_string();
            let path = format!("/playlists/{id}/tracks/{track}");
            v.with("PATCH", &path, json!({"song": "b"})).await;
            v.send("GET", &format!("/playlists/{id}"), None).await;
        }
    })
    .await;
    assert!(
        learned.model.children.iter().any(|c| c.read_through.is_some()),
        "{:#?}",
        learned.model.children
    );

    let found = findings(&learned, "as-other-user", &["track-cross"]).await;
    let patched = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a.starts_with("PATCH /playlists/")))
        .unwrap_or_else(|| panic!("the track changed by another user: {:#?}", summary(&found)));
    assert_eq!(patched.oracle, OracleKind::CrossUser);
    assert_eq!(patched.confidence, Confidence::High);
    let evidence = patched.evidence.join("\n");
    assert!(evidence.contains("(its parent)") && evidence.contains(r#""a" → "b""#), "{evidence}");

    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_password_change_is_shown_by_two_logins() {
    let learned = record(|base| async move {
        for (n, (user, password)) in toy::service::USERS.into_iter().enumerate() {
            let v = Visit::login(&base, &format!("account-{n}"), user).await;
            let me = v.send("GET", "/me", None).await;
            let id = me["id"].as_str().expect("an account id").to_string();
            v.send("GET", &format!("/accounts/{id}"), None).await;
            v.with("PATCH", &format!("/accounts/{id}"), json!({"password": password})).await;
        }
    })
    .await;

    let found = findings(&learned, "as-other-user", &["account-takeover"]).await;
    let taken = found
        .iter()
        .find(|f| f.summary.contains("credentials"))
        .unwrap_or_else(|| panic!("a credential change: {:#?}", summary(&found)));
    assert_eq!(taken.oracle, OracleKind::CrossUser);
    assert_eq!(taken.actions.last().map(String::as_str), Some("PATCH /accounts/{account_id}"));
    let evidence = taken.evidence.join("\n");
    assert!(evidence.contains("own secret answered 401"), "{evidence}");

    // Each user changing only their own password: nothing.
    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_user_singleton_is_read_back_as_its_owner() {
    let learned = record(|base| async move {
        for (n, user) in ["alice", "bob"].into_iter().enumerate() {
            let v = Visit::login(&base, &format!("prefs-{n}"), user).await;
            v.send("GET", "/me/prefs", None).await;
            v.with("PUT", "/me/prefs", json!({"theme": "dark"})).await;
            v.send("POST", "/logout", None).await;
        }
    })
    .await;
    assert!(
        learned.model.singletons.iter().any(|s| s.path == "/me/prefs"),
        "{:#?}",
        learned.model.singletons
    );

    let found = findings(&learned, "after-logout", &["session-after-logout"]).await;
    let written = found
        .iter()
        .find(|f| f.actions.last().map(String::as_str) == Some("PUT /me/prefs"))
        .unwrap_or_else(|| panic!("the preferences written after logout: {:#?}", summary(&found)));
    assert_eq!(written.oracle, OracleKind::StaleToken);
    let evidence = written.evidence.join("\n");
    assert!(evidence.contains(r#"theme: "light" → "dark""#), "{evidence}");

    let quiet = findings(&learned, "after-logout", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
