//! Cross-session links: a value one user's response produced and another
//! user (or role) consumed is a link too, marked `cross_session`, and the
//! consuming journey says which journey produced it, so replay can run the
//! producer first.

mod common;

use common::{call, Traffic};
use serde_json::json;
use venomqa_learner::{render_text, Location};

/// Staff issue a code; a customer in another session redeems it.
fn issued_and_redeemed() -> Traffic {
    let mut t = Traffic::new();
    for (n, code) in ["INV7K2Q9X4", "INV3M8P1Z6"].iter().enumerate() {
        let staff = format!("x-session:staff{n}");
        let customer = format!("x-session:customer{n}");
        t.push(call(&staff, "GET", "/me").reply(json!({"role": "staff"})));
        t.push(call(&staff, "POST", "/invites").status(201).reply(json!({"code": code})));
        t.push(call(&customer, "GET", "/me").reply(json!({"role": "customer"})));
        t.push(
            call(&customer, "POST", "/redemptions")
                .json(json!({"code": code}))
                .status(201)
                .reply(json!({"ok": true})),
        );
    }
    t
}

#[test]
fn a_code_issued_to_one_session_and_redeemed_by_another_is_a_link() {
    let model = issued_and_redeemed().learn().model;
    let link = model.links_into("POST /redemptions").next().expect("a cross-session link");
    assert_eq!(link.to, Location::Body { pointer: "/code".into() });
    assert_eq!((link.producer.as_str(), link.status), ("POST /invites", 201));
    assert_eq!(link.from, Location::Body { pointer: "/code".into() });
    assert!(link.cross_session);
    assert_eq!(link.count, 2);
}

#[test]
fn the_consuming_journey_names_the_journey_that_produced_its_value() {
    let model = issued_and_redeemed().learn().model;
    let staff = model.journeys.iter().position(|j| j.session == "x-session:staff0").unwrap();
    let customer = model.journeys.iter().find(|j| j.session == "x-session:customer0").unwrap();
    assert_eq!(customer.consumes.len(), 1, "{:?}", customer.consumes);
    let c = &customer.consumes[0];
    assert_eq!((c.step, c.journey, c.journey_step), (1, staff, 1));
    assert_eq!(c.to, Location::Body { pointer: "/code".into() });
    assert_eq!(c.from, Location::Body { pointer: "/code".into() });
    assert!(model.journeys[staff].consumes.is_empty());
}

#[test]
fn model_show_prints_cross_session_links() {
    let model = issued_and_redeemed().learn().model;
    let text = render_text(&model);
    assert!(text.contains("cross-session links (1)"), "{text}");
    assert!(
        text.contains(
            "POST /redemptions body /code  ⇐  another session's POST /invites 201 body /code"
        ),
        "{text}"
    );
    assert!(text.contains("journeys consuming other journeys' values"), "{text}");
}

#[test]
fn small_integers_never_link_across_sessions() {
    // Ids restart after a reset: note 1 of one session is not note 1 of
    // another, so a read of a note no session of its own created is left
    // unlinked rather than guessed.
    let mut t = Traffic::new();
    t.push(call("x-session:a", "POST", "/notes").status(201).reply(json!({"id": 1})));
    t.push(call("x-session:b", "GET", "/notes/1").reply(json!({"id": 1})));
    t.push(call("x-session:c", "POST", "/notes").status(201).reply(json!({"id": 2})));
    t.push(call("x-session:d", "GET", "/notes/2").reply(json!({"id": 2})));
    let model = t.learn().model;
    assert!(model.links.iter().all(|l| !l.cross_session), "{:?}", model.links);
    assert!(model.journeys.iter().all(|j| j.consumes.is_empty()));
    assert!(!render_text(&model).contains("cross-session"));
}

#[test]
fn a_value_a_session_produced_itself_is_not_cross_session() {
    let mut t = Traffic::new();
    for (n, code) in ["INV7K2Q9X4", "INV3M8P1Z6"].iter().enumerate() {
        let s = format!("x-session:s{n}");
        t.push(call(&s, "POST", "/invites").status(201).reply(json!({"code": code})));
        t.push(call(&s, "POST", "/redemptions").json(json!({"code": code})).status(201));
    }
    let model = t.learn().model;
    let link = model.links_into("POST /redemptions").next().unwrap();
    assert!(!link.cross_session);
    assert!(model.journeys.iter().all(|j| j.consumes.is_empty()));
}

#[test]
fn a_name_typed_at_login_is_not_taken_from_another_sessions_response() {
    // Bob's order shows `"owner": "alice-smith"`; Alice later logs in with
    // that name. The value matches, but nothing says it travelled: the
    // names disagree, so no link.
    let mut t = Traffic::new();
    t.push(
        call("x-session:bob", "POST", "/orders")
            .status(201)
            .reply(json!({"id": "ord_k3j5x9a2", "owner_ref": "alice-smith"})),
    );
    t.push(call("x-session:alice", "POST", "/login").json(json!({"username": "alice-smith"})));
    t.push(
        call("x-session:bob", "POST", "/orders")
            .status(201)
            .reply(json!({"id": "ord_k3j5x9b7", "owner_ref": "carol-jones"})),
    );
    t.push(call("x-session:carol", "POST", "/login").json(json!({"username": "carol-jones"})));
    let model = t.learn().model;
    assert_eq!(model.links_into("POST /login").count(), 0, "{:?}", model.links);
    assert!(model.journeys.iter().all(|j| j.consumes.is_empty()));
}
