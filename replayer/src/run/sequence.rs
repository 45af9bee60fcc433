//! What a run sends: a [`Sequence`] of steps, each a call (or N copies of
//! it, or two different calls at once) whose linked values are named by
//! [`Bind`]s to earlier steps, never by recorded values.
//!
//! A step's `origin` is its identity for bindings: the journey step it came
//! from, or a fresh number for an inserted step. A binding reads the latest
//! executed step with that origin, so duplicating, dropping or moving steps
//! keeps every link pointing at the right live response.

use std::sync::Arc;

use venomqa_learner::Location;

use crate::run::request::RequestTemplate;

/// Origins of inserted steps start here, above any journey's length.
pub(crate) const INSERTED: u32 = 1 << 20;

/// A request value bound to an earlier step's live response.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Bind {
    pub to: Location,
    pub origin: u32,
    pub from: Location,
}

/// One request to send.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub template: Arc<RequestTemplate>,
    pub binds: Vec<Bind>,
    /// The test user whose credentials it carries (through its auth binds),
    /// or whom it logs in.
    pub user: Option<usize>,
    /// A login of `user`: its body is filled with the user's fields.
    pub login: bool,
    /// A logout: a 2xx kills the credentials it carried.
    pub logout: bool,
    /// Makes the recorded `Idempotency-Key` map to another fresh key.
    pub idem_salt: u32,
    /// Append a marker to the body's strings (a visible change).
    pub marker: bool,
    /// The resource (index) an instance of which this call creates.
    pub creates: Option<usize>,
    /// The resource (index) whose instance is named in the path.
    pub acts_on: Option<usize>,
    /// A read that names an instance in its query instead
    /// (`GET /transactions?account_id=…`): the resource (index) and the
    /// query key.
    pub scoped_by: Option<(usize, String)>,
}

impl Call {
    /// A login of `user` with the login action's recorded request.
    pub fn login(template: &Arc<RequestTemplate>, user: usize) -> Call {
        Call {
            template: template.clone(),
            binds: Vec::new(),
            user: Some(user),
            login: true,
            logout: false,
            idem_salt: 0,
            marker: false,
            creates: None,
            acts_on: None,
            scoped_by: None,
        }
    }

    pub fn action(&self) -> &str {
        &self.template.action
    }

    pub fn is_read(&self) -> bool {
        self.template.method == reqwest::Method::GET
            || self.template.method == reqwest::Method::HEAD
    }

    /// The origins this call needs to have run before it.
    pub fn needs(&self) -> impl Iterator<Item = u32> + '_ {
        self.binds.iter().map(|b| b.origin)
    }
}

/// What a step is for, so oracles and shrinking can find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Context: may be shrunk away.
    Plain,
    /// The step the mutation is about; never shrunk away.
    Focus,
}

/// One step of a sequence.
#[derive(Clone, Debug)]
pub(crate) struct SeqStep {
    pub origin: u32,
    pub call: Call,
    /// Copies sent at once (1: a plain request).
    pub copies: u32,
    /// A different call sent at the same time as the copies.
    pub partner: Option<Call>,
    pub role: Role,
    /// Each request of a concurrent step after the first leaves this much
    /// later than the one before it, so the first is inside its slow section
    /// (a race window is rarely shorter than a millisecond or two).
    pub stagger: std::time::Duration,
}

impl SeqStep {
    pub fn plain(origin: u32, call: Call) -> SeqStep {
        SeqStep {
            origin,
            call,
            copies: 1,
            partner: None,
            role: Role::Plain,
            stagger: std::time::Duration::ZERO,
        }
    }

    pub fn focus(mut self) -> SeqStep {
        self.role = Role::Focus;
        self
    }

    pub fn is_concurrent(&self) -> bool {
        self.copies > 1 || self.partner.is_some()
    }

    /// `POST /orders`, `2x POST /orders/{order_id}/refund`, or two actions sent at once.
    pub fn label(&self) -> String {
        let mut label = if self.copies > 1 {
            format!("{}x {}", self.copies, self.call.action())
        } else {
            self.call.action().to_string()
        };
        if let Some(p) = &self.partner {
            // Sent at the same time: the order is not part of the name.
            let (a, b) = (self.call.action(), p.action());
            label = if a <= b { format!("{a} || {b}") } else { format!("{b} || {a}") };
        }
        label
    }
}

/// Steps to send in order, from one journey.
#[derive(Clone, Debug)]
pub(crate) struct Sequence {
    pub journey: usize,
    pub steps: Vec<SeqStep>,
}

impl Sequence {
    /// Whether every binding names a step that runs before it.
    pub fn buildable(&self) -> bool {
        let mut seen: Vec<u32> = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let calls = std::iter::once(&step.call).chain(step.partner.as_ref());
            for call in calls {
                if call.needs().any(|o| !seen.contains(&o)) {
                    return false;
                }
            }
            seen.push(step.origin);
        }
        true
    }

    /// The actions as findings show them.
    pub fn labels(&self) -> Vec<String> {
        self.steps.iter().map(SeqStep::label).collect()
    }

    /// Index of the first focus step.
    pub fn focus(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.role == Role::Focus)
    }

    /// The same steps with each one's origin its position (bindings
    /// follow), as a journey's own steps are numbered: what a path that
    /// exploration extends step by step must look like. `None` when a
    /// binding names a step that is not in the sequence.
    pub fn renumbered(&self) -> Option<Sequence> {
        let position = |origin: u32| self.steps.iter().position(|s| s.origin == origin);
        let mut steps = self.steps.clone();
        for (i, step) in steps.iter_mut().enumerate() {
            step.origin = u32::try_from(i).ok()?;
            let calls = std::iter::once(&mut step.call).chain(step.partner.as_mut());
            for call in calls {
                for b in &mut call.binds {
                    b.origin = u32::try_from(position(b.origin)?).ok()?;
                }
            }
        }
        Some(Sequence { journey: self.journey, steps })
    }

    /// A fresh origin for an inserted step.
    pub fn fresh_origin(&self) -> u32 {
        self.steps
            .iter()
            .map(|s| s.origin)
            .filter(|o| *o >= INSERTED)
            .max()
            .map_or(INSERTED, |o| o + 1)
    }
}
