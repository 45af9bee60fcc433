//! Mutation families on the sample library, each with the planted bug it
//! must find and the correct library on which it must stay silent: cases
//! whose intruder or victim is a member the journeys sign up themselves.

mod library;

use library::{findings_of, recorded_library};
use venomqa_samples::{LibraryBug, LibraryBugSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signed_up_in_the_sequence_changes_another_members_password() {
    // The intruder is a member too: an identity the journeys make, signed
    // up in the case. The victim's id (from their own login's answer) stays
    // in the path, and both logins that prove the change send the accounts
    // this sequence made.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::CrossMemberPassword);
    let found = findings_of(&model, &recorded, "as-other-user", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a.ends_with("/password")))
        .unwrap_or_else(|| panic!("the password change is found: {found:#?}"));
    assert!(f.summary.contains("credentials"), "{}", f.summary);
    assert!(
        f.actions.iter().filter(|a| *a == "POST /api/v1/members").count() >= 2,
        "{:?}",
        f.actions
    );
    assert!(f.evidence.iter().any(|e| e.contains("with a session")), "{:?}", f.evidence);
    // A library that refuses it: nothing.
    let none = findings_of(&model, &recorded, "as-other-user", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_under_a_members_dead_session_is_read_back_by_a_login_of_the_same_member() {
    // The member was made in the sequence: the probe's own login after the
    // logout sends the account and secret this sequence made for them.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::CreateAfterLogout);
    let found = findings_of(&model, &recorded, "after-logout", bug).await;
    let members_create = ["POST /api/v1/loans", "POST /api/v1/holds", "POST /api/v1/lists"];
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| members_create.contains(&a.as_str())))
        .unwrap_or_else(|| panic!("a member's dead create is found: {found:#?}"));
    assert!(f.summary.contains("with the token of a session that had logged out"), "{}", f.summary);
    assert!(f.evidence.iter().any(|e| e.contains("read-back shows")), "{:?}", f.evidence);
    let none = findings_of(&model, &recorded, "after-logout", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_injected_into_a_members_own_profile_is_found() {
    // `PUT /me` is a per-user singleton: its `role` is shown by `GET /me`
    // and never sent, so it is injected, and the member's own read-back
    // shows whether it was stored.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::RoleInjection);
    let found = findings_of(&model, &recorded, "field-injection", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a == "PUT /api/v1/me"))
        .unwrap_or_else(|| panic!("the injected role is found: {found:#?}"));
    assert!(f.summary.contains("`role`"), "{}", f.summary);
    let none = findings_of(&model, &recorded, "field-injection", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_withdrawn_book_named_by_its_slug_is_found() {
    // The staff name books by the slug they chose: the path is bound to the
    // create that answered it, so the delete and the edit are on one book.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::EditAfterWithdraw);
    let found = findings_of(&model, &recorded, "after-delete", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a == "PATCH /api/v1/books/{slug}"))
        .unwrap_or_else(|| panic!("the edit after the withdrawal is found: {found:#?}"));
    assert!(f.actions.iter().any(|a| a == "DELETE /api/v1/books/{slug}"), "{:?}", f.actions);
    let none = findings_of(&model, &recorded, "after-delete", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_validators_on_a_members_preferences_are_found() {
    // `/me/preferences` is a singleton: a stale `If-Match` sent again, and
    // a PATCH whose validator a later PUT made stale.
    let (model, recorded) = recorded_library().await;
    for (bug, family, last) in [
        (LibraryBug::StalePreferences, "stale-validator", "PUT /api/v1/me/preferences"),
        (LibraryBug::StalePatchAfterPut, "interleaved-validator", "PATCH /api/v1/me/preferences"),
    ] {
        let found = findings_of(&model, &recorded, family, LibraryBugSet::only(bug)).await;
        assert!(
            found.iter().any(|f| f.actions.last().is_some_and(|a| a == last)),
            "{family}: {found:#?}"
        );
        let none = findings_of(&model, &recorded, family, LibraryBugSet::none()).await;
        assert!(none.is_empty(), "{family}: {none:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renew_that_makes_a_returned_loan_active_again_is_found() {
    // A renew only ever kept a loan `active`: the recording never saw it
    // move a loan, so it is no guarded action; moving a `returned` loan
    // back to `active` is what gives it away.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::RenewAfterReturn);
    let found = findings_of(&model, &recorded, "swap", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a == "POST /api/v1/loans/{loan_id}/renew"))
        .unwrap_or_else(|| panic!("the renew after the return is found: {found:#?}"));
    assert!(f.summary.contains("`returned`"), "{}", f.summary);
    let none = findings_of(&model, &recorded, "swap", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrows_of_the_last_copies_sent_at_once_are_found() {
    // Borrowing is a create: sent as a burst of four, more than the copies
    // a book has left, one after the other the last borrows are refused.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::ConcurrentBorrow);
    let found = findings_of(&model, &recorded, "concurrent", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a.ends_with("POST /api/v1/loans")))
        .unwrap_or_else(|| panic!("the concurrent borrows are found: {found:#?}"));
    assert_eq!(f.oracle, venomqa_replayer::OracleKind::Race, "{f:#?}");
    let none = findings_of(&model, &recorded, "concurrent", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loan_of_a_book_the_staff_just_withdrew_is_found() {
    // A member's borrow names the book in its body; the staff (who alone
    // withdraw books) log in afresh and withdraw it just before.
    let (model, recorded) = recorded_library().await;
    let bug = LibraryBugSet::only(LibraryBug::LoanAfterWithdraw);
    let found = findings_of(&model, &recorded, "after-delete", bug).await;
    let f = found
        .iter()
        .find(|f| f.actions.last().is_some_and(|a| a == "POST /api/v1/loans"))
        .unwrap_or_else(|| panic!("the loan of a withdrawn book is found: {found:#?}"));
    assert!(f.summary.contains("after its delete"), "{}", f.summary);
    assert!(f.actions.iter().any(|a| a == "DELETE /api/v1/books/{slug}"), "{:?}", f.actions);
    let none = findings_of(&model, &recorded, "after-delete", LibraryBugSet::none()).await;
    assert!(none.is_empty(), "{none:#?}");
}
