//! How a store lies in sled: the trees, the meta keys, the encodings of
//! keys and values, and the only code that touches the trees. The rest of
//! `store/` (opening, reading, the writer) goes through [`Layout`].
//!
//! Layout, one sled tree a concern (format version 3; 2 differs only in
//! keeping blocks uncompressed):
//! - `blocks`: exchanges in blocks, a block a run of exchanges with
//!   increasing ids (at most [`BLOCK_MAX_EXCHANGES`](super::block::BLOCK_MAX_EXCHANGES), closed once past
//!   [`BLOCK_TARGET_BYTES`](super::block::BLOCK_TARGET_BYTES); one large exchange is a block of its own),
//!   keyed by its first id (big-endian u64); the value holds the
//!   postcard-encoded [`Exchange`]s and a directory of their ids,
//!   LZ4-compressed (see `block.rs`). Blocks never overlap: a block's last id is below the next
//!   block's key, so blocks in key order are exchanges in id order;
//! - `session_index`: session key bytes, `0x00`, first id (big-endian) →
//!   the ids (u64 LE each, increasing) of that session's exchanges in one
//!   group of blocks (see [`GROUP_EXCHANGES`]); a session's entries never
//!   overlap, so its ids come out of them in order;
//! - `session_state`: base session key → last seen (u64 BE) and generation
//!   (u32 BE), so that a new recording continues sessions and idle gaps;
//!   and, under keys `0xFF` + a sequence number (u64 BE; no base key starts
//!   with `0xFF`, which UTF-8 never holds), the states each batch of the
//!   current index group changed, one value a batch: entries of
//!   (u16 BE length, base key, state). The writer folds them into the
//!   per-key entries with each index group (and the next writer does, after
//!   a hard kill), so a batch costs one insert, not one a session;
//! - `meta`: `format_version` (u32 BE), `redaction_key` (32 random bytes made
//!   at creation), `exchange_count` and `session_count` (u64 BE), and
//!   `dirty_from` (u64 BE): the first block not certainly indexed, while
//!   a group's index entries are not written (0 while an import among
//!   stored ids rewrites blocks: the next open then rebuilds the index).
//!
//! One sled value per block rather than per exchange makes writing several
//! times cheaper: sled's cost is per insert (a log reservation, a copy of
//! the node, epoch garbage). For the same reason the session index gets
//! one entry per session and group of blocks: the writer holds a group's
//! entries back for up to [`GROUP_MILLIS`] ms or [`GROUP_EXCHANGES`]
//! exchanges, readers in the process see them meanwhile, and a hard kill
//! leaves the marker that has the next open index the group again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rand::RngCore;
use serde::Deserialize;

use super::block::{Block, BlockBytes, BlockEncoding};
use crate::session::KeyState;
use crate::{Error, Exchange, ExchangeId, Result};

/// The on-disk format of the stores this code creates: 3 keeps exchanges
/// in LZ4-compressed blocks. Stores of format 2 (the same blocks
/// uncompressed) are read and written as they are; format 1 (one sled
/// value per exchange) is refused.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format this code reads and writes.
pub const OLDEST_FORMAT_VERSION: u32 = 2;

/// At most this many exchanges are in a group of the session index.
pub(crate) const GROUP_EXCHANGES: usize = 8192;

/// A group of the session index is written at least this often (ms)
/// while a recording runs, and when the writer is idle.
pub(crate) const GROUP_MILLIS: u64 = 1000;

const TREE_BLOCKS: &str = "blocks";
const TREE_INDEX: &str = "session_index";
const TREE_SESSION_STATE: &str = "session_state";
const TREE_META: &str = "meta";
const META_VERSION: &[u8] = b"format_version";
const META_KEY: &[u8] = b"redaction_key";
const META_EXCHANGES: &[u8] = b"exchange_count";
const META_SESSIONS: &[u8] = b"session_count";
const META_DIRTY: &[u8] = b"dirty_from";

