//! Scripted QA sessions of the sample shop, answered in memory by the
//! shop's own lifecycle rules (`venomqa_samples::OrderStatus`, `Totals`; no
//! planted bugs) and recorded the way the proxy and store would:
//! `X-Session` sessions, `Authorization: Bearer ~r:…` and the login's
//! `token` redacted to the same pseudonym, string order ids like
//! `ord_k3j5x9a2qz`. Scripts rather than the QA driver, so a test can take a
//! step the shop refuses and count exactly what the model must hold.

use std::collections::HashMap;

use serde_json::{json, Value};
use venomqa_samples::{OrderAction, OrderStatus, Totals};

use super::{call, pseudonym, token_id, Traffic};

#[derive(Clone, Debug)]
struct Order {
    owner: String,
    status: OrderStatus,
    totals: Totals,
    note: String,
    version: u64,
    deleted: bool,
}

/// One step a QA session takes; orders are named by their slot in the session.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Login,
    Create(usize, u64),
    Get(usize),
    List,
    Pay(usize),
    Ship(usize),
    Refund(usize),
    Cancel(usize),
    Patch(usize),
    Delete(usize),
    Logout,
}

/// The shop and the recording of everything sent to it.
pub struct Shop {
    orders: HashMap<String, Order>,
    tokens: HashMap<String, String>,
    next: u64,
    pub traffic: Traffic,
}

struct SessionRun {
    key: String,
    header: String,
    user: String,
    token: Option<String>,
    slots: Vec<Option<String>>,
    etags: HashMap<usize, String>,
    ops: Vec<Op>,
    at: usize,
}

impl Shop {
    pub fn new() -> Shop {
        Shop { orders: HashMap::new(), tokens: HashMap::new(), next: 1, traffic: Traffic::new() }
    }

