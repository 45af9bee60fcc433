//! Each mutation family on its own, against the shop with every bug
//! planted: what it finds and the minimal sequence it shrinks to.

mod common;

use common::{config, record_shop, summary, Learned};
use venomqa_replayer::{replay, Finding, OracleKind, ResetScope};

use venomqa_testkit::shop::actions::{
    CANCEL, CREATE as C, DELETE, LOGIN as L, LOGOUT, PATCH, PAY, READ, REFUND, SHIP,
};

/// Runs only `family` against a shop with `bugs`.
async fn only(learned: &Learned, family: &str, bugs: &str) -> Vec<Finding> {
    let shop = common::target(bugs).await;
    let mut config = config(&shop.base_url(), &format!("[mutations]\nenabled = [\"{family}\"]\n"));
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    for f in &outcome.findings {
        assert_eq!(f.mutation, family, "{:#?}", summary(&outcome.findings));
    }
    outcome.findings
}

fn has(findings: &[Finding], oracle: OracleKind, actions: &[&str]) {
    assert!(
        findings.iter().any(|f| f.oracle == oracle && f.actions == actions),
        "no {oracle} {actions:?} in {:#?}",
        summary(findings)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_families_reach_states_the_recording_never_did() {
    let learned = record_shop(12, 7).await;
    // duplicate: a second refund; drop: ship without paying.
    has(
        &only(&learned, "duplicate", "double-refund").await,
        OracleKind::Invariant,
        &[L, C, PAY, REFUND, REFUND],
    );
    has(&only(&learned, "drop", "ship-unpaid").await, OracleKind::Invariant, &[L, C, SHIP]);
    // swap and move-later: ship before pay.
    has(&only(&learned, "swap", "ship-unpaid").await, OracleKind::Invariant, &[L, C, SHIP]);
    has(&only(&learned, "move-later", "ship-unpaid").await, OracleKind::Invariant, &[L, C, SHIP]);
    // splice: a cancel (from another journey) after a ship.
    let spliced = only(&learned, "splice", "cancel-after-ship").await;
    has(&spliced, OracleKind::UnexpectedAccept, &[L, C, PAY, SHIP, CANCEL]);
    assert_eq!(spliced.len(), 1, "{:#?}", summary(&spliced));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_and_lifecycle_families_find_their_bugs() {
    let learned = record_shop(12, 7).await;
    let cross = only(&learned, "as-other-user", "cross-user").await;
    has(&cross, OracleKind::CrossUser, &[L, C, L, READ]);
    has(&cross, OracleKind::CrossUser, &[L, C, L, PAY]);
    assert_eq!(cross.len(), 2, "{:#?}", summary(&cross));
    let read = cross.iter().find(|f| f.actions[3] == READ).expect("read");
    assert_ne!(read.requests[0].user, read.requests[3].user, "sent as another user");
    has(
        &only(&learned, "after-delete", "pay-after-delete").await,
        OracleKind::AfterDelete,
        &[L, C, DELETE, PAY],
    );
    let stale = only(&learned, "after-logout", "token-after-logout").await;
    assert_eq!(stale.len(), 1, "one bug, whatever request shows it: {:#?}", summary(&stale));
    assert_eq!(stale[0].oracle, OracleKind::StaleToken);
    // The shrunk sequence starts at the login and the create and uses the
    // token after its logout; which read or write shows it can vary with the
    // journey the mutation came from.
    let actions = &stale[0].actions;
    assert_eq!(actions[..2], [L, C], "{actions:?}");
    let logout = actions.iter().position(|a| a == LOGOUT).expect("the logout is kept");
    assert!(logout + 1 < actions.len() && actions.len() <= 5, "{actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_validator_families_find_their_bugs() {
    let learned = record_shop(12, 7).await;
    let retried = only(&learned, "idempotency-retry", "idempotency-recharge").await;
    has(&retried, OracleKind::Idempotency, &[L, C, PAY, PAY]);
    assert!(retried[0].evidence.iter().any(|e| e.contains("charged")), "{:?}", retried[0].evidence);
    let stale = only(&learned, "stale-validator", "lost-update").await;
    has(&stale, OracleKind::StaleWrite, &[L, C, READ, PATCH, PATCH]);
    // On a correct shop none of them finds anything.
    for family in
        ["idempotency-retry", "stale-validator", "after-logout", "after-delete", "as-other-user"]
    {
        let found = only(&learned, family, "").await;
        assert!(found.is_empty(), "{family}: {:#?}", summary(&found));
    }
}