/// The trees of one open store, and the directory that names it in errors.
pub(super) struct Layout {
    dir: PathBuf,
    db: sled::Db,
    blocks: sled::Tree,
    index: sled::Tree,
    session_state: sled::Tree,
    meta: sled::Tree,
    redaction_key: [u8; 32],
    /// How this store's format keeps its blocks.
    encoding: BlockEncoding,
    /// Set by the first I/O error sled reports: sled cannot write again
    /// and may hang flushing, so the store is neither written nor flushed
    /// again (see `mod.rs`).
    failed: AtomicBool,
}

/// The trees and meta an open reads, before they become a [`Layout`].
struct Trees {
    blocks: sled::Tree,
    index: sled::Tree,
    session_state: sled::Tree,
    meta: sled::Tree,
    redaction_key: [u8; 32],
    encoding: BlockEncoding,
}

/// One stored block: its key (its first id) and its bytes, decompressed.
pub(super) type StoredBlock = (ExchangeId, BlockBytes);

impl Layout {
    /// Checks the format version of an opened sled directory (making a
    /// fresh one a store when `create`) and opens its trees. After an I/O
    /// error `db` is leaked rather than dropped: dropping it flushes, which
    /// may then wait forever.
    pub fn open(db: sled::Db, dir: &Path, create: bool) -> Result<Layout> {
        match Layout::open_trees(&db, dir, create) {
            Ok(trees) => Ok(Layout {
                dir: dir.to_path_buf(),
                db,
                blocks: trees.blocks,
                index: trees.index,
                session_state: trees.session_state,
                meta: trees.meta,
                redaction_key: trees.redaction_key,
                encoding: trees.encoding,
                failed: AtomicBool::new(false),
            }),
            Err(e) => {
                if e.is_io() {
                    std::mem::forget(db);
                }
                Err(e)
            }
        }
    }

