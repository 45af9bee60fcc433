//! venomqa on a service shaped unlike the sample shop: cookie sessions,
//! sequential numeric ids, ids in JSON bodies and query strings, a public
//! endpoint, and a `state` field.

mod common;

use common::bank::{customer_visit, spawn_bank};
use common::{run, start_recorder, text};
use serde_json::Value;
use venomqa_testkit::TempStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_sessions_with_numeric_ids_are_recorded_and_learned() {
    let bank = spawn_bank().await;
    let temp = TempStore::new();
    let store = temp.arg().to_string();
    let upstream = format!("http://{bank}");
    let (proxy, base) = start_recorder(&upstream, &store, &["--session-by", "cookie:sid"]);

    let visits = ["ann", "ben", "ann"].map(|user| {
        let base = base.clone();
        tokio::spawn(async move { customer_visit(&base, user).await })
    });
    for visit in visits {
        let statuses = visit.await.unwrap();
        assert_eq!(statuses, [200, 200, 201, 201, 200, 201, 200, 200, 200, 204]);
    }
    proxy.stop_cleanly();

    // Each visit is one session keyed by its (pseudonymised) cookie, starting
    // at the sign-in whose Set-Cookie issued it. The public rates request
    // carries no cookie, so it is unmatched.
    let listed = run(&["sessions", "--store", &store, "--json"]);
    let sessions: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let sessions = sessions.as_array().unwrap();
    let cookie_sessions: Vec<&Value> = sessions
        .iter()
        .filter(|s| s["key"].as_str().unwrap().starts_with("cookie:sid=~r:"))
        .collect();
    assert_eq!(cookie_sessions.len(), 3, "{sessions:?}");
    for session in &cookie_sessions {
        assert_eq!(session["exchanges"], 9, "{session}");
        let shown = run(&["show", session["key"].as_str().unwrap(), "--store", &store, "--json"]);
        let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!(shown["exchanges"][0]["url"], "/session", "the sign-in starts the journey");
    }

    let model_path = temp.dir().join("model.json");
    let learned = run(&["learn", "--store", &store, "--out", model_path.to_str().unwrap()]);
    assert!(learned.status.success(), "{}", text(&learned.stderr));
    let model: Value = serde_json::from_slice(&std::fs::read(&model_path).unwrap()).unwrap();
    let mut actions: Vec<&str> =
        model["actions"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "DELETE /session",
            "GET /api/accounts/{account_id}",
            "GET /api/rates",
            "GET /api/transfers",
            "POST /api/accounts",
            "POST /api/accounts/{account_id}/close",
            "POST /api/accounts/{account_id}/deposit",
            "POST /api/transfers",
            "POST /session",
        ]
    );
    let links = model["links"].as_array().unwrap();
    let has_link = |consumer: &str, to: &str, producer: &str| {
        links.iter().any(|l| {
            l["consumer"] == consumer
                && l["to"].to_string().contains(to)
                && l["producer"] == producer
        })
    };
    assert!(
        has_link("POST /api/transfers", "/from", "POST /api/accounts"),
        "an id in a JSON body: {links:?}"
    );
    assert!(
        has_link("GET /api/transfers", "account", "POST /api/accounts"),
        "an id in a query string: {links:?}"
    );
    assert!(
        has_link("POST /api/accounts/{account_id}/close", "account_id", "POST /api/accounts"),
        "{links:?}"
    );
    assert!(
        has_link("POST /api/accounts", "sid", "POST /session"),
        "the session cookie: {links:?}"
    );

    let machine = model["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["resource"] == "accounts")
        .expect("accounts machine");
    assert_eq!(machine["field"], "state", "{machine}");
    let transitions: Vec<(String, String)> = machine["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"].as_str().unwrap().to_string(), t["to"].as_str().unwrap().to_string()))
        .collect();
    assert!(transitions.contains(&("open".to_string(), "closed".to_string())), "{transitions:?}");
    assert!(!transitions.contains(&("closed".to_string(), "open".to_string())), "{transitions:?}");
}
