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
//! proxy hands them to the store: write them through `Store::record` to have
//! them grouped and their secrets replaced like real captures.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use venomqa_traffic::{Body, Exchange, Headers, Request, Response};

use crate::shop::USERS;

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
        let finished = session.ops.is_empty();
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

/// The lifecycle branch an order takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Ship,
    ShipAndRefund,
    PayAndRefund,
    PaidOnly,
    CancelBeforePay,
    CancelAfterPay,
    Abandon,
}

/// Weighted like the QA driver's week: most orders ship, a few are
/// refunded, cancelled or abandoned.
const FATES: [(Fate, u32); 7] = [
    (Fate::Ship, 30),
    (Fate::ShipAndRefund, 15),
    (Fate::PayAndRefund, 5),
    (Fate::PaidOnly, 15),
    (Fate::CancelBeforePay, 12),
    (Fate::CancelAfterPay, 10),
    (Fate::Abandon, 13),
];

const ITEMS: [&str; 16] = [
    "coffee grinder",
    "espresso cups",
    "tea kettle",
    "french press",
    "milk frother",
    "travel mug",
    "pour-over kit",
    "bean scale",
    "cold brew jar",
    "moka pot",
    "paper filters",
    "tea strainer",
    "latte glasses",
    "grinder brush",
    "descaler",
    "thermo flask",
];

const NOTES: [&str; 8] = [
    "leave at the door",
    "ring twice",
    "deliver after 6pm",
    "gift wrap, please",
    "call on arrival",
    "back entrance",
    "leave with the neighbour",
    "no plastic, please",
];

/// Made-up users after the shop's four; a number keeps them apart.
const NAMES: [&str; 12] = [
    "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy",
    "rupert", "sybil",
];

/// What testers send requests with: mostly the QA driver.
const USER_AGENTS: [(&str, u32); 4] = [
    (concat!("venomqa-sample-driver/", env!("CARGO_PKG_VERSION")), 70),
    ("PostmanRuntime/7.39.0", 15),
    ("curl/8.5.0", 10),
    ("python-requests/2.32.3", 5),
];

/// User `k`: the shop's four first, then `erin1`, `frank1`, ..., `erin2`, ...
fn user(k: usize) -> String {
    match USERS.get(k) {
        Some(u) => u.username.to_string(),
        None => {
            let k = k - USERS.len();
            format!("{}{}", NAMES[k % NAMES.len()], k / NAMES.len() + 1)
        }
    }
}

/// One request a session will send, planned when the session starts;
/// numbers are the session's orders, in the order they are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `wrong`: a mistyped password, answered 401.
    Login {
        wrong: bool,
    },
    Create(usize),
    List,
    Pay(usize),
    Ship(usize),
    Refund(usize),
    Cancel(usize),
    Delete(usize),
    Read(usize),
    /// `PATCH` the note, with `If-Match` from the read just before.
    Patch(usize, &'static str),
    /// A read of a deleted order, checking that it is gone: 404.
    ReadGone(usize),
    Logout,
}

/// An order as the shop holds it, to answer with its current state.
#[derive(Debug)]
struct Order {
    id: String,
    item: &'static str,
    amount: u64,
    status: &'static str,
    charged: u64,
    refunded: u64,
    note: &'static str,
    version: u64,
    deleted: bool,
}

/// A session in progress: who plays it, what is left to send, and the
/// state of its orders.
#[derive(Debug)]
struct Session {
    x_session: String,
    username: String,
    user_agent: &'static str,
    token: Option<String>,
    orders: Vec<Order>,
    ops: VecDeque<Op>,
}

impl Session {
    /// Plans a whole session up front, as the QA driver does: log in,
    /// create 1–3 orders, list them, one step of each order in turn, maybe
    /// list again, maybe log out.
    fn plan(rng: &mut StdRng, x_session: String, username: String) -> Session {
        let mut ops = VecDeque::new();
        if rng.random_bool(0.03) {
            ops.push_back(Op::Login { wrong: true });
        }
        ops.push_back(Op::Login { wrong: false });
        let count = rng.random_range(1..=3);
        let mut orders = Vec::with_capacity(count);
        let mut plans = Vec::with_capacity(count);
        for k in 0..count {
            ops.push_back(Op::Create(k));
            orders.push(Order {
                id: format!("ord_{}", random_chars(rng, 12)),
                item: ITEMS.choose(rng).copied().unwrap_or(ITEMS[0]),
                amount: rng.random_range(2..=400) * 25,
                status: "created",
                charged: 0,
                refunded: 0,
                note: "",
                version: 1,
                deleted: false,
            });
            plans.push(plan_order(rng, k));
        }
        ops.push_back(Op::List);
        // Like a tester moving between browser tabs.
        let rounds = plans.iter().map(Vec::len).max().unwrap_or(0);
        for round in 0..rounds {
            for step in plans.iter().filter_map(|steps| steps.get(round)) {
                ops.extend(step.iter().copied());
            }
        }
        if rng.random_bool(0.3) {
            ops.push_back(Op::List);
        }
        if rng.random_bool(0.5) {
            ops.push_back(Op::Logout);
        }
        let user_agent = weighted(rng, &USER_AGENTS);
        Session { x_session, username, user_agent, token: None, orders, ops }
    }

