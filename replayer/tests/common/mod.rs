//! The engine tests' world: the sample shop on loopback, QA sessions driven
//! through the real recording proxy, the captures sessionized by
//! `X-Session` and redacted as the store would, and the model learned from
//! them; plus a configuration for the shop's users.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use venomqa_learner::{learn, LearnOptions, Model};
use venomqa_replayer::{Config, Recorded};
use venomqa_samples::{drive, spawn_shop, BugSet, DriveOptions, ShopConfig, ShopHandle};
use venomqa_traffic::{capture_channel, Exchange, Redactor, SessionKey};

/// A recorded and learned shop: the model and the exchanges its journeys name.
pub struct Learned {
    pub model: Model,
    pub recorded: Recorded,
    pub exchanges: Vec<Exchange>,
}

/// Drives `sessions` QA sessions of three users through a recording proxy
/// in front of a correct shop, and learns the model.
pub async fn record_shop(sessions: usize, seed: u64) -> Learned {
    let shop = spawn_shop(ShopConfig { bugs: BugSet::none() }).await.expect("shop starts");
    let exchanges = record(&shop.base_url(), sessions, seed).await;
    shop.shutdown().await;
    learned(exchanges)
}

/// Learns from captured exchanges.
pub fn learned(exchanges: Vec<Exchange>) -> Learned {
    let learned =
        learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learns");
    let recorded = Recorded::from_exchanges(exchanges.clone());
    Learned { model: learned.model, recorded, exchanges }
}

/// Records a drive of `base` through the proxy, as `venomqa record` would store it.
pub async fn record(base: &str, sessions: usize, seed: u64) -> Vec<Exchange> {
    let (capture, captured) = capture_channel(100_000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let proxy_addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = venomqa_proxy::ProxyConfig::new(base.parse().expect("upstream uri"));
    let proxy = tokio::spawn(venomqa_proxy::serve(listener, config, Some(capture), async {
        let _ = stopped.await;
    }));
    let report = drive(DriveOptions {
        base: format!("http://{proxy_addr}"),
        users: 3,
        sessions,
        seed,
        concurrency: 3,
    })
    .await
    .expect("drive");
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);
    let _ = stop.send(());
    proxy.await.expect("proxy task").expect("proxy");
    // Captures arrive once each response ended; give the sink a moment.
    let mut exchanges = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while exchanges.len() < report.requests && std::time::Instant::now() < deadline {
        match captured.try_recv() {
            Some(e) => exchanges.push(e),
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    assert_eq!(exchanges.len(), report.requests, "every request captured");
    let redactor = Redactor::new(&[7u8; 32]);
    exchanges.sort_by_key(|e| e.started_at);
    for (i, e) in exchanges.iter_mut().enumerate() {
        e.id = i as u64 + 1;
        let session = e.request.headers.get_str("x-session").unwrap_or("none").to_string();
        e.session = SessionKey(format!("x-session:{session}"));
        redactor.redact_exchange(e);
    }
    exchanges
}

/// A shop with `bugs` planted, for replay.
pub async fn target(bugs: &str) -> ShopHandle {
    let bugs: BugSet = bugs.parse().expect("bug list");
    spawn_shop(ShopConfig { bugs }).await.expect("shop starts")
}

/// The shop's users and reset, the two invariants a shop team would write,
/// and `extra` TOML appended.
pub fn config(target: &str, extra: &str) -> Config {
    let text = format!(
        r#"
[target]
url = "{target}"
timeout = "5s"

[reset]
request = "POST /__reset"

[users.alice]
username = "alice"
password = {{ env = "VENOMQA_ALICE_PASSWORD" }}

[users.bob]
username = "bob"
password = "bob-pw"

[users.carol]
username = "carol"
password = "carol-pw"

[[invariants]]
name = "refunds never exceed the amount"
resource = "orders"
expr = "order.refunded <= order.amount"

[[invariants]]
name = "nothing ships unpaid"
resource = "orders"
expr = "order.status != 'shipped' || order.charged == order.amount"
{extra}
"#
    );
    Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |var| {
        (var == "VENOMQA_ALICE_PASSWORD").then(|| "alice-pw".to_string())
    })
    .expect("config parses")
}

/// `(oracle, mutation, actions)` of each finding, for assertions and messages.
pub fn summary(findings: &[venomqa_replayer::Finding]) -> Vec<(String, String, Vec<String>)> {
    findings.iter().map(|f| (f.oracle.to_string(), f.mutation.clone(), f.actions.clone())).collect()
}
