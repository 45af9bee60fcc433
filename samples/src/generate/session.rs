//! One QA session: planned up front the way the QA driver plans its
//! sessions, then played one request at a time against a model of the
//! shop's state, so every answer is what the shop would say.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;
use serde::Serialize;

use super::wire::{etag, json, Call, RequestHeaders};
use super::NS_PER_MS;
use crate::shop::USERS;

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
pub(super) fn user(k: usize) -> String {
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
pub(super) struct Session {
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
    pub(super) fn plan(rng: &mut StdRng, x_session: String, username: String) -> Session {
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
    pub(super) fn request_headers(&self) -> RequestHeaders {
        RequestHeaders {
            x_session: self.x_session.clone(),
            authorization: self.token.as_ref().map(|t| format!("Bearer {t}")),
            user_agent: self.user_agent,
        }
    }

    /// Whether every planned request has been sent.
    pub(super) fn is_finished(&self) -> bool {
        self.ops.is_empty()
    }

    /// Sends the next planned request and answers it as the shop would.
    pub(super) fn next_call(&mut self, rng: &mut StdRng) -> Call {
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
pub(super) fn random_chars(rng: &mut StdRng, n: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..n).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}
