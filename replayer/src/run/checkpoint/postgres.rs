//! PostgreSQL checkpoints: each table of the target's database copied into
//! a schema of the checkpoint's own (`venomqa_ckpt_<name>`), in one
//! repeatable-read transaction so the copy is one moment's state, with the
//! sequences' positions; a rollback empties every table and copies the rows
//! back, parents before children, and puts the sequences back, in one
//! transaction. The target keeps its connections: PostgreSQL's locks make
//! its requests wait for the rollback, never see half of it.
//!
//! `CREATE DATABASE … TEMPLATE` would copy faster, but only from a database
//! nobody is connected to, so the target would have to be cut off and
//! reconnect at every branch; copying tables needs nothing of the target.
//! Generated columns are computed again, identity columns keep their values
//! (`OVERRIDING SYSTEM VALUE`); a foreign-key cycle between tables must be
//! `DEFERRABLE` to be restored.

use std::collections::{BTreeMap, HashMap, HashSet};

use tokio_postgres::{Client, IsolationLevel, NoTls, Transaction};

use super::failed;
use crate::error::Error;
use crate::setup::config::DatabaseUrl;

/// Schemas of saved states start with this; they are never copied themselves.
const PREFIX: &str = "venomqa_ckpt_";

/// One table of the target's database.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Table {
    schema: String,
    name: String,
}

impl Table {
    fn quoted(&self) -> String {
        format!("{}.{}", ident(&self.schema), ident(&self.name))
    }
}

/// A saved state: its schema and the tables it holds a copy of (`t0`, `t1`, …).
struct Saved {
    schema: String,
    tables: Vec<Table>,
}

/// The connection to the target's database and the states saved in it.
pub(crate) struct Schemas {
    client: Client,
    saved: HashMap<String, Saved>,
    /// The URL without its password, for messages.
    how: String,
}

impl Schemas {
    /// Connects to the target's database.
    pub async fn open(url: &DatabaseUrl) -> Result<Schemas, Error> {
        let how = url.redacted();
        let (client, connection) = tokio_postgres::connect(&url.0, NoTls)
            .await
            .map_err(|e| failed("checkpoint", &how, format!("cannot connect: {}", describe(&e))))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("the checkpoint connection to PostgreSQL ended: {e}");
            }
        });
        Ok(Schemas { client, saved: HashMap::new(), how })
    }

    /// Copies every table (and the sequences' positions) into the schema of
    /// checkpoint `name`.
    pub async fn save(&mut self, name: &str) -> Result<(), Error> {
        let schema = format!("{PREFIX}{}", safe(name));
        let how = self.how.clone();
        let fail = |e: tokio_postgres::Error| failed("checkpoint", &how, describe(&e));
        let tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(fail)?;
        let tables = tables(&tx).await.map_err(fail)?;
        let mut sql =
            format!("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0};", ident(&schema));
        for (i, table) in tables.iter().enumerate() {
            sql.push_str(&format!(
                "CREATE TABLE {}.t{i} AS SELECT * FROM {};",
                ident(&schema),
                table.quoted()
            ));
        }
        sql.push_str(&format!(
            "CREATE TABLE {}.sequences AS SELECT schemaname::text AS schema, sequencename::text AS name, \
             last_value, start_value FROM pg_sequences \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE '{PREFIX}%';",
            ident(&schema)
        ));
        tx.batch_execute(&sql).await.map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        self.saved.insert(name.to_string(), Saved { schema, tables });
        Ok(())
    }

    /// Puts every table and sequence back as checkpoint `name` saved them.
    pub async fn restore(&mut self, name: &str) -> Result<(), Error> {
        let how = self.how.clone();
        let Some(saved) = self.saved.get(name) else {
            return Err(failed("rollback", &how, format!("no state was saved as `{name}`")));
        };
        let fail = |e: tokio_postgres::Error| failed("rollback", &how, describe(&e));
        let tx = self.client.transaction().await.map_err(fail)?;
        let now = tables(&tx).await.map_err(fail)?;
        if now != saved.tables {
            let (was, is): (HashSet<_>, HashSet<_>) =
                (saved.tables.iter().collect(), now.iter().collect());
            let mut changed: Vec<String> =
                was.symmetric_difference(&is).map(|t| t.quoted()).collect();
            changed.sort();
            return Err(failed(
                "rollback",
                &how,
                format!(
                    "the database's tables changed since `{name}` was saved: {}",
                    changed.join(", ")
                ),
            ));
        }
        let copies: HashMap<&Table, usize> =
            saved.tables.iter().enumerate().map(|(i, t)| (t, i)).collect();
        let mut sql = String::from("SET CONSTRAINTS ALL DEFERRED;");
        if !now.is_empty() {
            let all: Vec<String> = now.iter().map(Table::quoted).collect();
            sql.push_str(&format!("TRUNCATE {};", all.join(", ")));
        }
        for table in parents_first(&tx, &now).await.map_err(fail)? {
            let columns = columns(&tx, &table).await.map_err(fail)?.join(", ");
            sql.push_str(&format!(
                "INSERT INTO {} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {}.t{};",
                table.quoted(),
                ident(&saved.schema),
                copies[&table]
            ));
        }
        sql.push_str(&format!(
            "SELECT setval(format('%I.%I', schema, name), COALESCE(last_value, start_value), last_value IS NOT NULL) \
             FROM {}.sequences WHERE to_regclass(format('%I.%I', schema, name)) IS NOT NULL;",
            ident(&saved.schema)
        ));
        tx.batch_execute(&sql).await.map_err(fail)?;
        tx.commit().await.map_err(fail)
    }

    /// Drops every saved state's schema.
    pub async fn close(self) {
        for saved in self.saved.values() {
            let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", ident(&saved.schema));
            if let Err(e) = self.client.batch_execute(&drop).await {
                tracing::warn!(
                    "could not drop the checkpoint schema {}: {}",
                    saved.schema,
                    describe(&e)
                );
            }
        }
    }
}