    fn open_trees(db: &sled::Db, dir: &Path, create: bool) -> Result<Trees> {
        let sled_err = |e| Error::sled(dir, e);
        let meta = db.open_tree(TREE_META).map_err(sled_err)?;
        let version = match meta.get(META_VERSION).map_err(sled_err)? {
            Some(v) => decode_u32(&v).ok_or_else(|| Error::corrupt(dir, "format version"))?,
            // A fresh sled directory (or one whose creation was cut short
            // before anything was recorded) becomes a store.
            None if create && holds_nothing(db).map_err(sled_err)? => {
                create_meta(db, &meta).map_err(sled_err)?;
                FORMAT_VERSION
            }
            None => return Err(Error::NotAStore { dir: dir.to_path_buf() }),
        };
        let encoding = match version {
            OLDEST_FORMAT_VERSION => BlockEncoding::Plain,
            FORMAT_VERSION => BlockEncoding::Lz4,
            _ => {
                return Err(Error::Version {
                    dir: dir.to_path_buf(),
                    found: version,
                    expected: FORMAT_VERSION,
                    oldest: OLDEST_FORMAT_VERSION,
                })
            }
        };
        // Opened only now: opening a tree creates it, and a store of another
        // version is left as it was.
        let redaction_key = meta
            .get(META_KEY)
            .map_err(sled_err)?
            .and_then(|k| <[u8; 32]>::try_from(k.as_ref()).ok())
            .ok_or_else(|| Error::corrupt(dir, "redaction key"))?;
        Ok(Trees {
            blocks: db.open_tree(TREE_BLOCKS).map_err(sled_err)?,
            index: db.open_tree(TREE_INDEX).map_err(sled_err)?,
            session_state: db.open_tree(TREE_SESSION_STATE).map_err(sled_err)?,
            meta,
            redaction_key,
            encoding,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn redaction_key(&self) -> &[u8; 32] {
        &self.redaction_key
    }

    /// How blocks are written to this store.
    pub fn block_encoding(&self) -> BlockEncoding {
        self.encoding
    }

    /// The error for what sled reported; an I/O error marks the store
    /// failed.
    pub fn sled_err(&self, e: sled::Error) -> Error {
        let error = Error::sled(&self.dir, e);
        if error.is_io() {
            self.mark_failed();
        }
        error
    }

    /// Whether sled reported an I/O error (or the store was given up on).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Gives the store up: it is not written, flushed or dropped again.
    pub fn mark_failed(&self) {
        self.failed.store(true, Ordering::Release);
    }

    pub fn corrupt(&self, what: impl Into<String>) -> Error {
        Error::corrupt(&self.dir, what)
    }

    /// Writes everything to disk now rather than at sled's next timer tick
    /// (not on a failed store, where it may never return).
    pub fn flush(&self) -> Result<()> {
        if self.failed() {
            return Err(Error::Failed { dir: self.dir.clone() });
        }
        self.db.flush().map(|_| ()).map_err(|e| self.sled_err(e))
    }

    /// What sled occupies on disk, log and snapshots included.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().map_err(|e| self.sled_err(e))
    }

    // ------------------------------------------------------------ meta

    fn meta_u64(&self, key: &[u8]) -> Result<Option<u64>> {
        match self.meta.get(key).map_err(|e| self.sled_err(e))? {
            Some(v) => {
                decode_u64(&v).map(Some).ok_or_else(|| self.corrupt(String::from_utf8_lossy(key)))
            }
            None => Ok(None),
        }
    }

    fn put_meta_u64(&self, key: &[u8], value: u64) -> Result<()> {
        self.meta.insert(key, &value.to_be_bytes()).map(|_| ()).map_err(|e| self.sled_err(e))
    }

    /// The counters: exchanges and sessions stored.
    pub fn counts(&self) -> Result<(u64, u64)> {
        Ok((
            self.meta_u64(META_EXCHANGES)?.unwrap_or(0),
            self.meta_u64(META_SESSIONS)?.unwrap_or(0),
        ))
    }

    /// Stores the counters. Left behind by a kill they are recounted: they
    /// can only be behind while a dirty marker is set.
    pub fn put_counts(&self, exchanges: u64, sessions: u64) -> Result<()> {
        self.put_meta_u64(META_EXCHANGES, exchanges)?;
        self.put_meta_u64(META_SESSIONS, sessions)
    }

    /// Stores recounted counters and clears the dirty marker together.
    pub fn put_counts_clean(&self, exchanges: u64, sessions: u64) -> Result<()> {
        let mut batch = sled::Batch::default();
        batch.insert(META_EXCHANGES, &exchanges.to_be_bytes());
        batch.insert(META_SESSIONS, &sessions.to_be_bytes());
        batch.remove(META_DIRTY);
        self.meta.apply_batch(batch).map_err(|e| self.sled_err(e))
    }

    /// The first block not certainly indexed, if a writer left one.
    pub fn dirty_from(&self) -> Result<Option<ExchangeId>> {
        self.meta_u64(META_DIRTY)
    }

    /// Marks the blocks from `from` on as not indexed (0: every block).
    pub fn mark_dirty(&self, from: ExchangeId) -> Result<()> {
        self.put_meta_u64(META_DIRTY, from)
    }

    /// The blocks are indexed again.
    pub fn clear_dirty(&self) -> Result<()> {
        self.meta.remove(META_DIRTY).map(|_| ()).map_err(|e| self.sled_err(e))
    }

    // ---------------------------------------------------------- blocks

    pub fn parse_block<'a>(&self, key: ExchangeId, value: &'a [u8]) -> Result<Block<'a>> {
        Block::parse(value).ok_or_else(|| self.corrupt(format!("block {key}")))
    }

