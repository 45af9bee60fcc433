//! `venomqa sample serve`, `drive` and `generate`: the shop to try venomqa on,
//! and synthetic traffic for benchmarks.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use venomqa_samples::{BugSet, DriveOptions, GenerateOptions, ShopConfig};
use venomqa_traffic::{RecordOptions, Store};

use crate::cli::{SampleDriveArgs, SampleGenerateArgs, SampleServeArgs};
use crate::{shutdown, usage};

pub async fn serve(args: SampleServeArgs) -> Result<ExitCode> {
    let bugs: BugSet =
        args.bugs.parse().map_err(|err| usage(format!("--bugs `{}`: {err}", args.bugs)))?;
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is the port in use?)"))?;
    let local = listener.local_addr().context("cannot read the listening address")?;
    println!("sample shop listening on http://{local} with bugs: {bugs}");
    println!("users: alice, bob, carol, dave (password: <name>-pw); Ctrl-C to stop");
    venomqa_samples::serve_shop(listener, ShopConfig { bugs }, shutdown::signal())
        .await
        .context("the sample shop stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}

pub async fn drive(args: SampleDriveArgs) -> Result<ExitCode> {
    if !(1..=4).contains(&args.users) {
        return Err(usage(format!("--users {}: the shop has 4 users; pick 1 to 4", args.users)));
    }
    let options = DriveOptions {
        base: args.base.trim_end_matches('/').to_string(),
        users: args.users,
        sessions: args.sessions,
        seed: args.seed,
        concurrency: args.concurrency.max(1),
    };
    let report = venomqa_samples::drive(options)
        .await
        .with_context(|| format!("driving {} failed", args.base))?;
    println!("{report}");
    if !report.unexpected.is_empty() {
        anyhow::bail!(
            "{} requests got unexpected answers, which a correct sample shop never gives; is {} the sample shop (or a proxy in front of it)?",
            report.unexpected.len(),
            args.base
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes synthetic shop traffic through a recording, so it is sessionized and
/// redacted exactly like captured traffic, and says how long that took.
pub fn generate(args: SampleGenerateArgs) -> Result<ExitCode> {
    let store = Store::open(&args.store)
        .with_context(|| format!("cannot open the store at {}", args.store.display()))?;
    let before = store
        .stats()
        .with_context(|| format!("cannot read the store at {}", args.store.display()))?
        .exchanges;
    let started = Instant::now();
    let exchanges = venomqa_samples::generate(GenerateOptions::new(args.exchanges, args.seed));
    let summary = store
        .append(exchanges, RecordOptions::default())
        .context("failed to write to the store")?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "generated {} exchanges in {} sessions (seed {}) into {} in {seconds:.2} s ({:.0} exchanges/s)",
        summary.exchanges_written,
        summary.sessions_touched,
        args.seed,
        args.store.display(),
        summary.exchanges_written as f64 / seconds.max(1e-9)
    );
    if before > 0 {
        println!(
            "the store already held {before} exchanges; it now holds {}",
            before + summary.exchanges_written
        );
    }
    if summary.captures_dropped > 0 {
        anyhow::bail!("{} exchanges could not be written", summary.captures_dropped);
    }
    Ok(ExitCode::SUCCESS)
}
