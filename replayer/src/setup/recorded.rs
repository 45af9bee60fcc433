//! The recorded exchanges a run replays: the journeys' steps name exchanges
//! by id, and their requests give the literal values (bodies, query strings,
//! headers) that no earlier response produced.

use std::collections::HashMap;
use std::path::Path;

use venomqa_learner::Model;
use venomqa_traffic::{Exchange, Redactor, Store};

use crate::error::Error;

/// The recorded exchanges of a model's journeys, by id.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    exchanges: HashMap<u64, Exchange>,
    /// The store's redactor, when read from a store: what a test user's
    /// own key would have been recorded as.
    redactor: Option<Redactor>,
}

impl Recorded {
    /// From exchanges already in memory (an import, a test).
    pub fn from_exchanges(exchanges: impl IntoIterator<Item = Exchange>) -> Recorded {
        Recorded { exchanges: exchanges.into_iter().map(|e| (e.id, e)).collect(), redactor: None }
    }

    /// These exchanges, recorded by a store that `redactor` is keyed for.
    pub fn with_redactor(mut self, redactor: Redactor) -> Recorded {
        self.redactor = Some(redactor);
        self
    }

    /// Reads the exchanges the model's journeys refer to from an open store.
    pub fn from_store(store: &Store, model: &Model) -> Result<Recorded, Error> {
        let mut exchanges = HashMap::new();
        for step in model.journeys.iter().flat_map(|j| &j.steps) {
            if exchanges.contains_key(&step.exchange) {
                continue;
            }
            if let Some(exchange) = store.get(step.exchange)? {
                exchanges.insert(step.exchange, exchange);
            }
        }
        Ok(Recorded { exchanges, redactor: Some(store.redactor()) })
    }

    /// Opens the store at `dir` read-only and reads what the model's journeys need.
    pub fn open(dir: &Path, model: &Model) -> Result<Recorded, Error> {
        let store = Store::open_existing(dir)?;
        Recorded::from_store(&store, model)
    }

    /// One exchange by id.
    pub fn get(&self, id: u64) -> Option<&Exchange> {
        self.exchanges.get(&id)
    }

    /// The store's redactor (none for exchanges given in memory).
    pub fn redactor(&self) -> Option<&Redactor> {
        self.redactor.as_ref()
    }

    /// Every exchange held, in no particular order.
    pub fn exchanges(&self) -> impl Iterator<Item = &Exchange> {
        self.exchanges.values()
    }

    /// How many exchanges are held.
    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }
}
