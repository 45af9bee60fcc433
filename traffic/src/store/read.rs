//! Reading a store: every exchange in id order (either way), one session's
//! exchanges through the session index, one exchange by id, and the
//! session summaries. Readers decode lazily, one block at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::block::BlockBytes;
use super::layout::ExchangeHead;
use super::Store;
use crate::{Error, Exchange, ExchangeId, Result, SessionKey};

/// One session as `venomqa sessions` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The session, as `show` and `export --session` take it.
    pub key: SessionKey,
    /// How many exchanges it holds.
    pub exchanges: u64,
    /// `started_at` (unix ns) of its first exchange.
    pub first: u64,
    /// `started_at` (unix ns) of its last exchange.
    pub last: u64,
    /// Distinct `METHOD /path` (no query), sorted.
    pub endpoints: Vec<String>,
}

impl Store {
    /// Every exchange in id (= time) order, read lazily.
    pub fn exchanges(&self) -> Exchanges {
        self.exchanges_in(0..=ExchangeId::MAX)
    }

    /// The exchanges whose ids lie in `range`, in id order.
    pub fn exchanges_in(&self, range: RangeInclusive<ExchangeId>) -> Exchanges {
        let (start, end) = range.into_inner();
        // The block holding `start` is keyed at or before it.
        let from = match self.layout().block_key_at(start) {
            Ok(Some(key)) => key,
            Ok(None) => start,
            Err(e) => return Exchanges::failed(self.clone(), e),
        };
        Exchanges {
            blocks: (start <= end).then(|| self.layout().blocks_in(from, end)),
            front: Cursor::default(),
            back: Cursor::default(),
            start,
            end,
            failed: None,
            store: self.clone(),
        }
    }

    /// The exchanges of one session, in id order.
    pub fn session_exchanges(&self, session: &SessionKey) -> SessionExchanges {
        // Taken before the tree is read: entries the writer moves to the
        // tree meanwhile are then read twice at worst, and skipped.
        let held = self.held().get(session.as_str()).cloned().unwrap_or_default();
        SessionExchanges {
            entries: Some(self.layout().session_entries(session.as_str())),
            held: Some(held),
            ids: Vec::new(),
            next: 0,
            last: None,
            block: None,
            store: self.clone(),
        }
    }

    /// One exchange by id.
    pub fn get(&self, id: ExchangeId) -> Result<Option<Exchange>> {
        let layout = self.layout();
        let Some((key, value)) = layout.block_at(id)? else { return Ok(None) };
        let block = layout.parse_block(key, &value)?;
        match block.find(id) {
            Some(i) => layout.decode_at(block, i).map(Some),
            None => Ok(None),
        }
    }

    /// One summary a session, ordered by first exchange. Reads every
    /// exchange once but keeps only the summaries in memory; decodes only
    /// the head of each record (not headers and bodies).
    pub fn sessions(&self) -> Result<Vec<SessionSummary>> {
        let layout = self.layout();
        let mut sessions: BTreeMap<String, SessionAcc> = BTreeMap::new();
        let mut endpoint = String::new();
        for item in layout.blocks_in(0, ExchangeId::MAX) {
            let (key, value) = layout.stored_block(item)?;
            let block = layout.parse_block(key, &value)?;
            for i in 0..block.len() {
                let head = layout.head(block, i)?;
                endpoint.clear();
                endpoint.push_str(head.method);
                endpoint.push(' ');
                endpoint.push_str(path_of(head.url));
                if !sessions.contains_key(head.session) {
                    sessions.insert(head.session.to_string(), SessionAcc::new(head.started_at));
                }
                if let Some(acc) = sessions.get_mut(head.session) {
                    acc.add(&head, &endpoint);
                }
            }
        }
        let mut out: Vec<SessionSummary> =
            sessions.into_iter().map(|(key, acc)| acc.summary(key)).collect();
        out.sort_by(|a, b| (a.first, &a.key).cmp(&(b.first, &b.key)));
        Ok(out)
    }
}

/// One session's summary as `sessions` gathers it.
struct SessionAcc {
    exchanges: u64,
    first: u64,
    last: u64,
    endpoints: BTreeSet<String>,
}

impl SessionAcc {
    fn new(started_at: u64) -> SessionAcc {
        SessionAcc { exchanges: 0, first: started_at, last: started_at, endpoints: BTreeSet::new() }
    }

    fn add(&mut self, head: &ExchangeHead<'_>, endpoint: &str) {
        self.exchanges += 1;
        self.first = self.first.min(head.started_at);
        self.last = self.last.max(head.started_at);
        if !self.endpoints.contains(endpoint) {
            self.endpoints.insert(endpoint.to_owned());
        }
    }

    fn summary(self, key: String) -> SessionSummary {
        SessionSummary {
            key: SessionKey(key),
            exchanges: self.exchanges,
            first: self.first,
            last: self.last,
            endpoints: self.endpoints.into_iter().collect(),
        }
    }
}

/// Entries `next..end` of one block, not read yet.
#[derive(Default)]
struct Cursor {
    block: Option<BlockBytes>,
    key: ExchangeId,
    next: usize,
    end: usize,
}

impl Cursor {
    /// The entries of a block read from the tree that lie in `start..=end`.
    fn new(
        store: &Store,
        key: ExchangeId,
        value: BlockBytes,
        start: u64,
        end: u64,
    ) -> Result<Cursor> {
        let block = store.layout().parse_block(key, &value)?;
        let next = block.lower_bound(start);
        let stop = end.checked_add(1).map_or(block.len(), |after| block.lower_bound(after));
        Ok(Cursor { key, next, end: stop.max(next), block: Some(value) })
    }

    fn is_empty(&self) -> bool {
        self.next >= self.end
    }

