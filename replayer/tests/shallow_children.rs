//! Things created under a parent but read at a path of their own
//! ("shallow" nesting: `POST /boards/board-x9/cards`, on the one board the
//! recording used, makes a card read at `/cards/{card_id}`): the nested
//! `POST` is the card's create, so a card's
//! life starts in the state its create answered, and the states it left
//! from are known. And an accept in a wrong state stays that bug when
//! shrunk: a second finish of a done card does not become a finish of a
//! new one, which is another bug.

mod toy;

use toy::{findings, record, summary, Learned, Visit};
use venomqa_replayer::OracleKind;

/// Each user finishes a card, drops a new one, and drops a started one.
async fn cards_moved(base: String) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::login(&base, &format!("cards-{n}"), user).await;
        let card = |answer: serde_json::Value| answer["id"].as_str().expect("an id").to_string();
        let made = || serde_json::json!({"title": "a card"});
        let done = card(v.with("POST", "/boards/board-x9/cards", made()).await);
        v.send("GET", &format!("/cards/{done}"), None).await;
        v.send("POST", &format!("/cards/{done}/start"), None).await;
        v.send("POST", &format!("/cards/{done}/finish"), None).await;
        v.send("GET", &format!("/cards/{done}"), None).await;
        let dropped = card(v.with("POST", "/boards/board-x9/cards", made()).await);
        v.send("POST", &format!("/cards/{dropped}/drop"), None).await;
        v.send("GET", &format!("/cards/{dropped}"), None).await;
        let started = card(v.with("POST", "/boards/board-x9/cards", made()).await);
        v.send("POST", &format!("/cards/{started}/start"), None).await;
        v.send("POST", &format!("/cards/{started}/drop"), None).await;
    }
}

fn transitions(learned: &Learned) -> Vec<String> {
    let machine = learned.model.machines.iter().find(|m| m.resource == "cards").expect("cards");
    machine.transitions.iter().map(|t| format!("{} -> {}", t.from, t.to)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thing_made_under_a_parent_and_read_elsewhere_starts_its_life_at_its_create() {
    let learned = record(cards_moved).await;
    let cards = learned.model.resources.iter().find(|r| r.name == "cards").expect("cards");
    assert_eq!(cards.create.as_deref(), Some("POST /boards/board-x9/cards"));
    let seen = transitions(&learned);
    for expected in ["todo -> dropped", "todo -> doing", "doing -> done", "doing -> dropped"] {
        assert!(seen.iter().any(|t| t == expected), "{expected} in {seen:?}");
    }

    // A drop of a card in `todo` was recorded: no family may call it new.
    for family in ["move-later", "drop", "splice", "duplicate"] {
        let quiet = findings(&learned, family, &[]).await;
        assert!(quiet.is_empty(), "{family}: {:#?}", summary(&quiet));
    }
    let skipped = findings(&learned, "drop", &["finish-todo"]).await;
    assert!(
        skipped
            .iter()
            .any(|f| f.oracle == OracleKind::UnexpectedAccept && f.summary.contains("`todo`")),
        "a finish of a card never started: {:#?}",
        summary(&skipped)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accept_in_a_wrong_state_shrinks_to_that_state_not_to_another_bug() {
    let learned = record(cards_moved).await;
    let found = findings(&learned, "duplicate", &["finish-todo", "finish-twice"]).await;
    let twice = found.iter().find(|f| f.summary.contains("`done`"));
    let twice =
        twice.unwrap_or_else(|| panic!("a second finish of a done card: {:#?}", summary(&found)));
    assert_eq!(twice.oracle, OracleKind::UnexpectedAccept);
    let finishes = twice.actions.iter().filter(|a| a.ends_with("/finish")).count();
    assert_eq!(finishes, 2, "{:?}", twice.actions);
}
