//! Raw HTTP/1.1 over a `TcpStream`, for what a client library would hide:
//! the exact bytes, a response read by hand, a peer closing. Every read is
//! bounded in time, so a hang fails the test instead of blocking it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one raw read may wait.
const READ_BOUND: Duration = Duration::from_secs(10);

/// Reads until `needle` has been seen (or EOF, or 10 s); returns all that came.
pub async fn read_until(stream: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + READ_BOUND;
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("raw read timed out");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

/// Writes all of `bytes`.
pub async fn write_all(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.expect("raw write");
}

/// Reads one HTTP/1.1 response with a Content-Length (or, without
/// `has_body`, none): returns the head as text and the body. Panics when
/// more bytes than the response follow it.
pub async fn read_response(stream: &mut TcpStream, has_body: bool) -> (String, Vec<u8>) {
    let mut data = Vec::new();
    let head_end = loop {
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let before = data.len();
        read_more(stream, &mut data).await;
        assert!(
            data.len() > before,
            "connection closed before a response head: {:?}",
            String::from_utf8_lossy(&data)
        );
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut body = data[head_end..].to_vec();
    let len = if has_body { content_length(&head) } else { 0 };
    while body.len() < len {
        let before = body.len();
        read_more(stream, &mut body).await;
        assert!(body.len() > before, "connection closed mid-body");
    }
    assert_eq!(
        body.len(),
        len,
        "the proxy sent bytes after the response: {:?}",
        String::from_utf8_lossy(&body)
    );
    (head, body)
}

/// One read, appended to `data`; nothing appended at EOF.
async fn read_more(stream: &mut TcpStream, data: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(READ_BOUND, stream.read(&mut buf))
        .await
        .expect("raw read timed out")
        .expect("raw read");
    data.extend_from_slice(&buf[..n]);
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        })
        .expect("test responses carry a Content-Length")
}

/// Waits until the peer closes the connection; panics after `within`.
pub async fn closed_within(stream: &mut TcpStream, within: Duration) {
    let mut buf = [0u8; 1024];
    let waited = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the proxy kept the connection open longer than {within:?}");
}
