//! How fast requests go against a target that stalls on delayed ACK
//! (headers and body in two sends, Nagle on): a plain pooled client (what
//! the replayer used before it watched for stalls) against the replayer's
//! own run, and the same run against a target that answers in one send.
//!
//! ```text
//! cargo run --release -p venomqa-replayer --example delayed_ack_bench -- [steps]
//! ```
//! `steps` (default 50) is the length of the one journey replayed, one
//! sequence at a time; the plain client sends as many sequential requests.

use std::path::Path;
use std::time::{Duration, Instant};

use venomqa_learner::{learn, LearnOptions};
use venomqa_replayer::{replay, Config, Recorded};
use venomqa_testkit::nagle::SplitWrites;
use venomqa_testkit::{exchange, ExchangeExt};

const BODY: &str = r#"{"items":[]}"#;

#[tokio::main]
async fn main() {
    let steps: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let stalling = SplitWrites::start(true, BODY).await;
    let (seconds, slow) = plain_client(&stalling.url, steps).await;
    println!(
        "plain pooled client, split target: {steps} requests in {seconds:.2} s: {:.0} requests/s, {slow} took 30 ms or more",
        steps as f64 / seconds
    );
    for (name, split) in [("split target", true), ("one-send target", false)] {
        let target = SplitWrites::start(split, BODY).await;
        let started = Instant::now();
        let requests = run(&target.url, steps).await;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "venomqa replay, {name}: {requests} requests in {seconds:.2} s: {:.0} requests/s, {} connections",
            requests as f64 / seconds,
            target.seen.connections()
        );
    }
}

/// `n` sequential GETs on one pooled client: seconds, and how many stalled.
async fn plain_client(url: &str, n: u64) -> (f64, u64) {
    let trust = venomqa_tls::ClientTrust::default();
    let client =
        venomqa_testkit::http::client_builder(&trust).tcp_nodelay(true).build().expect("client");
    let started = Instant::now();
    let mut slow = 0;
    for _ in 0..n {
        let one = Instant::now();
        let answer = client.get(format!("{url}/items")).send().await.expect("answer");
        answer.bytes().await.expect("body");
        if one.elapsed() >= Duration::from_millis(30) {
            slow += 1;
        }
    }
    (started.elapsed().as_secs_f64(), slow)
}

/// A journey of `steps` reads replayed by venomqa; the requests it sent.
async fn run(url: &str, steps: u64) -> u64 {
    let exchanges: Vec<_> = (1..=steps)
        .map(|i| {
            let mut e = exchange("GET", "/items", i * 1_000_000).resp_json(BODY);
            e.id = i;
            e
        })
        .collect();
    let model =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns").model;
    let text = format!("[target]\nurl = \"{url}\"\nparallel = 1\n");
    let config =
        Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| None).expect("config");
    let recorded = Recorded::from_exchanges(exchanges);
    let outcome = replay(&model, &recorded, &config, |_| {}).await.expect("replay");
    outcome.stats.requests
}
