//! Blocks: the unit the store keeps exchanges in (format versions 2 and 3).
//!
//! One sled value holds a run of exchanges with increasing ids, keyed by
//! the first id (big-endian, so sled sorts blocks by id). A block is laid
//! out so that the writer fills it front to back without knowing in
//! advance how many records it will hold:
//!
//! ```text
//! record 0 | record 1 | ... | record n-1       postcard-encoded `Exchange`s
//! id 0 (u64 LE) end 0 (u32 LE) | ... | id n-1 end n-1    the directory
//! n (u32 LE)
//! ```
//!
//! `end i` is where record `i` stops (from the start of the value); record
//! `i` starts where record `i - 1` stopped (record 0 at 0). The ids of the
//! directory increase strictly, so one exchange is found by a binary search
//! and a range of ids by two, without decoding any record. Across blocks,
//! ids increase too: a block's last id is below the next block's key.
//!
//! Format 3 stores each block LZ4-compressed (see [`BlockEncoding`]);
//! format 2 stores it as built. Either way a reader parses the built bytes.

use crate::{Exchange, ExchangeId};

/// Most exchanges in one block.
pub(crate) const BLOCK_MAX_EXCHANGES: usize = 256;

/// A block is closed once its records pass this many bytes.
pub(crate) const BLOCK_TARGET_BYTES: usize = 64 * 1024;

/// Bytes of one directory entry: id (u64) and end (u32).
const ENTRY: usize = 12;
/// Bytes of the count at the end of a block.
const COUNT: usize = 4;

/// A block read from the store: a view over its bytes.
#[derive(Clone, Copy)]
pub(crate) struct Block<'a> {
    bytes: &'a [u8],
    /// Where the directory starts.
    dir: usize,
    len: usize,
}

impl<'a> Block<'a> {
    /// Checks the footer; `None` when the value cannot be a block (a
    /// damaged value). Records are checked as they are read.
    pub fn parse(bytes: &'a [u8]) -> Option<Block<'a>> {
        let count_at = bytes.len().checked_sub(COUNT)?;
        let len = u32::from_le_bytes(bytes[count_at..].try_into().ok()?) as usize;
        let dir = count_at.checked_sub(len.checked_mul(ENTRY)?)?;
        (len > 0).then_some(Block { bytes, dir, len })
    }

    /// How many exchanges it holds (at least one).
    pub fn len(&self) -> usize {
        self.len
    }

    /// The id of record `i`.
    pub fn id(&self, i: usize) -> ExchangeId {
        let at = self.dir + i * ENTRY;
        u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes"))
    }

    fn end(&self, i: usize) -> usize {
        let at = self.dir + i * ENTRY + 8;
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes")) as usize
    }

    /// The encoded record `i`; `None` when the directory is damaged.
    pub fn record(&self, i: usize) -> Option<&'a [u8]> {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let end = self.end(i);
        (start <= end && end <= self.dir).then(|| &self.bytes[start..end])
    }

    pub fn first_id(&self) -> ExchangeId {
        self.id(0)
    }

    pub fn last_id(&self) -> ExchangeId {
        self.id(self.len - 1)
    }

    /// The position of `id`, if the block holds it.
    pub fn find(&self, id: ExchangeId) -> Option<usize> {
        let at = self.lower_bound(id);
        (at < self.len && self.id(at) == id).then_some(at)
    }

