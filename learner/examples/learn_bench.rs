//! Times `learn` on N synthetic shop-like exchanges generated on the fly
//! (each pass regenerates them, as a store iterates its tree again), and
//! prints the peak memory. Measures the learner alone, not store decoding.
//!
//! `cargo run --release -p venomqa-learner --example learn_bench -- 1000000`

use std::time::Instant;

use venomqa_learner::{learn, LearnOptions};
use venomqa_traffic::{Body, Exchange, Headers, Request, Response, SessionKey};

fn token(prefix: &str, n: u64) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(7);
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut s = String::with_capacity(prefix.len() + 13);
    s.push_str(prefix);
    s.push('_');
    for _ in 0..12 {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        s.push(alphabet[(x % 32) as usize] as char);
    }
    s
}

/// Exchange `i` of the synthetic traffic: 64 sessions at a time, each a
/// 12-step journey (login, create, read, pay, ship, refund or cancel, list,
/// logout), interleaved.
fn exchange(i: u64) -> Exchange {
    const LANES: u64 = 64;
    const STEPS: u64 = 12;
    let lane = i % LANES;
    let round = i / LANES;
    let session = (round / STEPS) * LANES + lane;
    let step = round % STEPS;
    let order = token("ord", session * 4 + 1);
    let tok = format!("~r:{:016x}", session.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let order_json = |status: &str| {
        format!(
            r#"{{"id":"{order}","status":"{status}","amount":{},"charged":0,"refunded":0,"note":"","created_at":"2026-11-26T10:00:{:02}Z"}}"#,
            session % 500,
            i % 60
        )
    };
    let (method, url, req, status, resp) = match step {
        0 => (
            "POST",
            "/login".to_string(),
            format!(r#"{{"username":"u{}","password":"~r:00aa00aa00aa00aa"}}"#, session % 7),
            200,
            format!(r#"{{"token":"{tok}"}}"#),
        ),
        1 => (
            "POST",
            "/orders".to_string(),
            r#"{"amount":10,"item":"book"}"#.to_string(),
            201,
            order_json("created"),
        ),
        2 | 6 | 9 => (
            "GET",
            format!("/orders/{order}"),
            String::new(),
            200,
            order_json(["created", "paid", "shipped", "refunded"][(step / 3) as usize % 4]),
        ),
        3 => ("POST", format!("/orders/{order}/pay"), String::new(), 200, order_json("paid")),
        4 => ("GET", "/health".to_string(), String::new(), 200, r#"{"ok":true}"#.to_string()),
        5 => ("POST", format!("/orders/{order}/ship"), String::new(), 200, order_json("shipped")),
        7 if matches!(session % 5, 0) => (
            "POST",
            format!("/orders/{order}/cancel"),
            String::new(),
            409,
            r#"{"error":"shipped"}"#.to_string(),
        ),
        7 => {
            ("POST", format!("/orders/{order}/refund"), String::new(), 200, order_json("refunded"))
        }
        8 => (
            "GET",
            "/orders".to_string(),
            String::new(),
            200,
            format!("[{}]", order_json("refunded")),
        ),
        10 => (
            "PATCH",
            format!("/orders/{order}"),
            r#"{"note":"door"}"#.to_string(),
            200,
            order_json("refunded"),
        ),
        _ => ("POST", "/logout".to_string(), String::new(), 204, String::new()),
    };
    let mut headers = Headers::default();
    headers.push("X-Session", format!("s-{session}"));
    if step > 0 {
        headers.push("Authorization", format!("Bearer {tok}"));
    }
    if !req.is_empty() {
        headers.push("Content-Type", "application/json");
    }
    let mut response_headers = Headers::default();
    response_headers.push("Content-Type", "application/json");
    response_headers.push("X-Request-Id", token("req", i));
    Exchange {
        id: i + 1,
        session: SessionKey(format!("x-session:s-{session}")),
        started_at: 1_700_000_000_000_000_000 + i * 1_000_000,
        duration_ns: 1_000_000,
        client: None,
        request: Request {
            method: method.into(),
            url,
            version: "HTTP/1.1".into(),
            headers,
            body: Body::complete(req),
        },
        response: Some(Response {
            status,
            version: "HTTP/1.1".into(),
            headers: response_headers,
            body: Body::complete(resp),
        }),
        error: None,
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let start = Instant::now();
    let generated = (0..n).map(exchange).count();
    let generation = start.elapsed();
    let start = Instant::now();
    let learned = match learn(|| (0..n).map(exchange), &LearnOptions::default()) {
        Ok(learned) => learned,
        Err(e) => {
            eprintln!("learning failed: {e}");
            std::process::exit(1);
        }
    };
    let total = start.elapsed();
    print!("{}", learned.summary);
    println!(
        "generating {generated} exchanges alone: {:.2} s (twice: one per pass)",
        generation.as_secs_f64()
    );
    println!(
        "learn: {:.2} s including generation, ~{:.2} s learner; peak RSS {:.0} MiB; model JSON {} KiB",
        total.as_secs_f64(),
        total.as_secs_f64() - 2.0 * generation.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN),
        learned.model.to_json_pretty().len() / 1024
    );
}
