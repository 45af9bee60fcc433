//! State kept in timestamps (`frozen_at` set or `null`), refusals that
//! name the state (`409`), and things made by an accepted `POST` of
//! another resource (`202` and a job to read).

mod common;

use common::{call, token_id, Traffic};
use serde_json::{json, Value};
use venomqa_learner::StateBasis;

/// A wallet as the API shows it, wrapped in `{"data": …}`.
fn wallet(id: &str, frozen_at: Value) -> Value {
    json!({"data": {"id": id, "balance": 50, "frozen_at": frozen_at,
        "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:00:00Z"}})
}

/// Each user opens a wallet, freezes it, is refused a withdrawal (`409`),
/// unfreezes it and withdraws; a statement is asked for (`202`) and read.
fn wallets() -> Traffic {
    let mut t = Traffic::new();
    let frozen = json!("2026-12-01T10:00:00Z");
    for (n, user) in ["alice", "bob", "carol"].iter().enumerate() {
        let s = format!("cookie:{user}");
        let id = token_id("wal", n as u64);
        let path = format!("/v1/wallets/{id}");
        t.push(
            call(&s, "POST", "/v1/wallets")
                .json(json!({}))
                .status(201)
                .reply(wallet(&id, Value::Null)),
        );
        t.push(call(&s, "POST", &format!("{path}/freeze")).reply(wallet(&id, frozen.clone())));
        t.push(call(&s, "GET", &path).reply(wallet(&id, frozen.clone())));
        t.push(
            call(&s, "POST", &format!("{path}/withdrawals"))
                .json(json!({"amount": 20}))
                .status(409)
                .reply(json!({"error": "frozen"})),
        );
        t.push(call(&s, "POST", &format!("{path}/unfreeze")).reply(wallet(&id, Value::Null)));
        t.push(
            call(&s, "POST", &format!("{path}/withdrawals"))
                .json(json!({"amount": 20}))
                .status(201)
                .reply(json!({"data": {"id": token_id("wd", n as u64), "amount": 20}})),
        );
        let job = token_id("stm", n as u64);
        t.push(
            call(&s, "POST", &format!("{path}/statements"))
                .status(202)
                .reply(json!({"data": {"id": job, "status": "pending"}})),
        );
        t.push(
            call(&s, "GET", &format!("/v1/jobs/{job}"))
                .reply(json!({"data": {"id": job, "status": "done"}})),
        );
    }
    t
}

#[test]
fn a_timestamp_set_and_cleared_by_actions_is_the_state() {
    let model = wallets().learn().model;
    let machine = model.machine("wallets").expect("a machine for wallets");
    assert_eq!(machine.basis, StateBasis::Timestamp, "{machine:#?}");
    assert_eq!(
        machine.field.as_deref(),
        Some("frozen_at"),
        "created_at and updated_at never clear"
    );
    let freeze = "POST /v1/wallets/{wallet_id}/freeze";
    assert!(machine.has_transition("not-frozen", freeze, "frozen"), "{machine:#?}");
    let unfreeze = "POST /v1/wallets/{wallet_id}/unfreeze";
    assert!(machine.has_transition("frozen", unfreeze, "not-frozen"), "{machine:#?}");
    let frozen = machine.states.iter().find(|s| s.name == "frozen").expect("a frozen state");
    let withdraw = "POST /v1/wallets/{wallet_id}/withdrawals";
    assert_eq!(frozen.conflicts.get(withdraw), Some(&3), "a 409 names the state: {frozen:#?}");
    assert_eq!(frozen.rejected.get(withdraw), Some(&3));
}

#[test]
fn a_refusal_that_is_no_conflict_names_no_state() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("cookie:u{n}");
        let id = token_id("wal", n);
        let path = format!("/wallets/{id}");
        t.push(call(&s, "POST", "/wallets").status(201).reply(wallet(&id, Value::Null)));
        t.push(
            call(&s, "POST", &format!("{path}/freeze")).reply(wallet(&id, json!(1_765_000_000))),
        );
        t.push(
            call(&s, "POST", &format!("{path}/withdrawals"))
                .json(json!({"amount": -1}))
                .status(422)
                .reply(json!({"error": "amount must be positive"})),
        );
    }
    let model = t.learn().model;
    let machine = model.machine("wallets").expect("a machine");
    assert_eq!(machine.basis, StateBasis::Timestamp, "an epoch number is a moment too");
    let frozen = machine.states.iter().find(|s| s.name == "frozen").expect("frozen");
    assert!(frozen.conflicts.is_empty(), "a 422 is about the request: {frozen:#?}");
    assert!(!frozen.rejected.is_empty());
}

