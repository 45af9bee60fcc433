//! Store throughput: exchanges/s written and read, and CPU µs per exchange.
//!
//! ```text
//! cargo bench -p venomqa-traffic --bench store            # 200k exchanges
//! VENOMQA_BENCH_EXCHANGES=1000000 cargo bench -p venomqa-traffic --bench store
//! ```
//!
//! A plain `main` (no harness): it writes through a real `Recording` with
//! the default options (sessions by `X-Session`, redaction on), reopens the
//! store and reads it back every way the API offers. CPU is read from
//! `/proc` (clock ticks, 10 ms): a write's CPU is the whole process's minus
//! the main thread's, which only builds and queues exchanges, so it counts
//! the writer thread and sled's own threads. Three write patterns:
//! - `bulk`: queued as fast as the writer takes them (full batches);
//! - `paced`: a chunk every 2 ms, as the proxy's capture sink hands them
//!   over (`VENOMQA_BENCH_RATE` exchanges/s, default 20000), so batches are
//!   small: the case that decides what capture costs a busy proxy;
//! - `batches of N`: `VENOMQA_BENCH_CHUNK` (64) at a time, each written
//!   before the next is sent: the same batches whatever the timing, for
//!   counting instructions under `valgrind --tool=callgrind`.
//!
//! `VENOMQA_BENCH_PACED`, `VENOMQA_BENCH_CHUNKED` set how many exchanges
//! those write (0 skips them), `VENOMQA_BENCH_SESSIONS` how many sessions
//! take turns (1000), `VENOMQA_BENCH_READS=0` skips the reads.
//!
//! It runs with mimalloc, as the `venomqa` binary does.
//!
//! The machine may be shared and noisy: compare runs made back to back.

/// The allocator the `venomqa` binary runs the store with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::time::{Duration, Instant};

use venomqa_traffic::{
    unix_now_ns, Body, Exchange, Headers, RecordOptions, Request, Response, SessionKey, Store,
    FORMAT_VERSION,
};

const RESPONSE_BODY: &str = r#"{"id":"o_7f3k2m","status":"paid","amount":4200,"charged":4200,"refunded":0,"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"leave at the door"}"#;
const REQUEST_BODY: &str = r#"{"sku":"A-1","qty":2,"note":"leave at the door","coupon":null}"#;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What a reverse proxy captures for one call of a JSON shop.
fn exchange(n: u64, at: u64, sessions: u64) -> Exchange {
    let session = n % sessions;
    let post = n & 3 == 0; // one call in four
    let mut req = Headers::default();
    req.push("Host", "shop.test:8080");
    req.push("User-Agent", "qa-browser/1.0 (X11; Linux x86_64)");
    req.push("Accept", "application/json");
    req.push("Accept-Encoding", "gzip, deflate");
    req.push("X-Session", format!("s-{session}"));
    req.push("Authorization", format!("Bearer tok-{session}-a8f3e9c1"));
    let body = if post {
        req.push("Content-Type", "application/json");
        req.push("Content-Length", REQUEST_BODY.len().to_string());
        Body::complete(REQUEST_BODY)
    } else {
        Body::default()
    };
    let mut resp = Headers::default();
    resp.push("content-type", "application/json");
    resp.push("content-length", RESPONSE_BODY.len().to_string());
    resp.push("date", "Tue, 26 Nov 2024 16:00:00 GMT");
    resp.push("etag", format!("\"o-{n}\""));
    Exchange {
        id: 0,
        session: SessionKey::default(),
        started_at: at,
        duration_ns: 850_000,
        client: Some("10.0.0.7:53122".into()),
        request: Request {
            method: if post { "POST" } else { "GET" }.into(),
            url: format!("/orders/o_{n}?expand=items"),
            version: "HTTP/1.1".into(),
            headers: req,
            body,
        },
        response: Some(Response {
            status: if post { 201 } else { 200 },
            version: "HTTP/1.1".into(),
            headers: resp,
            body: Body::complete(RESPONSE_BODY),
        }),
        error: None,
    }
}

/// CPU time (user + system) from a `/proc/.../stat` line, in µs.
fn stat_cpu_us(path: &str) -> u64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the `(comm)`, which may hold spaces: state is field 3,
    // utime field 14, stime field 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> =
        rest.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect();
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    ticks * 10_000 // CLK_TCK is 100 on Linux
}

#[derive(Clone, Copy)]
struct Cpu {
    process: u64,
    main: u64,
}

fn cpu() -> Cpu {
    Cpu { process: stat_cpu_us("/proc/self/stat"), main: stat_cpu_us("/proc/thread-self/stat") }
}

struct Measured {
    what: String,
    count: u64,
    wall: Duration,
    /// CPU of every thread but the main one.
    other_cpu_us: u64,
    /// CPU of the whole process.
    all_cpu_us: u64,
}

impl Measured {
    fn print(&self, cpu_of_others: bool) {
        let per_s = self.count as f64 / self.wall.as_secs_f64();
        let cpu = if cpu_of_others { self.other_cpu_us } else { self.all_cpu_us };
        println!(
            "{:<28} {:>9} in {:>8.3} s  {:>10.0} /s  {:>7.2} µs CPU each",
            self.what,
            self.count,
            self.wall.as_secs_f64(),
            per_s,
            cpu as f64 / self.count.max(1) as f64
        );
    }
}

fn measure(what: impl Into<String>, count: impl FnOnce() -> u64) -> Measured {
    let before = cpu();
    let started = Instant::now();
    let count = count();
    let wall = started.elapsed();
    let after = cpu();
    let all = after.process - before.process;
    let main = after.main - before.main;
    Measured {
        what: what.into(),
        count,
        wall,
        other_cpu_us: all.saturating_sub(main),
        all_cpu_us: all,
    }
}