    /// The first position whose id is at least `id` (`len` if none).
    pub fn lower_bound(&self, id: ExchangeId) -> usize {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.id(mid) < id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// Builds one block at a time in buffers kept between blocks.
#[derive(Default)]
pub(crate) struct BlockBuilder {
    data: Vec<u8>,
    dir: Vec<(ExchangeId, u32)>,
    /// Where a block is compressed.
    scratch: Vec<u8>,
}

/// A record too large for a block's u32 offsets (over 4 GiB).
#[derive(Debug)]
pub(crate) struct TooLarge;

impl BlockBuilder {
    pub fn len(&self) -> usize {
        self.dir.len()
    }

    /// Bytes of records so far.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    pub fn first_id(&self) -> Option<ExchangeId> {
        self.dir.first().map(|&(id, _)| id)
    }

    /// Appends an encoded record; ids must increase.
    pub fn push_encoded(&mut self, id: ExchangeId, record: &[u8]) -> Result<(), TooLarge> {
        debug_assert!(!matches!(self.dir.last(), Some(&(last, _)) if last >= id));
        self.data.extend_from_slice(record);
        self.close_record(id)
    }

    fn close_record(&mut self, id: ExchangeId) -> Result<(), TooLarge> {
        let end = u32::try_from(self.data.len()).map_err(|_| TooLarge)?;
        // The built block (records, directory, count) must be measurable
        // in a u32 too: a compressed block starts with its length.
        let built = self.data.len() + (self.dir.len() + 1) * ENTRY + COUNT;
        u32::try_from(built).map_err(|_| TooLarge)?;
        self.dir.push((id, end));
        Ok(())
    }

    /// The finished block's key and value, encoded as the store keeps
    /// blocks; the builder is empty again.
    pub fn finish(&mut self, encoding: BlockEncoding) -> Option<([u8; 8], sled::IVec)> {
        let first = self.first_id()?;
        let count = u32::try_from(self.dir.len()).expect("a block holds far fewer than 2^32");
        self.data.reserve(self.dir.len() * ENTRY + COUNT);
        for &(id, end) in &self.dir {
            self.data.extend_from_slice(&id.to_le_bytes());
            self.data.extend_from_slice(&end.to_le_bytes());
        }
        self.data.extend_from_slice(&count.to_le_bytes());
        let value = encoding.encode(&self.data, &mut self.scratch);
        self.data.clear();
        // One large exchange must not keep its size allocated.
        self.data.shrink_to(4 * BLOCK_TARGET_BYTES);
        self.scratch.clear();
        self.scratch.shrink_to(4 * BLOCK_TARGET_BYTES);
        self.dir.clear();
        Some((first.to_be_bytes(), value))
    }
}

/// How a store keeps its blocks: as built (format 2) or LZ4-compressed
/// (format 3, what new stores get).
///
/// Compression is for the writer's sake as much as the disk's: sled keeps
/// values inline in its tree nodes and rewrites a node whole when it
/// consolidates or splits it, so every byte a block saves is saved several
/// times over; exchanges (repeated header names, JSON keys) shrink several
/// times. A compressed value is the built block's length (u32 LE) and then
/// its LZ4 block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockEncoding {
    Plain,
    Lz4,
}

/// LZ4 never expands a block's bytes more than about 255 times: a value
/// that claims more is damaged, and is refused before anything is
/// allocated for it.
const LZ4_MAX_RATIO: usize = 255;

impl BlockEncoding {
    /// The value to store for a built block.
    fn encode(self, built: &[u8], scratch: &mut Vec<u8>) -> sled::IVec {
        match self {
            BlockEncoding::Plain => sled::IVec::from(built),
            BlockEncoding::Lz4 => {
                let len =
                    u32::try_from(built.len()).expect("`close_record` keeps a block's size a u32");
                scratch.clear();
                scratch.resize(4 + lz4_flex::block::get_maximum_output_size(built.len()), 0);
                scratch[..4].copy_from_slice(&len.to_le_bytes());
                let written = lz4_flex::block::compress_into(built, &mut scratch[4..])
                    .expect("the output is sized for the worst case");
                sled::IVec::from(&scratch[..4 + written])
            }
        }
    }

    /// The built block a stored value holds; `None` when it cannot be
    /// decompressed (a damaged value).
    pub fn decode(self, stored: sled::IVec) -> Option<BlockBytes> {
        match self {
            BlockEncoding::Plain => Some(BlockBytes::Stored(stored)),
            BlockEncoding::Lz4 => {
                let (len, compressed) = stored.split_first_chunk::<4>()?;
                let len = u32::from_le_bytes(*len) as usize;
                if len > compressed.len().saturating_mul(LZ4_MAX_RATIO) + 16 {
                    return None;
                }
                let mut built = vec![0; len];
                let written = lz4_flex::block::decompress_into(compressed, &mut built).ok()?;
                (written == len).then_some(BlockBytes::Decoded(built))
            }
        }
    }
}

/// A block's bytes ready for [`Block::parse`]: the stored value itself, or
/// its decompressed copy.
pub(crate) enum BlockBytes {
    Stored(sled::IVec),
    Decoded(Vec<u8>),
}

impl std::ops::Deref for BlockBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BlockBytes::Stored(value) => value,
            BlockBytes::Decoded(bytes) => bytes,
        }
    }
}

/// Encodes `exchange` at the end of `out`, reusing its allocation.
pub(crate) fn encode_into(exchange: &Exchange, out: &mut Vec<u8>) -> postcard::Result<()> {
    postcard::serialize_with_flavor(exchange, AppendVec(out))
}

