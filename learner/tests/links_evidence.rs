//! Links by evidence, not first match: small sequential integer ids
//! collide between collections and start again after a reset, so the
//! producer of a request value is the candidate whose name agrees and
//! whose pairing holds across sessions — never merely the first earlier
//! response that held the same number.

mod common;

use common::{call, Traffic};
use serde_json::json;
use venomqa_learner::{Link, Location, Model};

fn producer_of<'m>(model: &'m Model, consumer: &'m str) -> &'m Link {
    model.links_into(consumer).next().unwrap_or_else(|| panic!("no link into {consumer}"))
}

#[test]
fn colliding_integer_ids_link_to_their_own_collection() {
    // Loan 1 and hold 1 in the same session, both one character long.
    let mut t = Traffic::new();
    for s in ["x-session:a", "x-session:b"] {
        t.push(call(s, "POST", "/loans").status(201).reply(json!({"id": 1, "status": "open"})));
        t.push(call(s, "POST", "/holds").status(201).reply(json!({"id": 1, "status": "held"})));
        t.push(call(s, "GET", "/holds/1").reply(json!({"id": 1, "status": "held"})));
        t.push(call(s, "GET", "/loans/1").reply(json!({"id": 1, "status": "open"})));
        t.push(call(s, "POST", "/loans").status(201).reply(json!({"id": 2, "status": "open"})));
        t.push(call(s, "POST", "/loans/2/close").reply(json!({"id": 2, "status": "closed"})));
    }
    let model = t.learn().model;
    assert_eq!(producer_of(&model, "GET /holds/{hold_id}").producer, "POST /holds");
    assert_eq!(producer_of(&model, "GET /loans/{loan_id}").producer, "POST /loans");
    assert_eq!(producer_of(&model, "POST /loans/{loan_id}/close").producer, "POST /loans");
    // The journey binds each read to its own create, step by step.
    let steps = &model.journeys[0].steps;
    assert_eq!(steps[2].bindings[0].step, 1, "GET /holds/1 reads the hold of step 1");
    assert_eq!(steps[3].bindings[0].step, 0, "GET /loans/1 reads the loan of step 0");
    assert_eq!(steps[5].bindings[0].step, 4, "the close acts on loan 2 of step 4");
    assert_eq!(model.resource("holds").unwrap().ownership.created, 2);
}

#[test]
fn an_earlier_list_holding_the_same_number_does_not_win() {
    let mut t = Traffic::new();
    for (s, hold) in [("x-session:a", 2), ("x-session:b", 3), ("x-session:c", 1)] {
        t.push(
            call(s, "GET", "/catalog").reply(json!({"items": [{"id": 1}, {"id": 2}, {"id": 3}]})),
        );
        t.push(call(s, "POST", "/holds").status(201).reply(json!({"id": hold})));
        t.push(call(s, "GET", &format!("/holds/{hold}")).reply(json!({"id": hold})));
    }
    let model = t.learn().model;
    let link = producer_of(&model, "GET /holds/{hold_id}");
    assert_eq!((link.producer.as_str(), link.status), ("POST /holds", 201));
    assert_eq!(link.from, Location::Body { pointer: "/id".into() });
    for journey in &model.journeys {
        assert_eq!(journey.steps[2].bindings[0].step, 1, "{journey:?}");
    }
}

#[test]
fn ids_that_restart_after_a_reset_bind_to_the_latest_create() {
    // One session, the environment reset half-way: ticket 1 exists twice.
    let mut t = Traffic::new();
    let s = "x-session:a";
    for _ in 0..2 {
        t.push(call(s, "POST", "/tickets").status(201).reply(json!({"id": 1})));
        t.push(call(s, "POST", "/tickets/1/close").reply(json!({"id": 1, "state": "closed"})));
    }
    let model = t.learn().model;
    let steps = &model.journeys[0].steps;
    assert_eq!(steps[1].bindings[0].step, 0);
    assert_eq!(steps[3].bindings[0].step, 2, "the second close acts on the second ticket");
}

#[test]
fn a_producer_that_disagrees_in_other_sessions_loses() {
    // Both producers name the value `ticket_id`, and in the first session
    // the event (the latest) happens to hold the same number. In the other
    // sessions the event held another ticket's id: it disagrees, and the
    // create is the producer.
    let mut t = Traffic::new();
    let sessions = [("x-session:a", 1, 1), ("x-session:b", 2, 9), ("x-session:c", 3, 8)];
    for (s, ticket, other) in sessions {
        t.push(call(s, "POST", "/tickets").status(201).reply(json!({"id": ticket})));
        t.push(
            call(s, "POST", "/events")
                .status(201)
                .reply(json!({"id": 50 + ticket, "ticket_id": other})),
        );
        t.push(call(s, "GET", &format!("/tickets/{ticket}")).reply(json!({"id": ticket})));
    }
    let model = t.learn().model;
    let link = producer_of(&model, "GET /tickets/{ticket_id}");
    assert_eq!(link.producer, "POST /tickets");
    assert_eq!(link.count, 3);
}

#[test]
fn a_count_that_equals_an_id_is_not_a_link() {
    let mut t = Traffic::new();
    for (s, id) in [("x-session:a", 1), ("x-session:b", 2)] {
        t.push(call(s, "POST", "/carts").status(201).reply(json!({"id": id})));
        t.push(
            call(s, "POST", &format!("/carts/{id}/items"))
                .json(json!({"sku": "sku_4f9a2b7c", "quantity": id}))
                .status(201)
                .reply(json!({"id": 7})),
        );
    }
    let model = t.learn().model;
    let into: Vec<_> = model.links_into("POST /carts/{cart_id}/items").collect();
    assert!(into.iter().all(|l| l.to == Location::Path { name: "cart_id".into() }), "{into:?}");
}

#[test]
fn form_fields_link_like_json_members() {
    // A Stripe-like API: every write is `application/x-www-form-urlencoded`,
    // so the customer an invoice is for sits in a form field, not in JSON.
    let mut t = Traffic::new();
    for (n, s) in ["authorization:~r:00000000000000a1", "authorization:~r:00000000000000b2"]
        .into_iter()
        .enumerate()
    {
        let customer = format!("cus_4f9a{n}c1d2e3");
        let invoice = format!("in_77b2{n}e9f0a1");
        t.push(
            call(s, "POST", "/v1/customers")
                .raw("application/x-www-form-urlencoded", b"email=jo%40example.com&name=Jo")
                .reply(json!({"id": customer, "email": "jo@example.com"})),
        );
        let form = format!("customer={customer}&amount=1200&currency=eur");
        t.push(
            call(s, "POST", "/v1/invoices")
                .raw("application/x-www-form-urlencoded", form.as_bytes())
                .reply(json!({"id": invoice, "customer": customer, "status": "draft"})),
        );
        // The same value in a body that is not a form is no field.
        t.push(
            call(s, "POST", "/v1/notes")
                .raw("text/plain", format!("customer={customer}").as_bytes())
                .reply(json!({"ok": true})),
        );
    }
    let model = t.learn().model;
    let link = producer_of(&model, "POST /v1/invoices");
    assert_eq!(link.producer, "POST /v1/customers");
    assert_eq!(link.to, Location::Body { pointer: "/customer".into() });
    assert_eq!(link.from, Location::Body { pointer: "/id".into() });
    assert_eq!(model.links_into("POST /v1/notes").count(), 0, "text/plain is not a form");
    // The journey binds the field to its own session's customer.
    let steps = &model.journeys[0].steps;
    assert_eq!(steps[1].bindings[0].step, 0);
}