    /// The headers every request of the session starts with, in the order
    /// the driver's HTTP client sends them.
    fn request_headers(&self) -> RequestHeaders {
        RequestHeaders {
            x_session: self.x_session.clone(),
            authorization: self.token.as_ref().map(|t| format!("Bearer {t}")),
            user_agent: self.user_agent,
        }
    }

    /// Sends the next planned request and answers it as the shop would.
    fn next_call(&mut self, rng: &mut StdRng) -> Call {
        let op = self.ops.pop_front().unwrap_or(Op::List);
        let latency = rng.random_range(20_000..400_000);
        match op {
            Op::Login { wrong } => {
                let suffix = if wrong { "-pw!" } else { "-pw" };
                let password = format!("{}{suffix}", self.username);
                let body = json(&LoginBody { password: &password, username: &self.username });
                let mut call = if wrong {
                    let mut call = Call::new("POST", "/login".into(), 401, latency);
                    call.answer = json(&ErrorBody { error: "invalid username or password" });
                    call.answer_headers.push(("www-authenticate", "Bearer".into()));
                    call
                } else {
                    let token = format!("tok_{}", random_chars(rng, 32));
                    let mut call = Call::new("POST", "/login".into(), 200, latency);
                    call.answer = json(&TokenBody { token: &token });
                    self.token = Some(token);
                    call
                };
                call.body = body;
                call
            }
            Op::Create(k) => {
                let order = &self.orders[k];
                let mut call = self.order_call(k, "POST", "/orders".into(), latency);
                call.status = 201;
                call.body = json(&NewOrder { amount: order.amount, item: order.item });
                call.answer_headers.push(("location", format!("/orders/{}", order.id)));
                call
            }
            Op::List => {
                let orders: Vec<ListedOrder<'_>> = self
                    .orders
                    .iter()
                    .filter(|o| !o.deleted)
                    .map(|o| ListedOrder::of(o, &self.username))
                    .collect();
                let mut call = Call::new("GET", "/orders".into(), 200, latency);
                call.answer = json(&OrderList { orders });
                call
            }
            Op::Read(k) => self.order_call(k, "GET", self.path(k, ""), latency),
            Op::Patch(k, note) => {
                let if_match = etag(self.orders[k].version);
                self.change(k, |o| o.note = note);
                let mut call = self.order_call(k, "PATCH", self.path(k, ""), latency);
                call.headers.push(("if-match", if_match));
                call.body = json(&NotePatch { note });
                call
            }
            Op::Pay(k) => {
                self.change(k, |o| {
                    o.status = "paid";
                    o.charged += o.amount;
                });
                let mut call = self.order_call(k, "POST", self.path(k, "/pay"), latency);
                call.headers.push(("idempotency-key", format!("idem-{}", random_chars(rng, 20))));
                call
            }
            Op::Ship(k) => {
                self.change(k, |o| o.status = "shipped");
                self.order_call(k, "POST", self.path(k, "/ship"), latency)
            }
            Op::Refund(k) => {
                self.change(k, |o| {
                    o.status = "refunded";
                    o.refunded += o.charged;
                });
                // The shop waits 20 ms for its payment provider.
                self.order_call(k, "POST", self.path(k, "/refund"), latency + 20 * NS_PER_MS)
            }
            Op::Cancel(k) => {
                self.change(k, |o| {
                    o.status = "cancelled";
                    o.refunded += o.charged;
                });
                self.order_call(k, "POST", self.path(k, "/cancel"), latency)
            }
            Op::Delete(k) => {
                self.orders[k].deleted = true;
                Call::new("DELETE", self.path(k, ""), 204, latency)
            }
            Op::ReadGone(k) => {
                let mut call = Call::new("GET", self.path(k, ""), 404, latency);
                call.answer = json(&ErrorBody { error: "order not found" });
                call
            }
            Op::Logout => {
                self.token = None;
                Call::new("POST", "/logout".into(), 204, latency)
            }
        }
    }