/// How the exchanges reach the writer.
#[derive(Clone, Copy)]
enum Pattern {
    /// As fast as the writer takes them: full batches.
    Bulk,
    /// A chunk every 2 ms at this many exchanges/s, like the proxy's sink.
    Paced(u64),
    /// Chunks of this many, each written before the next is sent: batches
    /// of exactly that size, whatever the timing (for callgrind).
    Chunked(u64),
}

/// Records `total` exchanges in `pattern`.
fn write(dir: &Path, total: u64, pattern: Pattern, sessions: u64) -> Measured {
    let what = match pattern {
        Pattern::Bulk => "write bulk".to_string(),
        Pattern::Paced(rate) => format!("write paced {rate}/s"),
        Pattern::Chunked(chunk) => format!("write in batches of {chunk}"),
    };
    let store = Store::open(dir).unwrap();
    let measured = measure(what, || {
        let recording = store.record(RecordOptions::default()).unwrap();
        let sender = recording.sender();
        let base = unix_now_ns();
        let make = |k: u64| exchange(k, base + k * 1000, sessions);
        match pattern {
            Pattern::Bulk => {
                for n in 0..total {
                    sender.capture_blocking(make(n));
                }
            }
            Pattern::Paced(rate) => {
                let tick = Duration::from_millis(2);
                let chunk = (rate * 2 / 1000).max(1);
                let started = Instant::now();
                let mut n = 0;
                let mut ticks = 0u32;
                while n < total {
                    let pending: Vec<Exchange> = (n..(n + chunk).min(total)).map(make).collect();
                    for e in pending {
                        sender.capture(e);
                        n += 1;
                    }
                    ticks += 1;
                    if let Some(wait) = (tick * ticks).checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
            }
            Pattern::Chunked(chunk) => {
                let mut n = 0;
                while n < total {
                    let pending: Vec<Exchange> = (n..(n + chunk).min(total)).map(make).collect();
                    for e in pending {
                        sender.capture_blocking(e);
                        n += 1;
                    }
                    while recording.written() < n {
                        std::thread::sleep(Duration::from_micros(50));
                    }
                }
            }
        }
        drop(sender);
        let summary = recording.finish().unwrap();
        if summary.captures_dropped > 0 {
            println!("  (the writer fell behind: {} captures dropped)", summary.captures_dropped);
        }
        summary.exchanges_written
    });
    measured
}

/// Reads every exchange `exchanges` yields, failing on the first error.
fn read_all(exchanges: impl Iterator<Item = venomqa_traffic::Result<Exchange>>) -> u64 {
    let mut count = 0;
    for exchange in exchanges {
        exchange.unwrap();
        count += 1;
    }
    count
}

fn read(dir: &Path) -> Vec<Measured> {
    let store = Store::open_existing(dir).unwrap();
    let mut out = Vec::new();
    let mut ids = Vec::new();
    out.push(measure("read exchanges()", || {
        let mut count = 0;
        for e in store.exchanges() {
            ids.push(e.unwrap().id);
            count += 1;
        }
        count
    }));
    out.push(measure("read exchanges().rev()", || read_all(store.exchanges().rev())));
    let mut keys = Vec::new();
    out.push(measure("sessions() (per exchange)", || {
        let sessions = store.sessions().unwrap();
        let count = sessions.iter().map(|s| s.exchanges).sum();
        keys = sessions.into_iter().map(|s| s.key).collect();
        count
    }));
    out.push(measure("session_exchanges() x100", || {
        keys.iter().take(100).map(|k| read_all(store.session_exchanges(k))).sum()
    }));
    out.push(measure("get(id) x20000", || {
        let mut found = 0;
        let step = (ids.len() / 20_000).max(1);
        for id in ids.iter().step_by(step).take(20_000) {
            found += u64::from(store.get(*id).unwrap().is_some());
        }
        found
    }));
    let first = ids.first().copied().unwrap_or(0);
    let last = ids.get(ids.len() / 10).copied().unwrap_or(0);
    out.push(measure("exchanges_in(first 10%)", || read_all(store.exchanges_in(first..=last))));
    println!("on disk: {} MiB", store.stats().unwrap().bytes_on_disk / (1 << 20));
    out
}

fn main() {
    let total = env_u64("VENOMQA_BENCH_EXCHANGES", 200_000);
    let rate = env_u64("VENOMQA_BENCH_RATE", 20_000);
    let paced = env_u64("VENOMQA_BENCH_PACED", total.min(100_000));
    let chunked = env_u64("VENOMQA_BENCH_CHUNKED", total.min(50_000));
    let chunk = env_u64("VENOMQA_BENCH_CHUNK", 64).max(1);
    let sessions = env_u64("VENOMQA_BENCH_SESSIONS", 1000).max(1);
    println!(
        "store format {FORMAT_VERSION}, {total} exchanges in {sessions} interleaved sessions; \
         write CPU = all threads but the producer"
    );
    let size = |n| postcard::to_stdvec(&exchange(n, 0, sessions)).unwrap().len();
    println!("a record encodes to {} bytes (a POST), {} (a GET)", size(4), size(1));

    let dir = tempfile::tempdir().unwrap();
    let bulk = dir.path().join("bulk");
    write(&bulk, total, Pattern::Bulk, sessions).print(true);
    if paced > 0 {
        write(&dir.path().join("paced"), paced, Pattern::Paced(rate), sessions).print(true);
    }
    if chunked > 0 {
        write(&dir.path().join("chunked"), chunked, Pattern::Chunked(chunk), sessions).print(true);
    }
    if env_u64("VENOMQA_BENCH_READS", 1) == 1 {
        for m in read(&bulk) {
            m.print(false);
        }
    }
}
