//! The sample shop's API on a real socket: the happy path and its correct refusals.

mod common;

use common::{send, TestShop};
use reqwest::Method;
use serde_json::json;
use venomqa_samples::BugSet;

/// The whole lifecycle answers the same whether bugs are planted or not.
#[tokio::test]
async fn the_happy_path_pays_ships_refunds_cancels_and_deletes_with_and_without_bugs() {
    for bugs in [BugSet::none(), BugSet::all()] {
        let shop = TestShop::start(bugs).await;
        let alice = shop.login("alice").await;

        let created = send(
            shop.request(Method::POST, "/orders", Some(&alice))
                .json(&json!({ "item": "french press", "amount": 2500 })),
        )
        .await;
        assert_eq!(created.status, 201, "{bugs}");
        let id = created.body["id"].as_str().expect("an id").to_string();
        assert_eq!(created.header("location"), Some(format!("/orders/{id}").as_str()));
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(
            created.body,
            json!({
                "id": id, "owner": "alice", "item": "french press", "amount": 2500, "status": "created",
                "charged": 0, "refunded": 0, "note": "", "version": 1
            })
        );

        // Read, then edit the note with that read's ETag.
        let read = shop.get(&alice, &format!("/orders/{id}")).await;
        assert_eq!((read.status, read.header("etag")), (200, Some("\"1\"")));
        let patched = shop.patch_note(&alice, &id, read.header("etag"), "ring twice").await;
        assert_eq!((patched.status, patched.header("etag")), (200, Some("\"2\"")));
        assert_eq!(patched.body["note"], "ring twice");

        let paid = shop.pay(&alice, &id).await;
        assert_eq!(
            (paid.body["status"].as_str(), paid.body["charged"].as_u64()),
            (Some("paid"), Some(2500))
        );
        let shipped = shop.post(&alice, &format!("/orders/{id}/ship")).await;
        assert_eq!((shipped.status, shipped.body["status"].as_str()), (200, Some("shipped")));
        let refunded = shop.post(&alice, &format!("/orders/{id}/refund")).await;
        assert_eq!(refunded.status, 200);
        assert_eq!(
            (refunded.body["status"].as_str(), refunded.body["refunded"].as_u64()),
            (Some("refunded"), Some(2500))
        );
        assert_eq!(refunded.body["version"], 5);

        // Cancel before and after paying; a paid cancel refunds what was charged.
        let unpaid = shop.create(&alice, 700).await;
        let cancelled = shop.post(&alice, &format!("/orders/{unpaid}/cancel")).await;
        assert_eq!((cancelled.status, cancelled.body["refunded"].as_u64()), (200, Some(0)));
        let paid_then_cancelled = shop.create(&alice, 900).await;
        shop.pay(&alice, &paid_then_cancelled).await;
        let cancelled = shop.post(&alice, &format!("/orders/{paid_then_cancelled}/cancel")).await;
        assert_eq!(cancelled.status, 200);
        assert_eq!(
            (
                cancelled.body["status"].as_str(),
                cancelled.body["charged"].as_u64(),
                cancelled.body["refunded"].as_u64()
            ),
            (Some("cancelled"), Some(900), Some(900))
        );

        // Refund from paid, before shipping.
        let returned = shop.create(&alice, 300).await;
        shop.pay(&alice, &returned).await;
        assert_eq!(shop.post(&alice, &format!("/orders/{returned}/refund")).await.status, 200);

        // Delete: gone from reads and from the listing.
        let deleted =
            send(shop.request(Method::DELETE, &format!("/orders/{unpaid}"), Some(&alice))).await;
        assert_eq!((deleted.status, deleted.body.clone()), (204, serde_json::Value::Null));
        assert_eq!(shop.get(&alice, &format!("/orders/{unpaid}")).await.status, 404);
        let listed = shop.get(&alice, "/orders").await;
        assert_eq!(listed.status, 200);
        let ids: Vec<&str> = listed.body["orders"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|o| o["id"].as_str())
            .collect();
        assert_eq!(
            ids,
            [id.as_str(), paid_then_cancelled.as_str(), returned.as_str()],
            "oldest first, deleted left out"
        );

        let logout = send(shop.request(Method::POST, "/logout", Some(&alice))).await;
        assert_eq!(logout.status, 204);
        shop.handle.shutdown().await;
    }
}

