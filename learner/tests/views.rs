//! The views other tools read: Mermaid state diagrams, Graphviz DOT,
//! OpenAPI 3.1 with Link Objects, and the text summary for people.

mod common;

use std::collections::BTreeSet;

use common::shop::qa_traffic;
use venomqa_learner::{mermaid_machine, render_dot, render_mermaid, render_openapi, render_text};

#[test]
fn mermaid_draws_one_state_diagram_per_resource_with_observed_transitions() {
    let model = qa_traffic().learn().model;
    let text = render_mermaid(&model);
    assert_eq!(text.matches("stateDiagram-v2").count(), model.machines.len());
    assert_eq!(text.matches("```mermaid").count(), 1);
    let diagram = mermaid_machine(model.machine("orders").unwrap());
    let lines: Vec<&str> = diagram.lines().map(str::trim).collect();
    assert_eq!(lines[0], "stateDiagram-v2");
    for expected in [
        "[*] --> created",
        "created --> paid : POST /orders/{order_id}/pay",
        "paid --> shipped : POST /orders/{order_id}/ship",
        "shipped --> refunded : POST /orders/{order_id}/refund",
        "created --> cancelled : POST /orders/{order_id}/cancel",
    ] {
        assert!(lines.contains(&expected), "missing `{expected}` in\n{diagram}");
    }
    assert!(!diagram.contains("created --> shipped"));
    // Every line is a transition Mermaid can parse: ids without `-` or braces.
    assert_eq!(lines[1], "%% orders (states from field `status`)");
    for line in &lines[2..] {
        let (states, _) = line.split_once(" : ").unwrap_or((line, ""));
        let ids: Vec<&str> = states.split(" --> ").collect();
        assert_eq!(ids.len(), 2, "{line}");
        assert!(ids.iter().all(|id| *id == "[*]" || id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')), "{line}");
    }
}

#[test]
fn dot_draws_one_digraph_with_a_cluster_per_resource() {
    let model = qa_traffic().learn().model;
    let dot = render_dot(&model);
    assert!(dot.starts_with("digraph model {"), "{dot}");
    assert_eq!(dot.matches("digraph").count(), 1, "one graph, so `dot -Tpng` draws all: {dot}");
    assert!(dot.contains("subgraph \"cluster_orders\" {"), "{dot}");
    assert!(
        dot.contains(
            "\"orders/created\" -> \"orders/paid\" [label=\"POST /orders/{order_id}/pay (×5)\"];"
        ),
        "{dot}"
    );
    assert_eq!(
        dot.matches('{').count() - dot.matches("{order_id}").count(),
        dot.matches('}').count() - dot.matches("{order_id}").count()
    );
}

#[test]
fn two_resources_with_the_same_state_names_stay_apart_in_dot() {
    let mut model = qa_traffic().learn().model;
    let mut carts = model.machines[0].clone();
    carts.resource = "carts".into();
    model.machines.push(carts);
    let dot = render_dot(&model);
    assert_eq!(dot.matches("subgraph").count(), 2, "{dot}");
    assert!(dot.contains("\"carts/created\" [label=\"created\"];"), "{dot}");
    assert!(dot.contains("\"orders/created\" [label=\"created\"];"), "{dot}");
}

#[test]
fn a_resource_view_keeps_that_resource_only_and_an_unknown_one_is_none() {
    let model = qa_traffic().learn().model;
    let view = model.resource_view("orders").expect("orders");
    assert_eq!(view.resources.len(), 1);
    assert!(view.actions.iter().all(|a| a.template.starts_with("/orders")), "{:?}", view.actions);
    assert!(view.links.iter().all(|l| l.consumer.contains("/orders")));
    assert!(view.journeys.is_empty(), "journeys span resources");
    assert_eq!(model.resource_view("/orders").map(|v| v.resources.len()), Some(1));
    assert!(model.resource_view("carts").is_none());
}

#[test]
fn openapi_is_3_1_with_every_path_parameter_declared_and_links_on_producers() {
    let model = qa_traffic().learn().model;
    let doc = render_openapi(&model);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 8);
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            assert!(
                operation_ids.insert(op["operationId"].as_str().unwrap().to_string()),
                "duplicate operationId"
            );
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .inspect(|p| assert_eq!(p["required"], true))
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(declared, in_path, "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.len() >= 2, "the statuses seen and `default`: {responses:?}");
            assert!(responses.contains_key("default"), "other statuses are documented as such");
            assert!(responses.values().all(|r| r["description"].is_string()));
        }
    }
    let created = &doc["paths"]["/orders"]["post"]["responses"]["201"];
    assert_eq!(
        created["content"]["application/json"]["schema"]["properties"]["status"]["type"],
        "string"
    );
    let pay = &created["links"]["post_orders_order_id_pay"];
    assert_eq!(pay["operationId"], "post_orders_order_id_pay");
    assert_eq!(pay["parameters"]["order_id"], "$response.body#/id");
    let login = &doc["paths"]["/login"]["post"]["responses"]["200"]["links"]["post_orders"];
    assert_eq!(login["parameters"]["header.Authorization"], "Bearer {$response.body#/token}");
    let etag = &doc["paths"]["/orders/{order_id}"]["get"]["responses"]["200"]["links"]
        ["patch_orders_order_id"];
    assert_eq!(etag["parameters"]["if-match"], "$response.header.etag");
    // Every link points at an operation that exists.
    for item in paths.values() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"].as_object().unwrap().values() {
                for link in response["links"].as_object().into_iter().flat_map(|l| l.values()) {
                    assert!(operation_ids.contains(link["operationId"].as_str().unwrap()));
                }
            }
        }
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    assert_eq!(doc["paths"]["/orders"]["get"]["security"][0]["bearerAuth"], serde_json::json!([]));
}

#[test]
fn the_text_view_lists_actions_resources_links_and_machines() {
    let text = render_text(&qa_traffic().learn().model);
    for expected in [
        "actions (11)",
        "POST /orders/{order_id}/refund  200×2 409×1",
        "auth: login POST /login (credentials password), logout POST /logout",
        "resources (1)",
        "create  POST /orders  → id at /id",
        "POST /orders/{order_id}/pay path {order_id}  ←  POST /orders 201 body /id",
        "bearer token  ←  POST /login 200 body /token",
        "orders (by field `status`)",
        "created --POST /orders/{order_id}/pay--> paid",
        "journeys: 7 distinct from 7 sessions",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
}
