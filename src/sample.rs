//! `venomqa sample serve`, `drive` and `generate`: the samples to try venomqa
//! on (the shop, the default, and the library, `--app library`), over HTTP
//! or HTTPS, and synthetic traffic for benchmarks.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use venomqa_samples::{
    BugSet, ClientTrust, DriveOptions, GenerateOptions, LibraryBugSet, LibraryConfig, SampleTls,
    ShopConfig, STAFF,
};
use venomqa_traffic::{RecordOptions, Store};

use crate::cli::{SampleApp, SampleDriveArgs, SampleGenerateArgs, SampleServeArgs};
use crate::{shutdown, usage};

/// Serves the sample `--app` names until Ctrl-C.
pub async fn serve(args: SampleServeArgs) -> Result<ExitCode> {
    let addr = SocketAddr::new(args.host, args.port);
    if args.app == SampleApp::Library && args.db.is_some() {
        return Err(usage(
            "--db: only the shop has a database backend; the library keeps its state in memory",
        ));
    }
    let tls = sample_tls(&args)?;
    match args.app {
        SampleApp::Shop => serve_shop(addr, &args.bugs, args.db.as_deref(), tls).await,
        SampleApp::Library => serve_library(addr, &args.bugs, tls).await,
    }
}

/// The certificate `--tls` makes (its CA written to `--tls-ca-out`) or
/// `--tls-cert` and `--tls-key` name, said; `None`: plain HTTP.
fn sample_tls(args: &SampleServeArgs) -> Result<Option<SampleTls>> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let tls = SampleTls::from_files(cert, key)
            .map_err(|err| usage(format!("--tls-cert/--tls-key: {err}")))?;
        say_tls(&tls, None);
        return Ok(Some(tls));
    }
    if !args.tls {
        return Ok(None);
    }
    let tls = SampleTls::throwaway(args.host).context("cannot make the sample's certificate")?;
    if let (Some(path), Some(pem)) = (&args.tls_ca_out, &tls.ca_pem) {
        std::fs::write(path, pem)
            .with_context(|| format!("--tls-ca-out: cannot write the CA to {}", path.display()))?;
    }
    say_tls(&tls, args.tls_ca_out.as_deref());
    Ok(Some(tls))
}

/// The base URL a listening sample is reached at.
fn base_url(local: SocketAddr, tls: Option<&SampleTls>) -> String {
    let scheme = if tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{local}")
}

/// What a client needs to reach the sample over TLS: which certificate it
/// shows, and where the CA to trust is.
fn say_tls(tls: &SampleTls, ca_out: Option<&Path>) {
    if tls.ca_pem.is_none() {
        println!("TLS with the certificate of --tls-cert (HTTP/2 and HTTP/1.1)");
        return;
    }
    let names = tls.names.join(", ");
    match ca_out {
        Some(path) => {
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            println!(
                "TLS certificate for {names} (HTTP/2 and HTTP/1.1), signed by a throwaway CA written to {}: trust it with `sample drive --ca FILE`, `[target] ca = \"FILE\"` or `curl --cacert FILE`",
                shown.display()
            );
        }
        None => println!(
            "TLS certificate for {names} (HTTP/2 and HTTP/1.1), signed by a throwaway CA: write it with --tls-ca-out FILE for clients to trust, or they must skip the check (`sample drive --insecure`, `curl -k`)"
        ),
    }
}

async fn listen(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is the port in use?)"))?;
    let local = listener.local_addr().context("cannot read the listening address")?;
    Ok((listener, local))
}

async fn serve_shop(
    addr: SocketAddr,
    bugs: &str,
    db: Option<&str>,
    tls: Option<SampleTls>,
) -> Result<ExitCode> {
    let bugs: BugSet = bugs.parse().map_err(|err| usage(format!("--bugs `{bugs}`: {err}")))?;
    let database = db.map(sqlite_path).transpose()?;
    let (listener, local) = listen(addr).await?;
    println!("sample shop listening on {} with bugs: {bugs}", base_url(local, tls.as_ref()));
    if let Some(path) = &database {
        println!("state kept in the SQLite database {}", path.display());
    }
    println!("users: alice, bob, carol, dave (password: <name>-pw); Ctrl-C to stop");
    let config = ShopConfig { bugs, database, tls: tls.map(|t| t.server_config) };
    venomqa_samples::serve_shop(listener, config, shutdown::signal())
        .await
        .context("the sample shop stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}

/// The file of `--db sqlite:PATH`.
fn sqlite_path(db: &str) -> Result<std::path::PathBuf> {
    match db.strip_prefix("sqlite:") {
        Some(path) if !path.is_empty() => Ok(path.into()),
        _ => Err(usage(format!(
            "--db `{db}`: give a SQLite file as `sqlite:PATH`, e.g. --db sqlite:shop.db"
        ))),
    }
}

async fn serve_library(addr: SocketAddr, bugs: &str, tls: Option<SampleTls>) -> Result<ExitCode> {
    let bugs: LibraryBugSet =
        bugs.parse().map_err(|err| usage(format!("--bugs `{bugs}`: {err}")))?;
    let (listener, local) = listen(addr).await?;
    println!("sample library listening on {} with bugs: {bugs}", base_url(local, tls.as_ref()));
    let staff: Vec<String> =
        STAFF.iter().map(|s| format!("{} / {}", s.email, s.password)).collect();
    println!(
        "API under /api/v1; staff: {}; members sign up at POST /api/v1/members; Ctrl-C to stop",
        staff.join(", ")
    );
    let config = LibraryConfig { bugs, tls: tls.map(|t| t.server_config) };
    venomqa_samples::serve_library(listener, config, shutdown::signal())
        .await
        .context("the sample library stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}

/// Drives the sample `--app` names with happy-path QA sessions.
pub async fn drive(args: SampleDriveArgs) -> Result<ExitCode> {
    let (most, who) = match args.app {
        SampleApp::Shop => (4, "the shop has 4 users"),
        SampleApp::Library => (12, "the library driver has 12 members"),
    };
    if !(1..=most).contains(&args.users) {
        return Err(usage(format!("--users {}: {who}; pick 1 to {most}", args.users)));
    }
    if args.insecure && args.base.starts_with("https://") {
        eprintln!(
            "venomqa: --insecure: the sample's TLS certificate is not checked (the traffic is encrypted, but to whoever answers)"
        );
    }
    let options = DriveOptions {
        base: args.base.trim_end_matches('/').to_string(),
        users: args.users,
        sessions: args.sessions,
        seed: args.seed,
        concurrency: args.concurrency.max(1),
        trust: ClientTrust { extra_ca: args.ca.clone(), insecure: args.insecure },
    };
    let report = match args.app {
        SampleApp::Shop => venomqa_samples::drive(options).await,
        SampleApp::Library => venomqa_samples::drive_library(options).await,
    }
    .with_context(|| format!("driving {} failed", args.base))?;
    println!("{report}");
    if !report.unexpected.is_empty() {
        let app = match args.app {
            SampleApp::Shop => "shop",
            SampleApp::Library => "library",
        };
        anyhow::bail!(
            "{} requests got unexpected answers, which a correct sample {app} never gives; is {} the sample {app} (or a proxy in front of it)?",
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
