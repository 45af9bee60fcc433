//! Path templating: turning `/orders/ord_k3j5x9a2/pay` into
//! `/orders/{order_id}/pay` without ever merging two endpoints or letting an
//! id leak into a template.
//!
//! The first pass feeds every path into a [`PathTrie`]. Id-like segments
//! (numbers, UUIDs, hex, random tokens, dates) go straight to the parameter
//! child of their position, so the trie stays small however many ids flow
//! through it. Word segments stay literal children until the end of the pass,
//! when a position decides ([`PathTrie::finish`]) which words are really
//! values: words an earlier response of the same session produced (a slug
//! returned by a create), words that share the `prefix_` of the ids beside
//! them, and every word of a position with too many distinct words or with
//! many hyphenated slugs leading to the same sub-API. Low-cardinality words
//! (`/orders/pending`, `/v1`, `/api`) stay literal. A word a create request
//! of the session sent (a username chosen at sign-up, [`crate::harvest`])
//! is a value too, below the root.
//!
//! Each parameter is then named after what it holds ([`crate::naming`]):
//! the field that produced most of its values (`{username}`, `{slug}`),
//! else the collection before it (`{order_id}`), never a version segment;
//! a field-given name is never shared by two collections.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::naming::{collection_param_name, collection_word, field_param_name};
use crate::value::{classify, singular, ValueKind};

/// How many distinct words a position may hold while streaming before it is
/// folded into a parameter, whatever the final threshold: the memory bound.
const STREAM_WORD_CAP: usize = 256;

/// How many hyphenated words under one position, all leading to the same
/// sub-API, make that position a slug parameter.
const SLUG_MIN_VALUES: usize = 8;

/// One path position in the trie.
#[derive(Debug, Default)]
struct Node {
    literals: BTreeMap<String, Literal>,
    param: Option<Box<Param>>,
    /// Methods that ended at this node, with counts (first pass), then the
    /// action index of each (after [`PathTrie::finish`]).
    methods: BTreeMap<String, u64>,
    actions: BTreeMap<String, usize>,
    /// Too many distinct words were seen here: every word is a value.
    overflowed: bool,
}

#[derive(Debug, Default)]
struct Literal {
    node: Node,
    hits: u64,
    /// Times an earlier response of the session produced this word.
    produced: u64,
    /// Times an earlier create request of the session sent it (a key the
    /// client chose).
    sent: u64,
    fields: FieldCounts,
}

#[derive(Debug, Default)]
struct Param {
    node: Node,
    kinds: [u64; 7],
    prefixes: BTreeSet<String>,
    /// The fields that produced this position's values: they name it.
    fields: FieldCounts,
    name: String,
    kind: Option<ValueKind>,
}

/// Which field produced a word seen in a path: a response member (`slug`)
/// or, for a key the client chose, a member of an earlier create request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Producer<'a> {
    pub field: &'a str,
    pub sent: bool,
}

/// How often each field produced a position's words (a few fields at
/// most): the one that produced most of them names the position.
#[derive(Debug, Default)]
struct FieldCounts(BTreeMap<String, u64>);

impl FieldCounts {
    fn add(&mut self, field: &str, n: u64) {
        if self.0.contains_key(field) || self.0.len() < 8 {
            *self.0.entry(field.to_string()).or_default() += n;
        }
    }

    fn absorb(&mut self, other: &FieldCounts) {
        for (field, n) in &other.0 {
            self.add(field, *n);
        }
    }

    /// The field that produced more of the position's words than all the
    /// others together, when it says more than `id`.
    fn name(&self) -> Option<String> {
        let total: u64 = self.0.values().sum();
        let (field, n) = self.0.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
        (2 * n > total).then(|| field_param_name(field)).flatten()
    }
}

/// One segment of a learned template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// Index into the action's path parameters.
    Param(usize),
}

/// A path parameter of a learned template: its name and the kind of its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParamInfo {
    pub name: String,
    pub kind: ValueKind,
}

/// An endpoint as templating found it: what the later passes build on.
#[derive(Clone, Debug)]
pub(crate) struct ActionShape {
    pub id: String,
    pub method: String,
    pub template: String,
    pub segments: Vec<Segment>,
    pub params: Vec<ParamInfo>,
}

/// Path statistics of the first pass.
#[derive(Debug, Default)]
pub(crate) struct PathTrie {
    root: Node,
}

/// The finished templates: resolves a concrete request to its action.
#[derive(Debug)]
pub(crate) struct Templater {
    root: Node,
    pub actions: Vec<ActionShape>,
}

