//! A small service on loopback with the shapes the evidence tests need,
//! each bug planted on request: seeded private notes (an `owner` field),
//! public posts (an `author`) anyone may like, shared boards (no owner),
//! things that are soft-deleted (404, shown by `GET /things?state=archived`),
//! tickets with no read, playlists whose tracks are read only through them,
//! cards made on a board but read at `/cards/{id}` (a state machine; its
//! title edited with an `ETag` in `If-Match` while open), shelves a user
//! names and makes with `PUT`, articles anyone may read once published,
//! accounts whose password can be changed, a per-user singleton
//! `/me/prefs`, and wallets (answers wrapped in `{"data": …}`, frozen while
//! `frozen_at` is set, withdrawals refused `409` then; a statement asked
//! for with `202` and read at `/statements/{id}`; entries listed by
//! `GET /entries?wallet_id=`), and projects named by their maker (`POST
//! /projects {"slug"}`) whose tasks are numbered 1, 2, 3 in each, deleted
//! by alice only (`403` to anyone else), and invoices for an API without
//! a login: each user sends a key of their own (`X-Api-Key`, [`KEYS`]) and
//! form-encoded bodies; an invoice is paid, then refunded by `POST
//! /refunds` (form `invoice=…&amount=…`) up to its amount, `400` beyond it
//! (bug `refund-twice`), and read by its owner only (bug `invoice-leak`);
//! an invoice may name a payer (`POST /payers`, an `Idempotency-Key`
//! honoured: bug `payer-idempotency`) whose balance its pay debits (bug
//! `pay-race`: checked, then debited a moment later); a deleted payer
//! reads `{"id", "deleted": true}` (as Stripe answers) and an invoice
//! naming it is refused `400` (bug `invoice-deleted-payer`). Boxes are
//! `private` or `public` (`visibility`); a private one is read by its
//! owner and the users it was shared with (`PUT /boxes/{id}/shares/{user}`)
//! only (bug `box-read-any`).
//!
//! Shapes on request too: `bom`, every JSON answer behind a UTF-8 byte
//! order mark; `rate-limit`, every other request refused with `429` and
//! `Retry-After: 0` (resets aside); `token-scheme`, the token taken only as
//! `Authorization: Token <token>` (Django REST framework's scheme), never
//! as `Bearer`.
//!
//! `POST /login {"username","password"}` → `{"token"}`, sent as `Bearer`;
//! `POST /logout`; `POST /__reset`. Refusals: 401, 404 (missing or someone
//! else's), 409 (not in this state).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use venomqa_testkit::upstream::{full, handler, TestBody};
use venomqa_testkit::Upstream;

/// The users and their passwords.
pub const USERS: [(&str, &str); 2] = [("alice", "alice-pw"), ("bob", "bob-pw")];

/// The users' own keys, sent as `X-Api-Key` (no login needed).
pub const KEYS: [(&str, &str); 2] = [("alice", "key-alice-7f3a91"), ("bob", "key-bob-2c9e64")];

#[derive(Default)]
struct State {
    passwords: HashMap<String, String>,
    tokens: HashMap<String, String>,
    next: u64,
    /// Requests answered, for the `rate-limit` shape.
    served: u64,
    notes: BTreeMap<String, Value>,
    posts: BTreeMap<String, Value>,
    boards: BTreeMap<String, Value>,
    things: BTreeMap<String, Value>,
    tickets: BTreeMap<String, Value>,
    playlists: BTreeMap<String, Value>,
    cards: BTreeMap<String, Value>,
    shelves: BTreeMap<String, Value>,
    articles: BTreeMap<String, Value>,
    wallets: BTreeMap<String, Value>,
    statements: BTreeMap<String, Value>,
    entries: Vec<Value>,
    projects: BTreeMap<String, Value>,
    tasks: BTreeMap<String, Value>,
    /// Projects deleted, kept for the `task-on-deleted-project` bug.
    deleted_projects: BTreeMap<String, Value>,
    prefs: HashMap<String, Value>,
    invoices: BTreeMap<String, Value>,
    payers: BTreeMap<String, Value>,
    boxes: BTreeMap<String, Value>,
    /// (user, Idempotency-Key) → the payer it made.
    payer_keys: HashMap<(String, String), String>,
}

impl State {
    fn seeded() -> State {
        let mut s = State::default();
        for (user, password) in USERS {
            s.passwords.insert(user.into(), password.into());
            let note = format!("note-{user}-q7");
            s.notes.insert(note.clone(), json!({"id": note, "owner": user, "text": "mine"}));
            let post = format!("post-{user}-k2");
            s.posts.insert(post.clone(), json!({"id": post, "author": user, "title": "hello"}));
            s.prefs.insert(user.into(), json!({"theme": "light"}));
        }
        s.boards.insert("board-x9".into(), json!({"id": "board-x9", "title": "team"}));
        s
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}z", self.next)
    }
}

