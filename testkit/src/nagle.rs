//! A keep-alive HTTP/1.1 server that writes each response's headers and
//! body in two sends with Nagle on, as Python's `http.server` does: on a
//! kept-alive connection every body waits for the client's delayed ACK of
//! the headers (~40 ms on Linux). With `split` off it answers in one send,
//! the well-behaved control.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a [`SplitWrites`] server has seen.
#[derive(Debug, Default)]
pub struct Seen {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

impl Seen {
    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A server on a loopback port picked now, answering every request with `body`.
pub struct SplitWrites {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its counts.
    pub seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl SplitWrites {
    /// Starts it: headers and body in two sends when `split`, else one.
    pub async fn start(split: bool, body: &'static str) -> SplitWrites {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Seen::default());
        let counts = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                stream.set_nodelay(false).expect("nagle on");
                counts.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, split, body, counts.clone()));
            }
        });
        SplitWrites { url, seen, task }
    }
}

impl Drop for SplitWrites {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers the requests of one connection (heads only: no request bodies).
async fn serve(mut stream: TcpStream, split: bool, body: &str, seen: Arc<Seen>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..end);
        seen.requests.fetch_add(1, Ordering::SeqCst);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let written = if split {
            match stream.write_all(head.as_bytes()).await {
                Ok(()) => stream.write_all(body.as_bytes()).await,
                Err(e) => Err(e),
            }
        } else {
            stream.write_all(format!("{head}{body}").as_bytes()).await
        };
        if written.is_err() {
            return;
        }
    }
}
