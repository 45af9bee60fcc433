//! Putting the target back in its known state before a sequence: the
//! configured request or command, tried again with a growing pause when it
//! fails (real reset endpoints fail now and then), and an error that shows
//! the last answer when every try failed.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::run::client::SendError;
use crate::run::execute::{snippet, Runner};
use crate::run::request::{BodyTemplate, RequestTemplate, Segment};
use crate::setup::config::ResetHow;

/// The pause before the second try; each later pause is four times the one before.
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// The longest pause between two tries.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// How one try of a reset ended.
enum Tried {
    Done,
    /// Failed; worth another try.
    Failed(Error),
}

impl Runner<'_> {
    /// Puts the target back in its known state, trying up to `[reset] tries`
    /// times; the error is the last try's.
    pub async fn reset(&self) -> Result<(), Error> {
        let Some(reset) = self.reset else { return Ok(()) };
        let tries = reset.tries.max(1);
        let mut pause = FIRST_PAUSE;
        let mut k = 1;
        loop {
            let last = match self.try_reset(&reset.how).await? {
                Tried::Done => return Ok(()),
                Tried::Failed(e) => e,
            };
            if k == tries {
                return Err(after_tries(last, tries));
            }
            tracing::debug!(try_ = k, error = %last, "the reset failed; trying again");
            tokio::time::sleep(pause).await;
            pause = (pause * 4).min(LONGEST_PAUSE);
            k += 1;
        }
    }

    /// Runs an exploration hook (`which`: `checkpoint` or `rollback`) for
    /// the checkpoint `name`, once.
    pub async fn hook(&self, which: &'static str, how: &ResetHow, name: &str) -> Result<(), Error> {
        let named = match how {
            ResetHow::Request { method, path } => {
                ResetHow::Request { method: method.clone(), path: path.replace("{name}", name) }
            }
            ResetHow::Command(command) => ResetHow::Command(command.replace("{name}", name)),
        };
        match self.try_reset(&named).await? {
            Tried::Done => Ok(()),
            Tried::Failed(Error::Reset { how, message }) => {
                Err(Error::Hook { which, how, message })
            }
            Tried::Failed(other) => Err(other),
        }
    }

    /// One try; `Err` only for what no retry can mend (a bad method name).
    async fn try_reset(&self, how: &ResetHow) -> Result<Tried, Error> {
        match how {
            ResetHow::Request { method, path } => self.reset_request(method, path).await,
            ResetHow::Command(command) => Ok(self.reset_command(command).await),
        }
    }

    async fn reset_request(&self, method: &str, path: &str) -> Result<Tried, Error> {
        let how = format!("{method} {path}");
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| Error::Reset { how: how.clone(), message: e.to_string() })?;
        let template = RequestTemplate {
            action: Arc::from(how.as_str()),
            method,
            segments: vec![Segment::Literal(path.to_string())],
            query: Vec::new(),
            headers: Vec::new(),
            idempotency_key: None,
            content_type: None,
            body: BodyTemplate::None,
            credential_scheme: None,
            local: false,
        };
        let reply = match self.client.send(&template, &template.draft()).await {
            Ok((_, reply)) => reply,
            // The target may be coming up: worth another try.
            Err(unreachable @ SendError::Unreachable(_)) => {
                return Ok(Tried::Failed(self.client.stopped(unreachable)));
            }
            // A refused certificate is refused again.
            Err(untrusted @ SendError::Untrusted(_)) => return Err(self.client.stopped(untrusted)),
        };
        if reply.ok() {
            return Ok(Tried::Done);
        }
        let answer = match reply.status {
            0 => reply.body.clone(),
            status => format!("answered {status}: {}", snippet(&reply.body)),
        };
        Ok(Tried::Failed(Error::Reset { how, message: answer }))
    }

    async fn reset_command(&self, command: &str) -> Tried {
        let output = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(self.dir)
            .output()
            .await;
        let message = match output {
            Ok(output) if output.status.success() => return Tried::Done,
            Ok(output) => {
                format!("{}: {}", output.status, snippet(&String::from_utf8_lossy(&output.stderr)))
            }
            Err(e) => e.to_string(),
        };
        Tried::Failed(Error::Reset { how: command.to_string(), message })
    }
}

/// The last try's error, saying how many tries there were.
fn after_tries(last: Error, tries: u32) -> Error {
    match last {
        Error::Reset { how, message } if tries > 1 => {
            Error::Reset { how, message: format!("{message} (the last of {tries} tries)") }
        }
        other => other,
    }
}
