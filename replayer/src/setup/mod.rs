//! Before anything is sent: the configuration (`config`), the recorded
//! exchanges the model points at (`recorded`), which actions log in and out
//! (`auth`, from the model), the plan that binds the model's journeys to
//! test users and live values (`plan`), and the starting configuration
//! `venomqa init` writes (`starter`); journeys that consume another's
//! values are planned behind their producers (`consumes`).

pub(crate) mod auth;
pub(crate) mod config;
pub(crate) mod consumes;
pub(crate) mod evidence;
pub(crate) mod identities;
pub(crate) mod keys;
pub(crate) mod plan;
pub(crate) mod planner;
pub(crate) mod recorded;
pub(crate) mod starter;
pub(crate) mod users;