/// The ordinary tables of the database, saved states' schemas left out.
async fn tables(tx: &Transaction<'_>) -> Result<Vec<Table>, tokio_postgres::Error> {
    let rows = tx
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE $1 \
             ORDER BY 1, 2",
            &[&format!("{}%", PREFIX.replace('_', "\\_"))],
        )
        .await?;
    Ok(rows.iter().map(|r| Table { schema: r.get(0), name: r.get(1) }).collect())
}

/// `tables` in an order where every table comes after those its foreign
/// keys point to; tables in a cycle come last, in name order (their
/// constraints must be deferrable).
async fn parents_first(
    tx: &Transaction<'_>,
    tables: &[Table],
) -> Result<Vec<Table>, tokio_postgres::Error> {
    let rows = tx
        .query(
            "SELECT cn.nspname::text, c.relname::text, pn.nspname::text, p.relname::text \
             FROM pg_constraint k \
             JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace \
             JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace \
             WHERE k.contype = 'f'",
            &[],
        )
        .await?;
    let mut parents: BTreeMap<Table, HashSet<Table>> =
        tables.iter().map(|t| (t.clone(), HashSet::new())).collect();
    for r in &rows {
        let child = Table { schema: r.get(0), name: r.get(1) };
        let parent = Table { schema: r.get(2), name: r.get(3) };
        if child != parent && parents.contains_key(&parent) {
            if let Some(set) = parents.get_mut(&child) {
                set.insert(parent);
            }
        }
    }
    let mut ordered = Vec::with_capacity(tables.len());
    loop {
        let ready: Vec<Table> =
            parents.iter().filter(|(_, p)| p.is_empty()).map(|(t, _)| t.clone()).collect();
        if ready.is_empty() {
            break;
        }
        for table in &ready {
            parents.remove(table);
            for p in parents.values_mut() {
                p.remove(table);
            }
        }
        ordered.extend(ready);
    }
    ordered.extend(parents.into_keys());
    Ok(ordered)
}

/// The columns of `table` a row can be given, quoted: generated ones are
/// computed again.
async fn columns(
    tx: &Transaction<'_>,
    table: &Table,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = tx
        .query(
            "SELECT a.attname::text FROM pg_attribute a \
             WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass \
             AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
            &[&table.schema, &table.name],
        )
        .await?;
    Ok(rows.iter().map(|r| ident(r.get(0))).collect())
}

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A checkpoint name as part of a schema name.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