    /// Record `i` of `block`, still encoded.
    pub fn record_bytes<'a>(&self, block: Block<'a>, i: usize) -> Result<&'a [u8]> {
        block
            .record(i)
            .ok_or_else(|| self.corrupt(format!("directory of block {}", block.first_id())))
    }

    /// The head of record `i` of `block`, borrowed from it.
    pub fn head<'a>(&self, block: Block<'a>, i: usize) -> Result<ExchangeHead<'a>> {
        let bytes = self.record_bytes(block, i)?;
        postcard::take_from_bytes(bytes)
            .map(|(head, _)| head)
            .map_err(|e| self.corrupt(format!("exchange {}: {e}", block.id(i))))
    }

    /// Decodes record `i` of `block`, checking that it is the exchange the
    /// directory names.
    pub fn decode_at(&self, block: Block<'_>, i: usize) -> Result<Exchange> {
        let id = block.id(i);
        let exchange: Exchange = postcard::from_bytes(self.record_bytes(block, i)?)
            .map_err(|e| self.corrupt(format!("exchange {id}: {e}")))?;
        if exchange.id != id {
            return Err(self.corrupt(format!(
                "block {} names {id} but holds {}",
                block.first_id(),
                exchange.id
            )));
        }
        Ok(exchange)
    }

    /// A block as the tree iterators give it, its key decoded.
    pub fn stored_block(
        &self,
        item: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<StoredBlock> {
        let (key, value) = item.map_err(|e| self.sled_err(e))?;
        let key = self.block_key(&key)?;
        let bytes =
            self.encoding.decode(value).ok_or_else(|| self.corrupt(format!("block {key}")))?;
        Ok((key, bytes))
    }

    fn block_key(&self, key: &[u8]) -> Result<ExchangeId> {
        decode_u64(key).ok_or_else(|| self.corrupt("block key"))
    }

    /// The blocks keyed in `from..=to`, in key order (either way).
    pub fn blocks_in(&self, from: ExchangeId, to: ExchangeId) -> sled::Iter {
        self.blocks.range(from.to_be_bytes()..=to.to_be_bytes())
    }

    /// The block that holds `id` if any does: the last one keyed at or
    /// before it.
    pub fn block_at(&self, id: ExchangeId) -> Result<Option<StoredBlock>> {
        self.blocks
            .range(..=id.to_be_bytes())
            .next_back()
            .map(|item| self.stored_block(item))
            .transpose()
    }

    /// The key of the block that holds `id` if any does, without reading
    /// the block.
    pub fn block_key_at(&self, id: ExchangeId) -> Result<Option<ExchangeId>> {
        let at = self.blocks.range(..=id.to_be_bytes()).next_back();
        self.only_key(at)
    }

    /// The key of the first block after `id`.
    pub fn next_block_key(&self, id: ExchangeId) -> Result<Option<ExchangeId>> {
        let Some(after) = id.checked_add(1) else { return Ok(None) };
        self.only_key(self.blocks.range(after.to_be_bytes()..).next())
    }

    fn only_key(
        &self,
        item: Option<sled::Result<(sled::IVec, sled::IVec)>>,
    ) -> Result<Option<ExchangeId>> {
        let Some(item) = item else { return Ok(None) };
        let (key, _) = item.map_err(|e| self.sled_err(e))?;
        self.block_key(&key).map(Some)
    }

    /// Whether an exchange with this id is stored.
    pub fn contains(&self, id: ExchangeId) -> Result<bool> {
        let Some((key, value)) = self.block_at(id)? else { return Ok(false) };
        Ok(self.parse_block(key, &value)?.find(id).is_some())
    }

    /// The highest id stored (0 for an empty store).
    pub fn last_id(&self) -> Result<ExchangeId> {
        match self.blocks.last().map_err(|e| self.sled_err(e))? {
            Some(item) => {
                let (key, value) = self.stored_block(Ok(item))?;
                Ok(self.parse_block(key, &value)?.last_id())
            }
            None => Ok(0),
        }
    }

    /// Writes one block after the last: a plain insert (see `writer.rs`).
    pub fn insert_block(&self, key: [u8; 8], value: sled::IVec) -> Result<()> {
        self.blocks.insert(key, value).map(|_| ()).map_err(|e| self.sled_err(e))
    }

    /// Writes rewritten blocks and the parts they were split into together.
    pub fn apply_blocks(&self, batch: sled::Batch) -> Result<()> {
        self.blocks.apply_batch(batch).map_err(|e| self.sled_err(e))
    }

    // ----------------------------------------------------------- index

    pub fn clear_index(&self) -> Result<()> {
        self.index.clear().map_err(|e| self.sled_err(e))
    }

    /// Writes one group's index entries: per session, its ids (increasing)
    /// keyed by the first.
    pub fn write_index_group(&self, ids: &HashMap<String, Vec<ExchangeId>>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (session, ids) in ids {
            if let Some(&first) = ids.first() {
                batch.insert(index_key(session, first), encode_ids(ids));
            }
        }
        self.apply_index(batch)
    }

    pub fn apply_index(&self, batch: sled::Batch) -> Result<()> {
        self.index.apply_batch(batch).map_err(|e| self.sled_err(e))
    }

    /// Every index entry in key order: per session, by first id.
    pub fn index_entries(&self) -> impl Iterator<Item = Result<IndexEntry>> + '_ {
        self.index.iter().map(|item| self.index_entry(item))
    }

    /// The index entries of one session, in id order, still encoded (an
    /// owned iterator, for readers that keep it): [`Layout::index_entry`]
    /// decodes each.
    pub fn session_entries(&self, session: &str) -> sled::Iter {
        let mut prefix = session.as_bytes().to_vec();
        prefix.push(0);
        self.index.scan_prefix(prefix)
    }

    /// Whether `session` has any index entry.
    pub fn has_entries(&self, session: &str) -> Result<bool> {
        match self.session_entries(session).next() {
            Some(item) => item.map(|_| true).map_err(|e| self.sled_err(e)),
            None => Ok(false),
        }
    }

    /// The entry of `session` whose first id is the last at or before `id`.
    pub fn entry_at_or_before(&self, session: &str, id: ExchangeId) -> Result<Option<IndexEntry>> {
        let range = index_key(session, 0)..=index_key(session, id);
        self.index.range(range).next_back().map(|item| self.index_entry(item)).transpose()
    }

    /// The one decoder of the index's keys and values.
    pub fn index_entry(&self, item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<IndexEntry> {
        let (key, value) = item.map_err(|e| self.sled_err(e))?;
        let (session, first) =
            split_index_key(&key).ok_or_else(|| self.corrupt("session index key"))?;
        let ids = decode_ids(&value).ok_or_else(|| self.corrupt("session index entry"))?;
        Ok(IndexEntry { session: session.to_vec(), first, ids })
    }

    // --------------------------------------------------- session state

    /// Where a base session key stood when last written.
    pub fn key_state(&self, base: &str) -> Result<Option<KeyState>> {
        let stored = self.session_state.get(base.as_bytes()).map_err(|e| self.sled_err(e))?;
        Ok(stored.and_then(|bytes| KeyState::decode(&bytes)))
    }

    pub fn put_key_state(&self, base: &str, state: &KeyState) -> Result<()> {
        self.session_state
            .insert(base.as_bytes(), &state.encode())
            .map(|_| ())
            .map_err(|e| self.sled_err(e))
    }

    /// Logs the states one batch changed, as one value under `seq`.
    pub fn log_key_states<'a>(
        &self,
        seq: u64,
        states: impl Iterator<Item = (&'a str, &'a KeyState)>,
    ) -> Result<()> {
        let mut value = Vec::new();
        for (base, state) in states {
            // A base key longer than a u16 is not a key anyone sends; it is
            // written whole, as `put_key_state` would.
            let Ok(len) = u16::try_from(base.len()) else {
                self.put_key_state(base, state)?;
                continue;
            };
            value.extend_from_slice(&len.to_be_bytes());
            value.extend_from_slice(base.as_bytes());
            value.extend_from_slice(&state.encode());
        }
        if value.is_empty() {
            return Ok(());
        }
        self.session_state
            .insert(state_log_key(seq), value)
            .map(|_| ())
            .map_err(|e| self.sled_err(e))
    }

    /// Applies the logged states, oldest first, to the per-key entries and
    /// removes the log. What a hard kill left behind is applied by the next
    /// writer before it reads any state.
    pub fn fold_key_state_log(&self) -> Result<()> {
        self.each_logged_state(true)
    }

    /// Removes the log once the writer has written the states it holds to
    /// their entries itself. Were it killed before this, the next writer
    /// applies the log again, oldest first: the same states in the end.
    pub fn clear_key_state_log(&self) -> Result<()> {
        self.each_logged_state(false)
    }

    fn each_logged_state(&self, apply: bool) -> Result<()> {
        let mut logged = Vec::new();
        for item in self.session_state.scan_prefix([STATE_LOG_PREFIX]) {
            let (key, value) = item.map_err(|e| self.sled_err(e))?;
            logged.push(key);
            if !apply {
                continue;
            }
            let mut rest: &[u8] = &value;
            while let Some((len, tail)) = rest.split_first_chunk::<2>() {
                let len = usize::from(u16::from_be_bytes(*len));
                let (Some(base), Some(state)) =
                    (tail.get(..len), tail.get(len..len + 12).and_then(KeyState::decode))
                else {
                    return Err(self.corrupt("a logged session state"));
                };
                self.session_state.insert(base, &state.encode()).map_err(|e| self.sled_err(e))?;
                rest = &tail[len + 12..];
            }
        }
        for key in logged {
            self.session_state.remove(key).map_err(|e| self.sled_err(e))?;
        }
        Ok(())
    }
}