/// A postcard flavor appending to a borrowed `Vec`.
struct AppendVec<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for AppendVec<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut builder = BlockBuilder::default();
        for &(id, record) in records {
            builder.push_encoded(id, record).unwrap();
        }
        builder.finish(BlockEncoding::Plain).unwrap().1.to_vec()
    }

    #[test]
    fn a_block_reads_back_its_records_by_position_and_id() {
        let bytes = build(&[(5, b"five"), (9, b""), (12, b"twelve")]);
        let block = Block::parse(&bytes).unwrap();
        assert_eq!(block.len(), 3);
        assert_eq!((block.first_id(), block.last_id()), (5, 12));
        assert_eq!(block.record(0), Some(&b"five"[..]));
        assert_eq!(block.record(1), Some(&b""[..]));
        assert_eq!(block.record(2), Some(&b"twelve"[..]));
        assert_eq!(block.find(9), Some(1));
        assert_eq!(block.find(10), None);
        assert_eq!(block.lower_bound(10), 2);
        assert_eq!(block.lower_bound(13), 3);
        assert_eq!(block.lower_bound(0), 0);
    }

    #[test]
    fn damaged_blocks_do_not_read() {
        let bytes = build(&[(5, b"five"), (9, b"nine")]);
        assert!(Block::parse(&[]).is_none());
        assert!(Block::parse(&0u32.to_le_bytes()).is_none(), "an empty block is never written");
        let mut huge = bytes.clone();
        let at = huge.len() - 4;
        huge[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Block::parse(&huge).is_none(), "a count beyond the value");
        // The end of record 1 (after two ids and one end) points past the
        // directory.
        let mut past = bytes.clone();
        let end_1 = 8 + 12 + 8;
        past[end_1..end_1 + 4].copy_from_slice(&100u32.to_le_bytes());
        let block = Block::parse(&past).unwrap();
        assert_eq!(block.record(0), Some(&b"five"[..]));
        assert_eq!(block.record(1), None);
    }

    #[test]
    fn the_builder_is_reusable() {
        let mut builder = BlockBuilder::default();
        builder.push_encoded(1, b"a").unwrap();
        let (key, first) = builder.finish(BlockEncoding::Plain).unwrap();
        assert_eq!(key, 1u64.to_be_bytes());
        assert!(builder.len() == 0 && builder.finish(BlockEncoding::Plain).is_none());
        builder.push_encoded(2, b"b").unwrap();
        let (_, second) = builder.finish(BlockEncoding::Plain).unwrap();
        assert_eq!(Block::parse(&second).unwrap().record(0), Some(&b"b"[..]));
        assert_eq!(Block::parse(&first).unwrap().record(0), Some(&b"a"[..]));
    }

    #[test]
    fn a_compressed_block_decodes_to_the_block_as_built() {
        let record = b"{\"method\":\"GET\",\"url\":\"/orders/1\",\"accept\":\"application/json\"}";
        let records: Vec<(u64, &[u8])> = (1..=50).map(|id| (id, &record[..])).collect();
        let built = build(&records);
        let mut builder = BlockBuilder::default();
        for &(id, record) in &records {
            builder.push_encoded(id, record).unwrap();
        }
        let (_, stored) = builder.finish(BlockEncoding::Lz4).unwrap();
        assert!(stored.len() * 5 < built.len(), "{} of {} bytes", stored.len(), built.len());
        let decoded = BlockEncoding::Lz4.decode(stored.clone()).unwrap();
        assert_eq!(&*decoded, &built[..]);
        let plain = BlockEncoding::Plain.decode(sled::IVec::from(&built[..])).unwrap();
        assert_eq!(&*plain, &built[..]);
    }

    #[test]
    fn a_damaged_compressed_block_does_not_decode() {
        let built = build(&[(5, b"five"), (9, b"nine")]);
        let mut builder = BlockBuilder::default();
        builder.push_encoded(5, b"five").unwrap();
        builder.push_encoded(9, b"nine").unwrap();
        let (_, stored) = builder.finish(BlockEncoding::Lz4).unwrap();
        let decode = |bytes: &[u8]| BlockEncoding::Lz4.decode(sled::IVec::from(bytes));
        assert!(decode(&stored[..3]).is_none(), "no room for the length");
        assert!(decode(&stored[..stored.len() - 1]).is_none(), "cut short");
        let mut longer = stored.to_vec();
        longer[..4].copy_from_slice(&(built.len() as u32 + 1).to_le_bytes());
        assert!(decode(&longer).is_none(), "a length the data does not fill");
        let mut huge = u32::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(&stored[4..]);
        assert!(decode(&huge).is_none(), "a length past what LZ4 can expand to");
    }
}
