//! Why a run could not be made, each with what a user can do about it, and
//! the exit code the CLI gives it.

use std::path::PathBuf;

use crate::setup::config::ConfigError;

/// Why a replay could not run (findings are not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong or incomplete.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration and the model do not fit together (an invariant on
    /// an unknown resource, no user for a recorded login, ...).
    #[error("{0}")]
    Setup(String),
    /// The model file could not be read.
    #[error("cannot read the model {}: {message}", path.display())]
    Model { path: PathBuf, message: String },
    /// The traffic store could not be read.
    #[error("cannot read the store {}: {message}", path.display())]
    Store { path: PathBuf, message: String },
    /// Nothing answers at the target.
    #[error("target {target} refused the connection; is it running? ({reason})")]
    Unreachable { target: String, reason: String },
    /// A configured user could not log in.
    #[error("user {user} could not log in: {action} answered {}{}", status.map_or("nothing".to_string(), |s| s.to_string()), if body.is_empty() { String::new() } else { format!(": {body}") })]
    Login { user: String, action: String, status: Option<u16>, body: String },
    /// The reset request or command failed.
    #[error("resetting the target failed ({how}): {message}")]
    Reset { how: String, message: String },
}

impl Error {
    /// The exit code `venomqa` gives this error: 2 for configuration and
    /// usage problems, 3 when the target or the store cannot be used.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Setup(_) | Error::Model { .. } => 2,
            // A refused login is wrong credentials in the configuration; no
            // answer or a 5xx is the target's problem.
            Error::Login { status: Some(s), .. } if (400..500).contains(s) => 2,
            Error::Login { .. } | Error::Store { .. } | Error::Unreachable { .. } => 3,
            Error::Reset { .. } => 3,
        }
    }
}