/// The segments of a path: empty segments (`//`, a trailing `/`) carry no meaning.
pub(crate) fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Whether a segment is a value wherever it appears.
fn is_value_segment(segment: &str) -> Option<ValueKind> {
    let kind = classify(segment);
    (kind.is_id_like() || kind == ValueKind::Timestamp).then_some(kind)
}

/// `ord` for `ord_k3j5x9a2`: ids of one collection usually share it.
fn id_prefix(segment: &str) -> Option<&str> {
    let i = segment.find(['_', '-'])?;
    ((1..=6).contains(&i) && segment[..i].bytes().all(|c| c.is_ascii_alphabetic()))
        .then(|| &segment[..i])
}

impl PathTrie {
    /// Records one request path; `produced` says which field of an earlier
    /// response (or create request) of the same session produced a segment.
    pub(crate) fn insert<'w>(
        &mut self,
        method: &str,
        path: &str,
        produced: &dyn Fn(&str) -> Option<Producer<'w>>,
    ) {
        let mut node = &mut self.root;
        for segment in segments(path) {
            let value_kind = is_value_segment(segment);
            if value_kind.is_none()
                && !node.overflowed
                && !node.literals.contains_key(segment)
                && node.literals.len() >= STREAM_WORD_CAP
            {
                node.fold_all_literals();
            }
            if value_kind.is_some() || node.overflowed {
                let param = node.param.get_or_insert_with(Default::default);
                param.kinds[value_kind.unwrap_or(ValueKind::Slug).index()] += 1;
                if let Some(prefix) = id_prefix(segment) {
                    if param.prefixes.len() < 8 {
                        param.prefixes.insert(prefix.to_string());
                    }
                }
                node = &mut param.node;
            } else {
                if !node.literals.contains_key(segment) {
                    node.literals.insert(segment.to_string(), Literal::default());
                }
                let Some(literal) = node.literals.get_mut(segment) else { return };
                literal.hits += 1;
                if let Some(p) = produced(segment) {
                    if p.sent {
                        literal.sent += 1;
                    } else {
                        literal.produced += 1;
                    }
                    literal.fields.add(p.field, 1);
                }
                node = &mut literal.node;
            }
        }
        *node.methods.entry(method.to_string()).or_default() += 1;
    }

    /// Decides every position and names every parameter.
    pub(crate) fn finish(mut self, max_literal_values: usize) -> Templater {
        self.root.decide(max_literal_values, 0);
        let mut found = Vec::new();
        let mut claimed = BTreeMap::new();
        self.root.collect(&mut Vec::new(), &mut Vec::new(), &mut claimed, &mut found);
        found.sort_by(|a, b| (&a.template, &a.method).cmp(&(&b.template, &b.method)));
        let index: HashMap<(String, String), usize> = found
            .iter()
            .enumerate()
            .map(|(i, a)| ((a.template.clone(), a.method.clone()), i))
            .collect();
        self.root.assign(&mut String::new(), &index);
        Templater { root: self.root, actions: found }
    }
}

impl Node {
    /// Moves every literal child into the parameter child.
    fn fold_all_literals(&mut self) {
        self.overflowed = true;
        let words: Vec<String> = self.literals.keys().cloned().collect();
        for word in words {
            self.fold_literal(&word);
        }
    }

    fn fold_literal(&mut self, word: &str) {
        if let Some(literal) = self.literals.remove(word) {
            let param = self.param.get_or_insert_with(Default::default);
            param.kinds[ValueKind::Slug.index()] += literal.hits;
            param.fields.absorb(&literal.fields);
            param.node.absorb(literal.node);
        }
    }

    /// Merges another subtree into this one (two spellings of one position).
    fn absorb(&mut self, other: Node) {
        for (method, count) in other.methods {
            *self.methods.entry(method).or_default() += count;
        }
        self.overflowed |= other.overflowed;
        for (word, literal) in other.literals {
            let mine = self.literals.entry(word).or_default();
            mine.hits += literal.hits;
            mine.produced += literal.produced;
            mine.sent += literal.sent;
            mine.fields.absorb(&literal.fields);
            mine.node.absorb(literal.node);
        }
        if let Some(other_param) = other.param {
            let param = self.param.get_or_insert_with(Default::default);
            for (k, v) in other_param.kinds.iter().enumerate() {
                param.kinds[k] += v;
            }
            param.prefixes.extend(other_param.prefixes);
            param.fields.absorb(&other_param.fields);
            param.node.absorb(other_param.node);
        }
    }

