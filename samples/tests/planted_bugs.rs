//! Each planted bug, reached by its violating sequence on a real socket.
//!
//! Every test plays the same sequence three times: with every bug planted
//! and with only that bug planted, the violating call answers 2xx and the
//! order's state really changed (read back by its owner); with no bug
//! planted it is refused with the right 4xx and nothing changed.

mod common;

use common::{send, Answer, TestShop};
use reqwest::Method;
use serde_json::{json, Value};
use venomqa_samples::{Bug, BugSet};

const AMOUNT: u64 = 1000;

/// The two ways of planting `bug`: among all the others, and alone.
fn planted(bug: Bug) -> [BugSet; 2] {
    [BugSet::all(), BugSet::only(bug)]
}

/// The violating call's answer, and the order as its owner reads it afterwards.
struct Outcome {
    answer: Answer,
    order: Value,
}

async fn shipped_order(shop: &TestShop, token: &str) -> String {
    let id = shop.create(token, AMOUNT).await;
    shop.pay(token, &id).await;
    assert_eq!(shop.post(token, &format!("/orders/{id}/ship")).await.status, 200);
    id
}

async fn double_refund(shop: &TestShop) -> Outcome {
    let alice = shop.login("alice").await;
    let id = shipped_order(shop, &alice).await;
    assert_eq!(shop.post(&alice, &format!("/orders/{id}/refund")).await.status, 200);
    let answer = shop.post(&alice, &format!("/orders/{id}/refund")).await;
    Outcome { answer, order: shop.order(&alice, &id).await }
}

#[tokio::test]
async fn double_refund_a_second_refund_is_accepted_with_the_bug_and_409_without() {
    for bugs in planted(Bug::DoubleRefund) {
        let Outcome { answer, order } = double_refund(&TestShop::start(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(order["refunded"], 2 * AMOUNT, "{bugs}: refunded grows past amount");
    }
    let Outcome { answer, order } = double_refund(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "cannot refund an order that is refunded"));
    assert_eq!(order["refunded"], AMOUNT);
}

async fn ship_unpaid(shop: &TestShop) -> Outcome {
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, AMOUNT).await;
    let answer = shop.post(&alice, &format!("/orders/{id}/ship")).await;
    Outcome { answer, order: shop.order(&alice, &id).await }
}

