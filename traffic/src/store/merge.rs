//! The rare case of a batch whose ids fall among stored ones (an import of
//! exchanges that already carry ids): each exchange joins the stored block
//! whose id range holds it, and its session's index entry at or before
//! it, so that blocks and entries never overlap. The writer applies what
//! these return together, under a dirty marker of 0 (see `layout.rs`).

use std::collections::BTreeMap;

use super::batch::{build_blocks, Encoded, Pending};
use super::block::{BlockBuilder, BlockBytes};
use super::layout::{encode_ids, index_key, Layout};
use crate::{ExchangeId, Result};

/// The blocks to write for `batch` (its pending exchanges in id order):
/// a stored block whose range holds some of them is rewritten with them
/// (split if it grows too large; its first part keeps its key); those in
/// a gap between blocks become new blocks there.
pub(super) fn merge_blocks(
    layout: &Layout,
    builder: &mut BlockBuilder,
    batch: &Encoded,
) -> Result<sled::Batch> {
    let pending = &batch.pending;
    let mut blocks = sled::Batch::default();
    let mut from = 0;
    while from < pending.len() {
        let id = pending[from].id;
        // Every record that goes into the same place, old and new.
        let mut entries: Vec<(ExchangeId, &[u8])> = Vec::new();
        let holder = holding_block(layout, id)?;
        let to = match &holder {
            Some((key, value, last)) => {
                let block = layout.parse_block(*key, value)?;
                for i in 0..block.len() {
                    entries.push((block.id(i), layout.record_bytes(block, i)?));
                }
                from + pending[from..].partition_point(|p| p.id <= *last)
            }
            None => {
                let next = layout.next_block_key(id)?;
                from + pending[from..]
                    .partition_point(|p| !matches!(next, Some(next) if p.id >= next))
            }
        };
        entries.extend(pending[from..to].iter().map(|p| (p.id, batch.record(p))));
        entries.sort_by_key(|&(id, _)| id);
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(layout.corrupt(format!("exchange id {id} assigned twice")));
        }
        build_blocks(layout, builder, entries, |key, value| blocks.insert(&key, value))?;
        from = to;
    }
    Ok(blocks)
}

/// The stored block whose id range holds `id`, with its last id.
fn holding_block(
    layout: &Layout,
    id: ExchangeId,
) -> Result<Option<(ExchangeId, BlockBytes, ExchangeId)>> {
    let Some((key, value)) = layout.block_at(id)? else { return Ok(None) };
    let last = layout.parse_block(key, &value)?.last_id();
    Ok((last >= id).then_some((key, value, last)))
}

/// The index entries to write for `pending` (in id order): each id joins
/// its session's entry at or before it (so entries stay apart and in
/// order), or starts one before the session's first.
pub(super) fn merge_index(layout: &Layout, pending: &[Pending]) -> Result<sled::Batch> {
    let mut by_session: BTreeMap<&str, Vec<ExchangeId>> = BTreeMap::new();
    for p in pending {
        by_session.entry(p.session.as_str()).or_default().push(p.id);
    }
    let mut index = sled::Batch::default();
    for (session, ids) in by_session {
        for (first, ids) in merge_session(layout, session, ids)? {
            index.insert(index_key(session, first), encode_ids(&ids));
        }
    }
    Ok(index)
}

/// The entries of one session that `ids` change: first id → ids.
fn merge_session(
    layout: &Layout,
    session: &str,
    ids: Vec<ExchangeId>,
) -> Result<BTreeMap<ExchangeId, Vec<ExchangeId>>> {
    let mut changed: BTreeMap<ExchangeId, Vec<ExchangeId>> = BTreeMap::new();
    for id in ids {
        let stored = layout.entry_at_or_before(session, id)?;
        let held = changed.range(..=id).next_back().map(|(&first, _)| first);
        // The entry the id joins: a stored one unless one already changed
        // starts at or after it.
        let entry = match (stored, held) {
            (Some(stored), held) if !matches!(held, Some(h) if h >= stored.first) => {
                changed.insert(stored.first, stored.ids);
                Some(stored.first)
            }
            (_, held) => held,
        };
        match entry {
            Some(first) => {
                let ids = changed.get_mut(&first).expect("just found");
                let at = ids.partition_point(|&other| other < id);
                ids.insert(at, id);
            }
            None => {
                changed.insert(id, vec![id]);
            }
        }
    }
    Ok(changed)
}
