//! The engine tests' world: the sample shop on loopback, its QA sessions
//! recorded through the real proxy into a store (both from
//! `venomqa-testkit`), the model learned from them, and the shop's own
//! `qa/venomqa.toml`.
#![allow(dead_code)]

use std::path::Path;

use venomqa_learner::{learn, LearnOptions, Model};
use venomqa_replayer::{Config, Recorded};
use venomqa_samples::{shop_password, shop_qa_config, ShopHandle};
use venomqa_testkit::{record_qa_sessions, start_shop};
use venomqa_traffic::Exchange;

/// A recorded and learned shop: the model and the exchanges its journeys name.
pub struct Learned {
    pub model: Model,
    pub recorded: Recorded,
    pub exchanges: Vec<Exchange>,
}

/// Records `sessions` QA sessions of three users through the proxy in front
/// of a correct shop, and learns the model.
pub async fn record_shop(sessions: usize, seed: u64) -> Learned {
    let shop = start_shop("none").await;
    let exchanges = record_qa_sessions(&shop.base_url(), sessions, seed).await;
    shop.shutdown().await;
    learned(exchanges)
}

/// Learns from recorded exchanges.
pub fn learned(exchanges: Vec<Exchange>) -> Learned {
    let learned =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns");
    let recorded = Recorded::from_exchanges(exchanges.clone());
    Learned { model: learned.model, recorded, exchanges }
}

/// A shop with `bugs` planted, for replay.
pub async fn target(bugs: &str) -> ShopHandle {
    start_shop(bugs).await
}

/// The shop's configuration for `target` (its users, reset and invariants,
/// alice's password from the environment) with `extra` TOML appended.
pub fn config(target: &str, extra: &str) -> Config {
    let text = format!("{}{extra}", shop_qa_config(target));
    Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), shop_password)
        .expect("config parses")
}

/// `(oracle, mutation, actions)` of each finding, for assertions and messages.
pub fn summary(findings: &[venomqa_replayer::Finding]) -> Vec<(String, String, Vec<String>)> {
    findings.iter().map(|f| (f.oracle.to_string(), f.mutation.clone(), f.actions.clone())).collect()
}
