//! `venomqa export --har` and `venomqa import`: HAR 1.2 files in and out of a store.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;
use venomqa_traffic::{read_har, write_har, Exchange, HarError, Store, StoredExchanges};

use crate::browse::{open_store, resolve_session};
use crate::cli::{ExportArgs, ImportArgs};
use crate::output::{self, is_stdio, say, shown};
use crate::record::record_options;
use crate::usage;

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
    if args.json && is_stdio(&args.har) {
        return Err(usage("--json and --har - both want standard output: give --har a file"));
    }
    let mut out = output::create(&args.har)?;
    let written = write_har(exchanges, &mut out)
        .with_context(|| format!("failed to write {}", shown(&args.har)))?;
    if let Some(err) = read_error {
        return Err(err).context("failed to read the store; the HAR file is incomplete");
    }
    out.flush().with_context(|| format!("failed to write {}", shown(&args.har)))?;
    if args.json {
        println!("{}", json!({"exported": written, "har": args.har}));
    } else {
        say(is_stdio(&args.har), &format!("exported {written} exchanges to {}", shown(&args.har)));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn import(args: ImportArgs) -> Result<ExitCode> {
    let input = output::open(&args.file)?;
    let exchanges = read_har(input).map_err(|err| match err {
        HarError::Read(_) => {
            anyhow::Error::new(err).context(format!("cannot read {}", args.file.display()))
        }
        // The file is there but its content is wrong: the user must fix the input.
        _ => usage(format!("{}: {err}", args.file.display())),
    })?;
    let options = record_options(&args.sessions)?;
    let store = Store::open(&args.store.store)
        .with_context(|| format!("cannot open the store at {}", args.store.store.display()))?;
    let (exchanges, duplicates) = if args.allow_duplicates {
        (exchanges, 0)
    } else {
        let stored = StoredExchanges::scan(&store, &options)
            .with_context(|| format!("cannot read the store at {}", args.store.store.display()))?;
        let before = exchanges.len();
        let new: Vec<Exchange> = exchanges.into_iter().filter(|e| !stored.contains(e)).collect();
        let skipped = before - new.len();
        (new, skipped)
    };
    let summary = store.append(exchanges, options).context("failed to write to the store")?;
    if args.json {
        let report = json!({
            "imported": summary.exchanges_written,
            "sessions": summary.sessions_touched,
            "skipped_duplicates": duplicates,
            "dropped": summary.captures_dropped,
            "file": args.file,
            "store": args.store.store,
        });
        println!("{report}");
    } else {
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
    }
    if summary.captures_dropped > 0 {
        anyhow::bail!("{} exchanges could not be written", summary.captures_dropped);
    }
    Ok(ExitCode::SUCCESS)
}