/// The first byte of the session-state log's keys (see the module docs).
const STATE_LOG_PREFIX: u8 = 0xFF;

fn state_log_key(seq: u64) -> [u8; 9] {
    let mut key = [STATE_LOG_PREFIX; 9];
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// One entry of the session index, decoded.
pub(super) struct IndexEntry {
    /// The session key's bytes.
    pub session: Vec<u8>,
    /// The entry's first id (its key's suffix).
    pub first: ExchangeId,
    /// The ids, increasing.
    pub ids: Vec<ExchangeId>,
}

/// The leading fields of an encoded [`Exchange`]. postcard writes a struct
/// as its fields one after another, so the head of a record decodes alone,
/// borrowing its strings; `head_decodes_like_the_whole_exchange` (tests)
/// keeps this in step with `Exchange`.
#[derive(Deserialize)]
pub(super) struct ExchangeHead<'a> {
    #[allow(dead_code)]
    pub id: u64,
    pub session: &'a str,
    pub started_at: u64,
    #[allow(dead_code)]
    pub duration_ns: u64,
    #[allow(dead_code)]
    pub client: Option<&'a str>,
    pub method: &'a str,
    pub url: &'a str,
}

/// `session 0x00 id` — the key of a session index entry, by its first id.
pub(super) fn index_key(session: &str, first: ExchangeId) -> Vec<u8> {
    let mut key = Vec::with_capacity(session.len() + 9);
    key.extend_from_slice(session.as_bytes());
    key.push(0);
    key.extend_from_slice(&first.to_be_bytes());
    key
}

