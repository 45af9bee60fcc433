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

use super::{call, pseudonym, token_id, Call, Traffic};

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

/// A session being played: who, with which token, its orders by slot, the
/// last ETag read of each, and the steps left.
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

impl SessionRun {
    /// A request of this session: its `X-Session`, the driver's user agent,
    /// and the bearer token it holds.
    fn call(&self, method: &str, url: &str) -> Call {
        let c = call(&self.key, method, url)
            .header("X-Session", &self.header)
            .header("User-Agent", "qa-driver");
        match &self.token {
            Some(t) => c.bearer(t),
            None => c,
        }
    }

    /// The id of the order created into `slot` (empty when none was).
    fn order_id(&self, slot: usize) -> String {
        self.slots.get(slot).cloned().flatten().unwrap_or_default()
    }
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

    /// Sends one step of `run`, answers it, and records the exchange.
    fn step(&mut self, run: &mut SessionRun, op: Op) {
        let request_id = token_id("req", self.fresh());
        let c = match op {
            Op::Login => self.login(run),
            Op::Logout => self.logout(run),
            Op::Create(slot, amount) => self.create(run, slot, amount),
            Op::List => self.list(run),
            Op::Get(slot) => self.read(run, slot),
            Op::Patch(slot) => self.patch(run, slot),
            Op::Pay(slot) => self.act(run, slot, OrderAction::Pay),
            Op::Ship(slot) => self.act(run, slot, OrderAction::Ship),
            Op::Refund(slot) => self.act(run, slot, OrderAction::Refund),
            Op::Cancel(slot) => self.act(run, slot, OrderAction::Cancel),
            Op::Delete(slot) => self.delete(run, slot),
        };
        self.traffic.push(c.reply_header("X-Request-Id", &request_id));
    }

    /// The user whose token `run` holds.
    fn user_of(&self, run: &SessionRun) -> Option<String> {
        run.token.as_ref().and_then(|t| self.tokens.get(t)).cloned()
    }

    /// The live order `id`, when it belongs to the user of `run`.
    fn owned(&mut self, run: &SessionRun, id: &str) -> Option<&mut Order> {
        let user = self.user_of(run);
        self.orders.get_mut(id).filter(|o| !o.deleted && Some(&o.owner) == user.as_ref())
    }

    fn login(&mut self, run: &mut SessionRun) -> Call {
        let token = pseudonym(self.fresh());
        self.tokens.insert(token.clone(), run.user.clone());
        let password = pseudonym(run.user.len() as u64 * 7919);
        let c = run
            .call("POST", "/login")
            .json(json!({"username": run.user, "password": password}))
            .reply(json!({"token": token, "user": run.user}));
        run.token = Some(token);
        c
    }

    fn logout(&mut self, run: &mut SessionRun) -> Call {
        let c = run.call("POST", "/logout").status(204);
        if let Some(t) = run.token.take() {
            self.tokens.remove(&t);
        }
        c
    }

    fn create(&mut self, run: &mut SessionRun, slot: usize, amount: u64) -> Call {
        let id = token_id("ord", self.fresh());
        let order = Order {
            owner: self.user_of(run).unwrap_or_default(),
            status: OrderStatus::Created,
            totals: Totals::new(amount),
            note: String::new(),
            version: 1,
            deleted: false,
        };
        let body = Self::order_json(&id, &order);
        self.orders.insert(id.clone(), order);
        run.slots[slot] = Some(id.clone());
        run.call("POST", "/orders")
            .json(json!({"amount": amount, "item": "book"}))
            .status(201)
            .reply(body)
            .reply_header("ETag", "\"1\"")
            .reply_header("Location", &format!("/orders/{id}"))
    }

    /// The caller's live orders, by id.
    fn list(&mut self, run: &SessionRun) -> Call {
        let user = self.user_of(run);
        let mut ids: Vec<&String> = self.orders.keys().collect();
        ids.sort();
        let mine: Vec<Value> = ids
            .into_iter()
            .filter(|id| {
                let o = &self.orders[*id];
                Some(&o.owner) == user.as_ref() && !o.deleted
            })
            .map(|id| Self::order_json(id, &self.orders[id]))
            .collect();
        run.call("GET", "/orders").reply(json!({ "orders": mine }))
    }

    /// A read, remembering the ETag for a later patch.
    fn read(&mut self, run: &mut SessionRun, slot: usize) -> Call {
        let id = run.order_id(slot);
        let c = run.call("GET", &format!("/orders/{id}"));
        match self.owned(run, &id) {
            Some(o) => {
                let etag = format!("\"{}\"", o.version);
                let c = c.reply(Self::order_json(&id, o)).reply_header("ETag", &etag);
                run.etags.insert(slot, etag);
                c
            }
            None => c.status(404).reply(json!({"error": "not found"})),
        }
    }

    /// A note edit with `If-Match` from the last read.
    fn patch(&mut self, run: &SessionRun, slot: usize) -> Call {
        let id = run.order_id(slot);
        let etag = run.etags.get(&slot).cloned().unwrap_or_default();
        let c = run
            .call("PATCH", &format!("/orders/{id}"))
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

    /// A lifecycle action, accepted or refused (409) as the shop's rules say.
    fn act(&mut self, run: &SessionRun, slot: usize, action: OrderAction) -> Call {
        let id = run.order_id(slot);
        let verb = action.name();
        let mut c = run.call("POST", &format!("/orders/{id}/{verb}"));
        if action == OrderAction::Pay {
            c = c.header("Idempotency-Key", &token_id("idem", self.fresh()));
        }
        let Some(o) = self.owned(run, &id) else {
            return c.status(404).reply(json!({"error": "not found"}));
        };
        match o.status.after(action) {
            Some(next) => {
                o.totals.apply(action);
                o.status = next;
                o.version += 1;
                c.reply(Self::order_json(&id, o))
            }
            None => c
                .status(409)
                .reply(json!({"error": format!("cannot {verb} a {} order", o.status.name())})),
        }
    }

    fn delete(&mut self, run: &SessionRun, slot: usize) -> Call {
        let id = run.order_id(slot);
        let c = run.call("DELETE", &format!("/orders/{id}"));
        match self.owned(run, &id) {
            Some(o) => {
                o.deleted = true;
                c.status(204)
            }
            None => c.status(404).reply(json!({"error": "not found"})),
        }
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
