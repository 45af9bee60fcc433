//! Each of the library's planted bugs, reached by its violating sequence on
//! a real socket: with every bug planted and with only that bug planted the
//! violating call answers 2xx and the state really changed; with none
//! planted it is refused with the right 4xx and nothing changed.

mod library_common;

use library_common::{send, Answer, TestLibrary};
use reqwest::Method;
use serde_json::{json, Value};
use venomqa_samples::{LibraryBug, LibraryBugSet};

/// The two ways of planting `bug`: among all the others, and alone.
fn planted(bug: LibraryBug) -> [LibraryBugSet; 2] {
    [LibraryBugSet::all(), LibraryBugSet::only(bug)]
}

async fn library(bugs: LibraryBugSet) -> TestLibrary {
    TestLibrary::start(bugs).await
}

/// The violating call's answer and what the owner sees afterwards.
struct Outcome {
    answer: Answer,
    after: Value,
}

async fn double_pickup(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 2).await;
    let ada = lib.member("ada").await;
    let (_, code) = lib.hold(&ada, "dune").await;
    assert_eq!(lib.redeem(&code).await.status, 201);
    let answer = lib.redeem(&code).await;
    Outcome { answer, after: Value::from(lib.loans(&ada).await) }
}

#[tokio::test]
async fn double_pickup_a_code_redeemed_twice_lends_twice_with_the_bug_and_409_without() {
    for bugs in planted(LibraryBug::DoublePickup) {
        let Outcome { answer, after } = double_pickup(&library(bugs).await).await;
        assert_eq!(answer.status, 201, "{bugs}");
        assert_eq!(after.as_array().unwrap().len(), 2, "{bugs}: two loans from one hold");
    }
    let Outcome { answer, after } = double_pickup(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "cannot collect a hold that is collected"));
    assert_eq!(after.as_array().unwrap().len(), 1);
}

async fn pickup_after_cancel(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let (id, code) = lib.hold(&ada, "dune").await;
    assert_eq!(lib.post(&ada, &format!("/api/v1/holds/{id}/cancel")).await.status, 200);
    let answer = lib.redeem(&code).await;
    Outcome { answer, after: lib.get(&ada, &format!("/api/v1/holds/{id}")).await.body }
}

#[tokio::test]
async fn pickup_after_cancel_a_cancelled_holds_code_lends_with_the_bug_and_409_without() {
    for bugs in planted(LibraryBug::PickupAfterCancel) {
        let Outcome { answer, after } = pickup_after_cancel(&library(bugs).await).await;
        assert_eq!(answer.status, 201, "{bugs}");
        assert_eq!(after["status"], "collected", "{bugs}");
    }
    let Outcome { answer, after } =
        pickup_after_cancel(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "cannot collect a hold that is cancelled"));
    assert_eq!(after["status"], "cancelled");
}

async fn renew_after_return(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let id = lib.borrow(&ada, "dune").await;
    assert_eq!(lib.post(&ada, &format!("/api/v1/loans/{id}/return")).await.status, 200);
    let answer = lib.post(&ada, &format!("/api/v1/loans/{id}/renew")).await;
    Outcome { answer, after: lib.get(&ada, &format!("/api/v1/loans/{id}")).await.body }
}

#[tokio::test]
async fn renew_after_return_a_returned_loan_is_revived_with_the_bug_and_409_without() {
    for bugs in planted(LibraryBug::RenewAfterReturn) {
        let Outcome { answer, after } = renew_after_return(&library(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(
            (after["status"].as_str(), after["renewals"].as_u64()),
            (Some("active"), Some(1))
        );
    }
    let Outcome { answer, after } = renew_after_return(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "cannot renew a loan that is returned"));
    assert_eq!(after["status"], "returned");
}

/// Ada holds the only copy; Bob borrows.
async fn borrow_held_copy(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    lib.hold(&ada, "dune").await;
    let answer = lib.post_json(&bob, "/api/v1/loans", json!({ "book": "dune" })).await;
    Outcome { answer, after: Value::from(lib.loans(&bob).await) }
}

#[tokio::test]
async fn borrow_held_copy_another_members_held_copy_is_lent_with_the_bug_and_409_without() {
    for bugs in planted(LibraryBug::BorrowHeldCopy) {
        let Outcome { answer, after } = borrow_held_copy(&library(bugs).await).await;
        assert_eq!(answer.status, 201, "{bugs}");
        assert_eq!(after.as_array().unwrap().len(), 1, "{bugs}: Bob has Ada's held copy");
    }
    let Outcome { answer, after } = borrow_held_copy(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "no copy of `dune` is on the shelf"));
    assert_eq!(after, json!([]));
}

/// Bob reads and returns Ada's loan by its id.
async fn cross_member_loan(lib: &TestLibrary) -> (Answer, Outcome) {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    let id = lib.borrow(&ada, "dune").await;
    let read = lib.get(&bob, &format!("/api/v1/loans/{id}")).await;
    let answer = lib.post(&bob, &format!("/api/v1/loans/{id}/return")).await;
    (read, Outcome { answer, after: lib.get(&ada, &format!("/api/v1/loans/{id}")).await.body })
}