/// The session and first id of an index key.
fn split_index_key(key: &[u8]) -> Option<(&[u8], ExchangeId)> {
    let at = key.len().checked_sub(9).filter(|&at| key[at] == 0)?;
    Some((&key[..at], decode_u64(&key[at + 1..])?))
}

/// The value of a session index entry: the ids, u64 LE each.
pub(super) fn encode_ids(ids: &[ExchangeId]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 8);
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// The ids of a session index value; `None` when it is damaged.
fn decode_ids(value: &[u8]) -> Option<Vec<ExchangeId>> {
    let ids = value.chunks_exact(8);
    if !ids.remainder().is_empty() {
        return None;
    }
    Some(ids.map(|id| u64::from_le_bytes(id.try_into().expect("8 bytes"))).collect())
}

fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn decode_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Writes the meta of a new store: the version, a fresh redaction key,
/// counters at 0.
fn create_meta(db: &sled::Db, meta: &sled::Tree) -> sled::Result<()> {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let mut batch = sled::Batch::default();
    batch.insert(META_VERSION, &FORMAT_VERSION.to_be_bytes());
    batch.insert(META_KEY, &key);
    batch.insert(META_EXCHANGES, &0u64.to_be_bytes());
    batch.insert(META_SESSIONS, &0u64.to_be_bytes());
    meta.apply_batch(batch)?;
    db.flush()?;
    Ok(())
}

