//! Traffic of other shapes than the shop: numeric ids, UUIDs, nested
//! resources, ids carried in JSON bodies and query strings, a cookie login,
//! literal segments that must stay literal, constants that are not links.

mod common;

use common::{action_ids, call, token_id, Traffic};
use serde_json::json;
use venomqa_learner::{Location, StateBasis, ValueKind};

#[test]
fn numeric_ids_become_number_parameters_linked_to_their_create() {
    let mut t = Traffic::new();
    for (s, id) in [("x-session:a", 17), ("x-session:b", 18), ("x-session:a", 19)] {
        t.push(
            call(s, "POST", "/items")
                .json(json!({"name": "lamp"}))
                .status(201)
                .reply(json!({"id": id, "name": "lamp"})),
        );
        t.push(call(s, "GET", &format!("/items/{id}")).reply(json!({"id": id, "name": "lamp"})));
        t.push(
            call(s, "PUT", &format!("/items/{id}"))
                .json(json!({"name": "desk"}))
                .reply(json!({"id": id, "name": "desk"})),
        );
    }
    let model = t.learn().model;
    assert_eq!(
        action_ids(&t.learn()),
        ["POST /items", "GET /items/{item_id}", "PUT /items/{item_id}"]
    );
    let put = model.action("PUT /items/{item_id}").unwrap();
    assert_eq!(put.params[0].kind, ValueKind::Number);
    let link = model.links_into("PUT /items/{item_id}").next().unwrap();
    assert_eq!((link.producer.as_str(), link.status), ("POST /items", 201));
    assert_eq!(link.from, Location::Body { pointer: "/id".into() });
    // No enum-like field changes, so the machine is named by the last action.
    let machine = model.machine("items").unwrap();
    assert_eq!(machine.basis, StateBasis::LastAction);
    assert!(machine.has_transition("created", "PUT /items/{item_id}", "updated"));
}

#[test]
fn uuids_are_parameters_even_when_seen_once() {
    let mut t = Traffic::new();
    t.push(
        call("s", "GET", "/users/3f2b8c1e-9d4a-4b6e-8f00-1a2b3c4d5e6f/profile")
            .reply(json!({"name": "Ann"})),
    );
    t.push(call("s", "GET", "/users/me").reply(json!({"name": "Ann"})));
    let learned = t.learn();
    assert_eq!(action_ids(&learned), ["GET /users/me", "GET /users/{user_id}/profile"]);
    assert_eq!(learned.model.actions[1].params[0].kind, ValueKind::Uuid);
}

#[test]
fn nested_resources_have_parents_and_their_own_ids() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("x-session:s{n}");
        let account = token_id("acc", n);
        let hold = token_id("hld", n);
        t.push(
            call(&s, "POST", "/accounts")
                .status(201)
                .reply(json!({"id": account, "status": "open"})),
        );
        t.push(
            call(&s, "POST", &format!("/accounts/{account}/holds"))
                .json(json!({"amount": 5}))
                .status(201)
                .reply(json!({"id": hold, "account_id": account, "status": "held"})),
        );
        t.push(
            call(&s, "POST", &format!("/accounts/{account}/holds/{hold}/release"))
                .reply(json!({"id": hold, "status": "released"})),
        );
        t.push(call(&s, "DELETE", &format!("/accounts/{account}/holds/{hold}")).status(204));
        t.push(
            call(&s, "POST", &format!("/accounts/{account}/close"))
                .reply(json!({"id": account, "status": "closed"})),
        );
    }
    let model = t.learn().model;
    let holds = model.resource("accounts.holds").expect("nested resource");
    assert_eq!(holds.parent.as_deref(), Some("accounts"));
    assert_eq!(holds.collection, "/accounts/{account_id}/holds");
    assert_eq!(holds.id_param, "hold_id");
    assert_eq!(holds.create.as_deref(), Some("POST /accounts/{account_id}/holds"));
    assert_eq!(holds.delete, ["DELETE /accounts/{account_id}/holds/{hold_id}"]);
    let consumer = "POST /accounts/{account_id}/holds/{hold_id}/release";
    let from = |name: &str| {
        model.links_into(consumer).find(|l| l.to == Location::Path { name: name.into() }).unwrap()
    };
    assert_eq!(from("account_id").producer, "POST /accounts");
    assert_eq!(from("hold_id").producer, "POST /accounts/{account_id}/holds");
    let machine = model.machine("accounts.holds").unwrap();
    assert!(machine.has_transition("held", consumer, "released"));
    assert!(machine.has_transition(
        "released",
        "DELETE /accounts/{account_id}/holds/{hold_id}",
        "deleted"
    ));
    let accounts = model.machine("accounts").unwrap();
    assert!(accounts.has_transition("open", "POST /accounts/{account_id}/close", "closed"));
    assert!(
        !accounts.states.iter().any(|s| s.name == "held"),
        "a hold's state is not the account's"
    );
}

