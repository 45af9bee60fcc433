//! `venomqa demo`: the whole pipeline on the sample shop, with nothing to set up.
//!
//! Today that is: start the shop (all bugs planted), put the recording proxy
//! in front of it, drive realistic QA sessions through the proxy, stop the
//! proxy, show the sessions the store captured, and learn the shop's model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_learner::LearnOptions;
use venomqa_proxy::ProxyConfig;
use venomqa_samples::{BugSet, DriveOptions, ShopConfig};
use venomqa_traffic::{RecordOptions, Store};

use crate::browse::sessions_table;
use crate::cli::DemoArgs;
use crate::learn::learn_from_store;
use crate::record::print_summary;

pub async fn run(args: DemoArgs) -> Result<ExitCode> {
    let shop = venomqa_samples::spawn_shop(ShopConfig { bugs: BugSet::all() })
        .await
        .context("cannot start the sample shop")?;
    println!("1. sample shop (all bugs planted) on {}", shop.base_url());

    // A temporary store unless the user wants to keep the traffic.
    let temporary;
    let store_dir: PathBuf = match &args.store {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("venomqa-demo-")
                .tempdir()
                .context("cannot create a temporary store directory")?;
            temporary.path().to_path_buf()
        }
    };
    let store =
        Store::open(&store_dir).with_context(|| format!("cannot open the store at {}", store_dir.display()))?;
    let recording = store.record(RecordOptions::default()).context("failed to start writing to the store")?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot bind the proxy")?;
    let proxy_addr = listener.local_addr().context("cannot read the proxy address")?;
    let upstream = shop.base_url().parse().context("the shop's address is not a URL")?;
    let (stop_proxy, proxy_stopped) = tokio::sync::oneshot::channel::<()>();
    let proxy = tokio::spawn(venomqa_proxy::serve(
        listener,
        ProxyConfig::new(upstream),
        Some(recording.sender()),
        async {
            let _ = proxy_stopped.await;
        },
    ));
    println!("2. venomqa record on http://{proxy_addr}, capturing into {}", store_dir.display());

    let drive = DriveOptions {
        base: format!("http://{proxy_addr}"),
        users: args.users,
        sessions: args.sessions,
        seed: 7,
        concurrency: 3,
    };
    let report = venomqa_samples::drive(drive).await.context("driving QA sessions through the proxy failed")?;
    println!("3. drove QA sessions through the proxy: {report}");

    let _ = stop_proxy.send(());
    let stats = proxy.await.context("the proxy task panicked")?.context("the proxy stopped with an error")?;
    let summary = tokio::task::spawn_blocking(move || recording.finish())
        .await
        .context("the store writer panicked")?
        .context("failed to finish writing to the store")?;
    print_summary(&stats, &summary, &store_dir);

    let sessions = store.sessions().context("failed to list sessions")?;
    println!("\n4. recorded sessions ({}):", sessions.len());
    print!("{}", sessions_table(&sessions));

    let learned = learn_from_store(&store, &LearnOptions::default())?;
    println!("\n5. venomqa learn: {}", learned.summary.to_string().trim_end());
    println!();
    print!("{}", venomqa_learner::render_text(&learned.model));
    if let Some(orders) = learned.model.machine("orders") {
        println!("\nthe order state machine (Mermaid):");
        print!("{}", venomqa_learner::mermaid_machine(orders));
    }
    shop.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
