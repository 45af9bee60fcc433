//! Checkpoints: saving the target's state after a path ran and putting it
//! back before each of the path's children, so a child costs its own last
//! request instead of a reset and a replay of the whole path.
//!
//! Three ways, one per `[explore]` setting ([`Branching`]):
//! - hooks: the user's `checkpoint` and `rollback` (a request on the target
//!   or a shell command), each given the checkpoint's name;
//! - `database = "sqlite:PATH"`: the target's SQLite file, copied out and
//!   back with SQLite's online backup API (`sqlite.rs`);
//! - `database = "postgres://…"`: the target's PostgreSQL database, each
//!   table copied into a schema of the checkpoint's own (`postgres.rs`).
//!
//! A failure in any of them is [`Error::Hook`] (exit 3), naming what failed
//! and how; a database URL's password is never shown.

mod postgres;
mod sqlite;

use crate::error::Error;
use crate::run::execute::Runner;
use crate::setup::config::{Branching, ResetHow};

/// The open means of saving and restoring states for one exploration.
pub(crate) enum Checkpoints {
    Hooks { checkpoint: ResetHow, rollback: ResetHow },
    Sqlite(sqlite::Files),
    Postgres(postgres::Schemas),
}

impl std::fmt::Debug for Checkpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Checkpoints::Hooks { .. } => "Checkpoints::Hooks",
            Checkpoints::Sqlite(_) => "Checkpoints::Sqlite",
            Checkpoints::Postgres(_) => "Checkpoints::Postgres",
        })
    }
}

impl Checkpoints {
    /// Opens what `branching` names: a database is reached (and checked to
    /// be one) now, so a wrong path or URL stops the run before it starts.
    pub async fn open(branching: &Branching) -> Result<Checkpoints, Error> {
        Ok(match branching {
            Branching::Hooks { checkpoint, rollback } => {
                Checkpoints::Hooks { checkpoint: checkpoint.clone(), rollback: rollback.clone() }
            }
            Branching::Sqlite(path) => Checkpoints::Sqlite(sqlite::Files::open(path).await?),
            Branching::Postgres(url) => Checkpoints::Postgres(postgres::Schemas::open(url).await?),
        })
    }

    /// Saves the target's state under `name`.
    pub async fn save(&mut self, runner: &Runner<'_>, name: &str) -> Result<(), Error> {
        match self {
            Checkpoints::Hooks { checkpoint, .. } => {
                runner.hook("checkpoint", checkpoint, name).await
            }
            Checkpoints::Sqlite(files) => files.save(name).await,
            Checkpoints::Postgres(schemas) => schemas.save(name).await,
        }
    }

    /// Puts back the state saved under `name`.
    pub async fn restore(&mut self, runner: &Runner<'_>, name: &str) -> Result<(), Error> {
        match self {
            Checkpoints::Hooks { rollback, .. } => runner.hook("rollback", rollback, name).await,
            Checkpoints::Sqlite(files) => files.restore(name).await,
            Checkpoints::Postgres(schemas) => schemas.restore(name).await,
        }
    }

    /// Lets go of every saved state (the files, the schemas); the hooks'
    /// states are the target's to keep or drop.
    pub async fn close(self) {
        match self {
            Checkpoints::Hooks { .. } => {}
            Checkpoints::Sqlite(files) => files.close(),
            Checkpoints::Postgres(schemas) => schemas.close().await,
        }
    }
}

/// The error of a built-in checkpoint: `which` (`checkpoint` or
/// `rollback`) failed on `how` (the database, shown without its password).
fn failed(which: &'static str, how: &str, message: impl std::fmt::Display) -> Error {
    Error::Hook { which, how: how.to_string(), message: message.to_string() }
}
