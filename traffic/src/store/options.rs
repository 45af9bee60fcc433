//! What a recording is asked to do: how it groups exchanges into sessions,
//! whether it redacts, and how much may queue for the writer. Its own file
//! so that the recording (which starts the writer) and the writer (which
//! follows the options) both depend on it, not on each other.

use std::time::Duration;

use crate::capture::DEFAULT_CAPTURE_QUEUE;
use crate::store::Store;
use crate::{ExtraNames, Redactor, SessionRules, DEFAULT_IDLE_GAP};

/// How a recording groups and protects what it writes.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// How exchanges are grouped into sessions (`--session-by`).
    pub session_rules: SessionRules,
    /// Quiet time after which a key starts a new session (`--idle-gap`).
    pub idle_gap: Duration,
    /// Replace secrets by pseudonyms before writing (off: `--keep-secrets`).
    pub redact: bool,
    /// Field and header names redacted on top of the built-in ones
    /// (`--redact-field`, `--redact-header`).
    pub extra_secrets: ExtraNames,
    /// Exchanges that may wait for the writer before captures are dropped
    /// (16384 by default).
    pub queue: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            session_rules: SessionRules::default(),
            idle_gap: DEFAULT_IDLE_GAP,
            redact: true,
            extra_secrets: ExtraNames::default(),
            queue: DEFAULT_CAPTURE_QUEUE,
        }
    }
}

impl RecordOptions {
    /// The redactor these options write `store` with; `None` when secrets
    /// are kept.
    pub fn redactor(&self, store: &Store) -> Option<Redactor> {
        self.redact.then(|| store.redactor().with_extra_names(self.extra_secrets.clone()))
    }
}
