//! `venomqa sample serve` and `venomqa sample drive`: the shop to try venomqa on.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_samples::{BugSet, DriveOptions, ShopConfig};

use crate::cli::{SampleDriveArgs, SampleServeArgs};
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
