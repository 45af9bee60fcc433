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

/// Ada renames herself and slips `role` into the update.
async fn role_injection(lib: &TestLibrary) -> (Outcome, Answer) {
    let ada = lib.member("ada").await;
    let body = json!({ "name": "Ada L.", "role": "staff" });
    let answer = lib.send_json(Method::PUT, &ada, "/api/v1/me", body).await;
    let after = lib.get(&ada, "/api/v1/me").await.body;
    let book = json!({ "slug": "mine", "title": "Mine" });
    let staff_action = lib.post_json(&ada, "/api/v1/books", book).await;
    (Outcome { answer, after }, staff_action)
}

#[tokio::test]
async fn role_injection_a_role_in_a_profile_update_makes_staff_with_the_bug_and_400_without() {
    for bugs in planted(LibraryBug::RoleInjection) {
        let (Outcome { answer, after }, staff_action) = role_injection(&library(bugs).await).await;
        assert_eq!((answer.status, &answer.body["role"]), (200, &json!("staff")), "{bugs}");
        assert_eq!(
            (after["role"].as_str(), after["name"].as_str()),
            (Some("staff"), Some("Ada L."))
        );
        assert_eq!(staff_action.status, 201, "{bugs}: Ada now adds books");
    }
    let (Outcome { answer, after }, staff_action) =
        role_injection(&library(LibraryBugSet::none()).await).await;
    assert_eq!(answer.status, 400);
    assert!(answer.error().contains("`role` cannot be changed"), "{answer:?}");
    assert_eq!((after["role"].as_str(), after["name"].as_str()), (Some("member"), Some("ada")));
    assert_eq!(staff_action.status, 403);
}

#[tokio::test]
async fn a_profile_update_of_the_name_alone_is_taken_with_or_without_bugs() {
    for bugs in [LibraryBugSet::all(), LibraryBugSet::none()] {
        let lib = library(bugs).await;
        let ada = lib.member("ada").await;
        let body = json!({ "name": "Ada Lovelace" });
        let answer = lib.send_json(Method::PUT, &ada, "/api/v1/me", body).await;
        assert_eq!((answer.status, &answer.body["name"]), (200, &json!("Ada Lovelace")));
        assert_eq!(answer.body["role"], "member", "{bugs}");
    }
}

/// A wrong password for Ada and any password for an email with no account.
async fn login_enumeration(lib: &TestLibrary) -> [Answer; 2] {
    lib.member("ada").await;
    let wrong_password = lib.try_login("ada@members.test", "not-her-password").await;
    let unknown_email = lib.try_login("nobody@members.test", "not-her-password").await;
    [wrong_password, unknown_email]
}

#[tokio::test]
async fn login_enumeration_failed_logins_answer_apart_with_the_bug_and_alike_without() {
    for bugs in planted(LibraryBug::LoginEnumeration) {
        let [wrong_password, unknown_email] = login_enumeration(&library(bugs).await).await;
        for failed in [&wrong_password, &unknown_email] {
            assert_eq!((failed.status, &failed.body["ok"]), (200, &json!(false)), "{bugs}");
            assert_eq!(library_common::sid_of(failed), None);
        }
        assert_eq!(wrong_password.error(), "wrong password", "{bugs}");
        assert_eq!(unknown_email.error(), "no account with this email", "{bugs}");
    }
    let [wrong_password, unknown_email] =
        login_enumeration(&library(LibraryBugSet::none()).await).await;
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.body, json!({ "ok": false, "error": "wrong email or password" }));
}

const PREFERENCES: &str = "/api/v1/me/preferences";

/// A `PATCH` of the newsletter with the version read, a `PUT` with the
/// version the `PATCH` answered, then the `PATCH` again with its first
/// `If-Match`.
async fn stale_patch_after_put(lib: &TestLibrary) -> Outcome {
    let ada = lib.member("ada").await;
    let etag = lib.get(&ada, PREFERENCES).await.header("etag").expect("an ETag").to_string();
    let patch = || json!({ "newsletter": true });
    let patched = lib.write_if_match(Method::PATCH, &ada, PREFERENCES, &etag, patch()).await;
    assert_eq!(patched.status, 200, "{patched:?}");
    let put_etag = patched.header("etag").expect("an ETag").to_string();
    let form = json!({ "notify_by": "sms", "language": "en", "newsletter": false });
    let put = lib.write_if_match(Method::PUT, &ada, PREFERENCES, &put_etag, form).await;
    assert_eq!(put.status, 200, "{put:?}");
    let answer = lib.write_if_match(Method::PATCH, &ada, PREFERENCES, &etag, patch()).await;
    Outcome { answer, after: lib.get(&ada, PREFERENCES).await.body }
}

