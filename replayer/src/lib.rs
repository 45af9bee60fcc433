//! venomqa-replayer: replays learned journeys, mutated, against a test target,
//! checks each run with oracles and invariants, shrinks failures, reports findings.
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
//! directly ([`Recorded::from_exchanges`]).
//!
//! # The public names
//! - Running: [`run`], [`replay`], [`Progress`], [`RunOutcome`] (with
//!   [`RunOutcome::report_context`] for the reports), [`RunStats`],
//!   [`TestcaseStats`]; [`Error`] and [`ModelError`] when a run cannot be made.
//! - Configuring: [`Config`] and its parts [`Target`], [`Reset`],
//!   [`ResetHow`], [`ResetScope`], [`Auth`], [`User`], [`Mutations`],
//!   [`Budget`], [`Report`]; [`ConfigError`], [`CONFIG_FILE`], [`env_var`];
//!   the starting file `venomqa init` writes: [`starter_config`],
//!   [`starter_config_from`].
//! - The recording: [`Recorded`].
//! - Mutating: [`Mutation`] (the families), [`UnknownMutation`].
//! - Checking: [`Invariant`], [`InvariantError`], [`Position`], [`singular`]
//!   (the name an invariant sees a resource under).
//! - Findings: [`Finding`], [`OracleKind`], [`Confidence`], [`SentRequest`];
//!   rendered by the [`report`] module (terminal, JSON, JUnit, HTML, curl scripts).
//!
//! # Layout: one folder a stage
//! - `setup/`: the configuration (`config/`), the recorded exchanges
//!   (`recorded`), which actions log in and out (`auth`, from the model),
//!   the plan binding journeys to users and live values (`plan`), and the
//!   starting configuration (`starter`).
//! - `run/`: sequences of steps (`sequence`) from request templates
//!   (`request`), the HTTP `client`, executing a sequence with read-backs
//!   (`execute`), and calibrating each journey twice (`calibrate`).
//! - `mutate/`: the families (`mutation`, `families`), the case generation
//!   (`generation`, over a calibrated `journey`), and what makes two cases
//!   the same test (`relevance`).
//! - `oracle/`: one file per oracle (`server_error`, `cross_user`,
//!   `after_delete`, `stale_token`, `idempotency`, `stale_write`,
//!   `unexpected_accept`, `race`, and `invariant/` with the CEL invariants),
//!   the control requests (`control`), the JSON diff (`diff`), and the
//!   [`Finding`]s (`finding`).
//! - `engine` runs it all within the budgets, `shrink` reduces each failure,
//!   `report/` renders the findings.
//!
//! No module imports a module that imports it back, directly or through
//! others (`tests/layout.rs` checks it). The stages mostly follow the
//! pipeline; the exceptions are leaves: the configuration holds the
//! [`Invariant`]s and [`Mutation`] names it parses, the plan builds request
//! templates, and the client records [`SentRequest`]s.

mod engine;
mod error;
mod mutate;
mod oracle;
mod run;
mod setup;
mod shrink;

pub mod report;

pub use engine::{
    explore, replay, run, run_explore, Exploration, Progress, RunOutcome, RunStats, TestcaseStats,
    Transition,
};
pub use error::{Error, ModelError};
pub use mutate::mutation::{Mutation, UnknownMutation};
pub use oracle::finding::{Check, Confidence, Finding, OracleKind, SentRequest};
pub use oracle::invariant::{singular, AwkCheck, AwkField, Invariant, InvariantError, Position};
pub use setup::config::{
    env_var, Auth, Branching, Budget, Config, ConfigError, DatabaseUrl, Explore, Mutations, Report,
    Reset, ResetHow, ResetScope, Strategy, Target, UnknownStrategy, User, CONFIG_FILE,
};
pub use setup::recorded::Recorded;
pub use setup::starter::{key_header_without_login, starter_config, starter_config_from};
