//! Where a command's files go: `-` is standard output (or, for a file
//! read, standard input) for every path a user gives, so commands compose
//! in pipes. A command that writes a file to stdout says its own messages
//! on stderr.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Whether `path` names standard output or input.
pub fn is_stdio(path: &Path) -> bool {
    path == Path::new("-")
}

/// A buffered writer to `path`, or to stdout for `-`.
pub fn create(path: &Path) -> Result<Box<dyn Write>> {
    if is_stdio(path) {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

/// Writes `bytes` to `path` (stdout for `-`) in one go.
pub fn write_all(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = create(path)?;
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", shown(path)))
}

/// A buffered reader of `path`, or of stdin for `-`.
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    if is_stdio(path) {
        return Ok(Box::new(BufReader::new(std::io::stdin().lock())));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(BufReader::new(file)))
}

/// How a path is named in messages: `standard output` for `-`.
pub fn shown(path: &Path) -> String {
    if is_stdio(path) {
        "standard output".into()
    } else {
        path.display().to_string()
    }
}

/// Prints a message for people: on stdout, unless stdout carries a file.
pub fn say(file_on_stdout: bool, message: &str) {
    if file_on_stdout {
        eprintln!("{message}");
    } else {
        println!("{message}");
    }
}
