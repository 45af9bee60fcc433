//! Resets on a real loopback target whose reset endpoint fails now and
//! then: a failed reset is tried again, and when every try failed the run
//! stops with the last answer.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hyper::{Method, Response, StatusCode};
use venomqa_learner::{learn, LearnOptions};
use venomqa_replayer::{replay, Config, Error, Recorded};
use venomqa_testkit::upstream::{full, handler};
use venomqa_testkit::{exchange, ExchangeExt, Upstream};

/// A target with one read, whose `POST /__reset` answers 500 the first
/// `failures` times; `resets` counts every reset request.
async fn flaky_reset_target(failures: usize, resets: Arc<AtomicUsize>) -> Upstream {
    Upstream::start(handler(move |req| {
        let resets = resets.clone();
        async move {
            if req.method() == Method::POST && req.uri().path() == "/__reset" {
                let n = resets.fetch_add(1, Ordering::SeqCst);
                let status =
                    if n < failures { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
                let body = if n < failures { "database busy, try again" } else { "" };
                return Response::builder().status(status).body(full(body)).expect("response");
            }
            Response::builder()
                .header("content-type", "application/json")
                .body(full(r#"{"items":[]}"#))
                .expect("response")
        }
    }))
    .await
}

/// A model of one journey, one read, and its configuration on `url` with `reset`.
fn world(url: &str, reset: &str) -> (venomqa_learner::Model, Recorded, Config) {
    let exchanges: Vec<_> = (1..=2)
        .map(|i| {
            let mut e = exchange("GET", "/items", i * 1_000_000).resp_json(r#"{"items":[]}"#);
            e.id = i;
            e
        })
        .collect();
    let model =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns").model;
    let text = format!(
        "[target]\nurl = \"{url}\"\n[reset]\nrequest = \"POST /__reset\"\n{reset}\n\
         [mutations]\nenabled = [\"duplicate\"]\n"
    );
    let config = Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| None)
        .expect("config parses");
    (model, Recorded::from_exchanges(exchanges), config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_that_fails_twice_is_tried_again_and_the_run_goes_on() {
    let resets = Arc::new(AtomicUsize::new(0));
    let target = flaky_reset_target(2, resets.clone()).await;
    let (model, recorded, config) = world(&format!("http://{}", target.addr), "");
    assert_eq!(config.reset.as_ref().expect("reset").tries, 3, "three tries by default");
    let outcome = replay(&model, &recorded, &config, |_| {}).await.expect("the run goes on");
    assert!(outcome.stats.sequences > 0);
    // Every sequence reset once, the first after two failed tries.
    assert_eq!(resets.load(Ordering::SeqCst) as u64, outcome.stats.sequences + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_that_always_fails_stops_the_run_with_its_last_answer() {
    let resets = Arc::new(AtomicUsize::new(0));
    let target = flaky_reset_target(usize::MAX, resets.clone()).await;
    let (model, recorded, config) = world(&format!("http://{}", target.addr), "tries = 3");
    let err = replay(&model, &recorded, &config, |_| {}).await.expect_err("the run stops");
    assert!(matches!(err, Error::Reset { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("POST /__reset"), "{text}");
    assert!(text.contains("answered 500: database busy, try again"), "{text}");
    assert!(text.contains("the last of 3 tries"), "{text}");
    assert_eq!(resets.load(Ordering::SeqCst), 3, "tried exactly three times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_try_means_no_retry() {
    let resets = Arc::new(AtomicUsize::new(0));
    let target = flaky_reset_target(1, resets.clone()).await;
    let (model, recorded, config) = world(&format!("http://{}", target.addr), "tries = 1");
    let err = replay(&model, &recorded, &config, |_| {}).await.expect_err("the run stops");
    assert!(err.to_string().contains("answered 500"), "{err}");
    assert!(!err.to_string().contains("tries"), "{err}");
    assert_eq!(resets.load(Ordering::SeqCst), 1);
}

#[test]
fn reset_tries_out_of_range_are_refused_where_they_are_written() {
    for bad in ["0", "-1", "11"] {
        let text = format!("[reset]\nrequest = \"POST /__reset\"\ntries = {bad}\n");
        let err = Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| None)
            .expect_err("refused");
        let message = err.to_string();
        assert!(message.starts_with("qa/venomqa.toml:3:9:"), "{bad}: {message}");
        assert!(message.contains("tries"), "{bad}: {message}");
    }
    let text = "[reset]\nrequest = \"POST /__reset\"\ntries = \"3\"\n";
    let err = Config::parse_with_env(text, Path::new("qa/venomqa.toml"), |_| None);
    assert!(err.expect_err("a string").to_string().starts_with("qa/venomqa.toml:3:9:"));
    let text = "[reset]\nrequest = \"POST /__reset\"\ntries = 10\n";
    let config = Config::parse_with_env(text, Path::new("qa/venomqa.toml"), |_| None).expect("ok");
    assert_eq!(config.reset.expect("reset").tries, 10);
}
