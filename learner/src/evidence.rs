//! Links by evidence, not first match: when several earlier responses hold
//! the value a request carries, which one did it come from?
//!
//! Small sequential ids collide (loan 1 and hold 1 in one session) and
//! start again after a reset, so "the first response that contained the
//! same number" is often wrong. Each candidate producer is weighed, per
//! request value, by
//!
//! 1. consistency so far: a producer that, in other observations, had
//!    produced something in the session but not the value the request
//!    carried disagrees with the pairing;
//! 2. name agreement: `hold_id` ↔ a `hold_id` field, or the `id` of a
//!    `holds` response ([`crate::naming::agreement`]);
//! 3. origin: a write (a create) over a read that lists or echoes;
//! 4. a response over the request that sent the same key;
//! 5. recency: the latest (ids restart after a reset).
//!
//! The binding goes to the best candidate; the model's link, decided once
//! every session was seen, to the producer with the best record: no (or
//! rare) disagreement, then name agreement, then how often it was the best,
//! then how often it was a candidate at all.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::wire::Locations;

/// A producer of values: an action's status and where in its response (or,
/// `sent`, in its request) the value sat, with the field's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ProducerKey {
    pub action: u32,
    pub status: u16,
    /// Interned general location (array indexes as `*`).
    pub from: u32,
    pub field: Box<str>,
    pub sent: bool,
}

/// Interns producer keys so candidates stay a few integers. A key is
/// found by its integers alone (its field follows from its location), so
/// finding one allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct ProducerKeys {
    map: HashMap<(u32, u16, u32, bool), u32>,
    list: Vec<ProducerKey>,
}

impl ProducerKeys {
    /// The key of a producer; `field` is only called for a new one.
    pub(crate) fn intern(
        &mut self,
        action: u32,
        status: u16,
        from: u32,
        sent: bool,
        field: impl FnOnce() -> Box<str>,
    ) -> u32 {
        let list = &mut self.list;
        *self.map.entry((action, status, from, sent)).or_insert_with(|| {
            list.push(ProducerKey { action, status, from, field: field(), sent });
            list.len() as u32 - 1
        })
    }

    pub(crate) fn get(&self, id: u32) -> &ProducerKey {
        &self.list[id as usize]
    }
}

/// One earlier production of a value in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub key: u32,
    pub step: u32,
    /// Interned exact location (array indexes kept).
    pub exact: u32,
    /// The producer is a write (`POST`, `PUT`, `PATCH`, `DELETE`).
    pub write: bool,
    /// The value was in the producer's request: a key the client chose.
    pub sent: bool,
}

/// One producer's record for one consumer location.
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    /// Observations where it had produced the consumed value.
    agree: u64,
    /// Observations where it had produced something else in the session,
    /// but not the consumed value.
    disagree: u64,
    /// Observations where it was the best candidate.
    best: u64,
}

impl Record {
    /// Disagreements are at most rare: a quarter of the agreements.
    fn consistent(&self) -> bool {
        self.disagree * 4 <= self.agree
    }
}

/// Everything observed about one consumer location (`{hold_id}` of
/// `GET /holds/{hold_id}`): its producers' records, and whether its value
/// ever varied (a constant is no link).
#[derive(Debug, Default)]
pub(crate) struct LinkTallies {
    records: HashMap<u32, Record>,
    first_value: u64,
    varied: bool,
    first_session: u32,
    multi_session: bool,
    observed: u64,
}

/// A value's hash: what a tally remembers of a value, and how a request's
/// values are told from its response's echoes.
pub(crate) fn hash_of(value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl LinkTallies {
    /// Counts one observation of the consumer's value.
    pub(crate) fn observe_value(&mut self, value: &str, session: u32) {
        let h = hash_of(value);
        if self.observed == 0 {
            self.first_value = h;
            self.first_session = session;
        } else {
            self.varied |= self.first_value != h;
            self.multi_session |= self.first_session != session;
        }
        self.observed += 1;
    }

    /// Observations of the consumer's value.
    pub(crate) fn observed(&self) -> u64 {
        self.observed
    }

    /// Several sessions sent the same value every time: a constant.
    pub(crate) fn constant(&self) -> bool {
        self.multi_session && !self.varied
    }

    /// Weighs one observation's candidates (each with its name agreement):
    /// tallies agreement and disagreement, and returns the best candidate.
    /// `produced_in_session` holds every producer that produced anything
    /// in the session so far. `scored` is never empty.
    pub(crate) fn weigh(
        &mut self,
        scored: &[(Candidate, u8)],
        produced_in_session: &HashSet<u32>,
    ) -> Candidate {
        for (key, record) in self.records.iter_mut() {
            let candidate = scored.iter().any(|(c, _)| c.key == *key);
            if !candidate && produced_in_session.contains(key) {
                record.disagree += 1;
            }
        }
        let rank = |(i, (c, name)): (usize, &(Candidate, u8)), records: &HashMap<u32, Record>| {
            let consistent = records.get(&c.key).is_none_or(Record::consistent);
            (consistent, *name, c.write, !c.sent, i)
        };
        let best = scored
            .iter()
            .enumerate()
            .max_by_key(|entry| rank(*entry, &self.records))
            .map(|(_, (c, _))| *c)
            .unwrap_or(scored[0].0);
        for (c, _) in scored {
            self.records.entry(c.key).or_default().agree += 1;
        }
        if let Some(record) = self.records.get_mut(&best.key) {
            record.best += 1;
        }
        best
    }

    /// The producer with the best record, and how often it agreed;
    /// `agreement` gives a producer's name agreement with the consumer.
    pub(crate) fn best(
        &self,
        keys: &ProducerKeys,
        locations: &Locations,
        action_ids: &[String],
        agreement: &dyn Fn(u32) -> u8,
    ) -> Option<(u32, u64)> {
        // Ties go to the smallest (action, status, location), as before evidence.
        let order = |key: &u32| {
            let k = keys.get(*key);
            let id = action_ids.get(k.action as usize).map(String::as_str).unwrap_or("");
            Reverse((id, k.status, locations.get(k.from)))
        };
        self.records
            .iter()
            .max_by(|(ka, a), (kb, b)| {
                (a.consistent(), agreement(**ka), a.best, a.agree)
                    .cmp(&(b.consistent(), agreement(**kb), b.best, b.agree))
                    .then_with(|| order(ka).cmp(&order(kb)))
            })
            .map(|(key, record)| (*key, record.agree))
    }
}