/// What the server said (message, detail, hint), or the client's error.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_string();
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; {hint}"));
            }
            text
        }
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    //! Against a real PostgreSQL server (`venomqa_testkit::postgres`).

    use super::*;
    use venomqa_testkit::postgres::Postgres;

    const SCHEMA: &str = "
        CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
        CREATE TABLE orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer int NOT NULL REFERENCES customers (id),
            amount int NOT NULL,
            doubled int GENERATED ALWAYS AS (amount * 2) STORED,
            status text NOT NULL
        );
        CREATE TABLE categories (id serial PRIMARY KEY, parent int REFERENCES categories (id));
        CREATE SCHEMA audit;
        CREATE TABLE audit.log (id serial PRIMARY KEY, what text NOT NULL);
        INSERT INTO customers (name) VALUES ('alice'), ('bob');
        INSERT INTO orders (customer, amount, status) VALUES (1, 500, 'created'), (2, 700, 'paid');
        INSERT INTO categories (parent) VALUES (NULL), (1), (2);
        INSERT INTO audit.log (what) VALUES ('created 1'), ('paid 2');
    ";

    /// Everything a target would read back, as text.
    async fn contents(client: &Client) -> Vec<String> {
        let mut out = Vec::new();
        for query in [
            "SELECT id::text || ':' || name FROM customers ORDER BY id",
            "SELECT id::text || ':' || customer || ':' || amount || ':' || doubled || ':' || status FROM orders ORDER BY id",
            "SELECT id::text || ':' || coalesce(parent::text, '-') FROM categories ORDER BY id",
            "SELECT id::text || ':' || what FROM audit.log ORDER BY id",
        ] {
            for row in client.query(query, &[]).await.expect(query) {
                out.push(row.get::<_, String>(0));
            }
        }
        out
    }

    async fn connect(url: &str) -> Client {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connects");
        tokio::spawn(connection);
        client
    }

    #[tokio::test]
    async fn a_rollback_puts_back_every_table_and_sequence_while_the_target_stays_connected() {
        let Some(pg) = Postgres::start("postgres checkpoints") else { return };
        let admin = connect(&pg.url("postgres")).await;
        admin.batch_execute("CREATE DATABASE shop").await.expect("create the database");
        // The target: connected all along, as a service's pool would be.
        let target = connect(&pg.url("shop")).await;
        target.batch_execute(SCHEMA).await.expect("the schema");
        let before = contents(&target).await;

        let url = DatabaseUrl(pg.url("shop"));
        let mut schemas = Schemas::open(&url).await.expect("opens");
        schemas.save("venomqa-1").await.expect("saves");

        target
            .batch_execute(
                "INSERT INTO customers (name) VALUES ('carol');
                 UPDATE orders SET status = 'shipped', amount = 1 WHERE id = 2;
                 DELETE FROM orders WHERE id = 1;
                 INSERT INTO orders (customer, amount, status) VALUES (3, 900, 'created');
                 INSERT INTO categories (parent) VALUES (3);
                 DELETE FROM audit.log;",
            )
            .await
            .expect("the target changes things");
        assert_ne!(contents(&target).await, before);

        schemas.restore("venomqa-1").await.expect("restores");
        assert_eq!(contents(&target).await, before, "{}", pg.log());
        // The sequences are back too: the next rows get the ids they would have.
        let next: i64 = target
            .query_one("INSERT INTO orders (customer, amount, status) VALUES (1, 5, 'created') RETURNING id", &[])
            .await
            .expect("insert")
            .get(0);
        let next_customer: i32 = target
            .query_one("INSERT INTO customers (name) VALUES ('dave') RETURNING id", &[])
            .await
            .expect("insert")
            .get(0);
        assert_eq!((next, next_customer), (3, 3));

        // Twice from the same checkpoint, and from a later one.
        schemas.save("venomqa-2").await.expect("saves again");
        let second = contents(&target).await;
        schemas.restore("venomqa-1").await.expect("restores again");
        assert_eq!(contents(&target).await, before);
        schemas.restore("venomqa-2").await.expect("restores the second");
        assert_eq!(contents(&target).await, second);

        // A state never saved, and tables that changed since: named.
        let err = schemas.restore("venomqa-9").await.expect_err("unknown").to_string();
        assert!(err.contains("no state was saved as `venomqa-9`"), "{err}");
        target.batch_execute("CREATE TABLE coupons (code text)").await.expect("a new table");
        let err = schemas.restore("venomqa-1").await.expect_err("tables changed").to_string();
        assert!(err.contains("tables changed") && err.contains("\"public\".\"coupons\""), "{err}");

        // Closing drops the saved states' schemas.
        schemas.close().await;
        let left: i64 = target
            .query_one("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'venomqa_ckpt_%'", &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_reached_is_named_without_its_password() {
        let Some(pg) = Postgres::start("postgres checkpoints unreachable") else { return };
        let wrong = DatabaseUrl(format!(
            "postgres://postgres:s3cret@127.0.0.1:{}/no_such_database",
            pg.port
        ));
        let err = Schemas::open(&wrong).await.err().expect("refused").to_string();
        assert!(err.contains("cannot connect") && err.contains("no_such_database"), "{err}");
        assert!(err.contains("postgres:***@") && !err.contains("s3cret"), "{err}");
    }
}
