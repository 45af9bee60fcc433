//! Cross-session links: a value one session's response produced and
//! another session consumed (a code issued to one user and redeemed by
//! another, an id one user shares with a second role).
//!
//! Only values that can travel between users are offered: ids of six or
//! more characters that are not plain numbers (small integers collide
//! across sessions, and restart after every reset) and not pseudonyms
//! (credentials are never shared). The first session to produce a value is
//! its issuer. A request value its own session never produced is looked up
//! here; a hit is a link marked `cross_session`, and the consuming journey
//! records which other journey's step fed it, so replay can run that one
//! first.
//!
//! A value another session *made* (its create answered it, or its create
//! request chose it as a key) that a session found by itself (in a list it
//! read, or typed as a slug) is no link but a dependency: the instance had
//! to exist. The consuming journey records how far the making session had
//! got by then, so replay runs that much of it first. A value first seen in
//! a read (a seeded instance) is no one's making.

use std::collections::HashMap;
use std::fmt::Write;

use crate::evidence::Candidate;
use crate::model::Model;

/// Values issued across all sessions before the index stops adding: the
/// memory bound of a very large recording.
const ISSUED_CAP: usize = 1 << 18;

/// A value's issuer: the session, step and producer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Issued {
    pub session: u32,
    pub step: u32,
    pub key: u32,
    pub exact: u32,
    /// A key the issuer's request chose: nothing to bind, only a dependency.
    pub sent: bool,
    /// Issued by a write (a create): the instance is the issuer's making.
    pub write: bool,
}

/// A request value fed by another session: consumer step and location,
/// producing session, step and location (interned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RawCross {
    pub at_step: u32,
    pub to: u32,
    pub session: u32,
    pub step: u32,
    pub from: u32,
}

/// An instance another session made, used by a session that was not
/// handed it: consumer step, making session, and that session's steps so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RawDependency {
    pub at_step: u32,
    pub session: u32,
    pub after_steps: u32,
}

#[derive(Debug, Default)]
struct Tally {
    producers: HashMap<u32, u64>,
    first_value: Option<Box<str>>,
    varied: bool,
    sessions: u64,
}

/// Every value offered for other sessions, and the cross-session
/// observations per consumer location.
#[derive(Debug, Default)]
pub(crate) struct CrossIndex {
    issued: HashMap<Box<str>, Issued>,
    tallies: HashMap<(u32, u32), Tally>,
    /// Steps seen so far, by session number (numbers are dense).
    progress: Vec<u32>,
}

/// Whether a value (already worth indexing: an id) can travel from one
/// user to another: long enough, not a number, not a credential.
fn can_travel(value: &str) -> bool {
    value.len() >= 6 && !value.starts_with("~r:") && !value.bytes().all(|b| b.is_ascii_digit())
}

impl CrossIndex {
    /// Offers a value a session produced; the first session keeps it.
    pub(crate) fn offer(&mut self, value: &str, session: u32, c: Candidate) {
        if self.issued.len() >= ISSUED_CAP || !can_travel(value) || self.issued.contains_key(value)
        {
            return;
        }
        let issued = Issued {
            session,
            step: c.step,
            key: c.key,
            exact: c.exact,
            sent: c.sent,
            write: c.write,
        };
        self.issued.insert(value.into(), issued);
    }

    /// The issuer of a value, when it is another session.
    pub(crate) fn lookup(&self, value: &str, session: u32) -> Option<Issued> {
        self.issued.get(value).copied().filter(|i| i.session != session)
    }

    /// Notes that `session` has seen `steps` steps.
    pub(crate) fn advance(&mut self, session: u32, steps: u32) {
        let at = session as usize;
        if self.progress.len() <= at {
            self.progress.resize(at + 1, 0);
        }
        self.progress[at] = steps;
    }

    /// The dependency of step `at_step` of `session` on a value another
    /// session made (created, or chose as a create's key), if it is one.
    pub(crate) fn made_elsewhere(
        &self,
        value: &str,
        session: u32,
        at_step: u32,
    ) -> Option<RawDependency> {
        if !can_travel(value) {
            return None;
        }
        let issued = self.lookup(value, session).filter(|i| i.write || i.sent)?;
        let progress = self.progress.get(issued.session as usize).copied().unwrap_or(0);
        let after_steps = progress.max(issued.step + 1);
        Some(RawDependency { at_step, session: issued.session, after_steps })
    }

    /// Counts one cross-session consumption at (consumer action, location).
    pub(crate) fn observe(&mut self, consumer: u32, to: u32, key: u32, value: &str) {
        let tally = self.tallies.entry((consumer, to)).or_default();
        *tally.producers.entry(key).or_default() += 1;
        tally.sessions += 1;
        match &tally.first_value {
            None => tally.first_value = Some(value.into()),
            Some(first) => tally.varied |= **first != *value,
        }
    }

    /// Per consumer location, its most frequent producer and count;
    /// a value consumed several times and never varying is a constant.
    pub(crate) fn links(&self) -> Vec<(u32, u32, u32, u64)> {
        let mut out = Vec::new();
        for ((consumer, to), tally) in &self.tallies {
            if tally.sessions > 1 && !tally.varied {
                continue;
            }
            let best =
                tally.producers.iter().max_by_key(|(key, n)| (**n, std::cmp::Reverse(**key)));
            if let Some((key, n)) = best {
                out.push((*consumer, *to, *key, *n));
            }
        }
        out
    }
}

/// The text view's lines for cross-session links and the journeys that
/// consume other journeys' values; nothing when there are none.
pub(crate) fn write_cross_session(out: &mut String, model: &Model) {
    let links: Vec<_> = model.links.iter().filter(|l| l.cross_session).collect();
    if !links.is_empty() {
        let _ = writeln!(out, "\ncross-session links ({})", links.len());
        for l in links {
            let _ = writeln!(
                out,
                "  {} {}  ⇐  another session's {} {} {}  (×{})",
                l.consumer, l.to, l.producer, l.status, l.from, l.count
            );
        }
    }
    let consuming: Vec<_> =
        model.journeys.iter().enumerate().filter(|(_, j)| !j.consumes.is_empty()).collect();
    if !consuming.is_empty() {
        let _ = writeln!(out, "\njourneys consuming other journeys' values ({})", consuming.len());
        for (i, journey) in consuming {
            for c in &journey.consumes {
                let _ = writeln!(
                    out,
                    "  journey {i} step {} {}  ⇐  journey {} step {} {}",
                    c.step, c.to, c.journey, c.journey_step, c.from
                );
            }
        }
    }
    let depending: Vec<_> =
        model.journeys.iter().enumerate().filter(|(_, j)| !j.depends_on.is_empty()).collect();
    if !depending.is_empty() {
        let _ =
            writeln!(out, "\njourneys using instances other journeys made ({})", depending.len());
        for (i, journey) in depending {
            for d in &journey.depends_on {
                let _ = writeln!(
                    out,
                    "  journey {i} from step {}  ⇐  the first {} steps of journey {}",
                    d.step, d.after_steps, d.journey
                );
            }
        }
    }
}