    fn path(&self, k: usize, action: &str) -> String {
        format!("/orders/{}{action}", self.orders[k].id)
    }

    /// A successful change of order `k`: a new version.
    fn change(&mut self, k: usize, apply: impl FnOnce(&mut Order)) {
        let order = &mut self.orders[k];
        apply(order);
        order.version += 1;
    }

    /// A 200 answering with order `k` as it is now, and its `ETag`.
    fn order_call(&self, k: usize, method: &'static str, path: String, latency: u64) -> Call {
        let order = &self.orders[k];
        let mut call = Call::new(method, path, 200, latency);
        call.answer = json(&OrderView::of(order, &self.username));
        call.answer_headers.push(("etag", etag(order.version)));
        call
    }
}

/// The steps of one order after its creation, planned like the QA
/// driver's; a step is one request, or a read and the patch using its ETag,
/// or a delete and (now and then) a read checking the order is gone.
fn plan_order(rng: &mut StdRng, k: usize) -> Vec<Vec<Op>> {
    let fate = weighted(rng, &FATES);
    let mut steps: Vec<Vec<Op>> = match fate {
        Fate::Ship => vec![vec![Op::Pay(k)], vec![Op::Ship(k)]],
        Fate::ShipAndRefund => vec![vec![Op::Pay(k)], vec![Op::Ship(k)], vec![Op::Refund(k)]],
        Fate::PayAndRefund => vec![vec![Op::Pay(k)], vec![Op::Refund(k)]],
        Fate::PaidOnly => vec![vec![Op::Pay(k)]],
        Fate::CancelBeforePay => vec![vec![Op::Cancel(k)]],
        Fate::CancelAfterPay => vec![vec![Op::Pay(k)], vec![Op::Cancel(k)]],
        Fate::Abandon => vec![vec![Op::Delete(k)]],
    };
    if matches!(fate, Fate::CancelBeforePay | Fate::CancelAfterPay) && rng.random_bool(0.4) {
        steps.push(vec![Op::Delete(k)]);
    }
    // Edit the note before any delete.
    if rng.random_bool(0.7) {
        let last_allowed = steps.iter().position(|s| s[0] == Op::Delete(k)).unwrap_or(steps.len());
        let at = rng.random_range(0..=last_allowed);
        let note = NOTES.choose(rng).copied().unwrap_or(NOTES[0]);
        steps.insert(at, vec![Op::Read(k), Op::Patch(k, note)]);
    }
    // Check the outcome, as a tester would: a read, or that a deleted order is gone.
    match steps.last_mut() {
        Some(last) if last[0] == Op::Delete(k) => {
            let check = rng.random_bool(0.1);
            last.extend(check.then_some(Op::ReadGone(k)));
        }
        _ if rng.random_bool(0.5) => steps.push(vec![Op::Read(k)]),
        _ => {}
    }
    steps
}

/// The per-session request headers.
#[derive(Debug)]
struct RequestHeaders {
    x_session: String,
    authorization: Option<String>,
    user_agent: &'static str,
}

