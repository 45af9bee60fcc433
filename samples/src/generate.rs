//! Synthetic shop traffic: as many exchanges as a benchmark needs, shaped
//! like what `venomqa record` captures of `venomqa sample drive`, without
//! running the shop, the proxy or the driver.
//!
//! ```
//! use venomqa_samples::{generate, GenerateOptions};
//!
//! let exchanges: Vec<_> = generate(GenerateOptions::new(50, 7)).collect();
//! assert_eq!(exchanges.len(), 50);
//! // A session starts by logging in.
//! let first = exchanges.iter().find(|e| e.request.headers.get("x-session").is_some()).unwrap();
//! assert_eq!((first.request.method.as_str(), first.request.url.as_str()), ("POST", "/login"));
//! ```
//!
//! What the traffic looks like:
//! - QA testers (`concurrency` of them) play sessions back to back, so
//!   sessions interleave in time; each session is one of `users` users
//!   (alice, bob, carol, dave, then more) and carries `X-Session`.
//! - A session logs in (`POST /login` answers a `tok_…` token, sent as
//!   `Authorization: Bearer` from then on; now and then a wrong password
//!   first gets a 401), creates 1–3 orders, lists them, then takes each
//!   order through its branch of the lifecycle one step at a time, the way
//!   the QA driver plans it: pay (with a fresh `Idempotency-Key`), ship,
//!   refund, cancel, delete, a read then a `PATCH` of the note with
//!   `If-Match` from that read's `ETag`, a final read; sometimes it lists
//!   again and logs out. About 5 to 20 exchanges a session.
//! - Requests and answers carry the headers and bodies the real shop and
//!   driver exchange: random `ord_…` ids, versions and ETags, `Location`,
//!   `Content-Length`, `Date`.
//! - A health probe without a session polls `GET /health` every 10 s.
//!
//! Exchanges come out in time order, one at a time: memory holds the
//! sessions in progress, never the traffic. The seed alone decides
//! everything, timestamps included, so the same options give the same
//! exchanges. Exchanges come unsessionized and unredacted, exactly as the
//! proxy hands them to the store: write them with `Store::append` to have
//! them grouped and their secrets replaced like real captures.
//!
//! This file is the timeline (who acts next); `session` plans and plays one
//! session against a model of the shop, `wire` writes requests and answers
//! the way the client and the shop put them on the wire.

mod session;
mod wire;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use venomqa_traffic::{Exchange, Headers};

use session::{random_chars, user, Session};
use wire::{exchange, request, response};

/// 2026-11-02T09:00:00Z, a Monday morning: when generated traffic starts by default.
pub const DEFAULT_START_NS: u64 = 1_793_610_000 * NS_PER_SEC;

const NS_PER_SEC: u64 = 1_000_000_000;
const NS_PER_MS: u64 = 1_000_000;

/// The address a default `venomqa record` listens on, as clients name it in `Host`.
const HOST: &str = "127.0.0.1:8080";

/// How often the health probe polls.
const PROBE_EVERY_NS: u64 = 10 * NS_PER_SEC;

/// How much traffic to generate and how it is shaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Exchanges to produce; the last sessions are cut off where the count is reached.
    pub exchanges: u64,
    /// The same seed (with the same other options) gives the same exchanges.
    pub seed: u64,
    /// Distinct users logging in: the shop's four, then made-up ones (at least 1).
    pub users: usize,
    /// Testers playing sessions at the same time (at least 1).
    pub concurrency: usize,
    /// Unix time in nanoseconds of the first exchange.
    pub start_ns: u64,
}

impl GenerateOptions {
    /// `exchanges` exchanges from `seed`, with 200 users and 24 testers from [`DEFAULT_START_NS`].
    pub fn new(exchanges: u64, seed: u64) -> Self {
        GenerateOptions { exchanges, seed, users: 200, concurrency: 24, start_ns: DEFAULT_START_NS }
    }
}

/// Starts generating; see the module documentation for what comes out.
pub fn generate(options: GenerateOptions) -> Generator {
    Generator::new(options)
}

/// The iterator [`generate`] returns: exchanges in time order, made on demand.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    /// Fresh for each seed, so the `X-Session` values of two generated runs stay apart.
    run_id: String,
    users: usize,
    left: u64,
    sessions_started: u64,
    testers: Vec<Tester>,
    /// Who acts next, earliest first: `(time, actor)`, where actor `testers.len()` is the probe.
    agenda: BinaryHeap<Reverse<(u64, usize)>>,
    probe_port: u16,
}

/// One QA tester: a connection and the session being played on it.
#[derive(Debug)]
struct Tester {
    port: u16,
    session: Option<Session>,
}

