//! The quality bar on the sample shop: with every bug planted each of the
//! nine is found by its oracle and shrunk to its minimal sequence; with none
//! planted, nothing is found.

mod common;

use common::{config, record_shop, summary, target};
use venomqa_replayer::{replay, Finding, OracleKind, ResetScope};

use venomqa_testkit::shop::actions::{
    CANCEL, CREATE, DELETE, LOGIN, LOGOUT, PATCH, PAY, READ, REFUND, SHIP,
};

fn find<'a>(findings: &'a [Finding], oracle: OracleKind, actions: &[&str]) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.oracle == oracle && f.actions == actions)
        .unwrap_or_else(|| panic!("no {oracle} finding {actions:?} in {:#?}", summary(findings)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_planted_bug_is_found_by_its_oracle_and_shrunk() {
    let learned = record_shop(12, 7).await;
    let shop = target("all").await;
    let mut config = config(&shop.base_url(), "");
    // Each sequence makes its own orders: no reset between them, so they run in parallel.
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let started = std::time::Instant::now();
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    let f = &outcome.findings;

    let double = find(f, OracleKind::Invariant, &[LOGIN, CREATE, PAY, REFUND, REFUND]);
    assert_eq!(double.mutation, "duplicate");
    assert!(double.summary.contains("refunds never exceed the amount"), "{}", double.summary);
    find(f, OracleKind::Invariant, &[LOGIN, CREATE, SHIP]); // ship-unpaid
    let cancel = find(f, OracleKind::UnexpectedAccept, &[LOGIN, CREATE, PAY, SHIP, CANCEL]);
    assert_eq!(cancel.confidence, venomqa_replayer::Confidence::Low);
    let read = find(f, OracleKind::CrossUser, &[LOGIN, CREATE, LOGIN, READ]);
    assert_eq!(read.mutation, "as-other-user");
    find(f, OracleKind::CrossUser, &[LOGIN, CREATE, LOGIN, PAY]);
    find(f, OracleKind::AfterDelete, &[LOGIN, CREATE, DELETE, PAY]);
    // With every bug planted two sequential refunds both succeed, so the
    // race shows as a refund and a cancel both accepted at once.
    let race = f.iter().find(|x| x.oracle == OracleKind::Race).expect("a race");
    assert_eq!(race.actions[..3], [LOGIN, CREATE, PAY]);
    assert_eq!(race.actions[3], format!("{CANCEL} || {REFUND}"));
    assert!(race.reproduced.is_some_and(|(n, m)| n >= 1 && m == 5), "{:?}", race.reproduced);
    let stale = f.iter().find(|x| x.oracle == OracleKind::StaleToken).expect("stale token");
    assert_eq!(stale.actions[..3], [LOGIN, CREATE, LOGOUT], "{:?}", stale.actions);
    assert_eq!(stale.actions.len(), 4);
    find(f, OracleKind::Idempotency, &[LOGIN, CREATE, PAY, PAY]);
    find(f, OracleKind::StaleWrite, &[LOGIN, CREATE, READ, PATCH, PATCH]);
    assert_eq!(f.len(), 10, "one finding per bug (cross-user reads and pays): {:#?}", summary(f));
    for finding in f {
        assert!(finding.reproducer.starts_with("#!"), "{}", finding.reproducer);
        assert_eq!(
            finding.requests.len(),
            finding.actions.len() + finding.actions.iter().filter(|a| a.contains("||")).count()
        );
    }
    eprintln!(
        "{} findings in {:.1} s, {} requests",
        f.len(),
        started.elapsed().as_secs_f64(),
        outcome.stats.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_shop_yields_no_finding() {
    let learned = record_shop(12, 7).await;
    let shop = target("none").await;
    let mut config = config(&shop.base_url(), "");
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    let why: Vec<_> = outcome.findings.iter().map(|f| (&f.summary, &f.evidence)).collect();
    assert!(outcome.findings.is_empty(), "{:#?}\n{why:#?}", summary(&outcome.findings));
    assert!(outcome.stats.cases_run > 50, "{:?}", outcome.stats.cases_run);
    assert_eq!(outcome.stats.stopped_by, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_race_alone_is_two_refunds_at_once() {
    let learned = record_shop(12, 7).await;
    let shop = target("concurrent-refund").await;
    let mut config = config(&shop.base_url(), "[mutations]\nenabled = [\"concurrent\"]\n");
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    let race =
        find(&outcome.findings, OracleKind::Race, &[LOGIN, CREATE, PAY, &format!("2x {REFUND}")]);
    assert_eq!(race.mutation, "concurrent");
    assert!(race.reproduced.is_some_and(|(n, _)| n >= 4), "{:?}", race.reproduced);
    assert!(
        race.evidence.iter().any(|e| e.contains("one after the other: 200, 409")),
        "{:?}",
        race.evidence
    );
}
