//! Pass 1, templates: every kept path goes into the path trie, with the
//! words each session's responses produced, so the end of the pass can
//! decide which segments are parameters. Nothing else is kept.

use std::collections::{BTreeMap, HashMap};

use venomqa_traffic::Exchange;

use crate::harvest::{harvest_words, Harvested};
use crate::noise::NoiseRules;
use crate::template::{PathTrie, Producer, Templater};
use crate::Error;

/// Words shared across sessions at most: the first pass's memory bound.
const SHARED_WORD_CAP: usize = 65_536;

/// What the first pass learned: the templates, and what it counted.
pub(super) struct Templates {
    /// Resolves a concrete request to its action.
    pub templater: Templater,
    /// Exchanges read.
    pub total: u64,
    /// Exchanges ignored, by reason (`no-response`, `health-check`, ...).
    pub ignored: BTreeMap<String, u64>,
}

/// Runs the first pass. Fails when there is nothing to learn from: no
/// exchanges, only upstream errors, or only noise.
pub(super) fn learn_templates(
    exchanges: impl Iterator<Item = Result<Exchange, Error>>,
    noise: &NoiseRules<'_>,
    max_literal_values: usize,
) -> Result<Templates, Error> {
    let mut pass = TemplatePass::default();
    for exchange in exchanges {
        pass.observe(&exchange?, noise);
    }
    pass.finish(max_literal_values)
}

/// The first pass in progress.
#[derive(Default)]
struct TemplatePass {
    trie: PathTrie,
    /// Per session, the words its responses produced so far: a later path
    /// segment equal to one of them is a value, not a literal.
    words: HashMap<String, HashMap<String, Harvested>>,
    /// Words any session produced (at most [`SHARED_WORD_CAP`]): a path
    /// segment another session produced is a value too (a repo one user
    /// made public, another user reads by its name).
    shared: HashMap<String, Harvested>,
    total: u64,
    used: u64,
    ignored: BTreeMap<String, u64>,
    /// Upstream error kinds of the exchanges without a response.
    error_kinds: BTreeMap<String, u64>,
}

impl TemplatePass {
    fn observe(&mut self, exchange: &Exchange, noise: &NoiseRules<'_>) {
        self.total += 1;
        let Some(response) = &exchange.response else {
            *self.ignored.entry("no-response".into()).or_default() += 1;
            let kind = exchange.error.as_ref().map_or("unknown", |e| e.kind.as_str());
            *self.error_kinds.entry(kind.to_string()).or_default() += 1;
            return;
        };
        let method = exchange.request.method.to_ascii_uppercase();
        let path = exchange.request.path();
        if let Some(reason) = noise.reason(&method, path) {
            *self.ignored.entry(reason).or_default() += 1;
            return;
        }
        self.used += 1;
        let produced = self.words.get(exchange.session.as_str());
        let shared = &self.shared;
        self.trie.insert(&method, path, &|w| {
            let h = produced.and_then(|p| p.get(w)).or_else(|| shared.get(w))?;
            Some(Producer { field: &h.field, sent: h.sent })
        });
        if (200..400).contains(&response.status) {
            let mut mine = self.words.remove(exchange.session.as_str()).unwrap_or_default();
            let before = mine.len();
            harvest_words(exchange, &mut mine);
            if mine.len() > before && self.shared.len() < SHARED_WORD_CAP {
                for (word, h) in &mine {
                    if self.shared.len() < SHARED_WORD_CAP && !self.shared.contains_key(word) {
                        self.shared.insert(word.clone(), h.clone());
                    }
                }
            }
            if !mine.is_empty() {
                self.words.insert(exchange.session.0.clone(), mine);
            }
        }
    }

    fn finish(self, max_literal_values: usize) -> Result<Templates, Error> {
        let TemplatePass { trie, words, shared, total, used, ignored, error_kinds } = self;
        if total == 0 {
            return Err(Error::Empty);
        }
        if used == 0 {
            if ignored.len() == 1 && ignored.contains_key("no-response") {
                return Err(Error::OnlyErrors { total, kinds: join_counts(&error_kinds) });
            }
            return Err(Error::AllIgnored { total, reasons: join_counts(&ignored) });
        }
        // The words are only needed while templating; free them before
        // finishing the trie, the pass's peak.
        drop((words, shared));
        Ok(Templates { templater: trie.finish(max_literal_values), total, ignored })
    }
}

/// `refused: 3, timeout: 1`.
fn join_counts(counts: &BTreeMap<String, u64>) -> String {
    counts.iter().map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", ")
}
