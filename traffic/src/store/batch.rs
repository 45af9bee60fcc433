//! The writer's current batch: its exchanges encoded one after another,
//! and how a run of encoded exchanges becomes blocks. The writer fills it;
//! the writer and the merge (an import among stored ids) turn it into
//! blocks.

use super::block::{encode_into, BlockBuilder, BLOCK_MAX_EXCHANGES, BLOCK_TARGET_BYTES};
use super::layout::Layout;
use crate::{Exchange, ExchangeId, Result};

/// The writer keeps its encoding buffers between batches up to this size.
const KEEP_BYTES: usize = 4 * 1024 * 1024;

/// An exchange of the current batch, encoded at `records[start..end]`.
pub(super) struct Pending {
    pub id: ExchangeId,
    pub session: String,
    start: usize,
    end: usize,
}

/// The current batch, encoded: the records one after another, and where
/// each exchange's record lies.
#[derive(Default)]
pub(super) struct Encoded {
    records: Vec<u8>,
    /// In arrival order, or in id order once sorted for a merge.
    pub pending: Vec<Pending>,
}

impl Encoded {
    /// How many bytes the batch's records take, encoded.
    pub fn bytes(&self) -> usize {
        self.records.len()
    }

    /// The encoded record of `p`.
    pub fn record(&self, p: &Pending) -> &[u8] {
        &self.records[p.start..p.end]
    }

    /// An empty batch with room for `exchanges` entries.
    pub fn with_capacity(exchanges: usize) -> Self {
        Encoded { records: Vec::new(), pending: Vec::with_capacity(exchanges) }
    }

    /// Encodes `exchange` at the end of the batch and files it under its
    /// session, which it takes (the exchange is not needed after this).
    pub fn push(&mut self, exchange: &mut Exchange) -> postcard::Result<()> {
        let start = self.records.len();
        encode_into(exchange, &mut self.records)?;
        let end = self.records.len();
        let session = std::mem::take(&mut exchange.session.0);
        self.pending.push(Pending { id: exchange.id, session, start, end });
        Ok(())
    }

    /// Empties the batch, keeping its buffers unless a burst made them large.
    pub fn clear(&mut self) {
        self.records.clear();
        if self.records.capacity() > KEEP_BYTES {
            // A burst of large bodies must not stay allocated for the
            // whole recording.
            self.records.shrink_to(KEEP_BYTES);
        }
        self.pending.clear();
    }

    /// Whether the batch follows every stored id (the last was `last`) in
    /// increasing order: then its exchanges become new blocks at the end.
    pub fn appends_after(&self, last: ExchangeId) -> bool {
        self.pending[0].id > last && self.pending.windows(2).all(|w| w[0].id < w[1].id)
    }
}

/// Builds blocks from `entries` (ids increasing), each closed at
/// [`BLOCK_MAX_EXCHANGES`] or past [`BLOCK_TARGET_BYTES`], and hands each
/// finished block's key and value to `done`.
pub(super) fn build_blocks<'a>(
    layout: &Layout,
    builder: &mut BlockBuilder,
    entries: impl IntoIterator<Item = (ExchangeId, &'a [u8])>,
    mut done: impl FnMut([u8; 8], sled::IVec),
) -> Result<()> {
    for (id, record) in entries {
        builder
            .push_encoded(id, record)
            .map_err(|_| layout.corrupt(format!("exchange {id} is too large to store")))?;
        if builder.len() >= BLOCK_MAX_EXCHANGES || builder.bytes() >= BLOCK_TARGET_BYTES {
            let (key, value) =
                builder.finish(layout.block_encoding()).expect("a block of at least one");
            done(key, value);
        }
    }
    if let Some((key, value)) = builder.finish(layout.block_encoding()) {
        done(key, value);
    }
    Ok(())
}
