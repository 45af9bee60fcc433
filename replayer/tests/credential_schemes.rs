//! A token sent in another `Authorization` scheme than `Bearer` (`Token
//! <token>`, as Django REST framework wants it): linked to the login that
//! answered it, and sent back live in the same scheme, so the users and
//! logouts of the recording can be tested at all. The toy service refuses
//! `Bearer` in this shape, as such services do.

mod toy;

use toy::{findings, record_shaped, summary, Visit};
use venomqa_learner::Location;
use venomqa_replayer::OracleKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_scheme_is_learned_and_replayed_as_sent() {
    let learned = record_shaped(&["token-scheme"], |base| async move {
        for (n, user) in ["alice", "bob"].into_iter().enumerate() {
            let v = Visit::login_sending(&base, &format!("notes-{n}"), user, "Token").await;
            let notes = v.send("GET", "/notes", None).await;
            let id = notes["notes"][0]["id"].as_str().expect("a note").to_string();
            v.send("GET", &format!("/notes/{id}"), None).await;
            v.send("POST", "/logout", None).await;
        }
    })
    .await;
    let model = &learned.model;
    assert_eq!(model.auth.scheme.as_deref(), Some("Token"));
    let token = model.links.iter().find(|l| l.to == Location::Bearer && l.consumer == "GET /notes");
    let token = token.unwrap_or_else(|| panic!("the token is linked: {:#?}", model.links));
    assert_eq!(token.producer, "POST /login");

    let leaked = findings(&learned, "as-other-user", &["note-leak", "token-scheme"]).await;
    assert_eq!(leaked.len(), 1, "{:#?}", summary(&leaked));
    assert_eq!(leaked[0].oracle, OracleKind::CrossUser);
    let stale = findings(&learned, "after-logout", &["session-after-logout", "token-scheme"]).await;
    assert!(
        stale.iter().any(|f| f.oracle == OracleKind::StaleToken),
        "the token that still works after the logout: {:#?}",
        summary(&stale)
    );
    for family in ["as-other-user", "after-logout"] {
        let quiet = findings(&learned, family, &["token-scheme"]).await;
        assert!(quiet.is_empty(), "{family}: {:#?}", summary(&quiet));
    }
}
