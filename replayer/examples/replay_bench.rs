//! How fast the replayer runs against the sample shop: requests per second,
//! and seconds to the first finding and to all of them.
//!
//! ```text
//! cargo run --release -p venomqa-replayer --example replay_bench -- [sessions] [bugs] [parallel] [mutations]
//! ```
//! Records `sessions` QA sessions (default 20) through a recording proxy,
//! learns the model, then replays it against a shop with `bugs` planted
//! (default `all`), sequences isolated by their own orders (no reset
//! between them) and `parallel` of them in flight (default 8), with the
//! given comma-separated mutation families (default all).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Mutex;
use std::time::Instant;

use venomqa_replayer::{replay, Progress, ResetScope};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let bugs = args.next().unwrap_or_else(|| "all".into());
    let parallel: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let learned = common::record_shop(sessions, 7).await;
    let shop = common::target(&bugs).await;
    let mutations = args
        .next()
        .map(|m| format!("[mutations]\nenabled = [\"{}\"]\n", m.replace(',', "\", \"")))
        .unwrap_or_default();
    let mut config = common::config(&shop.base_url(), &mutations);
    config.reset.as_mut().expect("reset").scope = ResetScope::Run;
    config.target.parallel = parallel;
    let started = Instant::now();
    let first = Mutex::new(None);
    let outcome = replay(&learned.model, &learned.recorded, &config, |p| {
        if let Progress::Found(_) = p {
            first.lock().expect("lock").get_or_insert(started.elapsed().as_secs_f64());
        }
    })
    .await
    .expect("replay");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} journeys, {} of {} cases exercised ({} already found), {} sequences, {} requests in {seconds:.2} s: {:.0} requests/s",
        outcome.stats.journeys,
        outcome.stats.cases_exercised,
        outcome.stats.cases_planned,
        outcome.stats.cases_skipped.get("already_found").copied().unwrap_or(0),
        outcome.stats.sequences,
        outcome.stats.requests,
        outcome.stats.requests as f64 / seconds
    );
    match *first.lock().expect("lock") {
        Some(first) => println!(
            "{} findings; first after {first:.2} s, all after {seconds:.2} s",
            outcome.findings.len()
        ),
        None => println!("0 findings in {seconds:.2} s"),
    }
    for f in &outcome.findings {
        println!("  {:<17} {:<18} {}", f.oracle.to_string(), f.mutation, f.actions.join(" → "));
    }
}