#[test]
fn ids_in_json_bodies_and_query_strings_link_to_their_producer() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("x-session:s{n}");
        let order = token_id("ord", n);
        t.push(call(&s, "POST", "/orders").status(201).reply(json!({"id": order})));
        t.push(
            call(&s, "POST", "/payments")
                .json(json!({"order_id": order, "lines": [{"order": order, "qty": 1}], "qty": 2}))
                .status(201)
                .reply(json!({"payment_id": token_id("pay", n)})),
        );
        t.push(
            call(&s, "GET", &format!("/search?order={order}&limit=10")).reply(json!({"hits": 1})),
        );
    }
    let model = t.learn().model;
    let body = model
        .links_into("POST /payments")
        .find(|l| l.to == Location::Body { pointer: "/order_id".into() });
    assert_eq!(body.unwrap().producer, "POST /orders");
    let nested = model
        .links_into("POST /payments")
        .find(|l| l.to == Location::Body { pointer: "/lines/*/order".into() });
    assert_eq!(nested.unwrap().from, Location::Body { pointer: "/id".into() });
    let query = model
        .links_into("GET /search")
        .find(|l| l.to == Location::Query { key: "order".into() })
        .unwrap();
    assert_eq!((query.producer.as_str(), query.status), ("POST /orders", 201));
    // Small numbers in fields that are not ids never link, whatever they equal.
    assert!(model
        .links_into("POST /payments")
        .all(|l| l.to != Location::Body { pointer: "/qty".into() }));
    assert!(model
        .links_into("GET /search")
        .all(|l| l.to != Location::Query { key: "limit".into() }));
    let search = model.action("GET /search").unwrap();
    assert_eq!(search.query["order"].kind, ValueKind::Token);
    assert!(search.query["limit"].required);
}

/// A HAR-like fixture, as a browser's devtools would export it (trimmed to
/// what the learner reads), converted to exchanges in the test.
const COOKIE_LOGIN: &str = r#"[
  {"session": "cookie:sid#1", "method": "POST", "url": "https://shop.test/session",
   "request": {"headers": {"Content-Type": "application/json"}, "body": "{\"username\":\"ann\",\"password\":\"~r:00aa00aa00aa00aa\"}"},
   "status": 204, "response": {"headers": {"Set-Cookie": "sid=~r:1111aaaa2222bbbb; Path=/; HttpOnly"}}},
  {"session": "cookie:sid#1", "method": "GET", "url": "https://shop.test/cart",
   "request": {"headers": {"Cookie": "theme=dark; sid=~r:1111aaaa2222bbbb"}},
   "status": 200, "response": {"headers": {"Content-Type": "application/json"}, "body": "{\"items\":[]}"}},
  {"session": "cookie:sid#2", "method": "POST", "url": "https://shop.test/session",
   "request": {"headers": {"Content-Type": "application/json"}, "body": "{\"username\":\"bo\",\"password\":\"~r:00bb00bb00bb00bb\"}"},
   "status": 204, "response": {"headers": {"Set-Cookie": "sid=~r:3333cccc4444dddd; Path=/; HttpOnly"}}},
  {"session": "cookie:sid#2", "method": "GET", "url": "https://shop.test/cart",
   "request": {"headers": {"Cookie": "theme=dark; sid=~r:3333cccc4444dddd"}},
   "status": 200, "response": {"headers": {"Content-Type": "application/json"}, "body": "{\"items\":[]}"}}
]"#;

fn from_fixture(text: &str) -> Traffic {
    let entries: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
    let mut t = Traffic::new();
    for e in entries {
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let mut c = call(&s(&e["session"]), &s(&e["method"]), &s(&e["url"]))
            .status(e["status"].as_u64().unwrap() as u16);
        for (name, value) in e["request"]["headers"].as_object().into_iter().flatten() {
            c = c.header(name, value.as_str().unwrap());
        }
        if let Some(body) = e["request"]["body"].as_str() {
            c = c.raw("application/json", body.as_bytes());
        }
        for (name, value) in e["response"]["headers"].as_object().into_iter().flatten() {
            c = c.reply_header(name, value.as_str().unwrap());
        }
        if let Some(body) = e["response"]["body"].as_str() {
            c = c.reply_raw("application/json", body.as_bytes());
        }
        t.push(c);
    }
    t
}

