//! The shop on SQLite (`--db sqlite:PATH`): every change is in the file, a
//! restarted shop carries on from it, and a state put back into the file by
//! another connection (SQLite's backup API, as exploration's checkpoints
//! do) is what the shop answers from next.

mod common;

use common::{send, TestShop};
use reqwest::Method;
use rusqlite::{Connection, MAIN_DB};
use serde_json::json;
use venomqa_samples::BugSet;

async fn create(shop: &TestShop, token: &str) -> String {
    let created = send(
        shop.request(Method::POST, "/orders", Some(token))
            .json(&json!({ "item": "kettle", "amount": 900 })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["id"].as_str().expect("an id").to_string()
}

#[tokio::test]
async fn a_restarted_shop_carries_on_from_its_database() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("shop.db");
    let shop = TestShop::on_database(BugSet::none(), &path).await;
    let alice = shop.login("alice").await;
    let id = create(&shop, &alice).await;
    assert_eq!(shop.pay(&alice, &id).await.status, 200);
    shop.handle.shutdown().await;

    let row: (String, i64) = Connection::open(&path)
        .expect("open the file")
        .query_row("SELECT status, charged FROM orders WHERE id = ?1", [&id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("the order is a row");
    assert_eq!(row, ("paid".to_string(), 900));

    let again = TestShop::on_database(BugSet::none(), &path).await;
    let read = again.get(&alice, &format!("/orders/{id}")).await;
    assert_eq!((read.status, read.body["status"].as_str()), (200, Some("paid")), "{:?}", read.body);
}

#[tokio::test]
async fn a_state_restored_into_the_file_is_what_the_shop_answers_from() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (path, saved) = (dir.path().join("shop.db"), dir.path().join("saved.db"));
    let shop = TestShop::on_database(BugSet::none(), &path).await;
    let alice = shop.login("alice").await;
    let id = create(&shop, &alice).await;
    let live = Connection::open(&path).expect("open the file");
    live.backup(MAIN_DB, &saved, None).expect("save a copy");

    assert_eq!(shop.pay(&alice, &id).await.status, 200);
    assert_eq!(shop.get(&alice, &format!("/orders/{id}")).await.body["status"], "paid");
    let mut live = live;
    live.restore(MAIN_DB, &saved, None::<fn(rusqlite::backup::Progress)>)
        .expect("put the copy back");

    let read = shop.get(&alice, &format!("/orders/{id}")).await;
    assert_eq!((read.status, read.body["status"].as_str()), (200, Some("created")));
    // And it goes on from there: the restored order can be paid again.
    let paid = shop.pay(&alice, &id).await;
    assert_eq!((paid.status, paid.body["charged"].as_u64()), (200, Some(900)));
    shop.handle.shutdown().await;
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a database, but a file someone cares about\n").expect("write");
    let config = venomqa_samples::ShopConfig {
        bugs: BugSet::none(),
        database: Some(path.clone()),
        ..Default::default()
    };
    let Err(err) = venomqa_samples::spawn_shop(config).await else {
        panic!("a shop opened a text file as its database")
    };
    let message = err.to_string();
    assert!(message.contains("notes.txt") && message.contains("not a database"), "{message}");
    // Nothing was written over it.
    let kept = std::fs::read_to_string(&path).expect("read");
    assert_eq!(kept, "not a database, but a file someone cares about\n");
}