    fn take_front(&mut self, store: &Store) -> Option<Result<Exchange>> {
        if self.is_empty() {
            return None;
        }
        self.next += 1;
        Some(self.decode(store, self.next - 1))
    }

    fn take_back(&mut self, store: &Store) -> Option<Result<Exchange>> {
        if self.is_empty() {
            return None;
        }
        self.end -= 1;
        Some(self.decode(store, self.end))
    }

    fn decode(&self, store: &Store, i: usize) -> Result<Exchange> {
        let value = self.block.as_ref().expect("a cursor with entries has a block");
        let layout = store.layout();
        layout.decode_at(layout.parse_block(self.key, value)?, i)
    }
}

/// Exchanges read lazily from a store, in id order (or reversed): one
/// block in memory at each end.
pub struct Exchanges {
    /// `None` once an error ended the iteration, or for an empty range.
    blocks: Option<sled::Iter>,
    front: Cursor,
    back: Cursor,
    start: ExchangeId,
    end: ExchangeId,
    /// An error found before the first block, reported once.
    failed: Option<Error>,
    store: Store,
}

/// Which end of the range an [`Exchanges`] step reads from.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

impl Exchanges {
    fn failed(store: Store, error: Error) -> Exchanges {
        Exchanges {
            blocks: None,
            front: Cursor::default(),
            back: Cursor::default(),
            start: 0,
            end: 0,
            failed: Some(error),
            store,
        }
    }

    fn cursor(&self, item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Cursor> {
        let (key, value) = self.store.layout().stored_block(item)?;
        Cursor::new(&self.store, key, value, self.start, self.end)
    }

    /// The next exchange from one end: from that end's block, else from
    /// the next block towards the other end, else (the blocks met) from
    /// what the other end's block has left.
    fn step(&mut self, end: End) -> Option<Result<Exchange>> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        loop {
            let taken = match end {
                End::Front => self.front.take_front(&self.store),
                End::Back => self.back.take_back(&self.store),
            };
            if taken.is_some() {
                return taken;
            }
            let blocks = self.blocks.as_mut()?;
            let item = match end {
                End::Front => blocks.next(),
                End::Back => blocks.next_back(),
            };
            let Some(item) = item else {
                return match end {
                    End::Front => self.back.take_front(&self.store),
                    End::Back => self.front.take_back(&self.store),
                };
            };
            match (self.cursor(item), end) {
                (Ok(cursor), End::Front) => self.front = cursor,
                (Ok(cursor), End::Back) => self.back = cursor,
                (Err(e), _) => {
                    self.blocks = None;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl Iterator for Exchanges {
    type Item = Result<Exchange>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step(End::Front)
    }
}

impl DoubleEndedIterator for Exchanges {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(End::Back)
    }
}

/// The exchanges of one session, read lazily through the session index
/// (then through the entries the writer still holds back): a block is read
/// for each run of the session's ids it holds, and only those are decoded.
pub struct SessionExchanges {
    /// `None` once read to the end, or after an error.
    entries: Option<sled::Iter>,
    /// Read after the entries.
    held: Option<Vec<ExchangeId>>,
    /// The ids of the current entry, `next` the one to read.
    ids: Vec<ExchangeId>,
    next: usize,
    /// The last id returned: ids only increase, so one seen again (an entry
    /// both held and written) is skipped.
    last: Option<ExchangeId>,
    /// The block read last, with its key.
    block: Option<(ExchangeId, BlockBytes)>,
    store: Store,
}

impl SessionExchanges {
    /// Moves to the next index entry, or to the held ids after the last;
    /// false at the end of the session.
    fn next_entry(&mut self) -> Result<bool> {
        self.next = 0;
        match self.entries.as_mut().and_then(Iterator::next) {
            Some(item) => self.ids = self.store.layout().index_entry(item)?.ids,
            None => {
                self.entries = None;
                let Some(held) = self.held.take() else { return Ok(false) };
                self.ids = held;
            }
        }
        Ok(true)
    }

    fn read(&mut self, id: ExchangeId) -> Result<Exchange> {
        let layout = self.store.layout();
        let cached = match &self.block {
            Some((key, value)) => {
                let block = layout.parse_block(*key, value)?;
                (block.last_id() >= id && *key <= id).then_some(())
            }
            None => None,
        };
        if cached.is_none() {
            self.block = layout.block_at(id)?;
        }
        let missing = || layout.corrupt(format!("session index names missing exchange {id}"));
        let Some((key, value)) = &self.block else { return Err(missing()) };
        let block = layout.parse_block(*key, value)?;
        match block.find(id) {
            Some(i) => layout.decode_at(block, i),
            None => Err(missing()),
        }
    }
}

impl Iterator for SessionExchanges {
    type Item = Result<Exchange>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            while self.next >= self.ids.len() {
                match self.next_entry() {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => {
                        // Report once, then end.
                        self.ids.clear();
                        self.entries = None;
                        self.held = None;
                        return Some(Err(e));
                    }
                }
            }
            let id = self.ids[self.next];
            self.next += 1;
            if self.last.is_some_and(|last| last >= id) {
                continue;
            }
            self.last = Some(id);
            return Some(self.read(id));
        }
    }
}

/// The path of a url without its query: the rule of `Request::path`, on a
/// borrowed url.
fn path_of(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(scheme_end) => {
            let after = &url[scheme_end + 3..];
            after.find('/').map_or("/", |slash| &after[slash..])
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Headers, Request};

    #[test]
    fn path_of_follows_request_path() {
        for url in ["/a/b?c#d", "http://h:1/x?y", "http://h", "/p#f", "relative"] {
            let request = Request {
                method: "GET".into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::default(),
            };
            assert_eq!(path_of(url), request.path(), "{url}");
        }
    }
}