    fn fresh(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn order_json(id: &str, o: &Order) -> Value {
        json!({
            "id": id,
            "owner": o.owner,
            "item": "coffee grinder",
            "status": o.status,
            "amount": o.totals.amount,
            "charged": o.totals.charged,
            "refunded": o.totals.refunded,
            "note": o.note,
            "version": o.version,
            "created_at": format!(
                "2026-11-26T10:{:02}:{:02}Z",
                o.version % 60,
                o.totals.amount % 60
            ),
        })
    }

    /// Plays sessions round-robin, one step of each in turn: the traffic of
    /// several testers working at once.
    pub fn play(&mut self, sessions: Vec<(&str, Vec<Op>)>) {
        let mut runs: Vec<SessionRun> = sessions
            .into_iter()
            .enumerate()
            .map(|(i, (user, ops))| SessionRun {
                key: format!("x-session:s-{}", i + 1),
                header: format!("s-{}", i + 1),
                user: user.to_string(),
                token: None,
                slots: vec![None; 8],
                etags: HashMap::new(),
                ops,
                at: 0,
            })
            .collect();
        loop {
            let mut progressed = false;
            for run in runs.iter_mut() {
                if run.at < run.ops.len() {
                    let op = run.ops[run.at];
                    run.at += 1;
                    self.step(run, op);
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn step(&mut self, run: &mut SessionRun, op: Op) {
        let request_id = token_id("req", self.fresh());
        let (key, header, token) = (run.key.clone(), run.header.clone(), run.token.clone());
        let base = |method: &str, url: &str| {
            let c = call(&key, method, url)
                .header("X-Session", &header)
                .header("User-Agent", "qa-driver");
            match &token {
                Some(t) => c.bearer(t),
                None => c,
            }
        };
        let token_user = token.as_ref().and_then(|t| self.tokens.get(t)).cloned();
        let slots = run.slots.clone();
        let slot_id = |slot: usize| slots.get(slot).cloned().flatten().unwrap_or_default();
        let c = match op {
            Op::Login => {
                let token = pseudonym(self.fresh());
                self.tokens.insert(token.clone(), run.user.clone());
                let password = pseudonym(run.user.len() as u64 * 7919);
                let c = base("POST", "/login")
                    .json(json!({"username": run.user, "password": password}))
                    .reply(json!({"token": token, "user": run.user}));
                run.token = Some(token);
                c
            }
            Op::Logout => {
                if let Some(t) = run.token.take() {
                    self.tokens.remove(&t);
                }
                base("POST", "/logout").status(204)
            }
            Op::Create(slot, amount) => {
                let id = token_id("ord", self.fresh());
                let order = Order {
                    owner: token_user.unwrap_or_default(),
                    status: OrderStatus::Created,
                    totals: Totals::new(amount),
                    note: String::new(),
                    version: 1,
                    deleted: false,
                };
                let body = Self::order_json(&id, &order);
                self.orders.insert(id.clone(), order);
                run.slots[slot] = Some(id.clone());
                base("POST", "/orders")
                    .json(json!({"amount": amount, "item": "book"}))
                    .status(201)
                    .reply(body)
                    .reply_header("ETag", "\"1\"")
                    .reply_header("Location", &format!("/orders/{id}"))
            }
            Op::List => {
                let mine: Vec<Value> = {
                    let mut ids: Vec<&String> = self.orders.keys().collect();
                    ids.sort();
                    ids.into_iter()
                        .filter(|id| {
                            let o = &self.orders[*id];
                            Some(&o.owner) == token_user.as_ref() && !o.deleted
                        })
                        .map(|id| Self::order_json(id, &self.orders[id]))
                        .collect()
                };
                base("GET", "/orders").reply(json!({ "orders": mine }))
            }
            Op::Get(slot) => {
                let id = slot_id(slot);
                let c = base("GET", &format!("/orders/{id}"));
                match self
                    .orders
                    .get(&id)
                    .filter(|o| !o.deleted && Some(&o.owner) == token_user.as_ref())
                {
                    Some(o) => {
                        let etag = format!("\"{}\"", o.version);
                        run.etags.insert(slot, etag.clone());
                        c.reply(Self::order_json(&id, o)).reply_header("ETag", &etag)
                    }
                    None => c.status(404).reply(json!({"error": "not found"})),
                }
            }
            Op::Patch(slot) => {
                let id = slot_id(slot);
                let etag = run.etags.get(&slot).cloned().unwrap_or_default();
                let c = base("PATCH", &format!("/orders/{id}"))
                    .header("If-Match", &etag)
                    .json(json!({"note": "leave at the door"}));
                match self.orders.get_mut(&id).filter(|o| !o.deleted) {
                    Some(o) if format!("\"{}\"", o.version) == etag => {
                        o.version += 1;
                        o.note = "leave at the door".into();
                        let etag = format!("\"{}\"", o.version);
                        c.reply(Self::order_json(&id, o)).reply_header("ETag", &etag)
                    }
                    Some(_) => c.status(412).reply(json!({"error": "stale"})),
                    None => c.status(404).reply(json!({"error": "not found"})),
                }
            }
            Op::Pay(slot) | Op::Ship(slot) | Op::Refund(slot) | Op::Cancel(slot) => {
                let id = slot_id(slot);
                let action = match op {
                    Op::Pay(_) => OrderAction::Pay,
                    Op::Ship(_) => OrderAction::Ship,
                    Op::Refund(_) => OrderAction::Refund,
                    _ => OrderAction::Cancel,
                };
                let verb = action.name();
                let mut c = base("POST", &format!("/orders/{id}/{verb}"));
                if action == OrderAction::Pay {
                    c = c.header("Idempotency-Key", &token_id("idem", self.fresh()));
                }
                match self
                    .orders
                    .get_mut(&id)
                    .filter(|o| !o.deleted && Some(&o.owner) == token_user.as_ref())
                {
                    Some(o) => match o.status.after(action) {
                        Some(next) => {
                            o.totals.apply(action);
                            o.status = next;
                            o.version += 1;
                            c.reply(Self::order_json(&id, o))
                        }
                        None => c.status(409).reply(
                            json!({"error": format!("cannot {verb} a {} order", o.status.name())}),
                        ),
                    },
                    None => c.status(404).reply(json!({"error": "not found"})),
                }
            }
            Op::Delete(slot) => {
                let id = slot_id(slot);
                let c = base("DELETE", &format!("/orders/{id}"));
                match self
                    .orders
                    .get_mut(&id)
                    .filter(|o| !o.deleted && Some(&o.owner) == token_user.as_ref())
                {
                    Some(o) => {
                        o.deleted = true;
                        c.status(204)
                    }
                    None => c.status(404).reply(json!({"error": "not found"})),
                }
            }
        };
        self.traffic.push(c.reply_header("X-Request-Id", &request_id));
    }
}

/// Realistic QA traffic: several users, several interleaved sessions, the
/// whole lifecycle (pay, ship, refund; cancel; patch with If-Match; delete),
/// one tester who tries a refund too early and is refused, and the noise a
/// browser and a load balancer add.
pub fn qa_traffic() -> Traffic {
    use Op::*;
    let mut shop = Shop::new();
    shop.traffic.push(call("x-session:ops", "POST", "/__reset").status(204));
    let sessions = vec![
        ("alice", vec![Login, Create(0, 120), Get(0), Pay(0), Ship(0), Refund(0), Get(0), Logout]),
        ("bob", vec![Login, Create(0, 40), Cancel(0), Get(0), List]),
        ("carol", vec![Login, Create(0, 75), Get(0), Patch(0), Get(0), Delete(0), Get(0), Logout]),
        (
            "alice",
            vec![
                Login,
                Create(0, 60),
                Create(1, 80),
                Pay(0),
                Pay(1),
                Ship(0),
                Ship(1),
                List,
                Logout,
            ],
        ),
        ("bob", vec![Login, Create(0, 99), Refund(0), Pay(0), Cancel(0), Get(0)]),
        ("dave", vec![Login, Create(0, 15), Pay(0), Ship(0), Refund(0), Logout]),
        ("carol", vec![Login, Create(0, 33), Cancel(0), Logout]),
    ];
    shop.play(sessions);
    let mut traffic = shop.traffic;
    traffic.push(call("client:10.0.0.9", "GET", "/health").reply(json!({"ok": true})));
    traffic.push(call("x-session:s-1", "OPTIONS", "/orders").status(204));
    traffic.push(
        call("x-session:s-1", "GET", "/favicon.ico").reply_raw("image/x-icon", b"\0\0\x01\0"),
    );
    traffic.push(
        call("x-session:s-2", "GET", "/static/app.js").reply_raw("text/javascript", b"let x = 1;"),
    );
    traffic
}
