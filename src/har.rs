//! `venomqa export --har` and `venomqa import`: HAR 1.2 files in and out of a store.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_traffic::{read_har, write_har, Exchange, HarError, Store, StoredExchanges};

use crate::browse::{open_store, resolve_session};
use crate::cli::{ExportArgs, ImportArgs};
use crate::record::record_options;

pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let store = open_store(&args.store.store)?;
    let exchanges: Box<dyn Iterator<Item = venomqa_traffic::Result<Exchange>>> = match &args.session
    {
        Some(text) => {
            let key = resolve_session(&store, text)?;
            Box::new(store.session_exchanges(&key))
        }
        None => Box::new(store.exchanges()),
    };
    // A read error mid-way must fail the export, not silently shorten the file.
    let mut read_error = None;
    let exchanges = exchanges.map_while(|item| match item {
        Ok(exchange) => Some(exchange),
        Err(err) => {
            read_error = Some(err);
            None
        }
    });
    let file =
        File::create(&args.har).with_context(|| format!("cannot create {}", args.har.display()))?;
    let mut out = BufWriter::new(file);
    let written = write_har(exchanges, &mut out)
        .with_context(|| format!("failed to write {}", args.har.display()))?;
    if let Some(err) = read_error {
        return Err(err).context("failed to read the store; the HAR file is incomplete");
    }
    out.flush().with_context(|| format!("failed to write {}", args.har.display()))?;
    println!("exported {written} exchanges to {}", args.har.display());
    Ok(ExitCode::SUCCESS)
}

pub fn import(args: ImportArgs) -> Result<ExitCode> {
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let exchanges = read_har(BufReader::new(file)).map_err(|err| match err {
        HarError::Read(_) => {
            anyhow::Error::new(err).context(format!("cannot read {}", args.file.display()))
        }
        // The file is there but its content is wrong: the user must fix the input.
        _ => crate::usage(format!("{}: {err}", args.file.display())),
    })?;
    let options = record_options(&args.sessions)?;
    let store = Store::open(&args.store.store)
        .with_context(|| format!("cannot open the store at {}", args.store.store.display()))?;
    let (exchanges, duplicates) = if args.allow_duplicates {
        (exchanges, 0)
    } else {
        let stored = StoredExchanges::scan(&store)
            .with_context(|| format!("cannot read the store at {}", args.store.store.display()))?;
        let before = exchanges.len();
        let new: Vec<Exchange> = exchanges.into_iter().filter(|e| !stored.contains(e)).collect();
        let skipped = before - new.len();
        (new, skipped)
    };
    let summary = store.append(exchanges, options).context("failed to write to the store")?;
    println!(
        "imported {} exchanges in {} sessions from {} into {}",
        summary.exchanges_written,
        summary.sessions_touched,
        args.file.display(),
        args.store.store.display()
    );
    if duplicates > 0 {
        println!(
            "skipped {duplicates} exchanges the store holds already (--allow-duplicates keeps them)"
        );
    }
    if summary.captures_dropped > 0 {
        anyhow::bail!("{} exchanges could not be written", summary.captures_dropped);
    }
    Ok(ExitCode::SUCCESS)
}