    /// The sub-API below a node, as text, to tell slugs (same sub-API under
    /// every word) from distinct endpoints.
    fn signature(&self) -> String {
        let mut out = String::new();
        for method in self.methods.keys() {
            out.push_str(method);
            out.push(' ');
        }
        for (word, literal) in &self.literals {
            out.push_str(&format!("/{word}({})", literal.node.signature()));
        }
        if let Some(param) = &self.param {
            out.push_str(&format!("/*({})", param.node.signature()));
        }
        out
    }

    /// Decides which words of this position (at `depth` segments) are
    /// values. A word a create request sent is one below the root only: a
    /// client-chosen key names an instance inside a collection.
    fn decide(&mut self, max_literal_values: usize, depth: usize) {
        if self.literals.len() > max_literal_values {
            self.fold_all_literals();
        } else if self.literals.len() >= SLUG_MIN_VALUES {
            let hyphenated = self.literals.keys().filter(|w| w.contains(['-', '_'])).count();
            let mut signatures = self.literals.values().map(|l| l.node.signature());
            let first = signatures.next();
            if hyphenated * 4 >= self.literals.len() * 3
                && signatures.all(|s| Some(&s) == first.as_ref())
            {
                self.fold_all_literals();
            }
        }
        let prefixes = self.param.as_ref().map(|p| p.prefixes.clone()).unwrap_or_default();
        let values: Vec<String> = self
            .literals
            .iter()
            .filter(|(word, literal)| {
                literal.produced > 0
                    || (literal.sent > 0 && depth > 0)
                    || id_prefix(word).is_some_and(|p| prefixes.contains(p) && word.len() >= 8)
            })
            .map(|(word, _)| word.clone())
            .collect();
        for word in values {
            self.fold_literal(&word);
        }
        for literal in self.literals.values_mut() {
            literal.node.decide(max_literal_values, depth + 1);
        }
        if let Some(param) = &mut self.param {
            param.kind = Some(param_kind(&param.kinds));
            param.node.decide(max_literal_values, depth + 1);
        }
    }

    /// Walks the decided trie, naming parameters and listing every action.
    /// `claimed` maps each field-given name to the collection that took it,
    /// so two collections never share one (`{slug}` of posts and of pages).
    fn collect(
        &mut self,
        segs: &mut Vec<Segment>,
        params: &mut Vec<ParamInfo>,
        claimed: &mut BTreeMap<String, String>,
        found: &mut Vec<ActionShape>,
    ) {
        if !self.methods.is_empty() {
            let template = render_template(segs, params);
            for method in self.methods.keys() {
                found.push(ActionShape {
                    id: format!("{method} {template}"),
                    method: method.clone(),
                    template: template.clone(),
                    segments: segs.clone(),
                    params: params.clone(),
                });
            }
        }
        for (word, literal) in &mut self.literals {
            segs.push(Segment::Literal(word.clone()));
            literal.node.collect(segs, params, claimed, found);
            segs.pop();
        }
        if let Some(param) = &mut self.param {
            let name = param_name(segs, params, &param.fields, claimed);
            param.name = name.clone();
            let kind = param.kind.unwrap_or(ValueKind::Slug);
            segs.push(Segment::Param(params.len()));
            params.push(ParamInfo { name, kind });
            param.node.collect(segs, params, claimed, found);
            params.pop();
            segs.pop();
        }
    }

    fn assign(&mut self, template: &mut String, index: &HashMap<(String, String), usize>) {
        let shown = if template.is_empty() { "/".to_string() } else { template.clone() };
        for method in self.methods.keys() {
            if let Some(i) = index.get(&(shown.clone(), method.clone())) {
                self.actions.insert(method.clone(), *i);
            }
        }
        for (word, literal) in &mut self.literals {
            let len = template.len();
            template.push('/');
            template.push_str(word);
            literal.node.assign(template, index);
            template.truncate(len);
        }
        if let Some(param) = &mut self.param {
            let len = template.len();
            template.push_str(&format!("/{{{}}}", param.name));
            param.node.assign(template, index);
            template.truncate(len);
        }
    }
}

