//! `venomqa record`: the recording reverse proxy, from flags to a summary.

use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_proxy::{Forward, HostPattern, ProxyConfig, ProxyStats, Route};
use venomqa_tls::ClientTrust;
use venomqa_traffic::{
    ExtraNames, RecordOptions, RecordSummary, SessionRules, Store, StoreTrouble,
};

use crate::cli::{RecordArgs, SessionArgs};
use crate::{shutdown, usage};

pub async fn run(args: RecordArgs) -> Result<ExitCode> {
    let store_dir = &args.store.store;
    let mut config = match &args.upstream {
        Some(upstream) => ProxyConfig::new(parse_upstream(upstream)?),
        None => ProxyConfig::forward(forward(&args)?),
    };
    config.upstream_trust =
        ClientTrust { extra_ca: args.upstream_ca.clone(), insecure: args.insecure_upstream };
    // A CA file that cannot be used is the user's to fix, before anything runs.
    config
        .upstream_trust
        .client_config(&[])
        .map_err(|err| usage(format!("--upstream-ca: {err}")))?;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let tls = venomqa_tls::server_config_from_files(cert, key)
            .map_err(|err| usage(format!("--tls-cert/--tls-key: {err}")))?;
        config.tls = Some(tls);
    }
    config.body_cap = args.body_cap;
    config.forwarded = args.forwarded;
    config.upstream_timeout = args.upstream_timeout;
    // One event loop per core, as nginx runs one worker process per core.
    config.threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);

    let options = record_options(&args.sessions)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| {
        format!("cannot listen on {} (is another process using that port?)", args.listen)
    })?;
    let listening = listener.local_addr().context("cannot read the listening address")?;
    // Before the store is touched: a proxy forwarding to itself records nothing.
    if let Route::Reverse(upstream) = &config.route {
        venomqa_proxy::refuse_self(upstream, listening)
            .await
            .map_err(|err| usage(err.to_string()))?;
    }

    // The recording keeps the store open; no other handle is kept.
    let recording = Store::open(store_dir)
        .with_context(|| format!("cannot open the store at {}", store_dir.display()))?
        .record(options)
        .context("failed to start writing to the store")?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    match &args.upstream {
        Some(upstream) => println!(
            "venomqa record: listening on {scheme}://{listening}, forwarding to {upstream}"
        ),
        None => {
            println!(
                "venomqa record: listening on {scheme}://{listening} as a forward proxy: set \
                 HTTP_PROXY and HTTPS_PROXY to it; clients must trust the store's CA (venomqa \
                 ca export --store {})",
                store_dir.display()
            );
            if args.only.is_empty() {
                println!(
                    "recording every host the clients reach: `learn` takes their paths as one \
                     API; pass --only HOST_PATTERN (e.g. --only staging.example.com) to record \
                     just the service under test"
                );
            }
        }
    }
    if args.insecure_upstream {
        eprintln!(
            "venomqa record: --insecure-upstream: upstream certificates are NOT checked; anyone \
             between this proxy and the upstream can read and change the traffic"
        );
    }
    if args.no_capture {
        println!("capture is off: traffic is forwarded, nothing is stored");
    } else {
        println!("capturing into {} (press Ctrl-C to stop)", store_dir.display());
    }

    let capture = (!args.no_capture).then(|| recording.sender());
    let serving = venomqa_proxy::serve(listener, config, capture, shutdown::signal());
    tokio::pin!(serving);
    // A live counter line on a terminal, redrawn twice a second.
    let counter = crate::progress::Counter::new();
    let served = loop {
        tokio::select! {
            served = &mut serving => break served,
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {
                counter.show(recording.written(), recording.dropped());
            }
        }
    };
    counter.finish();
    // Whatever happened to the proxy, what was captured gets written, within
    // the deadline: a stuck store must not hold the shutdown.
    let deadline = args.flush_deadline;
    let summary = tokio::task::spawn_blocking(move || recording.finish_within(deadline))
        .await
        .context("the store writer panicked")?
        .context("failed to finish writing to the store")?;
    let stats = served.context("the proxy stopped with an error")?;
    print_summary(&stats, &summary, store_dir);
    match summary.trouble {
        None => Ok(ExitCode::SUCCESS),
        Some(trouble) => {
            eprintln!("venomqa record: {}", trouble_message(trouble, &summary, deadline));
            // 3: the store could not be used (for all of the recording).
            Ok(ExitCode::from(3))
        }
    }
}