/// One request and the shop's answer, before they become an [`Exchange`].
#[derive(Debug)]
struct Call {
    method: &'static str,
    path: String,
    /// Headers the endpoint needs (`Idempotency-Key`, `If-Match`).
    headers: Vec<(&'static str, String)>,
    /// JSON request body; empty for none.
    body: Vec<u8>,
    status: u16,
    /// JSON answer; empty for none.
    answer: Vec<u8>,
    /// `ETag`, `Location`, `WWW-Authenticate`.
    answer_headers: Vec<(&'static str, String)>,
    duration: u64,
}

impl Call {
    fn new(method: &'static str, path: String, status: u16, duration: u64) -> Call {
        Call {
            method,
            path,
            headers: Vec::new(),
            body: Vec::new(),
            status,
            answer: Vec::new(),
            answer_headers: Vec::new(),
            duration,
        }
    }

    fn into_exchange(self, now: u64, port: u16, common: RequestHeaders) -> Exchange {
        let mut headers = Headers::default();
        headers.push("x-session", common.x_session);
        if let Some(authorization) = common.authorization {
            headers.push("authorization", authorization);
        }
        for (name, value) in self.headers {
            headers.push(name, value);
        }
        if !self.body.is_empty() {
            headers.push("content-type", "application/json");
        }
        headers.push("accept", "*/*");
        headers.push("user-agent", common.user_agent);
        headers.push("host", HOST);
        let request = request(self.method, self.path, headers, self.body);
        let response = response(self.status, now + self.duration, self.answer_headers, self.answer);
        exchange(now, self.duration, port, request, response)
    }
}

fn request(method: &str, url: String, mut headers: Headers, body: Vec<u8>) -> Request {
    if !body.is_empty() {
        headers.push("content-length", body.len().to_string());
    }
    Request {
        method: method.to_string(),
        url,
        version: "HTTP/1.1".into(),
        headers,
        body: Body::complete(body),
    }
}

/// An answer with the headers the shop (hyper) writes, in its order.
fn response(
    status: u16,
    done_ns: u64,
    extra: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> Response {
    let mut headers = Headers::default();
    if !body.is_empty() {
        headers.push("content-type", "application/json");
    }
    for (name, value) in extra {
        headers.push(name, value);
    }
    if !body.is_empty() {
        headers.push("content-length", body.len().to_string());
    }
    headers.push("date", http_date(done_ns / NS_PER_SEC));
    Response { status, version: "HTTP/1.1".into(), headers, body: Body::complete(body) }
}

fn exchange(now: u64, duration: u64, port: u16, request: Request, response: Response) -> Exchange {
    Exchange {
        id: 0,
        session: Default::default(),
        started_at: now,
        duration_ns: duration,
        client: Some(format!("127.0.0.1:{port}")),
        request,
        response: Some(response),
        error: None,
    }
}

/// Bodies as the driver sends them: `json!` objects, keys sorted.
#[derive(Serialize)]
struct LoginBody<'a> {
    password: &'a str,
    username: &'a str,
}

#[derive(Serialize)]
struct NewOrder<'a> {
    amount: u64,
    item: &'a str,
}

#[derive(Serialize)]
struct NotePatch<'a> {
    note: &'a str,
}

#[derive(Serialize)]
struct TokenBody<'a> {
    token: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

/// An order as the shop serialises it: fields in declaration order.
#[derive(Serialize)]
struct OrderView<'a> {
    id: &'a str,
    owner: &'a str,
    item: &'a str,
    amount: u64,
    status: &'a str,
    charged: u64,
    refunded: u64,
    note: &'a str,
    version: u64,
}

impl<'a> OrderView<'a> {
    fn of(o: &'a Order, owner: &'a str) -> Self {
        OrderView {
            id: &o.id,
            owner,
            item: o.item,
            amount: o.amount,
            status: o.status,
            charged: o.charged,
            refunded: o.refunded,
            note: o.note,
            version: o.version,
        }
    }
}

/// An order inside the listing, which the shop builds with `json!`: keys sorted.
#[derive(Serialize)]
struct ListedOrder<'a> {
    amount: u64,
    charged: u64,
    id: &'a str,
    item: &'a str,
    note: &'a str,
    owner: &'a str,
    refunded: u64,
    status: &'a str,
    version: u64,
}

impl<'a> ListedOrder<'a> {
    fn of(o: &'a Order, owner: &'a str) -> Self {
        ListedOrder {
            amount: o.amount,
            charged: o.charged,
            id: &o.id,
            item: o.item,
            note: o.note,
            owner,
            refunded: o.refunded,
            status: o.status,
            version: o.version,
        }
    }
}

#[derive(Serialize)]
struct OrderList<'a> {
    orders: Vec<ListedOrder<'a>>,
}

fn json(value: &impl Serialize) -> Vec<u8> {
    // Our own structs of strings and numbers always serialise.
    serde_json::to_vec(value).unwrap_or_default()
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn weighted<T: Copy>(rng: &mut StdRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for &(choice, weight) in choices {
        if pick < weight {
            return choice;
        }
        pick -= weight;
    }
    choices[0].0
}

/// `n` random base32 characters, like the shop's ids and tokens, but from the seeded generator.
fn random_chars(rng: &mut StdRng, n: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..n).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

fn ephemeral_port(rng: &mut StdRng) -> u16 {
    rng.random_range(32_768..61_000)
}

/// An IMF-fixdate (`Thu, 26 Nov 2026 16:31:34 GMT`), as the `Date` header has it.
fn http_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm), for dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_795_710_694), "Thu, 26 Nov 2026 16:31:34 GMT");
        assert_eq!(http_date(DEFAULT_START_NS / NS_PER_SEC), "Mon, 02 Nov 2026 09:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

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