#[tokio::test]
async fn ship_unpaid_an_unpaid_order_ships_with_the_bug_and_409_without() {
    for bugs in planted(Bug::ShipUnpaid) {
        let Outcome { answer, order } = ship_unpaid(&TestShop::start(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(
            (order["status"].as_str(), order["charged"].as_u64()),
            (Some("shipped"), Some(0)),
            "{bugs}"
        );
    }
    let Outcome { answer, order } = ship_unpaid(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "cannot ship an order that is created"));
    assert_eq!(order["status"], "created");
}

async fn cancel_after_ship(shop: &TestShop) -> Outcome {
    let alice = shop.login("alice").await;
    let id = shipped_order(shop, &alice).await;
    let answer = shop.post(&alice, &format!("/orders/{id}/cancel")).await;
    Outcome { answer, order: shop.order(&alice, &id).await }
}

#[tokio::test]
async fn cancel_after_ship_a_shipped_order_is_cancelled_with_the_bug_and_409_without() {
    for bugs in planted(Bug::CancelAfterShip) {
        let Outcome { answer, order } = cancel_after_ship(&TestShop::start(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(
            (order["status"].as_str(), order["refunded"].as_u64()),
            (Some("cancelled"), Some(AMOUNT)),
            "{bugs}"
        );
    }
    let Outcome { answer, order } = cancel_after_ship(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (409, "cannot cancel an order that is shipped"));
    assert_eq!((order["status"].as_str(), order["refunded"].as_u64()), (Some("shipped"), Some(0)));
}

/// Bob reads and pays Alice's order by its id.
async fn cross_user(shop: &TestShop) -> (Answer, Outcome) {
    let alice = shop.login("alice").await;
    let bob = shop.login("bob").await;
    let id = shop.create(&alice, AMOUNT).await;
    let read = shop.get(&bob, &format!("/orders/{id}")).await;
    let answer = shop.pay_with_key(&bob, &id, "bob-key").await;
    (read, Outcome { answer, order: shop.order(&alice, &id).await })
}

#[tokio::test]
async fn cross_user_another_users_order_is_readable_and_payable_with_the_bug_and_404_without() {
    for bugs in planted(Bug::CrossUser) {
        let (read, Outcome { answer, order }) = cross_user(&TestShop::start(bugs).await).await;
        assert_eq!((read.status, read.body["owner"].as_str()), (200, Some("alice")), "{bugs}");
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(
            (order["status"].as_str(), order["charged"].as_u64()),
            (Some("paid"), Some(AMOUNT)),
            "{bugs}"
        );
    }
    let (read, Outcome { answer, order }) =
        cross_user(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((read.status, answer.status), (404, 404));
    assert_eq!((order["status"].as_str(), order["charged"].as_u64()), (Some("created"), Some(0)));
}

#[tokio::test]
async fn cross_user_is_limited_to_reading_and_paying() {
    let shop = TestShop::start(BugSet::all()).await;
    let alice = shop.login("alice").await;
    let bob = shop.login("bob").await;
    let id = shop.create(&alice, AMOUNT).await;
    shop.pay(&alice, &id).await;
    for action in ["ship", "refund", "cancel"] {
        assert_eq!(
            shop.post(&bob, &format!("/orders/{id}/{action}")).await.status,
            404,
            "{action}"
        );
    }
    assert_eq!(
        send(shop.request(Method::DELETE, &format!("/orders/{id}"), Some(&bob))).await.status,
        404
    );
    let listed = shop.get(&bob, "/orders").await;
    assert_eq!(listed.body, json!({ "orders": [] }));
}

/// Alice deletes an order, then pays it; the outcome's order is `Null` when it stays deleted.
async fn pay_after_delete(shop: &TestShop) -> Outcome {
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, AMOUNT).await;
    let deleted = send(shop.request(Method::DELETE, &format!("/orders/{id}"), Some(&alice))).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(shop.get(&alice, &format!("/orders/{id}")).await.status, 404, "deleted means gone");
    let answer = shop.pay_with_key(&alice, &id, "after-delete").await;
    let read = shop.get(&alice, &format!("/orders/{id}")).await;
    Outcome { answer, order: if read.status == 200 { read.body } else { Value::Null } }
}

#[tokio::test]
async fn pay_after_delete_a_deleted_order_is_charged_with_the_bug_and_404_without() {
    for bugs in planted(Bug::PayAfterDelete) {
        let Outcome { answer, order } = pay_after_delete(&TestShop::start(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(
            (order["status"].as_str(), order["charged"].as_u64()),
            (Some("paid"), Some(AMOUNT)),
            "{bugs}: back from the dead"
        );
    }
    let Outcome { answer, order } = pay_after_delete(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((answer.status, answer.error()), (404, "order not found"));
    assert_eq!(order, Value::Null, "still deleted");
}

/// How many fresh orders the race test tries; the window is 20 ms wide, so
/// on loopback nearly every attempt overlaps.
const RACE_ATTEMPTS: usize = 10;

/// Fires two refunds of one paid order at the same time; returns both statuses and the order after.
async fn concurrent_refunds(shop: &TestShop, alice: &str) -> ([u16; 2], Value) {
    let id = shop.create(alice, AMOUNT).await;
    shop.pay(alice, &id).await;
    let path = format!("/orders/{id}/refund");
    let (a, b) = tokio::join!(shop.post(alice, &path), shop.post(alice, &path));
    ([a.status, b.status], shop.order(alice, &id).await)
}

#[tokio::test]
async fn concurrent_refund_two_simultaneous_refunds_both_pass_with_the_bug_and_never_without() {
    for bugs in planted(Bug::ConcurrentRefund) {
        let shop = TestShop::start(bugs).await;
        let alice = shop.login("alice").await;
        let mut both_accepted = 0;
        for _ in 0..RACE_ATTEMPTS {
            let (statuses, order) = concurrent_refunds(&shop, &alice).await;
            if statuses == [200, 200] {
                both_accepted += 1;
                assert_eq!(order["refunded"], 2 * AMOUNT, "{bugs}: both refunds were paid out");
            }
        }
        assert!(both_accepted >= 1, "{bugs}: the race never hit in {RACE_ATTEMPTS} attempts");
    }

    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    for _ in 0..RACE_ATTEMPTS {
        let (mut statuses, order) = concurrent_refunds(&shop, &alice).await;
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "exactly one refund wins");
        assert_eq!(order["refunded"], AMOUNT);
    }
}

#[tokio::test]
async fn concurrent_refund_alone_still_refuses_a_sequential_second_refund() {
    // The race is its own bug: without double-refund, one refund after
    // another is refused even while the race window is open.
    let Outcome { answer, order } =
        double_refund(&TestShop::start(BugSet::only(Bug::ConcurrentRefund)).await).await;
    assert_eq!(answer.status, 409);
    assert_eq!(order["refunded"], AMOUNT);
}

/// Alice logs out, then uses the same token to list and to create an order.
async fn token_after_logout(shop: &TestShop) -> (u16, Answer) {
    let alice = shop.login("alice").await;
    assert_eq!(send(shop.request(Method::POST, "/logout", Some(&alice))).await.status, 204);
    let listed = shop.get(&alice, "/orders").await.status;
    let created = send(
        shop.request(Method::POST, "/orders", Some(&alice))
            .json(&json!({ "item": "travel mug", "amount": AMOUNT })),
    )
    .await;
    (listed, created)
}

#[tokio::test]
async fn token_after_logout_a_logged_out_token_still_works_with_the_bug_and_401_without() {
    for bugs in planted(Bug::TokenAfterLogout) {
        let shop = TestShop::start(bugs).await;
        let (listed, created) = token_after_logout(&shop).await;
        assert_eq!((listed, created.status), (200, 201), "{bugs}");
        let alice = shop.login("alice").await;
        let id = created.body["id"].as_str().expect("an id");
        assert_eq!(
            shop.order(&alice, id).await["owner"],
            "alice",
            "{bugs}: the dead session created an order"
        );
    }
    let shop = TestShop::start(BugSet::none()).await;
    let (listed, created) = token_after_logout(&shop).await;
    assert_eq!((listed, created.status), (401, 401));
    let alice = shop.login("alice").await;
    assert_eq!(shop.get(&alice, "/orders").await.body, json!({ "orders": [] }));
}

/// Alice pays, then retries the pay with the same Idempotency-Key.
async fn idempotent_retry(shop: &TestShop) -> (Answer, Outcome) {
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, AMOUNT).await;
    let first = shop.pay_with_key(&alice, &id, "retry-me").await;
    assert_eq!(first.status, 200);
    let answer = shop.pay_with_key(&alice, &id, "retry-me").await;
    (first, Outcome { answer, order: shop.order(&alice, &id).await })
}

#[tokio::test]
async fn idempotency_recharge_a_retry_with_the_same_key_charges_again_with_the_bug_and_replays_without(
) {
    for bugs in planted(Bug::IdempotencyRecharge) {
        let (_, Outcome { answer, order }) = idempotent_retry(&TestShop::start(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(order["charged"], 2 * AMOUNT, "{bugs}: charged twice");
    }
    // Correct behaviour is not a refusal: the retry gets the first answer back.
    let (first, Outcome { answer, order }) =
        idempotent_retry(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((answer.status, answer.header("idempotent-replayed")), (200, Some("true")));
    assert_eq!(answer.body, first.body);
    assert_eq!(order["charged"], AMOUNT);
}

/// Two writers read version 1; the first writes, the second writes with its stale ETag.
async fn lost_update(shop: &TestShop) -> Outcome {
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, AMOUNT).await;
    let read = shop.get(&alice, &format!("/orders/{id}")).await;
    let stale = read.header("etag").expect("an ETag").to_string();
    assert_eq!(shop.patch_note(&alice, &id, Some(&stale), "first writer").await.status, 200);
    let answer = shop.patch_note(&alice, &id, Some(&stale), "second writer").await;
    Outcome { answer, order: shop.order(&alice, &id).await }
}

#[tokio::test]
async fn lost_update_a_patch_with_an_outdated_if_match_wins_with_the_bug_and_412_without() {
    for bugs in planted(Bug::LostUpdate) {
        let Outcome { answer, order } = lost_update(&TestShop::start(bugs).await).await;
        assert_eq!(answer.status, 200, "{bugs}");
        assert_eq!(
            (order["note"].as_str(), order["version"].as_u64()),
            (Some("second writer"), Some(3)),
            "{bugs}"
        );
    }
    let Outcome { answer, order } = lost_update(&TestShop::start(BugSet::none()).await).await;
    assert_eq!((answer.status, answer.header("etag")), (412, Some("\"2\"")));
    assert_eq!(order["note"], "first writer");
}

#[tokio::test]
async fn lost_update_still_requires_if_match() {
    let shop = TestShop::start(BugSet::all()).await;
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, AMOUNT).await;
    assert_eq!(shop.patch_note(&alice, &id, None, "blind").await.status, 428);
}