#[test]
fn a_cookie_login_links_the_session_cookie_to_its_set_cookie() {
    let model = from_fixture(COOKIE_LOGIN).learn().model;
    assert_eq!(
        model.actions.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["GET /cart", "POST /session"]
    );
    let link = model.links_into("GET /cart").next().expect("the sid cookie is linked");
    assert_eq!(link.to, Location::Cookie { name: "sid".into() });
    assert_eq!((link.producer.as_str(), link.status), ("POST /session", 204));
    assert_eq!(link.from, Location::Cookie { name: "sid".into() });
    assert_eq!(model.links.len(), 1, "the theme cookie and the password are not links");
    let cart = model.action("GET /cart").unwrap();
    assert_eq!(cart.auth.as_deref(), Some("cookie:sid"));
    assert!(cart.needs_auth);
}

#[test]
fn low_cardinality_words_and_version_prefixes_stay_literal() {
    let mut t = Traffic::new();
    for n in 0..6u64 {
        let s = format!("x-session:s{n}");
        t.push(call(&s, "GET", "/api/v1/orders/pending").reply(json!([])));
        t.push(
            call(&s, "GET", &format!("/api/v1/orders/{}", token_id("ord", n)))
                .reply(json!({"status": "created"})),
        );
        t.push(call(&s, "GET", "/api/v1/products/red-shoes").reply(json!({"sku": "rs"})));
        t.push(call(&s, "GET", "/api/v1/products/blue-hat").reply(json!({"sku": "bh"})));
        t.push(call(&s, "GET", "/api/v2/orders/pending").reply(json!([])));
    }
    assert_eq!(
        action_ids(&t.learn()),
        [
            "GET /api/v1/orders/pending",
            "GET /api/v1/orders/{order_id}",
            "GET /api/v1/products/blue-hat",
            "GET /api/v1/products/red-shoes",
            "GET /api/v2/orders/pending",
        ]
    );
}

#[test]
fn many_slugs_leading_to_the_same_sub_api_become_one_parameter() {
    let mut t = Traffic::new();
    let slugs = [
        "red-shoes",
        "blue-hat",
        "green-scarf",
        "black-boots",
        "white-socks",
        "grey-coat",
        "pink-bag",
        "gold-ring",
        "tan-belt",
    ];
    for slug in slugs {
        t.push(call("s", "GET", &format!("/products/{slug}")).reply(json!({"slug": slug})));
        t.push(call("s", "GET", &format!("/products/{slug}/reviews")).reply(json!([])));
    }
    let learned = t.learn();
    assert_eq!(
        action_ids(&learned),
        ["GET /products/{slug}", "GET /products/{slug}/reviews"],
        "the field that holds the value names the parameter"
    );
    assert_eq!(learned.model.actions[0].params[0].kind, ValueKind::Slug);
}

#[test]
fn a_word_an_earlier_response_produced_is_a_parameter() {
    let mut t = Traffic::new();
    t.push(
        call("s", "POST", "/teams")
            .json(json!({"name": "Core"}))
            .status(201)
            .reply(json!({"slug": "core-team"})),
    );
    t.push(call("s", "GET", "/teams/core-team").reply(json!({"slug": "core-team"})));
    t.push(call("s", "GET", "/teams/mine").reply(json!([])));
    let learned = t.learn();
    assert_eq!(action_ids(&learned), ["POST /teams", "GET /teams/mine", "GET /teams/{slug}"]);
    let link = learned.model.links_into("GET /teams/{slug}").next().unwrap();
    assert_eq!(link.from, Location::Body { pointer: "/slug".into() });
}

#[test]
fn a_constant_sent_by_every_session_is_not_a_link() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("x-session:s{n}");
        t.push(call(&s, "GET", "/config").reply(json!({"tenant_id": "ten_8x9y2z7w"})));
        t.push(
            call(&s, "POST", "/orders")
                .json(json!({"tenant_id": "ten_8x9y2z7w"}))
                .status(201)
                .reply(json!({"id": token_id("ord", n)})),
        );
        t.push(
            call(&s, "GET", &format!("/orders/{}", token_id("ord", n)))
                .reply(json!({"id": token_id("ord", n)})),
        );
    }
    let model = t.learn().model;
    assert_eq!(model.links_into("POST /orders").count(), 0, "{:?}", model.links);
    assert_eq!(model.links_into("GET /orders/{order_id}").count(), 1);
}

