//! venomqa-replayer: replays learned journeys, mutated, against a test target,
//! judges each run with oracles and invariants, shrinks failures, reports findings.
//!
//! The smallest use: a configuration (`qa/venomqa.toml`, see [`Config`]) that
//! names the target, the test users and the model, then [`run`]:
//!
//! ```no_run
//! # async fn go() -> Result<(), venomqa_replayer::Error> {
//! use venomqa_replayer::{run, Config, Progress};
//!
//! let config = Config::load("qa/")?;
//! let outcome = run(&config, |p| if let Progress::Found(f) = p { eprintln!("{}", f.summary) }).await?;
//! println!("{} findings in {} requests", outcome.findings.len(), outcome.stats.requests);
//! # Ok(()) }
//! ```
//!
//! With a model and its exchanges already in memory, [`replay`] takes them
//! directly (`Recorded::from_exchanges`).
//!
//! The pipeline, one concept a file: `config` reads the configuration;
//! `plan` turns the model's journeys into sequences bound to live values
//! (`sequence`, `request`); `execute` sends a sequence (`client`) and reads
//! every touched instance back as its owner; `calibrate` replays each
//! journey twice to learn the noise; `mutate` makes the cases of each
//! [`Mutation`] family; `oracle` judges them by state (`state`); `shrink`
//! reduces each failure; `engine` runs it all within the budgets;
//! `starter` writes the starting configuration; `report` renders findings.
mod engine;
mod error;
mod mutate;
mod oracle;
mod run;
mod setup;
mod shrink;

pub mod report;

pub use engine::{replay, run, Progress, RunOutcome, RunStats, TestcaseStats};
pub use error::{Error, ModelError};
pub use mutate::mutation::{Mutation, UnknownMutation};
pub use oracle::finding::*;
pub use oracle::invariant::*;
pub use setup::config::env_var;
pub use setup::config::{
    Auth, Budget, Config, ConfigError, Mutations, Report, Reset, ResetHow, ResetScope, Target,
    User, CONFIG_FILE,
};
pub use setup::recorded::Recorded;
pub use setup::starter::{starter_config, starter_config_from};
