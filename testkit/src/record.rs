//! The shop's QA traffic recorded as `venomqa record` records it: the QA
//! driver's sessions through the real proxy into a real (temp) store, which
//! assigns sessions and redacts secrets, then read back.

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use venomqa_proxy::ProxyConfig;
use venomqa_samples::{drive, DriveOptions, DriveReport};
use venomqa_traffic::{Exchange, RecordOptions};

use crate::store::{all, TempStore};

/// Drives `sessions` QA sessions of three users (three at a time, planned
/// from `seed`) through a recording proxy in front of the shop at `target`;
/// returns what the store holds, in id order. Panics unless the shop gave
/// every expected answer and every request was recorded.
pub async fn record_qa_sessions(target: &str, sessions: usize, seed: u64) -> Vec<Exchange> {
    let temp = TempStore::new();
    let store = temp.open();
    let recording = store.record(RecordOptions::default()).expect("start recording");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
    let base = format!("http://{}", listener.local_addr().expect("proxy addr"));
    let config = ProxyConfig::new(target.parse().expect("the shop's URL"));
    let (stop, stopped) = oneshot::channel::<()>();
    let proxy = tokio::spawn(venomqa_proxy::serve(listener, config, Some(recording.sender()), {
        async {
            let _ = stopped.await;
        }
    }));
    let report = drive_qa_sessions(base, sessions, seed).await;
    let _ = stop.send(());
    proxy.await.expect("proxy task").expect("the proxy serves");
    let summary = tokio::task::spawn_blocking(move || recording.finish())
        .await
        .expect("finish task")
        .expect("finish recording");
    assert_eq!(summary.captures_dropped, 0, "no capture dropped");
    let exchanges = all(&store);
    assert_eq!(exchanges.len(), report.requests, "every request recorded");
    exchanges
}

async fn drive_qa_sessions(base: String, sessions: usize, seed: u64) -> DriveReport {
    let options = DriveOptions { base, users: 3, sessions, seed, concurrency: 3 };
    let report = drive(options).await.expect("the drive runs");
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);
    report
}
