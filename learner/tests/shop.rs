//! The sample-shop quality bar: on interleaved QA sessions of several users
//! the model has exactly the shop's actions, the order-id and token links,
//! and the order lifecycle with every unobserved transition absent.

mod common;

use common::action_ids;
use common::shop::qa_traffic;
use venomqa_learner::{Location, StateBasis, ValueKind};

const PAY: &str = "POST /orders/{order_id}/pay";
const SHIP: &str = "POST /orders/{order_id}/ship";
const REFUND: &str = "POST /orders/{order_id}/refund";
const CANCEL: &str = "POST /orders/{order_id}/cancel";

#[test]
fn the_shop_has_exactly_its_actions_and_no_ids_in_templates() {
    let learned = qa_traffic().learn();
    assert_eq!(
        action_ids(&learned),
        [
            "POST /login",
            "POST /logout",
            "GET /orders",
            "POST /orders",
            "DELETE /orders/{order_id}",
            "GET /orders/{order_id}",
            "PATCH /orders/{order_id}",
            CANCEL,
            PAY,
            REFUND,
            SHIP,
        ]
    );
    let get = learned.model.action("GET /orders/{order_id}").unwrap();
    assert_eq!(get.params.len(), 1);
    assert_eq!(get.params[0].name, "order_id");
    assert_eq!(get.params[0].kind, ValueKind::Token);
    assert_eq!(get.responses[&200].count, 6);
    assert_eq!(get.responses[&404].count, 1);
    assert!(get.needs_auth);
    assert_eq!(get.auth.as_deref(), Some("bearer"));
    assert!(!learned.model.action("POST /login").unwrap().needs_auth);
}

#[test]
fn order_ids_link_to_the_create_response_and_tokens_to_the_login() {
    let model = qa_traffic().learn().model;
    for consumer in [
        "GET /orders/{order_id}",
        "PATCH /orders/{order_id}",
        "DELETE /orders/{order_id}",
        PAY,
        SHIP,
        REFUND,
        CANCEL,
    ] {
        let link = model
            .links_into(consumer)
            .find(|l| l.to == Location::Path { name: "order_id".into() })
            .unwrap_or_else(|| panic!("no order_id link into {consumer}"));
        assert_eq!(link.producer, "POST /orders", "{consumer}");
        assert_eq!(link.status, 201);
        assert_eq!(link.from, Location::Body { pointer: "/id".into() });

        let token = model.links_into(consumer).find(|l| l.to == Location::Bearer).unwrap();
        assert_eq!(token.producer, "POST /login");
        assert_eq!(token.from, Location::Body { pointer: "/token".into() });
    }
    let pay = model.action(PAY).unwrap();
    let source = pay.params[0].source.as_ref().unwrap();
    assert_eq!((source.action.as_str(), source.status), ("POST /orders", 201));
    // Login needs nothing from anyone: its password is an input, not a link.
    assert_eq!(model.links_into("POST /login").count(), 0);
}

#[test]
fn the_model_knows_which_actions_log_in_and_out_and_which_login_fields_are_secrets() {
    let auth = qa_traffic().learn().model.auth;
    assert_eq!(auth.login.as_deref(), Some("POST /login"));
    assert_eq!(auth.logout.as_deref(), Some("POST /logout"));
    assert_eq!(auth.credential_fields, ["password"]);
    // The shop has no sign-up and no token refresh.
    assert_eq!((auth.sign_up, auth.refresh), (None, None));
}

#[test]
fn conditional_and_idempotent_writes_keep_the_headers_that_matter() {
    let model = qa_traffic().learn().model;
    assert_eq!(model.action(PAY).unwrap().headers, ["idempotency-key"]);
    let patch = model.action("PATCH /orders/{order_id}").unwrap();
    assert_eq!(patch.headers, ["if-match"]);
    let if_match = model
        .links_into("PATCH /orders/{order_id}")
        .find(|l| l.to == Location::Header { name: "if-match".into() });
    let if_match = if_match.expect("If-Match is linked");
    assert_eq!(
        if_match.producer, "GET /orders/{order_id}",
        "the freshest read's ETag, not the create's"
    );
    assert_eq!(if_match.from, Location::Header { name: "etag".into() });
}

#[test]
fn the_order_machine_is_the_observed_lifecycle_and_nothing_more() {
    let model = qa_traffic().learn().model;
    let machine = model.machine("orders").expect("orders have a state machine");
    assert_eq!(machine.basis, StateBasis::Field);
    assert_eq!(machine.field.as_deref(), Some("status"));
    assert_eq!(machine.initial.keys().collect::<Vec<_>>(), ["created"]);
    for (from, action, to) in [
        ("created", PAY, "paid"),
        ("paid", SHIP, "shipped"),
        ("shipped", REFUND, "refunded"),
        ("created", CANCEL, "cancelled"),
        ("paid", CANCEL, "cancelled"),
        ("created", "DELETE /orders/{order_id}", "deleted"),
    ] {
        assert!(machine.has_transition(from, action, to), "{from} --{action}--> {to} missing");
    }
    // Never observed, so never learned.
    for (from, action) in [
        ("created", SHIP),
        ("created", REFUND),
        ("shipped", CANCEL),
        ("refunded", REFUND),
        ("cancelled", PAY),
    ] {
        assert!(
            machine.transitions_from(from).all(|t| t.action != action),
            "{from} --{action}--> must be absent"
        );
    }
    let moving: Vec<(&str, &str, &str)> = machine
        .transitions
        .iter()
        .filter(|t| t.from != t.to)
        .map(|t| (t.from.as_str(), t.action.as_str(), t.to.as_str()))
        .collect();
    assert_eq!(moving.len(), 6, "{moving:?}");
    let names: Vec<&str> = machine.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["created", "cancelled", "paid", "shipped", "refunded", "deleted"]);
}