#[test]
fn a_timestamp_that_holds_other_values_or_never_clears_is_no_state() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("cookie:u{n}");
        let id = token_id("doc", n);
        let doc =
            |seen: Value| json!({"id": id, "seen_at": seen, "updated_at": "2026-12-01T09:00:00Z"});
        t.push(call(&s, "POST", "/docs").status(201).reply(doc(Value::Null)));
        t.push(
            call(&s, "POST", &format!("/docs/{id}/view")).reply(doc(json!("2026-12-01T10:00:00Z"))),
        );
        t.push(call(&s, "POST", &format!("/docs/{id}/hide")).reply(doc(json!("never"))));
    }
    let model = t.learn().model;
    let machine = model.machine("docs").expect("a machine");
    assert_eq!(machine.basis, StateBasis::LastAction, "`never` is no moment: {machine:#?}");
}

#[test]
fn an_accepted_post_that_answered_an_id_later_read_made_that_thing() {
    let model = wallets().learn().model;
    let jobs = model.resource("jobs").expect("jobs");
    assert_eq!(jobs.create.as_deref(), Some("POST /v1/wallets/{wallet_id}/statements"));
    assert_eq!(jobs.id_pointer.as_deref(), Some("/data/id"));
    assert_eq!(jobs.ownership.created, 3, "{:#?}", jobs.ownership);
    assert_eq!(jobs.ownership.owners.get("creator"), Some(&3), "{:#?}", jobs.ownership);
}

#[test]
fn a_post_that_answered_200_or_ids_in_a_list_made_nothing() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("cookie:u{n}");
        let (a, b) = (token_id("itm", 2 * n), token_id("itm", 2 * n + 1));
        // A search answers ids of things that already were.
        t.push(
            call(&s, "POST", "/search").json(json!({"q": "x"})).reply(json!({"data": {"id": a}})),
        );
        t.push(call(&s, "GET", &format!("/items/{a}")).reply(json!({"id": a})));
        // A batch answers many ids: none is "the" thing made.
        t.push(
            call(&s, "POST", "/imports")
                .status(201)
                .reply(json!({"data": [{"id": b}, {"id": token_id("itx", n)}]})),
        );
        t.push(call(&s, "GET", &format!("/items/{b}")).reply(json!({"id": b})));
    }
    let model = t.learn().model;
    let items = model.resource("items").expect("items");
    assert_eq!(items.create, None, "{items:#?}");
    assert_eq!(items.ownership.created, 0);
}

#[test]
fn a_bodiless_command_refused_400_names_the_state_and_one_with_values_does_not() {
    // Stripe-like: state errors answer 400. `void` sends nothing, so its
    // 400 in `paid` is the state's; `refund {"amount": 900}` sends a value
    // its 400 may be about.
    let mut t = Traffic::new();
    for (n, user) in ["alice", "bob"].iter().enumerate() {
        let s = format!("cookie:{user}");
        let id = token_id("in", n as u64);
        let path = format!("/v1/invoices/{id}");
        let invoice = |status: &str| json!({"id": id, "status": status, "amount": 900});
        t.push(
            call(&s, "POST", "/v1/invoices").json(json!({"amount": 900})).reply(invoice("open")),
        );
        t.push(call(&s, "POST", &format!("{path}/pay")).reply(invoice("paid")));
        t.push(
            call(&s, "POST", &format!("{path}/void")).status(400).reply(json!({"error": "paid"})),
        );
        t.push(
            call(&s, "POST", &format!("{path}/refund"))
                .json(json!({"amount": 900}))
                .status(400)
                .reply(json!({"error": "too much"})),
        );
        let other = token_id("in", 10 + n as u64);
        let other_invoice = |status: &str| json!({"id": other, "status": status, "amount": 5});
        t.push(
            call(&s, "POST", "/v1/invoices")
                .json(json!({"amount": 5}))
                .reply(other_invoice("open")),
        );
        t.push(
            call(&s, "POST", &format!("/v1/invoices/{other}/void")).reply(other_invoice("void")),
        );
    }
    let model = t.learn().model;
    let machine = model.machines.iter().find(|m| m.resource == "invoices").expect("a machine");
    let paid = machine.states.iter().find(|s| s.name == "paid").expect("paid");
    assert!(paid.rejected.contains_key("POST /v1/invoices/{invoice_id}/refund"));
    assert_eq!(paid.conflicts.keys().collect::<Vec<_>>(), ["POST /v1/invoices/{invoice_id}/void"]);
}
