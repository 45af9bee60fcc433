//! The library's shapes, each as a client sees it on a real socket: cookie
//! sessions, failed logins, sequential ids that collide and restart, slugs,
//! the preferences singleton, children read through their parent, the soft
//! delete, the pickup code crossing roles, public and private reads,
//! reading lists with items read through them, and a preferences `PATCH`.

mod library_common;

use library_common::{send, sid_of, TestLibrary, DESK, LIBRARIAN};
use reqwest::Method;
use serde_json::json;
use venomqa_samples::LibraryBugSet;

async fn correct() -> TestLibrary {
    TestLibrary::start(LibraryBugSet::none()).await
}

#[tokio::test]
async fn a_login_sets_an_http_only_sid_cookie_and_a_failed_one_answers_200_ok_false() {
    let lib = correct().await;
    lib.member("ada").await;
    let good = lib.try_login("ada@members.test", "secret-pw").await;
    let cookie = good.header("set-cookie").expect("a cookie");
    assert!(cookie.starts_with("sid=") && cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!(good.body["member"]["role"], "member");
    assert_eq!(good.header("authorization"), None);

    let bad = lib.try_login("ada@members.test", "wrong").await;
    assert_eq!(bad.status, 200);
    assert_eq!(bad.body, json!({ "ok": false, "error": "wrong email or password" }));
    assert_eq!(bad.header("set-cookie"), None, "a failed login sets no cookie");
    let unknown = lib.try_login("nobody@members.test", "secret-pw").await;
    assert_eq!((unknown.status, &unknown.body["ok"]), (200, &json!(false)));
}

#[tokio::test]
async fn a_form_login_by_email_works_like_the_nested_json_one() {
    let lib = correct().await;
    lib.member("ada").await;
    let form = [("email", "ADA@members.test"), ("password", "secret-pw")];
    let answer = send(lib.request(Method::POST, "/api/v1/session", None).form(&form)).await;
    assert_eq!((answer.status, &answer.body["ok"]), (200, &json!(true)));
    let sid = sid_of(&answer).expect("a sid");
    assert_eq!(lib.get(&sid, "/api/v1/me").await.body["email"], "ada@members.test");
}

#[tokio::test]
async fn sign_up_refuses_a_taken_email_and_a_short_password() {
    let lib = correct().await;
    lib.member("ada").await;
    let again = json!({ "member": { "email": "Ada@members.test", "password": "another-pw" } });
    let taken = send(lib.request(Method::POST, "/api/v1/members", None).json(&again)).await;
    assert_eq!(taken.status, 409);
    let short = json!({ "member": { "email": "bo@members.test", "password": "pw" } });
    let refused = send(lib.request(Method::POST, "/api/v1/members", None).json(&short)).await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn ids_are_small_integers_that_collide_across_collections_and_restart_after_reset() {
    let lib = correct().await;
    for round in 0..2 {
        lib.book("dune", 2).await;
        let ada = lib.member("ada").await;
        assert_eq!(lib.get(&ada, "/api/v1/me").await.body["id"], 3, "round {round}: after 2 staff");
        assert_eq!(lib.borrow(&ada, "dune").await, 1);
        assert_eq!(lib.hold(&ada, "dune").await.0, 1, "hold 1 next to loan 1");
        let book = send(lib.request(Method::GET, "/api/v1/books/dune", None)).await;
        let copy_ids: Vec<u64> = book.body["copies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect();
        assert_eq!(copy_ids, [1, 2]);
        let reset = send(lib.request(Method::POST, "/__reset", None)).await;
        assert_eq!(reset.status, 204);
    }
    lib.staff(LIBRARIAN).await; // seeded staff survive a reset
}

#[tokio::test]
async fn books_are_named_by_the_slug_their_creator_chose_under_a_versioned_prefix() {
    let lib = correct().await;
    let librarian = lib.staff(LIBRARIAN).await;
    let body = json!({ "slug": "left-hand-of-darkness", "title": "The Left Hand of Darkness" });
    let added = lib.post_json(&librarian, "/api/v1/books", body.clone()).await;
    assert_eq!(added.status, 201);
    assert_eq!(added.header("location"), Some("/api/v1/books/left-hand-of-darkness"));
    assert_eq!(lib.post_json(&librarian, "/api/v1/books", body).await.status, 409);
    let bad = json!({ "slug": "Bad Slug", "title": "x" });
    assert_eq!(lib.post_json(&librarian, "/api/v1/books", bad).await.status, 400);
    assert_eq!(
        send(lib.request(Method::GET, "/books/left-hand-of-darkness", None)).await.status,
        404
    );
}

#[tokio::test]
async fn anyone_reads_the_catalogue_and_only_staff_write_it() {
    let lib = correct().await;
    lib.book("dune", 1).await;
    let list = send(lib.request(Method::GET, "/api/v1/books", None)).await;
    assert_eq!((list.status, list.body["books"][0]["slug"].as_str()), (200, Some("dune")));
    let ada = lib.member("ada").await;
    let body = json!({ "slug": "mine", "title": "Mine" });
    let refused = lib.post_json(&ada, "/api/v1/books", body).await;
    assert_eq!((refused.status, refused.error()), (403, "only library staff may do this"));
    let redeem = lib.post_json(&ada, "/api/v1/desk/pickups", json!({ "code": "PK-X" })).await;
    assert_eq!(redeem.status, 403);
    let anonymous = send(lib.request(Method::GET, "/api/v1/loans", None)).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn copies_have_no_read_of_their_own_and_show_in_their_books_read() {
    let lib = correct().await;
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    lib.borrow(&ada, "dune").await;
    let book = send(lib.request(Method::GET, "/api/v1/books/dune", None)).await;
    assert_eq!(book.body["copies"], json!([{ "id": 1, "barcode": "bc-0", "status": "on_loan" }]));
    let copy = send(lib.request(Method::GET, "/api/v1/books/dune/copies/1", None)).await;
    assert_eq!(copy.status, 404);
    let copies = send(lib.request(Method::GET, "/api/v1/books/dune/copies", None)).await;
    assert_eq!((copies.status, copies.header("allow")), (405, Some("POST")));
}

#[tokio::test]
async fn a_withdrawn_book_answers_404_and_still_shows_in_the_withdrawn_list() {
    let lib = correct().await;
    lib.book("dune", 1).await;
    let librarian = lib.staff(LIBRARIAN).await;
    let deleted = send(lib.request(Method::DELETE, "/api/v1/books/dune", Some(&librarian))).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, serde_json::Value::Null, "no body");
    assert_eq!(send(lib.request(Method::GET, "/api/v1/books/dune", None)).await.status, 404);
    let available = send(lib.request(Method::GET, "/api/v1/books", None)).await;
    assert_eq!(available.body["books"], json!([]));
    let withdrawn = send(lib.request(Method::GET, "/api/v1/books?status=withdrawn", None)).await;
    assert_eq!(withdrawn.body["books"][0]["slug"], "dune");
    assert_eq!(withdrawn.body["books"][0]["status"], "withdrawn");
    let again = send(lib.request(Method::DELETE, "/api/v1/books/dune", Some(&librarian))).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn preferences_are_one_per_account_with_an_etag_that_if_match_must_name() {
    let lib = correct().await;
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    let read = lib.get(&ada, "/api/v1/me/preferences").await;
    assert_eq!(read.header("etag"), Some("\"1\""));
    assert_eq!(read.body, json!({ "notify_by": "email", "language": "en", "newsletter": false }));
    let body = json!({ "notify_by": "sms", "language": "fr", "newsletter": true });
    let put = |sid: &str, if_match: Option<&str>| {
        let request = lib.request(Method::PUT, "/api/v1/me/preferences", Some(sid)).json(&body);
        match if_match {
            Some(tag) => request.header("if-match", tag),
            None => request,
        }
    };
    assert_eq!(send(put(&ada, None)).await.status, 428);
    let written = send(put(&ada, Some("\"1\""))).await;
    assert_eq!((written.status, written.header("etag")), (200, Some("\"2\"")));
    assert_eq!(lib.get(&bob, "/api/v1/me/preferences").await.body["notify_by"], "email");
    assert_eq!(send(put(&ada, Some("\"1\""))).await.status, 412);
}

#[tokio::test]
async fn a_members_pickup_code_is_redeemed_by_staff_into_the_members_loan() {
    let lib = correct().await;
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let (hold, code) = lib.hold(&ada, "dune").await;
    assert!(code.starts_with("PK-"), "{code}");
    let redeemed = lib.redeem(&code).await;
    assert_eq!(redeemed.status, 201);
    assert_eq!(redeemed.body["hold"]["id"], hold);
    assert_eq!(redeemed.body["loan"]["member"], 3);
    assert_eq!(lib.loans(&ada).await.len(), 1);
    let desk = lib.staff(DESK).await;
    assert_eq!(lib.get(&desk, "/api/v1/holds").await.body["holds"][0]["status"], "collected");
}

#[tokio::test]
async fn loans_and_holds_are_private_to_their_member_and_visible_to_staff() {
    let lib = correct().await;
    lib.book("dune", 2).await;
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    let loan = lib.borrow(&ada, "dune").await;
    let (hold, _) = lib.hold(&ada, "dune").await;
    assert_eq!(lib.loans(&bob).await.len(), 0);
    assert_eq!(lib.get(&bob, &format!("/api/v1/loans/{loan}")).await.status, 404);
    assert_eq!(lib.get(&bob, &format!("/api/v1/holds/{hold}")).await.status, 404);
    assert_eq!(lib.post(&bob, &format!("/api/v1/holds/{hold}/cancel")).await.status, 404);
    let librarian = lib.staff(LIBRARIAN).await;
    assert_eq!(lib.loans(&librarian).await.len(), 1);
    assert_eq!(lib.get(&librarian, &format!("/api/v1/holds/{hold}")).await.status, 200);
}

#[tokio::test]
async fn a_loan_renews_twice_then_is_refused_and_returns_once() {
    let lib = correct().await;
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let id = lib.borrow(&ada, "dune").await;
    let renew = format!("/api/v1/loans/{id}/renew");
    assert_eq!(lib.post(&ada, &renew).await.body["due_in_days"], 42);
    assert_eq!(lib.post(&ada, &renew).await.status, 200);
    assert_eq!(lib.post(&ada, &renew).await.status, 409);
    let back = format!("/api/v1/loans/{id}/return");
    assert_eq!(lib.post(&ada, &back).await.body["status"], "returned");
    assert_eq!(lib.post(&ada, &back).await.status, 409);
}

#[tokio::test]
async fn reading_lists_are_private_drafts_whose_items_show_only_through_the_list() {
    let lib = correct().await;
    lib.book("dune", 1).await;
    let ada = lib.member("ada").await;
    let bob = lib.member("bob").await;
    lib.borrow(&ada, "dune").await;
    let list = lib.post_json(&ada, "/api/v1/lists", json!({ "name": "Summer" })).await;
    assert_eq!((list.status, list.header("location")), (201, Some("/api/v1/lists/1")));
    assert_eq!(list.body["status"], "draft");
    let item = lib.post_json(&ada, "/api/v1/lists/1/items", json!({ "book": "dune" })).await;
    assert_eq!(item.body, json!({ "id": 1, "book": "dune" }), "list 1 and loan 1 side by side");

    let items = lib.get(&ada, "/api/v1/lists/1/items").await;
    assert_eq!((items.status, items.header("allow")), (405, Some("POST")));
    assert_eq!(lib.get(&ada, "/api/v1/lists/1/items/1").await.status, 404);
    assert_eq!(lib.get(&ada, "/api/v1/lists/1").await.body["items"][0]["book"], "dune");
    assert_eq!(lib.get(&bob, "/api/v1/lists/1").await.status, 404, "private to Ada");
    let librarian = lib.staff(LIBRARIAN).await;
    assert_eq!(lib.get(&librarian, "/api/v1/lists/1").await.status, 200, "staff see all");
    let others = lib.post_json(&bob, "/api/v1/lists/1/items", json!({ "book": "dune" })).await;
    assert_eq!(others.status, 404);

    let injected =
        lib.post_json(&ada, "/api/v1/lists", json!({ "name": "x", "status": "published" })).await;
    assert_eq!(injected.status, 400, "a field the create does not take");
    assert_eq!(lib.post(&ada, "/api/v1/lists/1/publish").await.body["status"], "published");
    let again = lib.post(&ada, "/api/v1/lists/1/publish").await;
    assert_eq!(
        (again.status, again.error()),
        (409, "cannot publish a reading list that is published")
    );
}

#[tokio::test]
async fn preferences_take_a_patch_of_some_fields_under_the_same_if_match_rules() {
    let lib = correct().await;
    let ada = lib.member("ada").await;
    let path = "/api/v1/me/preferences";
    let body = || json!({ "newsletter": true });
    let bare = send(lib.request(Method::PATCH, path, Some(&ada)).json(&body())).await;
    assert_eq!(bare.status, 428);
    let patched = lib.write_if_match(Method::PATCH, &ada, path, "\"1\"", body()).await;
    assert_eq!((patched.status, patched.header("etag")), (200, Some("\"2\"")));
    assert_eq!(patched.body, json!({ "notify_by": "email", "language": "en", "newsletter": true }));
    let unknown =
        lib.write_if_match(Method::PATCH, &ada, path, "\"2\"", json!({ "theme": "dark" })).await;
    assert_eq!(unknown.status, 400);
    let me = lib.get(&ada, "/api/v1/me").await;
    assert_eq!((me.status, me.header("allow")), (200, None));
    let wrong = send(lib.request(Method::PATCH, "/api/v1/me", Some(&ada))).await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("GET, PUT")));
}