#[tokio::test]
async fn stale_patch_after_put_a_patch_older_than_a_put_undoes_it_with_the_bug_and_412_without() {
    for bugs in planted(LibraryBug::StalePatchAfterPut) {
        let Outcome { answer, after } = stale_patch_after_put(&library(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(answer.header("etag"), Some("\"4\""), "{bugs}");
        assert_eq!(after["newsletter"], true, "{bugs}: the PUT's newsletter was undone");
    }
    // A stale PUT is another bug: planted alone, it lets no stale PATCH through.
    for bugs in [LibraryBugSet::none(), LibraryBugSet::only(LibraryBug::StalePreferences)] {
        let Outcome { answer, after } = stale_patch_after_put(&library(bugs).await).await;
        assert_eq!((answer.status, answer.header("etag")), (412, Some("\"3\"")), "{bugs}");
        assert_eq!((&after["newsletter"], &after["notify_by"]), (&json!(false), &json!("sms")));
    }
}

#[tokio::test]
async fn stale_patch_after_put_alone_still_refuses_a_patch_repeated_with_its_used_if_match() {
    let lib = library(LibraryBugSet::only(LibraryBug::StalePatchAfterPut)).await;
    let ada = lib.member("ada").await;
    let etag = lib.get(&ada, PREFERENCES).await.header("etag").expect("an ETag").to_string();
    let patch = |newsletter: bool| json!({ "newsletter": newsletter });
    let first = lib.write_if_match(Method::PATCH, &ada, PREFERENCES, &etag, patch(true)).await;
    assert_eq!(first.status, 200);
    let again = lib.write_if_match(Method::PATCH, &ada, PREFERENCES, &etag, patch(false)).await;
    assert_eq!((again.status, again.header("etag")), (412, Some("\"2\"")));
    assert_eq!(lib.get(&ada, PREFERENCES).await.body["newsletter"], true);
}

/// Ada lists one book, publishes the list, then adds another.
async fn item_after_publish(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 1).await;
    lib.book("emma", 1).await;
    let ada = lib.member("ada").await;
    let list = lib.post_json(&ada, "/api/v1/lists", json!({ "name": "Summer" })).await;
    assert_eq!(list.status, 201, "{list:?}");
    let path = format!("/api/v1/lists/{}", list.body["id"]);
    let items = format!("{path}/items");
    assert_eq!(lib.post_json(&ada, &items, json!({ "book": "dune" })).await.status, 201);
    assert_eq!(lib.post(&ada, &format!("{path}/publish")).await.status, 200);
    let answer = lib.post_json(&ada, &items, json!({ "book": "emma" })).await;
    Outcome { answer, after: lib.get(&ada, &path).await.body }
}

#[tokio::test]
async fn item_after_publish_a_published_list_takes_a_book_with_the_bug_and_409_without() {
    for bugs in planted(LibraryBug::ItemAfterPublish) {
        let Outcome { answer, after } = item_after_publish(&library(bugs).await).await;
        assert_eq!((answer.status, &answer.body["book"]), (201, &json!("emma")), "{bugs}");
        assert_eq!(after["status"], "published", "{bugs}");
        assert_eq!(after["items"].as_array().unwrap().len(), 2, "{bugs}: seen through the list");
    }
    let Outcome { answer, after } = item_after_publish(&library(LibraryBugSet::none()).await).await;
    assert_eq!(
        (answer.status, answer.error()),
        (409, "cannot add to a reading list that is published")
    );
    assert_eq!(after["items"], json!([{ "id": 1, "book": "dune" }]));
}

/// The librarian withdraws a book, then edits its title; the book read and
/// the list of withdrawn books afterwards.
async fn edit_after_withdraw(lib: &TestLibrary) -> (Outcome, Answer) {
    lib.book("dune", 1).await;
    let librarian = lib.staff(library_common::LIBRARIAN).await;
    let withdrawn = send(lib.request(Method::DELETE, "/api/v1/books/dune", Some(&librarian))).await;
    assert_eq!(withdrawn.status, 204);
    let edit = json!({ "title": "Dune (damaged)" });
    let answer = lib.send_json(Method::PATCH, &librarian, "/api/v1/books/dune", edit).await;
    let read = lib.get(&librarian, "/api/v1/books/dune").await;
    let after = lib.get(&librarian, "/api/v1/books?status=withdrawn").await.body;
    (Outcome { answer, after }, read)
}

#[tokio::test]
async fn edit_after_withdraw_a_withdrawn_book_is_edited_with_the_bug_and_404_without() {
    for bugs in planted(LibraryBug::EditAfterWithdraw) {
        let (Outcome { answer, after }, read) = edit_after_withdraw(&library(bugs).await).await;
        assert_eq!((answer.status, &answer.body["title"]), (200, &json!("Dune (damaged)")));
        assert_eq!(read.status, 404, "{bugs}: the read hides it");
        assert_eq!(
            after["books"][0]["title"], "Dune (damaged)",
            "{bugs}: the filtered list shows it"
        );
    }
    let (Outcome { answer, after }, read) =
        edit_after_withdraw(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (404, "book not found"));
    assert_eq!(read.status, 404);
    assert_eq!(after["books"][0]["title"], "Title of dune");
}

#[tokio::test]
async fn an_edit_of_a_book_in_the_catalogue_is_taken_and_other_fields_are_refused() {
    let lib = library(LibraryBugSet::all()).await;
    lib.book("dune", 1).await;
    let librarian = lib.staff(library_common::LIBRARIAN).await;
    let edit = json!({ "author": "Frank Herbert" });
    let answer = lib.send_json(Method::PATCH, &librarian, "/api/v1/books/dune", edit).await;
    assert_eq!((answer.status, &answer.body["author"]), (200, &json!("Frank Herbert")));
    let injected = json!({ "title": "Dune", "status": "withdrawn" });
    let answer = lib.send_json(Method::PATCH, &librarian, "/api/v1/books/dune", injected).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(lib.get(&librarian, "/api/v1/books/dune").await.body["status"], "available");
}

/// Ada logs out, then creates a reading list and borrows with her old `sid`;
/// the answers, her read with that `sid`, and what she sees once back in.
async fn create_after_logout(lib: &TestLibrary) -> (Answer, Answer, Answer, Value) {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let logout = send(lib.request(Method::DELETE, "/api/v1/session", Some(&ada))).await;
    assert_eq!(logout.status, 204);
    let list = lib.post_json(&ada, "/api/v1/lists", json!({ "name": "After hours" })).await;
    let loan = lib.post_json(&ada, "/api/v1/loans", json!({ "book": "dune" })).await;
    let read = lib.get(&ada, "/api/v1/me").await;
    let again = lib.login("ada@members.test", "secret-pw").await;
    let seen = json!({
        "lists": lib.get(&again, "/api/v1/lists").await.body["lists"],
        "loans": lib.loans(&again).await,
    });
    (list, loan, read, seen)
}

#[tokio::test]
async fn create_after_logout_a_dead_sid_creates_with_the_bug_and_401_without() {
    for bugs in planted(LibraryBug::CreateAfterLogout) {
        let (list, loan, read, seen) = create_after_logout(&library(bugs).await).await;
        assert_eq!((list.status, loan.status), (201, 201), "{bugs}");
        assert_eq!(seen["lists"][0]["name"], "After hours", "{bugs}");
        assert_eq!(seen["loans"][0]["book"], "dune", "{bugs}");
        if bugs == LibraryBugSet::only(LibraryBug::CreateAfterLogout) {
            assert_eq!(read.status, 401, "alone, it lets only creates through");
        }
    }
    let (list, loan, read, seen) = create_after_logout(&library(LibraryBugSet::none()).await).await;
    assert_eq!((list.status, loan.status, read.status), (401, 401, 401));
    assert_eq!(seen, json!({ "lists": [], "loans": [] }));
}

#[tokio::test]
async fn session_after_logout_alone_is_a_separate_bug_from_create_after_logout() {
    let lib = library(LibraryBugSet::only(LibraryBug::SessionAfterLogout)).await;
    let (_, _, read, _) = create_after_logout(&lib).await;
    assert_eq!(read.status, 200, "the old sid still reads");
    let lib = library(LibraryBugSet::only(LibraryBug::CreateAfterLogout)).await;
    let ada = lib.member("ada").await;
    send(lib.request(Method::DELETE, "/api/v1/session", Some(&ada))).await;
    let rename = lib.send_json(Method::PUT, &ada, "/api/v1/me", json!({ "name": "x" })).await;
    assert_eq!(rename.status, 401, "a write that creates nothing refuses the old sid");
}

/// Bob, logged in as himself, sets a new password on Ada's account; which
/// of her passwords work afterwards.
async fn cross_member_password(lib: &TestLibrary) -> (Answer, [Answer; 2]) {
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    let path = format!("/api/v1/members/{}/password", lib.member_id(&ada).await);
    let answer =
        lib.send_json(Method::PUT, &bob, &path, json!({ "password": "bobs-choice" })).await;
    let old = lib.try_login("ada@members.test", "secret-pw").await;
    let new = lib.try_login("ada@members.test", "bobs-choice").await;
    (answer, [old, new])
}

#[tokio::test]
async fn cross_member_password_another_members_password_changes_with_the_bug_and_404_without() {
    for bugs in planted(LibraryBug::CrossMemberPassword) {
        let (answer, [old, new]) = cross_member_password(&library(bugs).await).await;
        assert_eq!(answer.status, 204, "{bugs}");
        assert_eq!((&old.body["ok"], &new.body["ok"]), (&json!(false), &json!(true)), "{bugs}");
    }
    let (answer, [old, new]) = cross_member_password(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (404, "member not found"));
    assert_eq!((&old.body["ok"], &new.body["ok"]), (&json!(true), &json!(false)));
}

#[tokio::test]
async fn a_member_changes_their_own_password_with_or_without_bugs() {
    for bugs in [LibraryBugSet::all(), LibraryBugSet::none()] {
        let lib = library(bugs).await;
        let ada = lib.member("ada").await;
        let path = format!("/api/v1/members/{}/password", lib.member_id(&ada).await);
        let answer =
            lib.send_json(Method::PUT, &ada, &path, json!({ "password": "new-pw-1" })).await;
        assert_eq!(answer.status, 204, "{bugs}");
        lib.login("ada@members.test", "new-pw-1").await;
        assert_eq!(lib.try_login("ada@members.test", "secret-pw").await.body["ok"], false);
    }
}

/// Ada, a member, features a book; what the public read shows afterwards.
async fn feature_by_member(lib: &TestLibrary) -> Outcome {
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let answer = lib.post(&ada, "/api/v1/books/dune/feature").await;
    let after = send(lib.request(Method::GET, "/api/v1/books/dune", None)).await.body;
    Outcome { answer, after }
}

#[tokio::test]
async fn feature_by_member_a_member_features_a_book_with_the_bug_and_403_without() {
    for bugs in planted(LibraryBug::FeatureByMember) {
        let Outcome { answer, after } = feature_by_member(&library(bugs).await).await;
        assert_eq!((answer.status, &answer.body["featured"]), (200, &json!(true)), "{bugs}");
        assert_eq!(after["featured"], true, "{bugs}");
    }
    let Outcome { answer, after } = feature_by_member(&library(LibraryBugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (403, "only library staff may do this"));
    assert_eq!(after["featured"], false);
    let lib = library(LibraryBugSet::none()).await;
    lib.book("dune", 1).await;
    let librarian = lib.staff(library_common::LIBRARIAN).await;
    let featured = lib.post(&librarian, "/api/v1/books/dune/feature").await;
    assert_eq!((featured.status, &featured.body["featured"]), (200, &json!(true)));
}