/// The name of the parameter after `segs`: the field that produced its
/// values, else the collection before it (versions skipped), made unique
/// within the template.
fn param_name(
    segs: &[Segment],
    params: &[ParamInfo],
    fields: &FieldCounts,
    claimed: &mut BTreeMap<String, String>,
) -> String {
    // The literals right before the parameter, back to the previous one:
    // `/orgs/{org_id}/{repo}` has no collection of its own.
    let since_param =
        segs.iter().rposition(|s| matches!(s, Segment::Param(_))).map_or(0, |i| i + 1);
    let literals = segs[since_param..].iter().filter_map(|s| match s {
        Segment::Literal(w) => Some(w.as_str()),
        Segment::Param(_) => None,
    });
    let collection = collection_word(literals);
    let here = render_template(segs, params);
    let base = match fields.name() {
        Some(field) => match claimed.get(&field) {
            Some(owner) if *owner != here => {
                format!("{}_{field}", collection.map_or("item".to_string(), singular))
            }
            _ => {
                claimed.insert(field.clone(), here);
                field
            }
        },
        None => collection_param_name(collection),
    };
    let mut name = base.clone();
    let mut n = 2;
    while params.iter().any(|p| p.name == name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// The kind most values at a position had; words and dates make a slug.
fn param_kind(kinds: &[u64; 7]) -> ValueKind {
    let best = ValueKind::ALL
        .iter()
        .copied()
        .max_by_key(|k| (kinds[k.index()], std::cmp::Reverse(k.index())));
    match best {
        Some(k) if k.is_id_like() && kinds[k.index()] > 0 => k,
        _ => ValueKind::Slug,
    }
}

fn render_template(segs: &[Segment], params: &[ParamInfo]) -> String {
    if segs.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    for seg in segs {
        out.push('/');
        match seg {
            Segment::Literal(word) => out.push_str(word),
            Segment::Param(i) => {
                out.push('{');
                out.push_str(params.get(*i).map_or("id", |p| p.name.as_str()));
                out.push('}');
            }
        }
    }
    out
}

/// A request matched to its action, with the path parameter values in order.
#[derive(Debug)]
pub(crate) struct Resolved<'p> {
    pub action: usize,
    pub params: Vec<&'p str>,
}

impl Templater {
    /// The action of a request; `None` for a path the first pass never saw.
    pub(crate) fn resolve<'p>(&self, method: &str, path: &'p str) -> Option<Resolved<'p>> {
        let mut node = &self.root;
        let mut params = Vec::new();
        for segment in segments(path) {
            let literal = if is_value_segment(segment).is_none() && !node.overflowed {
                node.literals.get(segment)
            } else {
                None
            };
            node = match literal {
                Some(literal) => &literal.node,
                None => {
                    params.push(segment);
                    &node.param.as_ref()?.node
                }
            };
        }
        Some(Resolved { action: *node.actions.get(method)?, params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(paths: &[(&str, &str)], produced: &[&str]) -> Templater {
        let mut trie = PathTrie::default();
        for (method, path) in paths {
            trie.insert(method, path, &|w| {
                produced.contains(&w).then_some(Producer { field: "id", sent: false })
            });
        }
        trie.finish(32)
    }

    fn ids(t: &Templater) -> Vec<&str> {
        t.actions.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn ids_become_parameters_and_words_stay() {
        let t = learn(
            &[
                ("GET", "/orders/ord_k3j5x9a2"),
                ("POST", "/orders/ord_77ab12cd/pay"),
                ("GET", "/orders/pending"),
                ("GET", "/v1/items/42"),
            ],
            &[],
        );
        assert_eq!(
            ids(&t),
            [
                "GET /orders/pending",
                "GET /orders/{order_id}",
                "POST /orders/{order_id}/pay",
                "GET /v1/items/{item_id}"
            ]
        );
        let r = t.resolve("POST", "/orders/ord_zz99zz99/pay").unwrap();
        assert_eq!(r.params, ["ord_zz99zz99"]);
        assert_eq!(t.actions[r.action].id, "POST /orders/{order_id}/pay");
    }

    #[test]
    fn a_produced_word_is_a_parameter() {
        let t =
            learn(&[("GET", "/products/red-shoes"), ("GET", "/products/blue-hat")], &["red-shoes"]);
        assert_eq!(ids(&t), ["GET /products/blue-hat", "GET /products/{product_id}"]);
    }

    #[test]
    fn versions_and_earlier_collections_never_name_a_parameter() {
        let t = learn(
            &[
                ("GET", "/users/v1/3f2b8c1e-9d4a-4b6e-8f00-1a2b3c4d5e6f"),
                ("GET", "/orgs/org_k3j5x9a2/ord_77ab12cd"),
                ("GET", "/api/v2/42"),
            ],
            &[],
        );
        assert_eq!(
            ids(&t),
            ["GET /api/v2/{id}", "GET /orgs/{org_id}/{id}", "GET /users/v1/{user_id}"]
        );
    }

    #[test]
    fn a_word_sharing_the_id_prefix_is_an_id() {
        let t = learn(&[("GET", "/orders/ord_k3j5x9a2"), ("GET", "/orders/ord_kqzxwvab")], &[]);
        assert_eq!(ids(&t), ["GET /orders/{order_id}"]);
    }
}