/// What a recording with store trouble tells the user at the end: what was
/// lost, or may be, and that the store still opens with the rest.
fn trouble_message(
    trouble: StoreTrouble,
    summary: &RecordSummary,
    deadline: std::time::Duration,
) -> String {
    let dropped = summary.dropped_by_store;
    let may_be_lost = summary.unconfirmed;
    match trouble {
        StoreTrouble::RanLow => format!(
            "the recording is incomplete: the store's disk ran low and {dropped} captures were \
             dropped while it did (see the log above)"
        ),
        StoreTrouble::WriteFailed => format!(
            "the recording is incomplete: writing to the store failed (see the log above); \
             {dropped} captures were dropped, and {may_be_lost} exchanges were not confirmed \
             written and may be lost. The store reopens with what reached the disk"
        ),
        StoreTrouble::FlushTimedOut => format!(
            "the store did not finish writing within {} (--flush-deadline): {may_be_lost} \
             exchanges were not confirmed written and may be lost, and {dropped} captures were \
             dropped because of the store's disk. The store reopens with what reached the disk",
            humantime::format_duration(deadline)
        ),
    }
}

/// The store options shared by `record`, `import` and `demo`.
pub fn record_options(args: &SessionArgs) -> Result<RecordOptions> {
    let session_rules: SessionRules = args
        .session_by
        .parse()
        .map_err(|err| usage(format!("--session-by `{}`: {err}", args.session_by)))?;
    if args.keep_secrets && !(args.redact_field.is_empty() && args.redact_header.is_empty()) {
        return Err(usage(
            "--redact-field and --redact-header name secrets to hide, but --keep-secrets stores \
             every secret as it is: drop one or the other",
        ));
    }
    Ok(RecordOptions {
        session_rules,
        idle_gap: args.idle_gap,
        redact: !args.keep_secrets,
        extra_secrets: ExtraNames::new(&args.redact_field, &args.redact_header),
        ..RecordOptions::default()
    })
}

/// What `--forward` intercepts and records: the store's CA and the host
/// patterns.
fn forward(args: &RecordArgs) -> Result<Forward> {
    let patterns = |flag: &str, texts: &[String]| -> Result<Vec<HostPattern>> {
        texts
            .iter()
            .map(|text| HostPattern::parse(text).map_err(|why| usage(format!("--{flag}: {why}"))))
            .collect()
    };
    let passthrough = patterns("passthrough", &args.passthrough)?;
    let only = patterns("only", &args.only)?;
    let ca = crate::ca::store_ca(&args.store.store)?;
    Ok(Forward { ca, passthrough, only })
}

/// An `http(s)://host:port[/base]` upstream, or a usage error saying what is wrong.
pub fn parse_upstream(text: &str) -> Result<http::Uri> {
    let uri: http::Uri = text.parse().map_err(|err| {
        usage(format!("--upstream `{text}` is not a URL ({err}); write e.g. http://127.0.0.1:8081"))
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(usage(format!(
                "--upstream `{text}` needs an http:// or https:// scheme, e.g. http://{text}"
            )))
        }
    }
    if uri.authority().is_none() {
        return Err(usage(format!(
            "--upstream `{text}` has no host; write e.g. http://127.0.0.1:8081"
        )));
    }
    Ok(uri)
}

pub fn print_summary(stats: &ProxyStats, summary: &RecordSummary, store_dir: &std::path::Path) {
    let by_store = match summary.dropped_by_store {
        0 => String::new(),
        n => format!(" ({n} because of the store's disk)"),
    };
    println!(
        "venomqa record: stopped. {} exchanges captured in {} sessions into {}; {} captures dropped{by_store}; {} upstream errors; {} connections",
        summary.exchanges_written,
        summary.sessions_touched,
        store_dir.display(),
        summary.captures_dropped,
        stats.upstream_errors,
        stats.connections,
    );
    if stats.abandoned_in_flight > 0 {
        println!(
            "{} requests were still in flight at shutdown and were cut off",
            stats.abandoned_in_flight
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_must_be_http_or_https_urls_with_a_host() {
        assert!(parse_upstream("http://127.0.0.1:8081").is_ok());
        assert!(parse_upstream("https://example.test").is_ok());
        assert!(parse_upstream("127.0.0.1:8081")
            .unwrap_err()
            .to_string()
            .contains("http:// or https:// scheme"));
        assert!(parse_upstream("http://").is_err());
    }
}
