//! The traffic store tests' helpers: exchanges built in code and whole
//! recordings from `venomqa-testkit`, plus what only these tests need — a
//! fixed clock, and the store's blocks as sled holds them.
#![allow(dead_code, unused_imports)]

use std::path::Path;

pub use venomqa_testkit::disk::unpack_block;
pub use venomqa_testkit::store::{all, exchange, record_all, session_keys, ExchangeExt};
use venomqa_traffic::Exchange;

/// 2024-01-01T00:00:00Z in unix ns, plus `secs`.
pub fn t(secs: u64) -> u64 {
    1_704_067_200_000_000_000 + secs * 1_000_000_000
}

/// Most exchanges the writer puts in one block, as the store's layout
/// documents it (`store/layout.rs`); tests that span several blocks size
/// their traffic with it.
pub const BLOCK_MAX_EXCHANGES: usize = 256;

/// A block as built (and as a format 2 store keeps it), for tests that
/// write what a crash leaves behind: the postcard records one after
/// another, then per record its id (u64 LE) and where it ends (u32 LE),
/// then the count (u32 LE).
pub fn built_block(exchanges: &[&Exchange]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for e in exchanges {
        out.extend(postcard::to_stdvec(e).unwrap());
        directory.extend(e.id.to_le_bytes());
        directory.extend((out.len() as u32).to_le_bytes());
    }
    out.extend(directory);
    out.extend((exchanges.len() as u32).to_le_bytes());
    out
}

/// A block as a store of the current format (3) keeps it: the built
/// block's length (u32 LE), then the built block LZ4-compressed.
pub fn block(exchanges: &[&Exchange]) -> Vec<u8> {
    let built = built_block(exchanges);
    let mut out = (built.len() as u32).to_le_bytes().to_vec();
    out.extend(lz4_flex::block::compress(&built));
    out
}

/// The blocks of a closed store (of the current format) as sled holds
/// them: each key and the ids of its directory.
pub fn raw_blocks(dir: &Path) -> Vec<(u64, Vec<u64>)> {
    raw_blocks_as(dir, unpack_block)
}

/// The blocks of a closed store, each value turned into its built block
/// by `built`.
pub fn raw_blocks_as(dir: &Path, built: impl Fn(&[u8]) -> Vec<u8>) -> Vec<(u64, Vec<u64>)> {
    let db = open_raw(dir);
    let blocks = db.open_tree("blocks").unwrap();
    let mut out = Vec::new();
    for item in blocks.iter() {
        let (key, value) = item.unwrap();
        let value = built(&value);
        let count = u32::from_le_bytes(value[value.len() - 4..].try_into().unwrap()) as usize;
        let directory = value.len() - 4 - 12 * count;
        let ids = (0..count)
            .map(|i| {
                let at = directory + 12 * i;
                u64::from_le_bytes(value[at..at + 8].try_into().unwrap())
            })
            .collect();
        out.push((u64::from_be_bytes(key.as_ref().try_into().unwrap()), ids));
    }
    out
}

/// The sled database of a closed store, for tests that look beneath the
/// API. sled lets go of its lock a moment after the last handle is dropped,
/// so this waits for it (a second at most), as `Store::open` does.
pub fn open_raw(dir: &Path) -> sled::Db {
    let started = std::time::Instant::now();
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(1) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("cannot open {}: {e}", dir.display()),
        }
    }
}
