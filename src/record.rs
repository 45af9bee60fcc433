//! `venomqa record`: the recording reverse proxy, from flags to a summary.

use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_proxy::{ProxyConfig, ProxyStats};
use venomqa_traffic::{ExtraNames, RecordOptions, RecordSummary, SessionRules, Store};

use crate::cli::{RecordArgs, SessionArgs};
use crate::{shutdown, usage};

pub async fn run(args: RecordArgs) -> Result<ExitCode> {
    let upstream = parse_upstream(&args.upstream)?;
    let mut config = ProxyConfig::new(upstream);
    config.body_cap = args.body_cap;
    config.forwarded = args.forwarded;
    config.upstream_timeout = args.upstream_timeout;

    let options = record_options(&args.sessions)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| {
        format!("cannot listen on {} (is another process using that port?)", args.listen)
    })?;
    let listening = listener.local_addr().context("cannot read the listening address")?;
    // Before the store is touched: a proxy forwarding to itself records nothing.
    venomqa_proxy::refuse_self(&config.upstream, listening)
        .await
        .map_err(|err| usage(err.to_string()))?;

    let store_dir = &args.store.store;
    let store = Store::open(store_dir)
        .with_context(|| format!("cannot open the store at {}", store_dir.display()))?;
    let recording = store.record(options).context("failed to start writing to the store")?;
    println!("venomqa record: listening on http://{listening}, forwarding to {}", args.upstream);
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
    // Whatever happened to the proxy, what was captured gets written.
    let summary = tokio::task::spawn_blocking(move || recording.finish())
        .await
        .context("the store writer panicked")?
        .context("failed to finish writing to the store")?;
    let stats = served.context("the proxy stopped with an error")?;
    print_summary(&stats, &summary, store_dir);
    Ok(ExitCode::SUCCESS)
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

/// An `http://host:port[/base]` upstream, or a usage error saying what is wrong.
pub fn parse_upstream(text: &str) -> Result<http::Uri> {
    let uri: http::Uri = text.parse().map_err(|err| {
        usage(format!("--upstream `{text}` is not a URL ({err}); write e.g. http://127.0.0.1:8081"))
    })?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(usage(format!(
                "--upstream `{text}`: https upstreams are not supported yet; put venomqa in front of the plain-HTTP side of the service"
            )))
        }
        _ => return Err(usage(format!("--upstream `{text}` needs an http:// scheme, e.g. http://{text}"))),
    }
    if uri.authority().is_none() {
        return Err(usage(format!(
            "--upstream `{text}` has no host; write e.g. http://127.0.0.1:8081"
        )));
    }
    Ok(uri)
}

pub fn print_summary(stats: &ProxyStats, summary: &RecordSummary, store_dir: &std::path::Path) {
    println!(
        "venomqa record: stopped. {} exchanges captured in {} sessions into {}; {} captures dropped; {} upstream errors; {} connections",
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
    fn upstreams_must_be_plain_http_urls_with_a_host() {
        assert!(parse_upstream("http://127.0.0.1:8081").is_ok());
        assert!(parse_upstream("https://example.test")
            .unwrap_err()
            .to_string()
            .contains("not supported yet"));
        assert!(parse_upstream("127.0.0.1:8081")
            .unwrap_err()
            .to_string()
            .contains("http:// scheme"));
        assert!(parse_upstream("http://").is_err());
    }
}
