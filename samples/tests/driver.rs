//! The QA driver against real shops on loopback.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestShop;
use venomqa_samples::{drive, BugSet, ClientTrust, DriveError, DriveOptions, DriveReport};

fn options(base: String, seed: u64) -> DriveOptions {
    DriveOptions {
        base,
        users: 4,
        sessions: 20,
        seed,
        concurrency: 3,
        trust: ClientTrust::default(),
    }
}

async fn drive_fresh_shop(bugs: BugSet, seed: u64) -> DriveReport {
    let shop = TestShop::start(bugs).await;
    let report = drive(options(shop.handle.base_url(), seed)).await.expect("the run completes");
    shop.handle.shutdown().await;
    report
}

/// Each step as (session, order, endpoint, status): everything but timing.
fn statuses(report: &DriveReport) -> Vec<(usize, Option<usize>, String, u16)> {
    report.steps.iter().map(|s| (s.session, s.order, s.endpoint.clone(), s.status)).collect()
}

#[tokio::test]
async fn the_driver_gets_identical_answers_from_a_shop_with_every_bug_and_a_correct_one() {
    for seed in [7, 1, 2024] {
        let correct = drive_fresh_shop(BugSet::none(), seed).await;
        let buggy = drive_fresh_shop(BugSet::all(), seed).await;
        assert!(correct.unexpected.is_empty(), "seed {seed}: {correct}");
        assert!(buggy.unexpected.is_empty(), "seed {seed}: {buggy}");
        assert_eq!(statuses(&correct), statuses(&buggy), "seed {seed}");
        assert_eq!(correct.sessions, 20);
        assert_eq!(
            correct.by_class.success, correct.requests,
            "seed {seed}: only 2xx on the happy path"
        );
        assert_eq!(correct.requests, correct.steps.len());
    }
}

#[tokio::test]
async fn twenty_sessions_cover_every_endpoint_and_every_lifecycle_branch() {
    for seed in [7, 3, 11] {
        let report = drive_fresh_shop(BugSet::none(), seed).await;
        let endpoints: BTreeSet<&str> = report.steps.iter().map(|s| s.endpoint.as_str()).collect();
        let expected: BTreeSet<&str> = [
            "POST /login",
            "POST /logout",
            "POST /orders",
            "GET /orders",
            "GET /orders/{id}",
            "PATCH /orders/{id}",
            "DELETE /orders/{id}",
            "POST /orders/{id}/pay",
            "POST /orders/{id}/ship",
            "POST /orders/{id}/refund",
            "POST /orders/{id}/cancel",
        ]
        .into();
        assert_eq!(endpoints, expected, "seed {seed}");

        // Each order's lifecycle actions, in the order sent.
        let mut lifecycles: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
        for step in &report.steps {
            let action = step.endpoint.rsplit('/').next().unwrap_or_default();
            if let (Some(order), "pay" | "ship" | "refund" | "cancel") = (step.order, action) {
                lifecycles.entry((step.session, order)).or_default().push(action);
            }
            if step.endpoint == "DELETE /orders/{id}" {
                lifecycles
                    .entry((step.session, step.order.expect("a delete names its order")))
                    .or_default()
                    .push("delete");
            }
        }
        let seen: BTreeSet<Vec<&str>> = lifecycles.into_values().collect();
        for branch in [
            vec!["pay", "ship", "refund"],
            vec!["pay", "refund"],
            vec!["cancel", "delete"],
            vec!["pay", "cancel"],
            vec!["delete"],
        ] {
            let found = seen.iter().any(|l| l.starts_with(&branch));
            assert!(found, "seed {seed}: no order went {branch:?}; saw {seen:?}");
        }
        assert!(
            seen.iter().any(|l| l == &["cancel"] || l == &["cancel", "delete"]),
            "seed {seed}: cancel before pay"
        );
        assert!(seen.contains(&vec!["pay", "ship"]), "seed {seed}: an order shipped and kept");
    }
}

#[tokio::test]
async fn the_same_seed_plays_the_same_sessions_and_another_seed_does_not() {
    let first = drive_fresh_shop(BugSet::none(), 5).await;
    let again = drive_fresh_shop(BugSet::none(), 5).await;
    let other = drive_fresh_shop(BugSet::none(), 6).await;
    assert_eq!(statuses(&first), statuses(&again));
    assert_ne!(statuses(&first), statuses(&other));
    assert_ne!(
        first.session_ids, again.session_ids,
        "a fresh run id keeps two runs apart in one store"
    );
    assert!(first.session_ids.iter().all(|id| id.starts_with("qa-")));
}

#[tokio::test]
async fn only_the_first_n_users_take_part() {
    let shop = TestShop::start(BugSet::none()).await;
    let report = drive(DriveOptions { users: 2, ..options(shop.handle.base_url(), 9) })
        .await
        .expect("the run completes");
    assert!(report.unexpected.is_empty(), "{report}");
    for (user, takes_part) in [("alice", true), ("bob", true), ("carol", false), ("dave", false)] {
        let token = shop.login(user).await;
        let orders =
            shop.get(&token, "/orders").await.body["orders"].as_array().map_or(0, Vec::len);
        assert_eq!(orders > 0, takes_part, "{user} has {orders} orders");
    }
}

#[tokio::test]
async fn answers_the_happy_path_did_not_expect_are_reported_not_fatal() {
    // Every path under /nope is a 404, so each session stops after its login.
    let shop = TestShop::start(BugSet::none()).await;
    let base = format!("{}/nope", shop.handle.base_url());
    let report =
        drive(DriveOptions { sessions: 4, ..options(base, 1) }).await.expect("the run completes");
    assert_eq!((report.sessions, report.requests, report.by_class.client_error), (4, 4, 4));
    assert_eq!(report.unexpected.len(), 4);
    let first = &report.unexpected[0];
    assert_eq!((first.endpoint.as_str(), first.expected, first.status), ("POST /login", 200, 404));
    assert!(report.to_string().contains("4 unexpected answers"), "{report}");
}

#[tokio::test]
async fn an_unreachable_shop_fails_the_run_naming_the_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    let mut opts = options(format!("http://{addr}"), 1);
    opts.base.push('/');
    let err = drive(opts).await.expect_err("nobody listens");
    assert!(matches!(err, DriveError::Request { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&format!("POST http://{addr}/login failed")), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
}

#[tokio::test]
async fn bad_options_are_refused_before_any_request() {
    for opts in [
        DriveOptions { users: 0, ..options("http://127.0.0.1:9".into(), 1) },
        DriveOptions { users: 5, ..options("http://127.0.0.1:9".into(), 1) },
        DriveOptions { concurrency: 0, ..options("http://127.0.0.1:9".into(), 1) },
        options("not a url".into(), 1),
    ] {
        let err = drive(opts).await.expect_err("refused");
        assert!(matches!(err, DriveError::Options(_)), "{err:?}");
    }
}
