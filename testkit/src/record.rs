//! A sample's QA traffic recorded as `venomqa record` records it: the QA
//! driver's sessions through the real proxy into a real (temp) store, which
//! assigns sessions and redacts secrets, then read back.

use std::future::Future;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use venomqa_proxy::ProxyConfig;
use venomqa_samples::{drive, drive_library, ClientTrust, DriveError, DriveOptions, DriveReport};
use venomqa_traffic::{Exchange, RecordOptions};

use crate::store::{all, TempStore};

/// Drives `sessions` QA sessions of three users (three at a time, planned
/// from `seed`) through a recording proxy in front of the shop at `target`;
/// returns what the store holds, in id order. Panics unless the shop gave
/// every expected answer and every request was recorded.
pub async fn record_qa_sessions(target: &str, sessions: usize, seed: u64) -> Vec<Exchange> {
    let options = |base| DriveOptions {
        base,
        users: 3,
        sessions,
        seed,
        concurrency: 3,
        trust: ClientTrust::default(),
    };
    record_drive(target, |base| drive(options(base))).await
}

/// The library's QA run (its librarian, `sessions` sessions of four
/// members, then the desk; planned from `seed`) through a recording proxy in
/// front of the library at `target`; returns what the store holds.
pub async fn record_library_sessions(target: &str, sessions: usize, seed: u64) -> Vec<Exchange> {
    let options = |base| DriveOptions {
        base,
        users: 4,
        sessions,
        seed,
        concurrency: 2,
        trust: ClientTrust::default(),
    };
    record_drive(target, |base| drive_library(options(base))).await
}

/// Runs `drive` against a recording proxy in front of `target` and returns
/// the recorded exchanges, in id order. Panics unless the sample gave every
/// expected answer and every request was recorded.
async fn record_drive<F>(target: &str, drive: impl FnOnce(String) -> F) -> Vec<Exchange>
where
    F: Future<Output = Result<DriveReport, DriveError>>,
{
    let temp = TempStore::new();
    let store = temp.open();
    let recording = store.record(RecordOptions::default()).expect("start recording");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
    let base = format!("http://{}", listener.local_addr().expect("proxy addr"));
    let config = ProxyConfig::new(target.parse().expect("the sample's URL"));
    let (stop, stopped) = oneshot::channel::<()>();
    let proxy = tokio::spawn(venomqa_proxy::serve(listener, config, Some(recording.sender()), {
        async {
            let _ = stopped.await;
        }
    }));
    let report = drive(base).await.expect("the drive runs");
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);
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