#[test]
fn states_remember_what_was_accepted_and_rejected_in_them() {
    let model = qa_traffic().learn().model;
    let machine = model.machine("orders").unwrap();
    let state = |name: &str| machine.states.iter().find(|s| s.name == name).unwrap();
    assert_eq!(state("created").accepted[PAY], 5);
    assert_eq!(state("created").rejected[REFUND], 1);
    assert_eq!(state("deleted").rejected["GET /orders/{order_id}"], 1);
    assert!(state("shipped").accepted.contains_key(REFUND));
    assert!(!state("shipped").accepted.contains_key(CANCEL));
}

#[test]
fn orders_are_a_resource_owned_by_the_session_that_created_them() {
    let model = qa_traffic().learn().model;
    assert_eq!(model.resources.len(), 1);
    let orders = model.resource("orders").unwrap();
    assert_eq!(orders.collection, "/orders");
    assert_eq!(orders.id_param, "order_id");
    assert_eq!(orders.create.as_deref(), Some("POST /orders"));
    assert_eq!(orders.id_pointer.as_deref(), Some("/id"));
    assert_eq!(orders.read, ["GET /orders/{order_id}"]);
    assert_eq!(orders.update, ["PATCH /orders/{order_id}"]);
    assert_eq!(orders.delete, ["DELETE /orders/{order_id}"]);
    assert_eq!(orders.other, ["GET /orders", CANCEL, PAY, REFUND, SHIP]);
    assert_eq!(orders.ownership.created, 8);
    assert_eq!(orders.ownership.instances, 8);
    assert_eq!(orders.ownership.foreign_accepted, 0);
}

#[test]
fn each_session_is_a_journey_bound_to_its_own_login_and_create() {
    let learned = qa_traffic().learn();
    let model = &learned.model;
    assert_eq!(model.journeys.len(), 7);
    assert_eq!(learned.summary.sessions, 7);
    let alice = &model.journeys[0];
    assert_eq!(alice.session, "x-session:s-1");
    let actions: Vec<&str> = alice.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "POST /login",
            "POST /orders",
            "GET /orders/{order_id}",
            PAY,
            SHIP,
            REFUND,
            "GET /orders/{order_id}",
            "POST /logout"
        ]
    );
    let refund = &alice.steps[5];
    assert_eq!(refund.status, 200);
    let bound: Vec<(&Location, usize, &Location)> =
        refund.bindings.iter().map(|b| (&b.to, b.step, &b.from)).collect();
    assert_eq!(
        bound,
        [
            (
                &Location::Path { name: "order_id".into() },
                1,
                &Location::Body { pointer: "/id".into() }
            ),
            (&Location::Bearer, 0, &Location::Body { pointer: "/token".into() }),
        ]
    );
    // Every step's exchange is a real recorded exchange of that session.
    let ids: Vec<u64> = alice.steps.iter().map(|s| s.exchange).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn noise_is_ignored_with_its_reason() {
    let learned = qa_traffic().learn();
    let ignored: Vec<(&str, u64)> =
        learned.summary.ignored.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        ignored,
        [("health-check", 1), ("options", 1), ("static-asset", 2), ("test-hook", 1)]
    );
    assert_eq!(learned.summary.exchanges, 51);
    assert_eq!(learned.summary.used, 46);
}

#[test]
fn ids_timestamps_and_request_ids_are_volatile_but_states_are_not() {
    let model = qa_traffic().learn().model;
    let volatile = |action: &str, at: Location| {
        model.volatile.iter().any(|v| v.action == action && v.at == at)
    };
    assert!(volatile("POST /orders", Location::Body { pointer: "/id".into() }));
    assert!(volatile("POST /login", Location::Body { pointer: "/token".into() }));
    assert!(volatile("POST /orders", Location::Header { name: "x-request-id".into() }));
    assert!(!volatile("POST /orders", Location::Body { pointer: "/status".into() }));
    assert!(!volatile("POST /orders", Location::Body { pointer: "/amount".into() }));
}

#[test]
fn learning_the_same_traffic_twice_gives_byte_identical_json() {
    let traffic = qa_traffic();
    let first = traffic.learn().model.to_json_pretty();
    let second = traffic.learn().model.to_json_pretty();
    assert_eq!(first, second);
    assert!(first.starts_with("{\n  \"format\": \"venomqa-model\",\n  \"version\": 1,"));
}

#[test]
#[ignore = "writes the shop model and its views for a person to read"]
fn dump_shop_model() {
    let learned = qa_traffic().learn();
    let dir = std::env::temp_dir();
    std::fs::write(dir.join("shop-model.json"), learned.model.to_json_pretty()).unwrap();
    let openapi =
        serde_json::to_string_pretty(&venomqa_learner::render_openapi(&learned.model)).unwrap();
    std::fs::write(dir.join("shop-openapi.json"), openapi).unwrap();
    std::fs::write(dir.join("shop-mermaid.md"), venomqa_learner::render_mermaid(&learned.model))
        .unwrap();
    println!("wrote shop-model.json, shop-openapi.json and shop-mermaid.md into {}", dir.display());
}
