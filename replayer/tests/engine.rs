//! The engine's contracts on real loopback targets: live rebinding, logins,
//! resets, a target that is down, and one that says yes to everything.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use serde_json::{json, Value};

use common::{config, record_shop, summary, target};
use venomqa_replayer::{replay, ConfigError, Error, ModelError, OracleKind, ResetScope};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_linked_value_comes_from_this_runs_responses() {
    let learned = record_shop(12, 7).await;
    let shop = target("double-refund").await;
    let mut config = config(&shop.base_url(), "[mutations]\nenabled = [\"duplicate\"]\n");
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    assert_eq!(outcome.findings.len(), 1, "{:#?}", summary(&outcome.findings));
    let r = &outcome.findings[0].requests;
    assert_eq!(r.len(), 5);
    // The login carried the configured password, never the recorded
    // pseudonym; the finding names it by its variable.
    let login = r[0].body.as_deref().expect("login body");
    assert!(login.contains("\"${VENOMQA_") && login.contains("_PASSWORD}\""), "{login}");
    assert!(!login.contains("~r:") && !login.contains("-pw"), "{login}");
    let reply = |i: usize| -> Value {
        serde_json::from_str(r[i].response_body.as_deref().expect("body")).expect("json")
    };
    // The live token worked (a report shows it as a placeholder only).
    assert_eq!(reply(0)["token"], "<live credential>");
    let id = reply(1)["id"].as_str().expect("id").to_string();
    for sent in &r[1..] {
        let auth = sent.headers.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.as_str());
        assert_eq!(auth, Some("Bearer <live credential>"), "{}", sent.url);
        assert!(sent.status.is_some_and(|s| (200..300).contains(&s)), "{sent:?}");
    }
    for sent in &r[2..] {
        assert!(sent.url.contains(&format!("/orders/{id}/")), "{} has the live id {id}", sent.url);
    }
    // Each pay gets a fresh Idempotency-Key, never the recorded one.
    let key = r[2].headers.iter().find(|(n, _)| n == "idempotency-key").expect("key").1.clone();
    assert!(key.starts_with("venomqa-"), "{key}");
    assert!(!learned
        .exchanges
        .iter()
        .any(|e| e.request.headers.get_str("idempotency-key") == Some(key.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_down_is_a_clear_error() {
    let learned = record_shop(6, 3).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let mut config = config(&url, "");
    config.reset = None;
    let err =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect_err("refused");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("target {url} refused the connection; is it running?")),
        "{err}"
    );
    // The binary gives it exit code 3 (src/main.rs, `exit_code_for`).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_names_the_user_and_the_status() {
    let learned = record_shop(6, 3).await;
    let shop = target("none").await;
    let mut config = config(&shop.base_url(), "");
    config.users[1].fields.insert("password".into(), "wrong".into());
    let err =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect_err("refused");
    assert!(
        matches!(&err, Error::Login { user, status: Some(401), .. } if user == "bob"),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("user bob could not log in: POST /login answered 401"),
        "{err}"
    );
    // The binary gives a refused login exit code 2 (src/main.rs, `exit_code_for`).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_runs_before_every_sequence() {
    let learned = record_shop(6, 3).await;
    let shop = target("none").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config =
        config(&shop.base_url(), "[mutations]\nenabled = [\"duplicate\", \"as-other-user\"]\n");
    let base = shop.base_url();
    config.reset.as_mut().expect("reset").how = venomqa_replayer::ResetHow::Command(format!(
        "echo reset >> resets.log && curl -sf -X POST {base}/__reset >/dev/null || true"
    ));
    config.dir = dir.path().to_path_buf();
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    assert!(outcome.findings.is_empty(), "{:#?}", summary(&outcome.findings));
    let resets =
        std::fs::read_to_string(dir.path().join("resets.log")).expect("log").lines().count() as u64;
    assert_eq!(resets, outcome.stats.sequences, "one reset per sequence");
    assert!(resets > 2 * outcome.stats.journeys as u64);

    // A reset that fails stops the run, saying how.
    config.reset.as_mut().expect("reset").how =
        venomqa_replayer::ResetHow::Command("echo nope >&2; exit 3".into());
    let err =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect_err("refused");
    assert!(matches!(err, Error::Reset { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

/// A target that answers 2xx to everything and changes nothing.
async fn yes_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let counter = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let counter = counter.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        async move {
                            Ok::<_, Infallible>(yes(req.method().as_str(), req.uri().path(), n))
                        }
                    });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    format!("http://{addr}")
}

fn yes(method: &str, path: &str, n: u64) -> Response<Full<Bytes>> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let order = |id: &str| {
        json!({"id": id, "owner": "alice", "item": "kettle", "amount": 100, "status": "created",
               "charged": 0, "refunded": 0, "note": "", "version": 1})
    };
    let (status, body) = match (method, segments.as_slice()) {
        ("POST", ["login"]) => (200, json!({"token": format!("tok_{n:08}")})),
        ("POST", ["orders"]) => (201, order(&format!("ord_{n:012}"))),
        ("GET", ["orders"]) => (200, json!({"orders": []})),
        (_, ["orders", id, ..]) => (200, order(id)),
        _ => (204, Value::Null),
    };
    let mut response = Response::new(Full::new(if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    }));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    response.headers_mut().insert("content-type", "application/json".parse().expect("header"));
    response.headers_mut().insert("etag", "\"1\"".parse().expect("header"));
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_says_yes_and_changes_nothing_yields_no_finding() {
    let learned = record_shop(12, 7).await;
    let url = yes_server().await;
    let mut config = config(&url, "");
    config.reset = None;
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    assert!(outcome.findings.is_empty(), "{:#?}", summary(&outcome.findings));
    assert!(outcome.stats.cases_run > 50, "the cases ran: {}", outcome.stats.cases_run);
    let _ = OracleKind::ServerError;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_refuses_a_missing_target_model_or_store_with_its_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("venomqa.toml");
    std::fs::write(&path, "model = \"model.json\"\nstore = \"store\"\n").expect("write");
    let mut config = venomqa_replayer::Config::load(dir.path()).expect("loads");
    let err = venomqa_replayer::run(&config, |_| {}).await.expect_err("no target");
    assert!(matches!(err, Error::Config(ConfigError::MissingTarget { .. })), "{err:?}");
    assert!(err.to_string().contains("no target"), "{err}");

    config.set_target("http://127.0.0.1:9").expect("a URL");
    let err = venomqa_replayer::run(&config, |_| {}).await.expect_err("no model");
    assert!(matches!(err, Error::Model { source: ModelError::Read(_), .. }), "{err:?}");

    let learned = record_shop(3, 1).await;
    std::fs::write(dir.path().join("model.json"), learned.model.to_json_pretty()).expect("write");
    let err = venomqa_replayer::run(&config, |_| {}).await.expect_err("no store");
    assert!(matches!(err, Error::Store(venomqa_traffic::Error::NotAStore { .. })), "{err:?}");
    // The store's error names its directory, once.
    let store = config.store.display().to_string();
    assert_eq!(err.to_string().matches(&store).count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_name_a_testcase_per_journey_and_family_for_the_reports() {
    let learned = record_shop(6, 3).await;
    let shop = target("double-refund").await;
    let mut config = config(&shop.base_url(), "[mutations]\nenabled = [\"duplicate\", \"drop\"]\n");
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let progress = std::sync::Mutex::new(Vec::new());
    let outcome = replay(&learned.model, &learned.recorded, &config, |p| {
        progress.lock().expect("lock").push(format!("{p:?}"));
    })
    .await
    .expect("replay runs");
    assert_eq!(outcome.findings.len(), 1, "{:#?}", summary(&outcome.findings));
    let stats = &outcome.stats;
    let families: std::collections::BTreeSet<&str> =
        stats.testcases.iter().map(|t| t.mutation.as_str()).collect();
    assert_eq!(families.into_iter().collect::<Vec<_>>(), ["drop", "duplicate", "replay"]);
    let failing: Vec<_> = stats.testcases.iter().filter(|t| !t.findings.is_empty()).collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(
        (failing[0].mutation.as_str(), failing[0].findings.as_slice()),
        ("duplicate", &[0][..])
    );
    assert_eq!(stats.testcases.iter().filter(|t| t.mutation == "replay").count(), stats.journeys);
    assert!(stats.requests > stats.sequences && stats.sequences > 0 && stats.seconds > 0.0);
    let ctx = outcome.report_context(&shop.base_url());
    let junit = venomqa_replayer::report::render_junit(&outcome.findings, &ctx);
    assert!(junit.contains("<failure"), "{junit}");
    let progress = progress.into_inner().expect("lock");
    assert!(progress.iter().any(|p| p.starts_with("Calibrated")));
    assert!(progress.iter().any(|p| p.starts_with("Found")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_stops_exploration_and_says_which() {
    let learned = record_shop(6, 3).await;
    let shop = target("none").await;
    let mut config = config(&shop.base_url(), "[budget]\nsequences = 30\n");
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    let outcome =
        replay(&learned.model, &learned.recorded, &config, |_| {}).await.expect("replay runs");
    assert_eq!(outcome.stats.stopped_by.as_deref(), Some("sequences"));
    assert!(outcome.stats.cases_run < outcome.stats.cases_generated, "{:?}", outcome.stats);
    // Calibration is not cut short; each case in flight when the limit hit still finishes.
    assert!(
        outcome.stats.sequences <= 30 + 2 * outcome.stats.journeys as u64 + 8 * 8,
        "{:?}",
        outcome.stats
    );
}