/// The service with `bugs` planted; it stops when the returned server is dropped.
pub async fn start(bugs: &[&'static str]) -> Upstream {
    let bugs: Arc<HashSet<&'static str>> = Arc::new(bugs.iter().copied().collect());
    let state = Arc::new(Mutex::new(State::seeded()));
    Upstream::start(handler(move |req| {
        let (state, bugs) = (state.clone(), bugs.clone());
        async move { answer(&state, &bugs, req).await }
    }))
    .await
}

/// One request, from its parts.
struct Call {
    method: String,
    segments: Vec<String>,
    query: String,
    user: Option<String>,
    body: Value,
    if_match: Option<String>,
    idempotency_key: Option<String>,
}

async fn answer(
    state: &Mutex<State>,
    bugs: &HashSet<&'static str>,
    req: Request<Incoming>,
) -> Response<TestBody> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix(if bugs.contains("token-scheme") { "Token " } else { "Bearer " })
        })
        .map(str::to_string);
    let if_match = req.headers().get("if-match").and_then(|v| v.to_str().ok()).map(str::to_string);
    let api_key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
    let idempotency_key =
        req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let keyed = KEYS.iter().find(|(_, k)| Some(*k) == api_key).map(|(u, _)| u.to_string());
    let form = req
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
    let bytes = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body: Value = if form {
        let pairs = form_urlencoded::parse(&bytes).into_owned();
        Value::Object(pairs.map(|(k, v)| (k, Value::String(v))).collect())
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    if bugs.contains("overdraw-race") && method == "POST" && path.ends_with("/withdrawals") {
        // Checked, then debited a moment later without holding the state.
        let wallet = path.trim_matches('/').split('/').nth(1).unwrap_or_default().to_string();
        let balance =
            |s: &State| s.wallets.get(&wallet).map_or(0, |w| w["balance"].as_i64().unwrap_or(0));
        let enough = balance(&state.lock().expect("state")) >= body["amount"].as_i64().unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        if enough {
            let mut state = state.lock().expect("state");
            if let Some(w) = state.wallets.get_mut(&wallet) {
                w["balance"] = json!(
                    w["balance"].as_i64().unwrap_or(0) - body["amount"].as_i64().unwrap_or(0)
                );
                let answer =
                    json!({"data": {"wallet_id": wallet, "amount": body["amount"]}}).to_string();
                let response = Response::builder().status(StatusCode::CREATED);
                return response
                    .header("content-type", "application/json")
                    .body(full(answer))
                    .expect("response");
            }
        }
    }
    if bugs.contains("pay-race") && method == "POST" && path.ends_with("/pay") {
        // Checked, then debited a moment later without holding the state.
        let invoice = path.trim_matches('/').split('/').nth(1).unwrap_or_default().to_string();
        let open = |s: &State| {
            let owner = keyed.as_deref()?;
            let i = s.invoices.get(&invoice).filter(|i| i["owner"] == owner)?;
            let payer = i["payer"].as_str()?;
            let enough = s.payers.get(payer)?["balance"].as_i64()? >= i["amount"].as_i64()?;
            (i["status"] == "open" && enough)
                .then(|| (payer.to_string(), i["amount"].as_i64().unwrap_or(0)))
        };
        let checked = open(&state.lock().expect("state"));
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        if let Some((payer, amount)) = checked {
            let mut state = state.lock().expect("state");
            if let Some(p) = state.payers.get_mut(&payer) {
                p["balance"] = json!(p["balance"].as_i64().unwrap_or(0) - amount);
            }
            let answer = match state.invoices.get_mut(&invoice) {
                Some(i) => {
                    i["status"] = json!("paid");
                    i.to_string()
                }
                None => String::new(),
            };
            let response = Response::builder().status(StatusCode::OK);
            return response
                .header("content-type", "application/json")
                .body(full(answer))
                .expect("response");
        }
    }
    let mut state = state.lock().expect("state");
    state.served += 1;
    if bugs.contains("rate-limit") && state.served.is_multiple_of(2) && path != "/__reset" {
        let refusal = Response::builder().status(StatusCode::TOO_MANY_REQUESTS);
        let refusal = refusal.header("retry-after", "0").header("content-type", "application/json");
        return refusal.body(full(r#"{"error":"slow down"}"#.to_string())).expect("response");
    }
    let user = token.and_then(|t| state.tokens.get(&t).cloned()).or(keyed);
    let segments = path.trim_matches('/').split('/').map(str::to_string).collect();
    let call = Call { method, segments, query, user, body, if_match, idempotency_key };
    let (status, json) = route(&mut state, bugs, &call);
    let mut response = Response::builder().status(status);
    let card = json["id"].as_str().is_some_and(|id| id.starts_with("card"));
    if call.segments == ["me", "prefs"] && status == StatusCode::OK || card {
        response = response.header("etag", format!("\"{}\"", fingerprint(&json)));
    }
    let text = match () {
        () if json.is_null() => String::new(),
        // A shape rather than a bug: JSON behind a UTF-8 byte order mark,
        // as some frameworks send it.
        () if bugs.contains("bom") => format!("\u{feff}{json}"),
        () => json.to_string(),
    };
    response.header("content-type", "application/json").body(full(text)).expect("response")
}

type Answer = (StatusCode, Value);

fn route(s: &mut State, bugs: &HashSet<&'static str>, c: &Call) -> Answer {
    let seg: Vec<&str> = c.segments.iter().map(String::as_str).collect();
    match (c.method.as_str(), seg.as_slice()) {
        ("POST", ["__reset"]) => {
            *s = State::seeded();
            (StatusCode::NO_CONTENT, Value::Null)
        }
        ("POST", ["login"]) => login(s, &c.body),
        _ => {
            let Some(user) = c.user.clone() else { return refuse(StatusCode::UNAUTHORIZED) };
            authenticated(s, bugs, c, &user, &seg)
        }
    }
}

fn authenticated(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    match (c.method.as_str(), seg) {
        ("POST", ["logout"]) => {
            if !bugs.contains("session-after-logout") {
                s.tokens.retain(|_, u| u != user);
            }
            (StatusCode::NO_CONTENT, Value::Null)
        }
        ("GET", ["notes"]) => list(&s.notes, |n| n["owner"] == user, "notes"),
        ("GET", ["notes", id]) => {
            let leak = bugs.contains("note-leak");
            read(&s.notes, id, |n| leak || n["owner"] == user)
        }
        ("GET", ["posts"]) => list(&s.posts, |_| true, "posts"),
        ("GET", ["posts", id]) => read(&s.posts, id, |_| true),
        ("POST", ["posts", id, "like"]) => match s.posts.get_mut(*id) {
            Some(post) => {
                post["likes"] = json!(post["likes"].as_u64().unwrap_or(0) + 1);
                (StatusCode::OK, post.clone())
            }
            None => refuse(StatusCode::NOT_FOUND),
        },
        ("GET", ["boards"]) => list(&s.boards, |_| true, "boards"),
        ("GET", ["boards", id]) => read(&s.boards, id, |_| true),
        ("PATCH", ["boards", id]) => patch(&mut s.boards, id, &c.body, "title"),
        ("POST", ["boards", _, "cards"]) | (_, ["cards", ..]) => cards(s, bugs, c, user, seg),
        (_, ["shelves", name]) => shelves(s, bugs, c, user, name),
        (_, ["articles", ..]) => articles(s, bugs, c, user, seg),
        (_, ["wallets" | "statements" | "entries", ..]) => wallets(s, bugs, c, user, seg),
        (_, ["projects", ..]) => projects(s, bugs, c, user, seg),
        (_, ["things", ..]) => things(s, bugs, c, user, seg),
        (_, ["tickets", ..]) => tickets(s, bugs, c, user, seg),
        (_, ["playlists", ..]) => playlists(s, bugs, c, user, seg),
        (_, ["me", ..] | ["accounts", ..]) => accounts(s, bugs, c, user, seg),
        (_, ["invoices" | "refunds" | "payers", ..]) => invoices(s, bugs, c, user, seg),
        (_, ["boxes", ..]) => boxes(s, bugs, c, user, seg),
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

fn login(s: &mut State, body: &Value) -> Answer {
    let (Some(user), Some(password)) = (body["username"].as_str(), body["password"].as_str())
    else {
        return refuse(StatusCode::BAD_REQUEST);
    };
    if s.passwords.get(user).map(String::as_str) != Some(password) {
        return refuse(StatusCode::UNAUTHORIZED);
    }
    let token = format!("tok-{}-{}", user, s.fresh_id("t"));
    s.tokens.insert(token.clone(), user.to_string());
    (StatusCode::OK, json!({ "token": token }))
}

/// Things are soft-deleted: their read answers 404 once archived, and the
/// owner's `GET /things?state=archived` still lists them.
fn things(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let mine = |t: &Value| t["owner"] == user;
    match (c.method.as_str(), seg) {
        ("POST", ["things"]) => {
            let id = s.fresh_id("thing");
            let thing =
                json!({"id": id, "owner": user, "title": c.body["title"], "state": "active"});
            s.things.insert(id, thing.clone());
            (StatusCode::CREATED, thing)
        }
        ("GET", ["things"]) => {
            let wanted = if c.query.contains("state=archived") { "archived" } else { "active" };
            list(&s.things, |t| mine(t) && t["state"] == wanted, "things")
        }
        ("GET", ["things", id]) => read(&s.things, id, |t| mine(t) && t["state"] == "active"),
        ("DELETE", ["things", id]) => match s.things.get_mut(*id).filter(|t| mine(t)) {
            Some(t) if t["state"] == "active" => {
                t["state"] = json!("archived");
                (StatusCode::NO_CONTENT, Value::Null)
            }
            _ => refuse(StatusCode::NOT_FOUND),
        },
        ("POST", ["things", id, "rename"]) => match s.things.get_mut(*id).filter(|t| mine(t)) {
            Some(t) if t["state"] == "active" || bugs.contains("rename-archived") => {
                t["title"] = c.body["title"].clone();
                (StatusCode::NO_CONTENT, Value::Null)
            }
            Some(_) => refuse(StatusCode::CONFLICT),
            None => refuse(StatusCode::NOT_FOUND),
        },
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Tickets have no read: their answers are all there is to see.
fn tickets(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    match (c.method.as_str(), seg) {
        ("POST", ["tickets"]) => {
            let id = s.fresh_id("ticket");
            let ticket = json!({"id": id, "owner": user, "status": "open"});
            s.tickets.insert(id, ticket.clone());
            (StatusCode::CREATED, ticket)
        }
        ("POST", ["tickets", id, "close"]) => {
            let anyone = bugs.contains("ticket-cross");
            match s.tickets.get_mut(*id).filter(|t| anyone || t["owner"] == user) {
                Some(t) => {
                    t["status"] = json!("closed");
                    (StatusCode::OK, t.clone())
                }
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Cards are made on a board and live at `/cards/{id}` ("shallow"
/// nesting): `todo` → `doing` (start) → `done` (finish, a point scored);
/// dropped from `todo` or `doing`.
fn cards(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let (from, to): (&[&str], &str) = match (c.method.as_str(), seg) {
        ("POST", ["boards", board, "cards"]) => {
            if !s.boards.contains_key(*board) {
                return refuse(StatusCode::NOT_FOUND);
            }
            let id = s.fresh_id("card");
            let card =
                json!({"id": id, "owner": user, "board": board, "state": "todo", "points": 0});
            s.cards.insert(id, card.clone());
            return (StatusCode::CREATED, card);
        }
        ("GET", ["cards", id]) => return read(&s.cards, id, |c| c["owner"] == user),
        ("POST", ["cards", _, "start"]) => (&["todo"], "doing"),
        ("POST", ["cards", _, "finish"]) => {
            match (bugs.contains("finish-todo"), bugs.contains("finish-twice")) {
                (true, true) => (&["todo", "doing", "done"], "done"),
                (true, false) => (&["todo", "doing"], "done"),
                (false, true) => (&["doing", "done"], "done"),
                (false, false) => (&["doing"], "done"),
            }
        }
        ("POST", ["cards", _, "drop"]) => (&["todo", "doing"], "dropped"),
        ("PATCH", ["cards", id]) => return edit_card(s, bugs, c, user, id),
        _ => return refuse(StatusCode::NOT_FOUND),
    };
    let Some(card) = s.cards.get_mut(seg[1]).filter(|c| c["owner"] == user) else {
        return refuse(StatusCode::NOT_FOUND);
    };
    if !from.iter().any(|state| card["state"] == *state) {
        return refuse(StatusCode::CONFLICT);
    }
    card["state"] = json!(to);
    if to == "done" {
        card["points"] = json!(card["points"].as_u64().unwrap_or(0) + 1);
    }
    (StatusCode::OK, card.clone())
}

/// A card's title, changed with its `ETag` in `If-Match` (428 without,
/// 412 when stale) while it is open (`todo`, `doing`).
fn edit_card(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    id: &str,
) -> Answer {
    let Some(card) = s.cards.get_mut(id).filter(|c| c["owner"] == user) else {
        return refuse(StatusCode::NOT_FOUND);
    };
    match &c.if_match {
        None => return refuse(StatusCode::PRECONDITION_REQUIRED),
        Some(tag) if *tag != format!("\"{}\"", fingerprint(card)) => {
            return refuse(StatusCode::PRECONDITION_FAILED)
        }
        Some(_) => {}
    }
    let open = card["state"] == "todo" || card["state"] == "doing";
    if !open && !(bugs.contains("edit-done") && card["state"] == "done") {
        return refuse(StatusCode::CONFLICT);
    }
    card["title"] = c.body["title"].clone();
    (StatusCode::OK, card.clone())
}

/// Shelves are named by their owner (`PUT /shelves/{name}`: `201` when
/// new, `200` when the owner relabels it, `403` for anyone else).
fn shelves(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    name: &str,
) -> Answer {
    match (c.method.as_str(), s.shelves.get_mut(name)) {
        ("GET", Some(shelf)) if shelf["owner"] == user => (StatusCode::OK, shelf.clone()),
        ("PUT", None) => {
            let shelf = json!({"name": name, "owner": user, "label": c.body["label"]});
            s.shelves.insert(name.to_string(), shelf.clone());
            (StatusCode::CREATED, shelf)
        }
        ("PUT", Some(shelf)) if shelf["owner"] == user || bugs.contains("shelf-overwrite") => {
            shelf["label"] = c.body["label"].clone();
            (StatusCode::OK, shelf.clone())
        }
        ("PUT", Some(_)) => refuse(StatusCode::FORBIDDEN),
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Articles are their author's while `draft` and anyone's once
/// `published`.
fn articles(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let visible = |a: &Value| {
        a["author"] == user || a["status"] == "published" || bugs.contains("draft-leak")
    };
    match (c.method.as_str(), seg) {
        ("POST", ["articles"]) => {
            let id = s.fresh_id("art");
            let article =
                json!({"id": id, "author": user, "title": c.body["title"], "status": "draft"});
            s.articles.insert(id, article.clone());
            (StatusCode::CREATED, article)
        }
        ("GET", ["articles", id]) => read(&s.articles, id, visible),
        ("POST", ["articles", id, "publish"]) => {
            match s.articles.get_mut(*id).filter(|a| a["author"] == user) {
                Some(a) if a["status"] == "draft" => {
                    a["status"] = json!("published");
                    (StatusCode::OK, a.clone())
                }
                Some(_) => refuse(StatusCode::CONFLICT),
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Wallets: `{"data": …}` answers, state in `frozen_at`, withdrawals
/// refused `409` while frozen (bug `withdraw-frozen`) and `422` beyond the
/// balance (bug `overdraw-race`: checked, then debited a moment later, see
/// `answer`); statements (`202`) and entries are their owner's (bugs
/// `statement-leak`, `entries-leak`).
fn wallets(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let data = |v: &Value| json!({ "data": v });
    let mine = |w: &Value| w["owner"] == user;
    match (c.method.as_str(), seg) {
        ("POST", ["wallets"]) => {
            let id = s.fresh_id("wallet");
            let wallet = json!({"id": id, "owner": user, "balance": 0, "frozen_at": null,
                "created_at": "2026-12-07T09:00:00Z"});
            s.wallets.insert(id, wallet.clone());
            (StatusCode::CREATED, data(&wallet))
        }
        ("GET", ["wallets", id]) => match s.wallets.get(*id).filter(|w| mine(w)) {
            Some(w) => (StatusCode::OK, data(w)),
            None => refuse(StatusCode::NOT_FOUND),
        },
        ("GET", ["statements", id]) => {
            let leak = bugs.contains("statement-leak");
            match s.statements.get(*id).filter(|st| leak || st["owner"] == user) {
                Some(st) => (StatusCode::OK, data(st)),
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        ("GET", ["entries"]) => {
            let wanted = c.query.strip_prefix("wallet_id=").unwrap_or_default();
            let leak = bugs.contains("entries-leak");
            if !s.wallets.get(wanted).is_some_and(|w| leak || mine(w)) {
                return refuse(StatusCode::NOT_FOUND);
            }
            let shown: Vec<&Value> =
                s.entries.iter().filter(|e| e["wallet_id"] == wanted).collect();
            (StatusCode::OK, json!({ "data": shown }))
        }
        ("POST", ["wallets", id, action]) => {
            let statement = s.fresh_id("stmt");
            let Some(w) = s.wallets.get_mut(*id).filter(|w| mine(w)) else {
                return refuse(StatusCode::NOT_FOUND);
            };
            let amount = c.body["amount"].as_i64().unwrap_or(0);
            let frozen = !w["frozen_at"].is_null();
            match *action {
                "freeze" if !frozen => w["frozen_at"] = json!("2026-12-07T10:00:00Z"),
                "unfreeze" if frozen => w["frozen_at"] = Value::Null,
                "deposits" if amount > 0 => {
                    w["balance"] = json!(w["balance"].as_i64().unwrap_or(0) + amount)
                }
                "withdrawals" if frozen && !bugs.contains("withdraw-frozen") => {
                    return refuse(StatusCode::CONFLICT)
                }
                "withdrawals" if amount > 0 && w["balance"].as_i64().unwrap_or(0) >= amount => {
                    w["balance"] = json!(w["balance"].as_i64().unwrap_or(0) - amount)
                }
                "withdrawals" => return refuse(StatusCode::UNPROCESSABLE_ENTITY),
                "statements" => {
                    let st = json!({"id": statement, "owner": user, "wallet_id": id, "status": "pending"});
                    s.statements.insert(statement.clone(), st);
                    return (
                        StatusCode::ACCEPTED,
                        json!({"data": {"id": statement, "status": "pending"}}),
                    );
                }
                "freeze" | "unfreeze" => return refuse(StatusCode::CONFLICT),
                _ => return refuse(StatusCode::NOT_FOUND),
            }
            let wallet = w.clone();
            if matches!(*action, "deposits" | "withdrawals") {
                let entry = json!({"wallet_id": id, "kind": action, "amount": amount});
                s.entries.push(entry.clone());
                return (StatusCode::CREATED, data(&entry));
            }
            (StatusCode::OK, data(&wallet))
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Projects are the team's: anyone may read them and add tasks, numbered
/// from 1 in each project; only alice may delete one (bug
/// `member-deletes-project`), and tasks are refused on a deleted one (bug
/// `task-on-deleted-project`).
fn projects(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    match (c.method.as_str(), seg) {
        ("POST", ["projects"]) => {
            let Some(slug) = c.body["slug"].as_str() else {
                return refuse(StatusCode::BAD_REQUEST);
            };
            if s.projects.contains_key(slug) {
                return refuse(StatusCode::CONFLICT);
            }
            let project = json!({"slug": slug, "owner": user, "tasks": 0});
            s.projects.insert(slug.to_string(), project.clone());
            (StatusCode::CREATED, project)
        }
        ("GET", ["projects", slug]) => read(&s.projects, slug, |_| true),
        ("DELETE", ["projects", slug]) => {
            if user != "alice" && !bugs.contains("member-deletes-project") {
                return refuse(StatusCode::FORBIDDEN);
            }
            match s.projects.remove(*slug) {
                Some(p) => {
                    s.deleted_projects.insert(slug.to_string(), p);
                    (StatusCode::NO_CONTENT, Value::Null)
                }
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        ("POST", ["projects", slug, "tasks"]) => {
            let ghost = bugs.contains("task-on-deleted-project");
            let project = match s.projects.get_mut(*slug) {
                Some(p) => p,
                None => match s.deleted_projects.get_mut(*slug).filter(|_| ghost) {
                    Some(p) => p,
                    None => return refuse(StatusCode::NOT_FOUND),
                },
            };
            let number = project["tasks"].as_u64().unwrap_or(0) + 1;
            project["tasks"] = json!(number);
            let task = json!({"number": number, "title": c.body["title"], "state": "open"});
            let key = format!("{slug}/{number}");
            s.tasks.insert(key, task.clone());
            (StatusCode::CREATED, task)
        }
        ("GET", ["projects", slug, "tasks", n]) if s.projects.contains_key(*slug) => {
            read(&s.tasks, &format!("{slug}/{n}"), |_| true)
        }
        ("POST", ["projects", slug, "tasks", n, "done"]) if s.projects.contains_key(*slug) => {
            match s.tasks.get_mut(&format!("{slug}/{n}")) {
                Some(t) if t["state"] == "open" => {
                    t["state"] = json!("done");
                    (StatusCode::OK, t.clone())
                }
                Some(_) => refuse(StatusCode::CONFLICT),
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Invoices of an API without a login (`invoice-leak`, `refund-twice`):
/// amounts in form fields, as text.
fn invoices(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let amount = |v: &Value| v.as_str().and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
    let mine = |i: &Value| i["owner"] == user;
    match (c.method.as_str(), seg) {
        ("POST", ["payers"]) => {
            let key = c.idempotency_key.clone().filter(|_| !bugs.contains("payer-idempotency"));
            if let Some(made) =
                key.as_ref().and_then(|k| s.payer_keys.get(&(user.into(), k.clone())))
            {
                return (StatusCode::OK, s.payers[made].clone());
            }
            let id = s.fresh_id("payer");
            let payer = json!({"id": id, "owner": user, "balance": amount(&c.body["balance"])});
            s.payers.insert(id.clone(), payer.clone());
            if let Some(k) = key {
                s.payer_keys.insert((user.into(), k), id);
            }
            (StatusCode::OK, payer)
        }
        ("GET", ["payers", id]) => match s.payers.get(*id).filter(|p| mine(p)) {
            Some(p) if p["deleted"] == true => (StatusCode::OK, json!({"id": id, "deleted": true})),
            Some(p) => (StatusCode::OK, p.clone()),
            None => refuse(StatusCode::NOT_FOUND),
        },
        ("DELETE", ["payers", id]) => match s.payers.get_mut(*id).filter(|p| mine(p)) {
            Some(p) => {
                p["deleted"] = json!(true);
                (StatusCode::OK, json!({"id": id, "deleted": true}))
            }
            None => refuse(StatusCode::NOT_FOUND),
        },
        ("POST", ["invoices"]) => {
            let id = s.fresh_id("inv");
            let payer = c.body["payer"].as_str();
            let usable = |p: &Value| {
                mine(p) && (p["deleted"] != true || bugs.contains("invoice-deleted-payer"))
            };
            if payer.is_some_and(|p| !s.payers.get(p).is_some_and(usable)) {
                return refuse(StatusCode::BAD_REQUEST);
            }
            let invoice = json!({"id": id, "owner": user, "amount": amount(&c.body["amount"]),
                "refunded": 0, "status": "open", "payer": payer});
            s.invoices.insert(id, invoice.clone());
            (StatusCode::OK, invoice)
        }
        ("GET", ["invoices", id]) => {
            read(&s.invoices, id, |i| mine(i) || bugs.contains("invoice-leak"))
        }
        ("POST", ["invoices", id, "pay"]) => match s.invoices.get_mut(*id).filter(|i| mine(i)) {
            Some(i) if i["status"] == "open" => {
                let due = i["amount"].as_i64().unwrap_or(0);
                if let Some(p) = i["payer"].as_str().and_then(|p| s.payers.get_mut(p)) {
                    let balance = p["balance"].as_i64().unwrap_or(0);
                    if balance < due {
                        return refuse(StatusCode::PAYMENT_REQUIRED);
                    }
                    p["balance"] = json!(balance - due);
                }
                let i = s.invoices.get_mut(*id).expect("checked above");
                i["status"] = json!("paid");
                (StatusCode::OK, i.clone())
            }
            Some(_) => refuse(StatusCode::BAD_REQUEST),
            None => refuse(StatusCode::NOT_FOUND),
        },
        ("POST", ["invoices", id, "notes"]) => match s.invoices.get_mut(*id).filter(|i| mine(i)) {
            Some(i) => {
                i["note"] = c.body["text"].clone();
                (StatusCode::OK, i.clone())
            }
            None => refuse(StatusCode::NOT_FOUND),
        },
        ("POST", ["refunds"]) => {
            let id = c.body["invoice"].as_str().unwrap_or_default().to_string();
            let Some(i) = s.invoices.get_mut(&id).filter(|i| mine(i)) else {
                return refuse(StatusCode::NOT_FOUND);
            };
            let wanted = amount(&c.body["amount"]);
            let left = i["amount"].as_i64().unwrap_or(0) - i["refunded"].as_i64().unwrap_or(0);
            if i["status"] != "paid"
                || wanted <= 0
                || wanted > left && !bugs.contains("refund-twice")
            {
                return refuse(StatusCode::BAD_REQUEST);
            }
            i["refunded"] = json!(i["refunded"].as_i64().unwrap_or(0) + wanted);
            let refund = s.fresh_id("re");
            (StatusCode::OK, json!({"id": refund, "invoice": id, "amount": wanted}))
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Boxes, private or public, shared by name (`box-read-any`).
fn boxes(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    match (c.method.as_str(), seg) {
        ("POST", ["boxes"]) => {
            let id = s.fresh_id("box");
            let visibility = c.body["visibility"].as_str().unwrap_or("private");
            let made = json!({"id": id, "owner": user, "visibility": visibility, "shared": []});
            s.boxes.insert(id, made.clone());
            (StatusCode::CREATED, made)
        }
        ("GET", ["boxes", id]) => read(&s.boxes, id, |b| {
            b["owner"] == user
                || b["visibility"] == "public"
                || b["shared"].as_array().is_some_and(|s| s.iter().any(|u| u == user))
                || bugs.contains("box-read-any")
        }),
        ("PUT", ["boxes", id, "shares", who]) => {
            match s.boxes.get_mut(*id).filter(|b| b["owner"] == user) {
                Some(b) => {
                    if let Some(shared) = b["shared"].as_array_mut() {
                        shared.push(json!(who));
                    }
                    (StatusCode::OK, json!({"box": id, "user": who}))
                }
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Tracks live inside their playlist and are read only through it.
fn playlists(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let anyone = bugs.contains("track-cross");
    match (c.method.as_str(), seg) {
        ("POST", ["playlists"]) => {
            let id = s.fresh_id("list");
            let playlist = json!({"id": id, "owner": user, "name": c.body["name"], "tracks": []});
            s.playlists.insert(id, playlist.clone());
            (StatusCode::CREATED, playlist)
        }
        ("GET", ["playlists", id]) => read(&s.playlists, id, |p| p["owner"] == user),
        ("POST", ["playlists", id, "tracks"]) => {
            let track_id = s.fresh_id("track");
            let Some(p) = s.playlists.get_mut(*id).filter(|p| p["owner"] == user) else {
                return refuse(StatusCode::NOT_FOUND);
            };
            let track = json!({"id": track_id, "song": c.body["song"]});
            p["tracks"].as_array_mut().expect("tracks").push(track.clone());
            (StatusCode::CREATED, track)
        }
        ("PATCH", ["playlists", id, "tracks", track]) => {
            let Some(p) = s.playlists.get_mut(*id).filter(|p| anyone || p["owner"] == user) else {
                return refuse(StatusCode::NOT_FOUND);
            };
            let tracks = p["tracks"].as_array_mut().expect("tracks");
            match tracks.iter_mut().find(|t| t["id"] == *track) {
                Some(t) => {
                    t["song"] = c.body["song"].clone();
                    (StatusCode::OK, json!({"ok": true}))
                }
                None => refuse(StatusCode::NOT_FOUND),
            }
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

/// Accounts (named by `GET /me`), their password, and `/me/prefs`.
fn accounts(
    s: &mut State,
    bugs: &HashSet<&'static str>,
    c: &Call,
    user: &str,
    seg: &[&str],
) -> Answer {
    let account = |name: &str| json!({"id": format!("acct-{name}"), "username": name});
    match (c.method.as_str(), seg) {
        ("GET", ["me"]) => (StatusCode::OK, account(user)),
        ("GET", ["me", "prefs"]) => (StatusCode::OK, s.prefs[user].clone()),
        ("PUT", ["me", "prefs"]) => {
            s.prefs.insert(user.to_string(), json!({"theme": c.body["theme"]}));
            (StatusCode::OK, s.prefs[user].clone())
        }
        ("GET", ["accounts", id]) if *id == format!("acct-{user}") => {
            (StatusCode::OK, account(user))
        }
        ("PATCH", ["accounts", id]) => {
            let Some(name) = id.strip_prefix("acct-").filter(|n| s.passwords.contains_key(*n))
            else {
                return refuse(StatusCode::NOT_FOUND);
            };
            if name != user && !bugs.contains("account-takeover") {
                return refuse(StatusCode::FORBIDDEN);
            }
            let Some(password) = c.body["password"].as_str() else {
                return refuse(StatusCode::BAD_REQUEST);
            };
            s.passwords.insert(name.to_string(), password.to_string());
            (StatusCode::NO_CONTENT, Value::Null)
        }
        _ => refuse(StatusCode::NOT_FOUND),
    }
}

fn list(items: &BTreeMap<String, Value>, keep: impl Fn(&Value) -> bool, name: &str) -> Answer {
    let shown: Vec<&Value> = items.values().filter(|v| keep(v)).collect();
    (StatusCode::OK, json!({ name: shown }))
}

fn read(items: &BTreeMap<String, Value>, id: &str, allowed: impl Fn(&Value) -> bool) -> Answer {
    match items.get(id).filter(|v| allowed(v)) {
        Some(v) => (StatusCode::OK, v.clone()),
        None => refuse(StatusCode::NOT_FOUND),
    }
}

fn patch(items: &mut BTreeMap<String, Value>, id: &str, body: &Value, field: &str) -> Answer {
    match items.get_mut(id) {
        Some(v) => {
            v[field] = body[field].clone();
            (StatusCode::OK, v.clone())
        }
        None => refuse(StatusCode::NOT_FOUND),
    }
}

fn refuse(status: StatusCode) -> Answer {
    (status, json!({ "error": status.canonical_reason().unwrap_or("refused") }))
}

/// A validator for a JSON value.
fn fingerprint(value: &Value) -> u32 {
    value
        .to_string()
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}
