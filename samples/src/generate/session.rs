//! One QA session: planned up front with the QA driver's planner, then
//! played one request at a time against the session's orders kept by the
//! shop's own lifecycle rules, so every answer is what the shop would say.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;
use serde::Serialize;

use super::wire::{etag, json, Call, RequestHeaders};
use super::NS_PER_MS;
use crate::driver::plan::{lifecycle_steps, Fate, Step, CATALOGUE, DELIVERY_NOTES};
use crate::shop::{OrderAction, OrderStatus, Totals, USERS};

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
    /// A lifecycle action: pay, ship, refund or cancel.
    Act(usize, OrderAction),
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
    status: OrderStatus,
    totals: Totals,
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
                item: CATALOGUE.choose(rng).copied().unwrap_or(CATALOGUE[0]),
                totals: Totals::new(rng.random_range(2..=400) * 25),
                status: OrderStatus::Created,
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
                call.body = json(&NewOrder { amount: order.totals.amount, item: order.item });
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
            Op::Act(k, action) => self.act(k, action, latency, rng),
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

    /// A lifecycle action on order `k`, accepted as the shop's rules say
    /// (the plan only takes allowed steps).
    fn act(&mut self, k: usize, action: OrderAction, latency: u64, rng: &mut StdRng) -> Call {
        let order = &self.orders[k];
        debug_assert!(action.allowed_from(order.status), "{action:?} on {order:?}");
        self.change(k, |o| {
            o.status = action.leads_to();
            o.totals.apply(action);
        });
        let path = self.path(k, &format!("/{}", action.name()));
        // The shop waits 20 ms for its payment provider before a refund.
        let waited = if action == OrderAction::Refund { 20 * NS_PER_MS } else { 0 };
        let mut call = self.order_call(k, "POST", path, latency + waited);
        if action == OrderAction::Pay {
            call.headers.push(("idempotency-key", format!("idem-{}", random_chars(rng, 20))));
        }
        call
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

/// The steps of one order after its creation, planned by the QA driver's
/// planner; a step is one request, or a read and the patch using its ETag,
/// or a delete and (now and then) a read checking the order is gone.
fn plan_order(rng: &mut StdRng, k: usize) -> Vec<Vec<Op>> {
    let fate = Fate::random(rng);
    let mut steps: Vec<Vec<Op>> =
        lifecycle_steps(rng, fate, &DELIVERY_NOTES).into_iter().map(|step| ops(step, k)).collect();
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

/// The requests of one planned step of order `k`.
fn ops(step: Step, k: usize) -> Vec<Op> {
    match step {
        Step::Pay => vec![Op::Act(k, OrderAction::Pay)],
        Step::Ship => vec![Op::Act(k, OrderAction::Ship)],
        Step::Refund => vec![Op::Act(k, OrderAction::Refund)],
        Step::Cancel => vec![Op::Act(k, OrderAction::Cancel)],
        Step::Delete => vec![Op::Delete(k)],
        Step::Read => vec![Op::Read(k)],
        Step::EditNote(note) => vec![Op::Read(k), Op::Patch(k, note)],
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
    status: OrderStatus,
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
            amount: o.totals.amount,
            status: o.status,
            charged: o.totals.charged,
            refunded: o.totals.refunded,
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
    status: OrderStatus,
    version: u64,
}

impl<'a> ListedOrder<'a> {
    fn of(o: &'a Order, owner: &'a str) -> Self {
        ListedOrder {
            amount: o.totals.amount,
            charged: o.totals.charged,
            id: &o.id,
            item: o.item,
            note: o.note,
            owner,
            refunded: o.totals.refunded,
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
