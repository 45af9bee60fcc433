//! The library's QA driver against real libraries on loopback.

mod library_common;

use std::collections::BTreeSet;

use library_common::TestLibrary;
use venomqa_samples::{
    drive_library, ClientTrust, DriveError, DriveOptions, DriveReport, LibraryBugSet,
};

fn options(base: String, seed: u64) -> DriveOptions {
    DriveOptions {
        base,
        users: 3,
        sessions: 12,
        seed,
        concurrency: 3,
        trust: ClientTrust::default(),
    }
}

async fn drive_fresh(bugs: LibraryBugSet, seed: u64) -> DriveReport {
    let lib = TestLibrary::start(bugs).await;
    let report =
        drive_library(options(lib.handle.base_url(), seed)).await.expect("the run completes");
    lib.handle.shutdown().await;
    report
}

/// Each step as (session, endpoint, status): everything but timing.
fn statuses(report: &DriveReport) -> Vec<(usize, String, u16)> {
    report.steps.iter().map(|s| (s.session, s.endpoint.clone(), s.status)).collect()
}

#[tokio::test]
async fn the_driver_runs_clean_against_every_bug_and_gets_the_answers_a_correct_library_gives() {
    for seed in [7, 1, 2024] {
        let correct = drive_fresh(LibraryBugSet::none(), seed).await;
        let buggy = drive_fresh(LibraryBugSet::all(), seed).await;
        assert!(correct.unexpected.is_empty(), "seed {seed}: {correct}");
        assert!(buggy.unexpected.is_empty(), "seed {seed}: {buggy}");
        assert_eq!(statuses(&correct), statuses(&buggy), "seed {seed}");
        assert_eq!(correct.by_class.success, correct.requests, "seed {seed}: only 2xx");
        // The librarian, twelve member sessions, and the desk (at least once).
        assert!(correct.sessions >= 14, "seed {seed}: {}", correct.sessions);
        assert_eq!(correct.session_ids.len(), correct.sessions);
    }
}

#[tokio::test]
async fn a_run_covers_every_endpoint() {
    let report = drive_fresh(LibraryBugSet::none(), 7).await;
    let endpoints: BTreeSet<&str> = report.steps.iter().map(|s| s.endpoint.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "POST /api/v1/members",
        "POST /api/v1/session",
        "DELETE /api/v1/session",
        "GET /api/v1/me",
        "GET /api/v1/me/preferences",
        "PUT /api/v1/me/preferences",
        "GET /api/v1/books",
        "POST /api/v1/books",
        "GET /api/v1/books/{slug}",
        "DELETE /api/v1/books/{slug}",
        "POST /api/v1/books/{slug}/copies",
        "GET /api/v1/loans",
        "POST /api/v1/loans",
        "GET /api/v1/loans/{id}",
        "POST /api/v1/loans/{id}/renew",
        "POST /api/v1/loans/{id}/return",
        "GET /api/v1/holds",
        "POST /api/v1/holds",
        "GET /api/v1/holds/{id}",
        "POST /api/v1/holds/{id}/cancel",
        "POST /api/v1/desk/pickups",
        "PUT /api/v1/me",
        "PUT /api/v1/members/{id}/password",
        "PATCH /api/v1/me/preferences",
        "PATCH /api/v1/books/{slug}",
        "POST /api/v1/books/{slug}/feature",
        "GET /api/v1/lists",
        "POST /api/v1/lists",
        "GET /api/v1/lists/{id}",
        "POST /api/v1/lists/{id}/items",
        "POST /api/v1/lists/{id}/publish",
    ]
    .into();
    assert_eq!(endpoints, expected);
}

#[tokio::test]
async fn two_runs_share_one_library_without_a_reset() {
    let lib = TestLibrary::start(LibraryBugSet::all()).await;
    for seed in [3, 3] {
        let report = drive_library(options(lib.handle.base_url(), seed)).await.unwrap();
        assert!(report.unexpected.is_empty(), "{report}");
    }
}

#[tokio::test]
async fn a_single_member_and_a_single_session_still_run_clean() {
    let lib = TestLibrary::start(LibraryBugSet::all()).await;
    let opts = DriveOptions {
        base: lib.handle.base_url(),
        users: 1,
        sessions: 1,
        seed: 5,
        concurrency: 1,
        trust: ClientTrust::default(),
    };
    let report = drive_library(opts).await.unwrap();
    assert!(report.unexpected.is_empty(), "{report}");
    assert_eq!(report.sessions, 3, "librarian, member, desk");
}

#[tokio::test]
async fn bad_options_are_refused_before_anything_is_sent() {
    for (users, concurrency, base) in [
        (0, 1, "http://127.0.0.1:9"),
        (13, 1, "http://127.0.0.1:9"),
        (1, 0, "http://127.0.0.1:9"),
        (1, 1, "ftp://x"),
    ] {
        let opts = DriveOptions { users, sessions: 1, concurrency, ..options(base.into(), 1) };
        assert!(matches!(drive_library(opts).await, Err(DriveError::Options(_))));
    }
}

