//! Mutation families on the sample library, each with the planted bug it
//! must find and the correct library on which it must stay silent: cases
//! whose intruder or victim is a member the journeys sign up themselves,
//! instances the staff made in another journey, singletons, creates.

mod library;

use library::{findings_of, recorded_library};
use venomqa_replayer::{Finding, OracleKind};
use venomqa_samples::{LibraryBug, LibraryBugSet};

/// The recorded library's `family` cases against a library with only `bug`
/// planted: the finding whose minimal sequence ends with an action `last`
/// accepts. Against a correct library the same cases find nothing.
async fn found_only_with(bug: LibraryBug, family: &str, last: &[&str]) -> Finding {
    let (model, recorded) = recorded_library().await;
    let found = findings_of(&model, &recorded, family, LibraryBugSet::only(bug)).await;
    let ends = |f: &&Finding| f.actions.last().is_some_and(|a| last.iter().any(|l| a.ends_with(l)));
    let Some(finding) = found.iter().find(ends).cloned() else {
        panic!("{family} finds {bug:?} on {last:?}: {found:#?}")
    };
    let none = findings_of(&model, &recorded, family, LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{family} on a correct library: {none:#?}");
    finding
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signed_up_in_the_sequence_changes_another_members_password() {
    // The intruder is a member too: an identity the journeys make, signed
    // up in the case. The victim's id (from their own login's answer) stays
    // in the path, and both logins that prove the change send the accounts
    // this sequence made.
    let f = found_only_with(LibraryBug::CrossMemberPassword, "as-other-user", &["/password"]).await;
    assert!(f.summary.contains("credentials"), "{}", f.summary);
    let sign_ups = f.actions.iter().filter(|a| *a == "POST /api/v1/members").count();
    assert!(sign_ups >= 2, "{:?}", f.actions);
    assert!(f.evidence.iter().any(|e| e.contains("with a session")), "{:?}", f.evidence);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_under_a_members_dead_session_is_read_back_by_a_login_of_the_same_member() {
    // The member was made in the sequence: the probe's own login after the
    // logout sends the account and secret this sequence made for them.
    let members_create = ["POST /api/v1/loans", "POST /api/v1/holds", "POST /api/v1/lists"];
    let f = found_only_with(LibraryBug::CreateAfterLogout, "after-logout", &members_create).await;
    assert!(f.summary.contains("with the token of a session that had logged out"), "{}", f.summary);
    assert!(f.evidence.iter().any(|e| e.contains("read-back shows")), "{:?}", f.evidence);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_injected_into_a_members_own_profile_is_found() {
    // `PUT /me` is a per-user singleton: its `role` is shown by `GET /me`
    // and never sent, so it is injected, and the member's own read-back
    // shows whether it was stored.
    let f =
        found_only_with(LibraryBug::RoleInjection, "field-injection", &["PUT /api/v1/me"]).await;
    assert!(f.summary.contains("`role`"), "{}", f.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_withdrawn_book_named_by_its_slug_is_found() {
    // The staff name books by the slug they chose: the path is bound to the
    // create that answered it, so the delete and the edit are on one book.
    let last = ["PATCH /api/v1/books/{slug}"];
    let f = found_only_with(LibraryBug::EditAfterWithdraw, "after-delete", &last).await;
    assert!(f.actions.iter().any(|a| a == "DELETE /api/v1/books/{slug}"), "{:?}", f.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_validator_sent_again_on_a_members_preferences_is_found() {
    // `/me/preferences` is a singleton: it is read again to see the write.
    let last = ["PUT /api/v1/me/preferences"];
    let f = found_only_with(LibraryBug::StalePreferences, "stale-validator", &last).await;
    assert_eq!(f.oracle, OracleKind::StaleWrite, "{f:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_whose_validator_a_later_put_made_stale_is_found() {
    // B is the journey's other conditional write on the same URL, the PUT.
    let last = ["PATCH /api/v1/me/preferences"];
    let f = found_only_with(LibraryBug::StalePatchAfterPut, "interleaved-validator", &last).await;
    assert!(f.actions.iter().any(|a| a == "PUT /api/v1/me/preferences"), "{:?}", f.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renew_that_makes_a_returned_loan_active_again_is_found() {
    // A renew only ever kept a loan `active`: the recording never saw it
    // move a loan, so it is no guarded action; moving a `returned` loan
    // back to `active` is what gives it away.
    let last = ["POST /api/v1/loans/{loan_id}/renew"];
    let f = found_only_with(LibraryBug::RenewAfterReturn, "swap", &last).await;
    assert!(f.summary.contains("`returned`"), "{}", f.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrows_of_the_last_copies_sent_at_once_are_found() {
    // Borrowing is a create: sent as a burst of four, more than the copies
    // a book has left, one after the other the last borrows are refused.
    let f =
        found_only_with(LibraryBug::ConcurrentBorrow, "concurrent", &["POST /api/v1/loans"]).await;
    assert_eq!(f.oracle, OracleKind::Race, "{f:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loan_of_a_book_the_staff_just_withdrew_is_found() {
    // A member's borrow names the book in its body; the staff (who alone
    // withdraw books) log in afresh and withdraw it just before.
    let f = found_only_with(LibraryBug::LoanAfterWithdraw, "after-delete", &["POST /api/v1/loans"])
        .await;
    assert!(f.summary.contains("after its delete"), "{}", f.summary);
    assert!(f.actions.iter().any(|a| a == "DELETE /api/v1/books/{slug}"), "{:?}", f.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_code_redeemed_twice_is_found() {
    // The desk's pickup names a hold by the code a list of holds showed;
    // the first pickup moved the hold on, the second is accepted anyway.
    let f = found_only_with(LibraryBug::DoublePickup, "duplicate", &["POST /api/v1/desk/pickups"])
        .await;
    assert!(f.summary.contains("accepted twice naming hold"), "{}", f.summary);
    let pickups = f.actions.iter().filter(|a| *a == "POST /api/v1/desk/pickups").count();
    assert_eq!(pickups, 2, "{:?}", f.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_of_a_hold_its_member_cancelled_is_found() {
    // The hold is another journey's (a member's, in front of the desk's);
    // its member logs in again and cancels it, then the desk redeems the
    // code a list showed before the cancel.
    let pickup = "POST /api/v1/desk/pickups";
    let f = found_only_with(LibraryBug::PickupAfterCancel, "after-final-state", &[pickup]).await;
    assert!(f.summary.contains("`cancelled` → `collected`"), "{}", f.summary);
    let cancel = f.actions.iter().position(|a| a.ends_with("/cancel"));
    assert_eq!(cancel, Some(f.actions.len() - 2), "{:?}", f.actions);
    // A pickup redeemed twice is another bug: a cancelled hold is still
    // refused there, and nothing is reported.
    let (model, recorded) = recorded_library().await;
    let only_double = LibraryBugSet::only(LibraryBug::DoublePickup);
    let found = findings_of(&model, &recorded, "after-final-state", only_double).await;
    assert!(found.is_empty(), "{found:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loan_of_the_copy_a_hold_set_aside_is_found() {
    // Holds of the book are placed until the library refuses one (nothing
    // left on the shelf); the loan then answered accepted names the copy a
    // hold still holds.
    let loan = "POST /api/v1/loans";
    let f = found_only_with(LibraryBug::BorrowHeldCopy, "double-claim", &[loan]).await;
    assert!(f.summary.contains("still holds (`ready`)"), "{}", f.summary);
    assert!(f.evidence.iter().any(|e| e.contains("answered 409")), "{:?}", f.evidence);
    // Borrows racing for the last copies are another bug: one after the
    // other they are refused, and nothing is reported here.
    let (model, recorded) = recorded_library().await;
    let only_race = LibraryBugSet::only(LibraryBug::ConcurrentBorrow);
    let found = findings_of(&model, &recorded, "double-claim", only_race).await;
    assert!(found.is_empty(), "{found:#?}");
}
