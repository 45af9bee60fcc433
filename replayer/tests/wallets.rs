//! Shapes of a ledger-like API: answers wrapped in `{"data": …}`, a state
//! kept in a timestamp (`frozen_at`) with a refusal that names it (`409`),
//! a thing made by a `202` (a statement read at `/statements/{id}`), and
//! data scoped by an instance in the query (`GET /entries?wallet_id=`).

mod toy;

use serde_json::json;
use toy::{findings, record, summary, Visit};
use venomqa_replayer::{Confidence, OracleKind};

/// Each user opens a wallet and deposits; freezes it, reads it, is refused
/// a withdrawal (`409`), unfreezes it and withdraws; lists its entries
/// and asks for a statement (`202`) it then reads.
async fn wallets_frozen_and_listed(base: String) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::login(&base, &format!("wallet-{n}"), user).await;
        let made = v.send("POST", "/wallets", Some(json!({}))).await;
        let id = made["data"]["id"].as_str().expect("an id").to_string();
        let path = format!("/wallets/{id}");
        v.with("POST", &format!("{path}/deposits"), json!({"amount": 50})).await;
        v.send("POST", &format!("{path}/freeze"), None).await;
        v.send("GET", &path, None).await;
        let (status, _) =
            v.attempt("POST", &format!("{path}/withdrawals"), Some(json!({"amount": 20}))).await;
        assert_eq!(status, 409, "a frozen wallet refuses withdrawals");
        v.send("POST", &format!("{path}/unfreeze"), None).await;
        v.with("POST", &format!("{path}/withdrawals"), json!({"amount": 20})).await;
        v.send("GET", &format!("/entries?wallet_id={id}"), None).await;
        let asked = v.send("POST", &format!("{path}/statements"), None).await;
        let statement = asked["data"]["id"].as_str().expect("a statement id").to_string();
        v.send("GET", &format!("/statements/{statement}"), None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_from_a_frozen_wallet_is_found_by_its_timestamp_state() {
    let learned = record(wallets_frozen_and_listed).await;
    let found = findings(&learned, "splice", &["withdraw-frozen"]).await;
    let frozen = found.iter().find(|f| f.oracle == OracleKind::UnexpectedAccept);
    let frozen = frozen.unwrap_or_else(|| panic!("the frozen withdrawal: {:#?}", summary(&found)));
    assert!(frozen.summary.contains("`frozen`"), "{}", frozen.summary);
    assert_eq!(frozen.confidence, Confidence::Medium, "the recording saw it refused: 409");
    assert!(
        frozen.evidence.iter().any(|e| e.contains("refused in `frozen`")),
        "{:#?}",
        frozen.evidence
    );

    let quiet = findings(&learned, "splice", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_statement_and_entries_are_found_readable() {
    let learned = record(wallets_frozen_and_listed).await;
    let found = findings(&learned, "as-other-user", &["statement-leak", "entries-leak"]).await;
    let read = |action: &str| {
        found.iter().any(|f| {
            f.oracle == OracleKind::CrossUser
                && f.actions.last().map(String::as_str) == Some(action)
        })
    };
    assert!(read("GET /statements/{statement_id}"), "made by a 202: {:#?}", summary(&found));
    assert!(read("GET /entries"), "scoped by the query: {:#?}", summary(&found));

    let quiet = findings(&learned, "as-other-user", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

/// Alice withdraws a part of her deposit (twice at once would both be
/// fine) after being refused more than it, Bob all of his (twice at once
/// must not be), then reads his wallet: journeys of two shapes, whose
/// withdrawals are one test.
async fn withdrawals_of_a_part_and_of_all(base: String) {
    for (n, (user, deposit, withdrawal)) in
        [("alice", 100, 30), ("bob", 40, 40)].into_iter().enumerate()
    {
        let v = Visit::login(&base, &format!("withdraw-{n}"), user).await;
        let made = v.send("POST", "/wallets", Some(json!({}))).await;
        let id = made["data"]["id"].as_str().expect("an id").to_string();
        v.with("POST", &format!("/wallets/{id}/deposits"), json!({"amount": deposit})).await;
        if user == "alice" {
            let too_much = Some(json!({"amount": 1000}));
            let (refused, _) =
                v.attempt("POST", &format!("/wallets/{id}/withdrawals"), too_much).await;
            assert_eq!(refused, 422, "more than the balance");
        }
        v.with("POST", &format!("/wallets/{id}/withdrawals"), json!({"amount": withdrawal})).await;
        if user == "bob" {
            v.send("GET", &format!("/wallets/{id}"), None).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_untestable_with_one_journeys_values_is_tried_with_anothers() {
    let learned = record(withdrawals_of_a_part_and_of_all).await;
    let found = findings(&learned, "concurrent", &["overdraw-race"]).await;
    let race = found.iter().find(|f| f.oracle == OracleKind::Race);
    let race = race.unwrap_or_else(|| panic!("the overdraft: {:#?}", summary(&found)));
    assert_eq!(
        race.actions.last().map(String::as_str),
        Some("2x POST /wallets/{wallet_id}/withdrawals")
    );

    let quiet = findings(&learned, "concurrent", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