/// What a bug would leave behind, read by staff after a run: two active
/// loans of one copy, a loan of a withdrawn book, more loans than the run
/// made, or a collected hold that had been cancelled.
#[tokio::test]
async fn a_run_against_every_bug_leaves_the_state_a_correct_library_would() {
    let lib = TestLibrary::start(LibraryBugSet::all()).await;
    let report = drive_library(options(lib.handle.base_url(), 11)).await.unwrap();
    assert!(report.unexpected.is_empty(), "{report}");
    let librarian = lib.staff(library_common::LIBRARIAN).await;
    let loans = lib.loans(&librarian).await;
    let made = |endpoint: &str| report.steps.iter().filter(|s| s.endpoint == endpoint).count();
    assert_eq!(loans.len(), made("POST /api/v1/loans") + made("POST /api/v1/desk/pickups"));

    let active: Vec<(&str, u64)> = loans
        .iter()
        .filter(|l| l["status"] == "active")
        .map(|l| (l["book"].as_str().unwrap(), l["copy"].as_u64().unwrap()))
        .collect();
    let distinct: BTreeSet<_> = active.iter().collect();
    assert_eq!(distinct.len(), active.len(), "no copy is lent twice at once");

    let withdrawn = lib.get(&librarian, "/api/v1/books?status=withdrawn").await;
    let withdrawn: Vec<&str> = withdrawn.body["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["slug"].as_str().unwrap())
        .collect();
    assert_eq!(withdrawn.len(), 1);
    assert!(loans.iter().all(|l| !withdrawn.contains(&l["book"].as_str().unwrap())));

    let books = lib.get(&librarian, "/api/v1/books").await.body["books"].clone();
    let featured = books.as_array().unwrap().iter().filter(|b| b["featured"] == true).count();
    assert_eq!(featured, made("POST /api/v1/books/{slug}/feature"), "only staff feature books");
    let lists = lib.get(&librarian, "/api/v1/lists").await.body["lists"].clone();
    let items: usize =
        lists.as_array().unwrap().iter().map(|l| l["items"].as_array().unwrap().len()).sum();
    assert_eq!(items, made("POST /api/v1/lists/{id}/items"), "no item lost or added");

    let holds =
        lib.get(&librarian, "/api/v1/holds").await.body["holds"].as_array().unwrap().clone();
    let collected = holds.iter().filter(|h| h["status"] == "collected").count();
    assert_eq!(collected, made("POST /api/v1/desk/pickups"), "each code redeemed once");
    assert_eq!(
        holds.iter().filter(|h| h["status"] == "cancelled").count(),
        made("POST /api/v1/holds/{id}/cancel")
    );
}

/// The sessions (by index) that sent `endpoint`.
fn senders(report: &DriveReport, endpoint: &str) -> BTreeSet<usize> {
    report.steps.iter().filter(|s| s.endpoint == endpoint).map(|s| s.session).collect()
}

/// The traffic each bug needs to be learnable: staff-only actions from the
/// librarian only, members editing their own profile and password, a
/// preferences `PATCH` whose session also `PUT`s them, failed logins.
#[tokio::test]
async fn each_new_endpoint_is_used_by_the_users_it_belongs_to() {
    for seed in [7, 1, 2024] {
        let report = drive_fresh(LibraryBugSet::none(), seed).await;
        let librarian = BTreeSet::from([0]);
        for staff_only in ["POST /api/v1/books/{slug}/feature", "PATCH /api/v1/books/{slug}"] {
            assert_eq!(senders(&report, staff_only), librarian, "seed {seed}: {staff_only}");
        }
        let members: BTreeSet<usize> = (1..=12).collect();
        for own in ["PUT /api/v1/me", "PUT /api/v1/members/{id}/password", "POST /api/v1/lists"] {
            let who = senders(&report, own);
            assert!(!who.is_empty() && who.is_subset(&members), "seed {seed}: {own} by {who:?}");
        }
        let patched = senders(&report, "PATCH /api/v1/me/preferences");
        assert!(!patched.is_empty(), "seed {seed}");
        assert!(patched.is_subset(&senders(&report, "PUT /api/v1/me/preferences")));
        for session in senders(&report, "PUT /api/v1/members/{id}/password") {
            let after: Vec<&str> = report
                .steps
                .iter()
                .filter(|s| s.session == session)
                .map(|s| s.endpoint.as_str())
                .skip_while(|e| *e != "PUT /api/v1/members/{id}/password")
                .collect();
            let relogin = ["DELETE /api/v1/session", "POST /api/v1/session", "GET /api/v1/me"];
            assert_eq!(after[1..4], relogin, "seed {seed}: a login with the new password");
        }
        let logins = report.steps.iter().filter(|s| s.endpoint == "POST /api/v1/session").count();
        assert!(
            logins >= report.sessions + 2,
            "seed {seed}: a mistyped password, an unknown email"
        );
    }
}
