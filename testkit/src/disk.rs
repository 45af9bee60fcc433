//! What a store puts on disk, for tests that search it for secrets: every
//! file's bytes, and every value sled holds, the store's blocks
//! decompressed. Format 3 compresses blocks, which hides a secret from a
//! search of the files alone but not from anyone who opens the store.

use std::path::Path;
use std::time::{Duration, Instant};

/// Every file under `dir` (name, bytes), then every value of every sled
/// tree of the store there (named by tree and key), blocks decompressed.
/// The store must be closed.
pub fn store_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = files_under(dir);
    let db = open_closed_store(dir);
    let compressed = db
        .open_tree("meta")
        .expect("meta tree")
        .get("format_version")
        .expect("read the format version")
        .is_some_and(|v| v.as_ref() == 3u32.to_be_bytes());
    for name in db.tree_names() {
        let tree = db.open_tree(&name).expect("open a tree");
        let tree_name = String::from_utf8_lossy(&name).into_owned();
        for item in tree.iter() {
            let (key, value) = item.expect("read a value");
            let value = if compressed && tree_name == "blocks" {
                unpack_block(&value)
            } else {
                value.to_vec()
            };
            out.push((format!("tree {tree_name}, key {key:?}"), value));
        }
    }
    out
}

/// [`store_contents`] in one buffer.
pub fn store_bytes(dir: &Path) -> Vec<u8> {
    store_contents(dir).into_iter().flat_map(|(_, bytes)| bytes).collect()
}

/// The built block a format 3 value holds: the value is the built
/// block's length (u32 LE), then the built block LZ4-compressed.
pub fn unpack_block(value: &[u8]) -> Vec<u8> {
    let len = u32::from_le_bytes(value[..4].try_into().expect("a length"));
    lz4_flex::block::decompress(&value[4..], len as usize).expect("a block decompresses")
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("dir is readable") {
                stack.push(entry.expect("entry").path());
            }
        } else if let Ok(content) = std::fs::read(&path) {
            out.push((path.display().to_string(), content));
        }
    }
    out
}

/// sled lets go of its lock a moment after the last handle is dropped
/// (or its process exits): waits for it, a few seconds at most.
fn open_closed_store(dir: &Path) -> sled::Db {
    let started = Instant::now();
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) if started.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot open {}: {e}", dir.display()),
        }
    }
}