#[tokio::test]
async fn health_needs_no_token_and_unknown_paths_are_404_and_wrong_methods_405() {
    let shop = TestShop::start(BugSet::none()).await;
    let health = send(shop.request(Method::GET, "/health", None)).await;
    assert_eq!((health.status, health.body.clone()), (200, json!({ "status": "ok" })));

    let missing = send(shop.request(Method::GET, "/nowhere", None)).await;
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("/nowhere"));

    let wrong = send(shop.request(Method::PUT, "/orders/ord_x", None)).await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("GET, PATCH, DELETE")));
    let wrong = send(shop.request(Method::GET, "/orders/ord_x/pay", None)).await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("POST")));
}

#[tokio::test]
async fn every_order_endpoint_needs_a_live_bearer_token() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, 1000).await;
    let order = format!("/orders/{id}");
    let endpoints = [
        (Method::POST, "/logout".to_string()),
        (Method::POST, "/orders".to_string()),
        (Method::GET, "/orders".to_string()),
        (Method::GET, order.clone()),
        (Method::PATCH, order.clone()),
        (Method::DELETE, order.clone()),
        (Method::POST, format!("{order}/pay")),
        (Method::POST, format!("{order}/ship")),
        (Method::POST, format!("{order}/refund")),
        (Method::POST, format!("{order}/cancel")),
    ];
    for (method, path) in endpoints {
        for token in [None, Some("tok_made_up")] {
            let answer = send(shop.request(method.clone(), &path, token)).await;
            assert_eq!(answer.status, 401, "{method} {path} with {token:?}");
            assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
            assert!(!answer.error().is_empty());
        }
    }
    let basic = send(
        shop.request(Method::GET, "/orders", None)
            .header("authorization", format!("Basic {alice}")),
    )
    .await;
    assert_eq!(basic.status, 401);
}

#[tokio::test]
async fn login_refuses_wrong_passwords_and_malformed_bodies() {
    let shop = TestShop::start(BugSet::none()).await;
    let wrong = send(
        shop.request(Method::POST, "/login", None)
            .json(&json!({ "username": "alice", "password": "bob-pw" })),
    )
    .await;
    assert_eq!((wrong.status, wrong.error()), (401, "invalid username or password"));
    let unknown = send(
        shop.request(Method::POST, "/login", None)
            .json(&json!({ "username": "eve", "password": "eve-pw" })),
    )
    .await;
    assert_eq!(unknown.status, 401);
    let malformed = send(shop.request(Method::POST, "/login", None).body("{not json")).await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.error().starts_with("invalid JSON body"));

    for user in ["alice", "bob", "carol", "dave"] {
        let token = shop.login(user).await;
        assert!(token.starts_with("tok_") && token.len() > 20, "{token}");
    }
}

#[tokio::test]
async fn orders_get_random_non_sequential_ids_and_bad_orders_are_400() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let a = shop.create(&alice, 100).await;
    let b = shop.create(&alice, 100).await;
    for id in [&a, &b] {
        let suffix = id.strip_prefix("ord_").expect("ord_ prefix");
        assert_eq!(suffix.len(), 12, "{id}");
        assert!(
            suffix.bytes().all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c)),
            "{id}"
        );
    }
    assert_ne!(a, b);

    for body in [
        json!({ "item": "mug" }),
        json!({ "item": "", "amount": 5 }),
        json!({ "item": "mug", "amount": 0 }),
        json!({ "item": "mug", "amount": -3 }),
    ] {
        let answer = send(shop.request(Method::POST, "/orders", Some(&alice)).json(&body)).await;
        assert_eq!(answer.status, 400, "{body}");
        assert!(!answer.error().is_empty());
    }
}

#[tokio::test]
async fn other_users_orders_are_404_and_left_out_of_listings() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let bob = shop.login("bob").await;
    let id = shop.create(&alice, 1200).await;
    shop.create(&bob, 100).await;

    let listed = shop.get(&bob, "/orders").await;
    let owners: Vec<&str> = listed.body["orders"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|o| o["owner"].as_str())
        .collect();
    assert_eq!(owners, ["bob"]);

    for (method, path) in [
        (Method::GET, format!("/orders/{id}")),
        (Method::DELETE, format!("/orders/{id}")),
        (Method::POST, format!("/orders/{id}/pay")),
        (Method::POST, format!("/orders/{id}/ship")),
        (Method::POST, format!("/orders/{id}/refund")),
        (Method::POST, format!("/orders/{id}/cancel")),
    ] {
        let answer = send(shop.request(method.clone(), &path, Some(&bob))).await;
        assert_eq!((answer.status, answer.error()), (404, "order not found"), "{method} {path}");
    }
    let patched = shop.patch_note(&bob, &id, Some("\"1\""), "mine now").await;
    assert_eq!(patched.status, 404);
    assert_eq!(shop.order(&alice, &id).await["note"], "");
}

