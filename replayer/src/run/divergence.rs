//! Whether the target is the API that was recorded: replayed unmutated,
//! its answers should be of the class (2xx, 4xx, ...) and kind (JSON or
//! not) the recording saw. A web server answering `200 text/html` to
//! everything, or a different service on the port, answers most calls
//! otherwise, and a run against it must not pass as clean.

use venomqa_learner::BodyKind;

use crate::error::Error;
use crate::run::execute::Trace;
use crate::setup::plan::Plan;
use crate::setup::planner::PlannedJourney;

/// The fewest calls compared before the target is judged.
const FEWEST_COMPARED: usize = 4;

/// How many divergent calls the error names.
const NAMED: usize = 3;

/// The calls of calibrated journeys compared with the recording.
#[derive(Debug, Default)]
pub(crate) struct Divergence {
    compared: usize,
    /// Calls recorded with a JSON answer that answered something else.
    other_kind: usize,
    /// `GET /orders/{order_id}: recorded 200 JSON, answered 200 text/html`.
    differing: Vec<String>,
}

impl Divergence {
    /// Compares `trace`, a run of `journey` unmutated, with its recording.
    pub fn add(&mut self, plan: &Plan, journey: &PlannedJourney, trace: &Trace) {
        for ((step, executed), &recorded) in
            journey.sequence.steps.iter().zip(&trace.steps).zip(&journey.statuses)
        {
            let Some(reply) = executed.reply() else { continue };
            if recorded == 0 || reply.status == 0 {
                continue;
            }
            self.compared += 1;
            let action = step.call.action();
            let recorded_json = plan
                .model
                .actions
                .iter()
                .find(|a| a.id == action)
                .and_then(|a| a.responses.get(&recorded))
                .is_some_and(|r| r.body.kind == BodyKind::Json);
            let kind_differs = recorded_json && reply.json.is_none() && !reply.body.is_empty();
            self.other_kind += usize::from(kind_differs);
            if recorded / 100 != reply.status / 100 || kind_differs {
                let kind = |json: bool| if json { " JSON" } else { "" };
                let live = match reply.header("content-type") {
                    Some(t) if reply.json.is_none() => format!(" {t}"),
                    _ => kind(reply.json.is_some()).to_string(),
                };
                self.differing.push(format!(
                    "{action}: recorded {recorded}{}, answered {}{live}",
                    kind(recorded_json),
                    reply.status
                ));
            }
        }
    }

    /// The error when most compared calls answered otherwise than recorded.
    pub fn verdict(&self, target: &str) -> Result<(), Error> {
        if self.compared < FEWEST_COMPARED || 2 * self.differing.len() <= self.compared {
            return Ok(());
        }
        Err(self.error(target))
    }

    /// The error when every compared call answered with another kind of
    /// body than recorded (HTML for JSON): a refused login (after which a
    /// journey stops) is then the wrong service's doing, not the
    /// credentials'.
    pub fn other_kind(&self, target: &str) -> Result<(), Error> {
        if self.compared == 0 || self.other_kind < self.compared {
            return Ok(());
        }
        Err(self.error(target))
    }

    fn error(&self, target: &str) -> Error {
        Error::NotTheRecordedApi {
            target: target.to_string(),
            compared: self.compared,
            differing: self.differing.len(),
            first: self.differing.iter().take(NAMED).cloned().collect(),
        }
    }
}