/// Whether every tree of a sled directory is empty (nothing was recorded).
fn holds_nothing(db: &sled::Db) -> sled::Result<bool> {
    if !db.is_empty() {
        return Ok(false);
    }
    for name in db.tree_names() {
        if !db.open_tree(name)?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Headers, Request, Response, SessionKey};

    #[test]
    fn logged_session_states_fold_oldest_first_and_the_log_goes() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path()).unwrap();
        let layout = store.layout();
        let a1 = KeyState { last_seen: 10, generation: 1 };
        let a2 = KeyState { last_seen: 20, generation: 2 };
        let b1 = KeyState { last_seen: 15, generation: 1 };
        let odd = "a base with \u{FF}ÿ and a # in it";
        layout.log_key_states(0, [("a", &a1), ("b", &b1), (odd, &b1)].into_iter()).unwrap();
        layout.log_key_states(1, [("a", &a2)].into_iter()).unwrap();
        layout.log_key_states(2, std::iter::empty()).unwrap();
        assert_eq!(layout.key_state("a").unwrap(), None, "only logged so far");
        let logged = || layout.session_state.scan_prefix([STATE_LOG_PREFIX]).count();
        assert_eq!(logged(), 2, "one value a batch that changed something");

        layout.fold_key_state_log().unwrap();
        assert_eq!(layout.key_state("a").unwrap(), Some(a2), "the newest wins");
        assert_eq!(layout.key_state("b").unwrap(), Some(b1));
        assert_eq!(layout.key_state(odd).unwrap(), Some(b1));
        assert_eq!(logged(), 0);

        // Clearing drops the log without touching the entries.
        layout.log_key_states(3, [("a", &a1)].into_iter()).unwrap();
        layout.clear_key_state_log().unwrap();
        assert_eq!(layout.key_state("a").unwrap(), Some(a2));
        assert_eq!(logged(), 0);

        // A garbled log is an error naming it, not a guess.
        layout.session_state.insert(state_log_key(4), &[0, 9, b'x'][..]).unwrap();
        let err = layout.fold_key_state_log().unwrap_err().to_string();
        assert!(err.contains("logged session state"), "{err}");
    }

    #[test]
    fn head_decodes_like_the_whole_exchange() {
        let exchange = Exchange {
            id: 1_704_067_200_000_000_007,
            session: SessionKey("x-session:s-1".into()),
            started_at: 1_704_067_200_000_000_000,
            duration_ns: 1234,
            client: Some("127.0.0.1:40000".into()),
            request: Request {
                method: "PATCH".into(),
                url: "/orders/7?x=1".into(),
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::complete("{}"),
            },
            response: Some(Response {
                status: 200,
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::default(),
            }),
            error: None,
        };
        let bytes = postcard::to_stdvec(&exchange).unwrap();
        let (head, _): (ExchangeHead<'_>, _) = postcard::take_from_bytes(&bytes).unwrap();
        assert_eq!(head.id, exchange.id);
        assert_eq!(head.session, exchange.session.as_str());
        assert_eq!(head.started_at, exchange.started_at);
        assert_eq!(head.duration_ns, exchange.duration_ns);
        assert_eq!(head.client, exchange.client.as_deref());
        assert_eq!(head.method, exchange.request.method);
        assert_eq!(head.url, exchange.request.url);
    }

    #[test]
    fn index_keys_and_values_decode_as_encoded() {
        let key = index_key("x-session:a\u{1}b", 77);
        assert_eq!(split_index_key(&key), Some((&b"x-session:a\x01b"[..], 77)));
        assert_eq!(split_index_key(b"no separator"), None);
        let ids = [3, 9, u64::MAX];
        assert_eq!(decode_ids(&encode_ids(&ids)).as_deref(), Some(&ids[..]));
        assert_eq!(decode_ids(&[1, 2, 3]), None, "a value cut mid-id is damaged");
    }
}