#[tokio::test]
async fn actions_in_the_wrong_state_are_409_with_the_state_named() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, 1000).await;
    let refund = shop.post(&alice, &format!("/orders/{id}/refund")).await;
    assert_eq!((refund.status, refund.error()), (409, "cannot refund an order that is created"));

    shop.pay(&alice, &id).await;
    let again = shop.post(&alice, &format!("/orders/{id}/pay")).await;
    assert_eq!((again.status, again.error()), (409, "cannot pay an order that is paid"));

    shop.post(&alice, &format!("/orders/{id}/cancel")).await;
    for action in ["pay", "ship", "refund", "cancel"] {
        let answer = shop.post(&alice, &format!("/orders/{id}/{action}")).await;
        assert_eq!(answer.status, 409, "{action} on a cancelled order");
        assert_eq!(answer.error(), format!("cannot {action} an order that is cancelled"));
    }
    let order = shop.order(&alice, &id).await;
    assert_eq!((order["charged"].as_u64(), order["refunded"].as_u64()), (Some(1000), Some(1000)));
}

#[tokio::test]
async fn a_patch_needs_if_match_with_the_current_etag() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, 1000).await;

    let blind = shop.patch_note(&alice, &id, None, "blind").await;
    assert_eq!(blind.status, 428);
    assert!(blind.error().contains("If-Match"));
    let wrong = shop.patch_note(&alice, &id, Some("\"7\""), "wrong").await;
    assert_eq!((wrong.status, wrong.header("etag")), (412, Some("\"1\"")));
    let star = shop.patch_note(&alice, &id, Some("*"), "any version").await;
    assert_eq!(star.status, 200);
    let malformed = send(
        shop.request(Method::PATCH, &format!("/orders/{id}"), Some(&alice))
            .header("if-match", "\"2\"")
            .json(&json!({ "note": 5 })),
    )
    .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(shop.order(&alice, &id).await["note"], "any version");
}

#[tokio::test]
async fn a_pay_retried_with_the_same_idempotency_key_gets_the_first_answer_and_is_charged_once() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, 1500).await;
    let first = shop.pay_with_key(&alice, &id, "key-1").await;
    assert_eq!((first.status, first.header("idempotent-replayed")), (200, None));
    shop.patch_note(&alice, &id, first.header("etag"), "changed since").await;

    let retry = shop.pay_with_key(&alice, &id, "key-1").await;
    assert_eq!((retry.status, retry.header("idempotent-replayed")), (200, Some("true")));
    assert_eq!(retry.body, first.body, "the first answer, not the order as it is now");
    assert_eq!(shop.order(&alice, &id).await["charged"], 1500);

    let other = shop.create(&alice, 100).await;
    let reused = shop.pay_with_key(&alice, &other, "key-1").await;
    assert_eq!(reused.status, 422);
    assert_eq!(shop.order(&alice, &other).await["status"], "created");
}

#[tokio::test]
async fn reset_clears_orders_and_sessions() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let id = shop.create(&alice, 1000).await;
    let reset = send(shop.request(Method::POST, "/__reset", None)).await;
    assert_eq!(reset.status, 204);
    assert_eq!(shop.get(&alice, "/orders").await.status, 401, "sessions are gone");
    let alice = shop.login("alice").await;
    assert_eq!(shop.get(&alice, &format!("/orders/{id}")).await.status, 404);
    assert_eq!(shop.get(&alice, "/orders").await.body, json!({ "orders": [] }));
}

#[tokio::test]
async fn logout_kills_the_token() {
    let shop = TestShop::start(BugSet::none()).await;
    let alice = shop.login("alice").await;
    let other = shop.login("alice").await;
    assert_eq!(send(shop.request(Method::POST, "/logout", Some(&alice))).await.status, 204);
    assert_eq!(send(shop.request(Method::POST, "/logout", Some(&alice))).await.status, 401);
    assert_eq!(shop.get(&alice, "/orders").await.status, 401);
    assert_eq!(shop.get(&other, "/orders").await.status, 200, "only that session ends");
}

#[tokio::test]
async fn after_shutdown_the_shop_no_longer_accepts_connections() {
    let shop = TestShop::start(BugSet::none()).await;
    let addr = shop.handle.addr;
    assert_eq!(send(shop.request(Method::GET, "/health", None)).await.status, 200);
    shop.handle.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
