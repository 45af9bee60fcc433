//! A recording proxy on loopback, as a test drives it: started in front of
//! an upstream, its capture queue read directly, stopped on demand.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use venomqa_proxy::{ProxyConfig, ProxyStats};
use venomqa_traffic::{capture_channel, CaptureReceiver, Exchange, Received};

/// A running proxy, its capture queue and the means to stop it; dropping it
/// stops it too.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The captures, as a store's writer would receive them.
    pub captured: CaptureReceiver,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<ProxyStats, venomqa_proxy::Error>>>,
}

impl Proxy {
    /// A proxy in front of `upstream`, with the default configuration and
    /// room for 1024 captures.
    pub async fn start(upstream: http::Uri) -> Proxy {
        Proxy::with(ProxyConfig::new(upstream), 1024).await
    }

    /// A proxy with `config` and room for `queue` captures.
    pub async fn with(config: ProxyConfig, queue: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (capture, captured) = capture_channel(queue);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(venomqa_proxy::serve(listener, config, Some(capture), async {
            let _ = stopped.await;
        }));
        Proxy { addr, captured, stop: Some(stop), task: Some(task) }
    }

    /// `http://ADDR` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals shutdown without waiting for it.
    pub fn signal_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(&mut self) -> ProxyStats {
        self.signal_shutdown();
        let task = self.task.take().expect("proxy already stopped");
        task.await.expect("proxy task panicked").expect("proxy failed")
    }

    /// The next captured exchange, waiting up to 10 s for it.
    pub async fn next_capture(&self) -> Exchange {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(exchange) = self.captured.try_recv() {
                return exchange;
            }
            assert!(tokio::time::Instant::now() < deadline, "no exchange was captured within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Every exchange captured once the proxy has stopped; also checks that
    /// the proxy dropped every capture sender.
    pub fn drain_captures(&self) -> Vec<Exchange> {
        let mut all = Vec::new();
        loop {
            match self.captured.recv_timeout(Duration::from_secs(5)) {
                Received::Exchange(exchange) => all.push(exchange),
                Received::Closed => return all,
                Received::Idle => panic!("a capture sender outlived serve"),
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