impl Generator {
    fn new(options: GenerateOptions) -> Generator {
        let mut rng = StdRng::seed_from_u64(options.seed);
        let run_id = random_chars(&mut rng, 6);
        let concurrency = options.concurrency.max(1);
        let mut agenda = BinaryHeap::with_capacity(concurrency + 1);
        let testers: Vec<Tester> = (0..concurrency)
            .map(|actor| {
                // Testers start within the first half minute, not all at once.
                let start = options.start_ns + rng.random_range(0..30 * NS_PER_SEC);
                agenda.push(Reverse((start, actor)));
                Tester { port: ephemeral_port(&mut rng), session: None }
            })
            .collect();
        agenda.push(Reverse((options.start_ns, concurrency)));
        let probe_port = ephemeral_port(&mut rng);
        Generator {
            rng,
            run_id,
            users: options.users.max(1),
            left: options.exchanges,
            sessions_started: 0,
            testers,
            agenda,
            probe_port,
        }
    }

    /// Sessions begun so far (the last ones may be cut off by the count).
    pub fn sessions_started(&self) -> u64 {
        self.sessions_started
    }

    /// The health probe's poll at `now`, and when it polls next.
    fn probe(&mut self, now: u64) -> (Exchange, u64) {
        let duration = self.rng.random_range(15_000..120_000);
        let mut headers = Headers::default();
        headers.push("host", HOST);
        headers.push("user-agent", "kube-probe/1.30");
        headers.push("accept", "*/*");
        let request = request("GET", "/health".into(), headers, Vec::new());
        let answer = br#"{"status":"ok"}"#.to_vec();
        let response = response(200, now + duration, Vec::new(), answer);
        let next = now + PROBE_EVERY_NS + self.rng.random_range(0..500 * NS_PER_MS);
        (exchange(now, duration, self.probe_port, request, response), next)
    }

    /// Tester `actor`'s next request at `now` (starting a session if it has
    /// none), and when the tester acts next.
    fn tester_step(&mut self, now: u64, actor: usize) -> (Exchange, u64) {
        let Generator { rng, testers, run_id, users, sessions_started, .. } = self;
        let tester = &mut testers[actor];
        let session = tester.session.get_or_insert_with(|| {
            let index = *sessions_started;
            *sessions_started += 1;
            let username = user(rng.random_range(0..*users));
            Session::plan(rng, format!("qa-{run_id}-{index:02}"), username)
        });
        let headers = session.request_headers();
        let call = session.next_call(rng);
        let finished = session.is_finished();
        let exchange = call.into_exchange(now, tester.port, headers);
        let done = now + exchange.duration_ns;
        let next = if finished {
            tester.session = None;
            // The next session sometimes comes on a new connection.
            if rng.random_bool(0.2) {
                tester.port = ephemeral_port(rng);
            }
            done + rng.random_range(2 * NS_PER_SEC..90 * NS_PER_SEC)
        } else {
            // A person reading the answer before the next click.
            done + rng.random_range(150 * NS_PER_MS..2_500 * NS_PER_MS)
        };
        (exchange, next)
    }
}

impl Iterator for Generator {
    type Item = Exchange;

    fn next(&mut self) -> Option<Exchange> {
        if self.left == 0 {
            return None;
        }
        let Reverse((now, actor)) = self.agenda.pop()?;
        let (exchange, next) = if actor == self.testers.len() {
            self.probe(now)
        } else {
            self.tester_step(now, actor)
        };
        self.agenda.push(Reverse((next, actor)));
        self.left -= 1;
        Some(exchange)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

fn ephemeral_port(rng: &mut StdRng) -> u16 {
    rng.random_range(32_768..61_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_come_in_time_order_and_every_session_starts_with_a_login() {
        let mut seen = std::collections::HashSet::new();
        let mut last = 0;
        for exchange in generate(GenerateOptions::new(5_000, 3)) {
            assert!(exchange.started_at >= last);
            last = exchange.started_at;
            if let Some(session) = exchange.request.headers.get_str("x-session") {
                if seen.insert(session.to_string()) {
                    assert_eq!(exchange.request.url, "/login", "{session}");
                }
            }
        }
        assert!(seen.len() > 300, "{} sessions", seen.len());
    }

    #[test]
    fn a_patch_carries_the_etag_of_the_read_before_it() {
        let exchanges: Vec<Exchange> = generate(GenerateOptions::new(3_000, 11)).collect();
        let mut patches = 0;
        for (i, patch) in exchanges.iter().enumerate().filter(|(_, e)| e.request.method == "PATCH")
        {
            let session = patch.request.headers.get_str("x-session");
            let read = exchanges[..i]
                .iter()
                .rev()
                .find(|e| e.request.headers.get_str("x-session") == session)
                .expect("a read before the patch");
            assert_eq!(
                (read.request.method.as_str(), &read.request.url),
                ("GET", &patch.request.url)
            );
            let etag = read.response.as_ref().and_then(|r| r.headers.get_str("etag"));
            assert_eq!(patch.request.headers.get_str("if-match"), etag);
            patches += 1;
        }
        assert!(patches > 50, "{patches} patches");
    }
}