#[tokio::test]
async fn cross_member_loan_another_members_loan_is_read_and_returned_with_the_bug_and_404_without()
{
    for bugs in planted(LibraryBug::CrossMemberLoan) {
        let (read, Outcome { answer, after }) = cross_member_loan(&library(bugs).await).await;
        assert_eq!(read.status, 200, "{bugs}");
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(after["status"], "returned", "{bugs}");
    }
    let (read, Outcome { answer, after }) =
        cross_member_loan(&library(LibraryBugSet::none()).await).await;
    assert_eq!((read.status, read.error()), (404, "loan not found"));
    assert_eq!((answer.status, answer.error()), (404, "loan not found"));
    assert_eq!(after["status"], "active");
}

async fn loan_after_withdraw(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 1).await;
    let librarian = lib.staff(library_common::LIBRARIAN).await;
    let ada = lib.member("ada").await;
    let withdrawn = send(lib.request(Method::DELETE, "/api/v1/books/dune", Some(&librarian))).await;
    assert_eq!(withdrawn.status, 204);
    let answer = lib.post_json(&ada, "/api/v1/loans", json!({ "book": "dune" })).await;
    Outcome { answer, after: Value::from(lib.loans(&ada).await) }
}

#[tokio::test]
async fn loan_after_withdraw_a_withdrawn_book_is_lent_with_the_bug_and_404_without() {
    for bugs in planted(LibraryBug::LoanAfterWithdraw) {
        let Outcome { answer, after } = loan_after_withdraw(&library(bugs).await).await;
        assert_eq!(answer.status, 201, "{bugs}");
        assert_eq!(after[0]["book"], "dune", "{bugs}");
    }
    let Outcome { answer, after } =
        loan_after_withdraw(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (404, "book not found"));
    assert_eq!(after, json!([]));
}

/// Ada and Bob borrow the only copy at the same moment.
async fn concurrent_borrow(lib: &TestLibrary) -> [Answer; 2] {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    let body = json!({ "book": "dune" });
    let (a, b) = tokio::join!(
        lib.post_json(&ada, "/api/v1/loans", body.clone()),
        lib.post_json(&bob, "/api/v1/loans", body.clone())
    );
    [a, b]
}

#[tokio::test]
async fn concurrent_borrow_two_borrows_of_the_last_copy_both_win_with_the_bug_and_one_409_without()
{
    for bugs in planted(LibraryBug::ConcurrentBorrow) {
        let answers = concurrent_borrow(&library(bugs).await).await;
        assert_eq!(answers.each_ref().map(|a| a.status), [201, 201], "{bugs}");
        assert_eq!(answers[0].body["copy"], answers[1].body["copy"], "{bugs}: one copy, two loans");
    }
    let answers = concurrent_borrow(&library(LibraryBugSet::none()).await).await;
    let mut statuses = answers.each_ref().map(|a| a.status);
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
}

async fn session_after_logout(lib: &TestLibrary) -> (Answer, Answer) {
    let ada = lib.member("ada").await;
    let logout = send(lib.request(Method::DELETE, "/api/v1/session", Some(&ada))).await;
    (logout, lib.get(&ada, "/api/v1/me").await)
}

#[tokio::test]
async fn session_after_logout_the_old_cookie_works_with_the_bug_and_401_without() {
    for bugs in planted(LibraryBug::SessionAfterLogout) {
        let (logout, me) = session_after_logout(&library(bugs).await).await;
        assert_eq!(logout.status, 204, "{bugs}");
        assert!(logout.header("set-cookie").unwrap().contains("Max-Age=0"), "{bugs}");
        assert_eq!((me.status, me.body["email"].as_str()), (200, Some("ada@members.test")));
    }
    let (logout, me) = session_after_logout(&library(LibraryBugSet::none()).await).await;
    assert_eq!(logout.status, 204);
    assert_eq!(me.status, 401);
}

/// Two writes carrying the same `ETag`: the second is stale.
async fn stale_preferences(lib: &TestLibrary) -> Outcome {
    let ada = lib.member("ada").await;
    let read = lib.get(&ada, "/api/v1/me/preferences").await;
    let etag = read.header("etag").expect("an ETag").to_string();
    let put = |notify_by: &str| {
        lib.request(Method::PUT, "/api/v1/me/preferences", Some(&ada))
            .header("if-match", &etag)
            .json(&json!({ "notify_by": notify_by, "language": "en", "newsletter": false }))
    };
    assert_eq!(send(put("sms")).await.status, 200);
    let answer = send(put("none")).await;
    Outcome { answer, after: lib.get(&ada, "/api/v1/me/preferences").await.body }
}

#[tokio::test]
async fn stale_preferences_an_outdated_if_match_overwrites_with_the_bug_and_412_without() {
    for bugs in planted(LibraryBug::StalePreferences) {
        let Outcome { answer, after } = stale_preferences(&library(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(after["notify_by"], "none", "{bugs}: the newer write was lost");
    }
    let Outcome { answer, after } = stale_preferences(&library(LibraryBugSet::none()).await).await;
    assert_eq!(answer.status, 412);
    assert_eq!(answer.header("etag"), Some("\"2\""));
    assert_eq!(after["notify_by"], "sms");
}
