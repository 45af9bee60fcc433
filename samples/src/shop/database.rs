//! The shop on SQLite (`venomqa sample serve --db sqlite:PATH`): the same
//! rules and bugs as in memory, with every change written through to a
//! database file, so a tool that saves and restores that file (exploration's
//! SQLite checkpoints) branches the shop's state the way it would a real
//! service's.
//!
//! The file is the truth. The shop keeps the state in memory to answer, and
//! asks SQLite on every request whether another connection changed the file
//! (`PRAGMA data_version`); when one did (a checkpoint restored with the
//! backup API, a `sqlite3` session), it reads the whole state back first.
//! Each change rewrites the tables in one transaction: a sample's few
//! hundred orders, not a production schema.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::lifecycle::OrderStatus;
use super::records::{Order, State, StoredPayment};
use super::USERS;

/// How long a request waits for another connection's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    item TEXT NOT NULL,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    charged INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    note TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    username TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    username TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (username, idempotency_key)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
";

/// Why the shop's database cannot be used; names the file.
#[derive(Debug, thiserror::Error)]
#[error("the shop's database {}: {source}", path.display())]
pub struct DatabaseError {
    path: PathBuf,
    #[source]
    source: rusqlite::Error,
}

/// The shop's connection to its database file.
pub(crate) struct Database {
    path: PathBuf,
    conn: Connection,
    /// `PRAGMA data_version` when the state in memory was last read or
    /// written: another connection's commit changes it.
    seen: i64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Database {
    /// Opens (creating when missing) the database at `path` and reads the
    /// state it holds: a restarted shop keeps its orders.
    pub fn open(path: &Path) -> Result<(Database, State), DatabaseError> {
        let fail = |source| DatabaseError { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        let mut db = Database { path: path.to_path_buf(), conn, seen: 0 };
        let state = db.load().map_err(fail)?;
        Ok((db, state))
    }

    /// The state as the file now holds it, when another connection changed
    /// the file since this one last read or wrote it.
    pub fn changed_elsewhere(&mut self) -> Result<Option<State>, DatabaseError> {
        let version = self.data_version().map_err(|e| self.error(e))?;
        if version == self.seen {
            return Ok(None);
        }
        self.load().map(Some).map_err(|e| self.error(e))
    }

    /// Writes the whole state, in one transaction.
    pub fn save(&mut self, state: &State) -> Result<(), DatabaseError> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| DatabaseError { path: self.path.clone(), source: e })?;
        let written = write_state(&tx, state).and_then(|()| tx.commit());
        written.map_err(|e| self.error(e))?;
        self.seen = self.data_version().map_err(|e| self.error(e))?;
        Ok(())
    }

    fn load(&mut self) -> rusqlite::Result<State> {
        let tx = self.conn.transaction()?;
        let state = read_state(&tx)?;
        tx.commit()?;
        self.seen = self.data_version()?;
        Ok(state)
    }

    fn data_version(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA data_version", [], |row| row.get(0))
    }

    fn error(&self, source: rusqlite::Error) -> DatabaseError {
        DatabaseError { path: self.path.clone(), source }
    }
}

fn write_state(tx: &Transaction<'_>, state: &State) -> rusqlite::Result<()> {
    tx.execute_batch("DELETE FROM orders; DELETE FROM sessions; DELETE FROM payments;")?;
    let mut insert = tx.prepare(
        "INSERT INTO orders (id, owner, item, amount, status, charged, refunded, note, version, seq, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let live = state.orders.values().map(|o| (o, false));
    for (o, deleted) in live.chain(state.archive.values().map(|o| (o, true))) {
        insert.execute(params![
            o.id,
            o.owner,
            o.item,
            o.amount,
            o.status.name(),
            o.charged,
            o.refunded,
            o.note,
            o.version,
            o.seq,
            deleted
        ])?;
    }
    let mut insert = tx.prepare("INSERT INTO sessions (token, username) VALUES (?1, ?2)")?;
    for (token, user) in &state.sessions {
        insert.execute(params![token, user])?;
    }
    let mut insert = tx.prepare(
        "INSERT INTO payments (username, idempotency_key, order_id, answer) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for ((user, key), stored) in &state.payments {
        let answer = serde_json::to_string(&stored.answer)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        insert.execute(params![user, key, stored.order_id, answer])?;
    }
    tx.execute(
        "INSERT INTO counters (name, value) VALUES ('next_seq', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![state.next_seq],
    )?;
    Ok(())
}

fn read_state(tx: &Transaction<'_>) -> rusqlite::Result<State> {
    let mut state = State::default();
    let mut select = tx.prepare(
        "SELECT id, owner, item, amount, status, charged, refunded, note, version, seq, deleted FROM orders",
    )?;
    let rows = select.query_map([], |row| {
        let status: String = row.get(4)?;
        let order = Order {
            id: row.get(0)?,
            owner: row.get(1)?,
            item: row.get(2)?,
            amount: row.get(3)?,
            status: status_named(&status, 4)?,
            charged: row.get(5)?,
            refunded: row.get(6)?,
            note: row.get(7)?,
            version: row.get(8)?,
            seq: row.get(9)?,
        };
        Ok((order, row.get::<_, bool>(10)?))
    })?;
    for row in rows {
        let (order, deleted) = row?;
        let table = if deleted { &mut state.archive } else { &mut state.orders };
        table.insert(order.id.clone(), order);
    }
    let mut select = tx.prepare("SELECT token, username FROM sessions")?;
    let rows =
        select.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
    for row in rows {
        let (token, name) = row?;
        // A session of a user the shop does not have cannot log anyone in.
        if let Some(user) = USERS.iter().find(|u| u.username == name) {
            state.sessions.insert(token, user.username);
        }
    }
    let mut select =
        tx.prepare("SELECT username, idempotency_key, order_id, answer FROM payments")?;
    let rows = select.query_map([], |row| {
        let answer: String = row.get(3)?;
        let answer: Order = serde_json::from_str(&answer).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
        })?;
        Ok(((row.get(0)?, row.get(1)?), StoredPayment { order_id: row.get(2)?, answer }))
    })?;
    state.payments = rows.collect::<rusqlite::Result<HashMap<_, _>>>()?;
    state.next_seq = tx
        .query_row("SELECT value FROM counters WHERE name = 'next_seq'", [], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    Ok(state)
}

fn status_named(name: &str, column: usize) -> rusqlite::Result<OrderStatus> {
    OrderStatus::named(name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            format!("`{name}` is not an order status").into(),
        )
    })
}
