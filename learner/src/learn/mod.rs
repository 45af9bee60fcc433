//! The learning pipeline: two streaming passes over the exchanges, then
//! the model.
//!
//! 1. **Templates** (`templates`). Every kept path goes into the path trie,
//!    with the words each session's responses produced, so the end of the
//!    pass can decide which segments are parameters. Nothing else is kept.
//! 2. **Observations** (`observe`). Each exchange is resolved to its action,
//!    its bodies are parsed once, and the parsed values feed the action's
//!    shapes, volatility, the session's data flow and journey, and the
//!    resource's state machines.
//! 3. **The model** (`assemble`): the accumulators, finished and sorted.
//!
//! Memory is bounded by the number of actions, resources, instances and
//! sessions in progress, never by the number of exchanges: bodies are
//! borrowed from the exchange being looked at and dropped with it.

mod assemble;
mod observe;
mod templates;

use std::collections::BTreeMap;

use regex::Regex;
use venomqa_traffic::Exchange;

use crate::model::Model;
use crate::noise::NoiseRules;
use crate::resource::Resources;
use crate::Error;

use observe::Observer;
use templates::{learn_templates, Templates};

/// How to learn; `Default` is what `venomqa learn` does without flags.
#[derive(Clone, Debug)]
pub struct LearnOptions {
    /// More exchanges to ignore: matched against `"METHOD /path"` (no query).
    pub ignore: Vec<Regex>,
    /// Ignore preflights, health checks, static assets and `/__` test hooks.
    pub default_noise: bool,
    /// Distinct words a path position may have and still be literal.
    pub max_literal_values: usize,
    /// Distinct journeys kept in the model.
    pub max_journeys: usize,
    /// A session silent this long (by exchange start times) is finished and
    /// its memory freed; matches the store's idle gap or exceeds it.
    pub session_idle_ns: u64,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            ignore: Vec::new(),
            default_noise: true,
            max_literal_values: 32,
            max_journeys: 1000,
            session_idle_ns: 60 * 60 * 1_000_000_000,
        }
    }
}

/// The result of learning: the model and what went into it.
#[derive(Clone, Debug)]
pub struct Learned {
    /// The learned model.
    pub model: Model,
    /// Counts for the user: what was learned and what was ignored.
    pub summary: LearnSummary,
}

/// What `venomqa learn` prints: how much was learned from how much traffic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LearnSummary {
    /// Exchanges read.
    pub exchanges: u64,
    /// Exchanges learned from.
    pub used: u64,
    /// Exchanges ignored, by reason (`no-response`, `health-check`, ...).
    pub ignored: BTreeMap<String, u64>,
    /// Actions learned.
    pub actions: usize,
    /// Resources found.
    pub resources: usize,
    /// Data-flow links learned.
    pub links: usize,
    /// States across all state machines.
    pub states: usize,
    /// Transitions across all state machines.
    pub transitions: usize,
    /// Distinct journeys kept.
    pub journeys: usize,
    /// Sessions seen.
    pub sessions: u64,
    /// Sessions whose journey was not kept because `max_journeys` was reached.
    pub journeys_dropped: u64,
}

impl std::fmt::Display for LearnSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "learned from {} of {} exchanges in {} sessions",
            self.used, self.exchanges, self.sessions
        )?;
        writeln!(
            f,
            "  {} actions, {} resources, {} links, {} states, {} transitions, {} journeys",
            self.actions, self.resources, self.links, self.states, self.transitions, self.journeys
        )?;
        if self.journeys_dropped > 0 {
            writeln!(
                f,
                "  {} sessions beyond the journey limit were not kept as journeys",
                self.journeys_dropped
            )?;
        }
        for (reason, n) in &self.ignored {
            writeln!(f, "  ignored {n}: {reason}")?;
        }
        Ok(())
    }
}

/// Learns from two passes over the exchanges, each from a fresh call of
/// `exchanges`; the first item that is an error stops learning with it.
pub(crate) fn learn_passes<I: Iterator<Item = Result<Exchange, Error>>>(
    exchanges: impl Fn() -> I,
    options: &LearnOptions,
) -> Result<Learned, Error> {
    let noise = NoiseRules::new(options.default_noise, &options.ignore);
    let Templates { templater, total, ignored } =
        learn_templates(exchanges(), &noise, options.max_literal_values)?;
    let resources = Resources::derive(&templater.actions);
    let mut observer = Observer::new(&templater, &resources, &noise, total, options);
    for exchange in exchanges() {
        observer.observe(&exchange?);
    }
    observer.finish_sessions();
    Ok(assemble::learned(&observer, total, ignored))
}
