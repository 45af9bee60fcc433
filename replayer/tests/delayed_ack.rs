//! The client never stalls on a target's delayed ACK: a loopback server
//! that writes each response's headers and body in two sends, Nagle on (as
//! Python's `http.server` does), stalls every kept-alive response ~40 ms on
//! the client's delayed ACK. The client sees its bodies arrive late and
//! moves to a fresh connection per request, which the kernel ACKs at once.
//!
//! No timing is asserted (the machine is shared and noisy): the tests count
//! the connections the server accepted, which says which mode the client is
//! in. The speed itself is measured by `bench/replay/delayed_ack.sh`.

use std::path::Path;

use venomqa_learner::{learn, LearnOptions};
use venomqa_replayer::{replay, Config, Recorded};
use venomqa_testkit::nagle::SplitWrites;
use venomqa_testkit::{exchange, ExchangeExt};

const BODY: &str = r#"{"items":[]}"#;

/// A one-read journey replayed one sequence at a time against `url`.
async fn replay_against(url: &str) -> u64 {
    let exchanges: Vec<_> = (1..=12)
        .map(|i| {
            let mut e = exchange("GET", "/items", i * 1_000_000).resp_json(BODY);
            e.id = i;
            e
        })
        .collect();
    let model =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns").model;
    let text = format!(
        "[target]\nurl = \"{url}\"\nparallel = 1\n[mutations]\nenabled = [\"duplicate\"]\n"
    );
    let config =
        Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| None).expect("config");
    let recorded = Recorded::from_exchanges(exchanges);
    let outcome = replay(&model, &recorded, &config, |_| {}).await.expect("replay runs");
    assert!(outcome.findings.is_empty());
    outcome.stats.requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_stalls_on_delayed_ack_gets_a_fresh_connection_per_request() {
    let server = SplitWrites::start(true, BODY).await;
    let requests = replay_against(&server.url).await;
    let (connections, served) = (server.seen.connections(), server.seen.requests());
    assert_eq!(served as u64, requests);
    assert!(requests >= 10, "{requests} requests are too few to tell");
    // The first answer of a connection is ACKed at once; the next ones
    // stall until the client has seen two stalls, then each request opens
    // its own connection. A stall the kernel happens to skip delays the
    // switch by one request.
    assert!(
        connections + 4 >= served,
        "{connections} connections for {served} requests: the client kept a stalling connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_answers_in_one_send_keeps_its_connection() {
    let server = SplitWrites::start(false, BODY).await;
    let requests = replay_against(&server.url).await;
    let connections = server.seen.connections();
    assert!(requests >= 10, "{requests} requests are too few to tell");
    // One at a time, on a kept-alive connection: hyper opens another only
    // when a request starts before the last answer's connection is back in
    // the pool, now and then.
    assert!(
        connections * 4 <= requests as usize,
        "{connections} connections for {requests} requests: kept-alive connections were dropped"
    );
}