#[test]
fn non_json_bodies_are_shaped_non_json_without_failing() {
    let mut t = Traffic::new();
    t.push(
        call("s", "POST", "/upload")
            .raw("image/png", b"\x89PNG\r\n\x1a\n\0\0")
            .status(201)
            .reply_raw("text/html", b"<p>ok</p>"),
    );
    t.push(
        call("s", "POST", "/upload")
            .raw("application/json", b"{\"broken\": ")
            .status(400)
            .reply_raw("application/json", b"{not json"),
    );
    let model = t.learn().model;
    let upload = model.action("POST /upload").unwrap();
    assert_eq!(serde_json::to_value(&upload.request).unwrap()["kind"], "non-json");
    assert_eq!(upload.request.content_types, ["application/json", "image/png"]);
    assert_eq!(serde_json::to_value(&upload.responses[&201].body).unwrap()["kind"], "non-json");
    assert_eq!(serde_json::to_value(&upload.responses[&400].body).unwrap()["kind"], "non-json");
}

#[test]
fn interleaved_sessions_never_borrow_each_others_values() {
    let mut t = Traffic::new();
    let (a, b) = (token_id("ord", 1), token_id("ord", 2));
    t.push(call("x-session:a", "POST", "/orders").status(201).reply(json!({"id": a})));
    t.push(call("x-session:b", "POST", "/orders").status(201).reply(json!({"id": b})));
    // b reads a's order: the value exists, but not in b's session.
    t.push(
        call("x-session:b", "GET", &format!("/orders/{a}"))
            .status(404)
            .reply(json!({"error": "not found"})),
    );
    t.push(call("x-session:a", "GET", &format!("/orders/{a}")).reply(json!({"id": a})));
    let model = t.learn().model;
    let b_journey = model.journeys.iter().find(|j| j.session == "x-session:b").unwrap();
    assert!(b_journey.steps[1].bindings.is_empty());
    let a_journey = model.journeys.iter().find(|j| j.session == "x-session:a").unwrap();
    assert_eq!(a_journey.steps[1].bindings.len(), 1);
    let orders = model.resource("orders").unwrap();
    assert_eq!(orders.ownership.foreign_rejected, 1);
}

#[test]
fn a_bodiless_201_links_its_location_header() {
    let mut t = Traffic::new();
    for n in 0..2u64 {
        let s = format!("x-session:s{n}");
        let id = 100 + n;
        t.push(
            call(&s, "POST", "/jobs")
                .json(json!({"kind": "export"}))
                .status(201)
                .reply_header("Location", &format!("/jobs/{id}")),
        );
        t.push(call(&s, "GET", &format!("/jobs/{id}")).reply(json!({"state": "running"})));
        t.push(call(&s, "POST", &format!("/jobs/{id}/stop")).reply(json!({"state": "stopped"})));
    }
    let model = t.learn().model;
    let link =
        model.links_into("POST /jobs/{job_id}/stop").next().expect("linked through Location");
    assert_eq!((link.producer.as_str(), link.status), ("POST /jobs", 201));
    assert_eq!(link.from, Location::LocationId);
    let machine = model.machine("jobs").unwrap();
    assert_eq!(machine.field.as_deref(), Some("state"));
    assert!(machine.has_transition("running", "POST /jobs/{job_id}/stop", "stopped"));
}

#[test]
fn sessions_of_the_same_shape_are_one_journey_with_a_count() {
    let mut t = Traffic::new();
    for n in 0..5u64 {
        let s = format!("x-session:s{n}");
        let id = token_id("ord", n);
        t.push(call(&s, "POST", "/orders").status(201).reply(json!({"id": id})));
        t.push(call(&s, "POST", &format!("/orders/{id}/pay")).reply(json!({"id": id})));
    }
    t.push(call("x-session:odd", "GET", "/orders").reply(json!([])));
    let learned = t.learn();
    let journeys = &learned.model.journeys;
    assert_eq!(journeys.len(), 2);
    assert_eq!((journeys[0].session.as_str(), journeys[0].sessions), ("x-session:s0", 5));
    assert_eq!(journeys[0].steps[1].bindings[0].step, 0);
    assert_eq!(learned.summary.sessions, 6);

    let capped =
        t.learn_with(&venomqa_learner::LearnOptions { max_journeys: 1, ..Default::default() });
    assert_eq!(capped.model.journeys.len(), 1);
    assert_eq!(capped.summary.journeys_dropped, 1);
}
