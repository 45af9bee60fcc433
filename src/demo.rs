//! `venomqa demo`: the whole pipeline on the sample shop, with nothing to set up.
//!
//! Today that is: start the shop (all bugs planted), put the recording proxy
//! in front of it, drive realistic QA sessions through the proxy, stop the
//! proxy, show the sessions the store captured, learn the shop's model, and
//! replay mutated journeys against the shop to find its planted bugs; with
//! `--explore`, then explore a second shop that keeps its state in SQLite,
//! branching from copies of its database file. With `--https` the shop is a
//! staging service on HTTPS (a throwaway CA of its own), the proxy speaks
//! HTTPS to the clients too (another one), and the replay trusts the shop's
//! CA as `[target] ca` would.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_learner::LearnOptions;
use venomqa_proxy::ProxyConfig;
use venomqa_replayer::report::render_terminal;
use venomqa_replayer::{Branching, Config, Recorded, CONFIG_FILE};
use venomqa_samples::{
    shop_password, BugSet, ClientTrust, DriveOptions, SampleTls, ShopConfig, SHOP_INVARIANTS,
};
use venomqa_tls::TestPki;
use venomqa_traffic::{RecordOptions, Store};

use crate::browse::sessions_table;
use crate::cli::DemoArgs;
use crate::learn::write_model;
use crate::record::print_summary;
use crate::replay::{print_progress, write_json};
use crate::usage;

pub async fn run(args: DemoArgs) -> Result<ExitCode> {
    // A temporary work directory for the qa/ configuration, and for the
    // store too unless the user wants to keep the traffic.
    let workdir = tempfile::Builder::new()
        .prefix("venomqa-demo-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let https = if args.https { Some(Https::make(workdir.path())?) } else { None };
    let shop = venomqa_samples::spawn_shop(ShopConfig {
        bugs: BugSet::all(),
        tls: https.as_ref().map(|https| https.shop.server_config.clone()),
        ..ShopConfig::default()
    })
    .await
    .context("cannot start the sample shop")?;
    match &https {
        None => println!("1. sample shop (all bugs planted) on {}", shop.base_url()),
        Some(https) => println!(
            "1. sample shop (all bugs planted) on {}, its certificate signed by a throwaway CA ({})",
            shop.base_url(),
            https.shop_ca.display()
        ),
    }
    let store_dir: PathBuf = args.store.clone().unwrap_or_else(|| workdir.path().join("store"));
    let store = Store::open(&store_dir)
        .with_context(|| format!("cannot open the store at {}", store_dir.display()))?;
    let recording =
        store.record(RecordOptions::default()).context("failed to start writing to the store")?;

    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot bind the proxy")?;
    let proxy_addr = listener.local_addr().context("cannot read the proxy address")?;
    let upstream = shop.base_url().parse().context("the shop's address is not a URL")?;
    let mut proxy_config = ProxyConfig::new(upstream);
    let mut trust = ClientTrust::default();
    if let Some(https) = &https {
        proxy_config.upstream_trust =
            ClientTrust { extra_ca: Some(https.shop_ca.clone()), insecure: false };
        proxy_config.tls = Some(https.proxy.server_config.clone());
        trust.extra_ca = Some(https.proxy_ca.clone());
    }
    let scheme = if https.is_some() { "https" } else { "http" };
    let (stop_proxy, proxy_stopped) = tokio::sync::oneshot::channel::<()>();
    let proxy = tokio::spawn(venomqa_proxy::serve(
        listener,
        proxy_config,
        Some(recording.sender()),
        async {
            let _ = proxy_stopped.await;
        },
    ));
    println!(
        "2. venomqa record on {scheme}://{proxy_addr}, capturing into {}",
        store_dir.display()
    );
    if let Some(https) = &https {
        println!(
            "   (HTTPS to the clients with a certificate trusted through {}; to the shop, \
             trusting {})",
            https.proxy_ca.display(),
            https.shop_ca.display()
        );
    }

    let drive = DriveOptions {
        base: format!("{scheme}://{proxy_addr}"),
        users: args.users,
        sessions: args.sessions,
        seed: 7,
        concurrency: 3,
        trust,
    };
    let report = venomqa_samples::drive(drive)
        .await
        .context("driving QA sessions through the proxy failed")?;
    println!("3. drove QA sessions through the proxy: {report}");

    let _ = stop_proxy.send(());
    let stats = proxy
        .await
        .context("the proxy task panicked")?
        .context("the proxy stopped with an error")?;
    let summary = tokio::task::spawn_blocking(move || recording.finish())
        .await
        .context("the store writer panicked")?
        .context("failed to finish writing to the store")?;
    print_summary(&stats, &summary, &store_dir);

    let sessions = store.sessions().context("failed to list sessions")?;
    println!("\n4. recorded sessions ({}):", sessions.len());
    print!("{}", sessions_table(&sessions));

    let learned = venomqa_learner::learn_store(&store, &LearnOptions::default())
        .with_context(|| format!("cannot learn from {}", store.dir().display()))?;
    println!("\n5. venomqa learn: {}", learned.summary.to_string().trim_end());
    println!();
    print!("{}", venomqa_learner::render_text(&learned.model));
    if let Some(orders) = learned.model.machine("orders") {
        println!("\nthe order state machine (Mermaid):");
        print!("{}", venomqa_learner::mermaid_machine(orders));
    }

    println!("\n6. venomqa replay against the shop, resetting it with POST /__reset before each sequence:");
    let config = replay_phase(
        &store,
        &learned.model,
        &shop.base_url(),
        https.as_ref().map(|https| https.shop_ca.clone()),
        workdir.path(),
        args.json.as_deref(),
    )
    .await?;
    shop.shutdown().await;
    if args.explore {
        explore_phase(&store, &learned.model, config, workdir.path()).await?;
    }
    // Findings are what the demo is for: it exits 0 when it ran.
    Ok(ExitCode::SUCCESS)
}

/// The certificates of `demo --https`: the shop's and the proxy's, each
/// from a throwaway CA written beside the qa/ configuration.
struct Https {
    shop: SampleTls,
    shop_ca: PathBuf,
    proxy: TestPki,
    proxy_ca: PathBuf,
}

impl Https {
    fn make(workdir: &Path) -> Result<Https> {
        let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
        let shop = SampleTls::throwaway(loopback).context("cannot make the shop's certificate")?;
        let proxy = TestPki::new(&["127.0.0.1"]).context("cannot make the proxy's certificate")?;
        let (shop_ca, proxy_ca) = (workdir.join("shop-ca.pem"), workdir.join("proxy-ca.pem"));
        let shop_pem = shop.ca_pem.as_deref().context("a throwaway certificate has its CA")?;
        for (path, pem) in [(&shop_ca, shop_pem), (&proxy_ca, proxy.ca_pem.as_str())] {
            std::fs::write(path, pem)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(Https { shop, shop_ca, proxy, proxy_ca })
    }
}

/// Writes the qa/ configuration `venomqa init` would, with the shop's
/// passwords standing in for the environment variables, and replays
/// (trusting `ca` for an `https://` target).
async fn replay_phase(
    store: &Store,
    model: &venomqa_learner::Model,
    target: &str,
    ca: Option<PathBuf>,
    workdir: &Path,
    json: Option<&Path>,
) -> Result<Config> {
    let qa = workdir.join("qa");
    std::fs::create_dir_all(&qa).with_context(|| format!("cannot create {}", qa.display()))?;
    write_model(model, &qa.join("model.json"))?;
    let recorded = Recorded::from_store(store, model)?;
    let mut text = venomqa_replayer::starter_config_from(
        model,
        &recorded,
        &store.dir().to_string_lossy(),
        target,
        Some("POST /__reset"),
    );
    text.push_str(SHOP_INVARIANTS);
    let config_path = qa.join(CONFIG_FILE);
    std::fs::write(&config_path, &text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let mut config = Config::parse_with_env(&text, &config_path, shop_password)
        .map_err(|err| usage(err.to_string()))?;
    config.target.ca = ca;
    let outcome = venomqa_replayer::replay(model, &recorded, &config, print_progress).await?;
    let context = outcome.report_context(target);
    if let Some(path) = json {
        write_json(&outcome.findings, &context, path)?;
    }
    println!();
    print!("{}", render_terminal(&outcome.findings, &context, crate::color::enabled()));
    if let Some(path) = json {
        println!("findings written to {}", path.display());
    }
    Ok(config)
}

/// Explores a fresh shop on SQLite with the replay's configuration, each
/// path's next actions branching from a copy of the shop's database file.
async fn explore_phase(
    store: &Store,
    model: &venomqa_learner::Model,
    mut config: Config,
    workdir: &Path,
) -> Result<()> {
    let database = workdir.join("shop.db");
    let shop_config = ShopConfig {
        bugs: BugSet::all(),
        database: Some(database.clone()),
        ..ShopConfig::default()
    };
    let shop = venomqa_samples::spawn_shop(shop_config)
        .await
        .context("cannot start the sample shop on SQLite")?;
    println!(
        "\n7. venomqa explore against a second shop keeping its state in {}, branching from copies of it:",
        database.display()
    );
    config.set_target(&shop.base_url()).map_err(|err| usage(err.to_string()))?;
    config.explore.max_depth = 3;
    config.explore.try_disabled = true;
    config.budget.seconds = config.budget.seconds.min(30);
    config.explore.branching = Some(Branching::Sqlite(database));
    let recorded = Recorded::from_store(store, model)?;
    let outcome = venomqa_replayer::explore(model, &recorded, &config, print_progress).await?;
    let context = outcome.report_context(&shop.base_url());
    println!();
    print!("{}", render_terminal(&outcome.findings, &context, crate::color::enabled()));
    shop.shutdown().await;
    Ok(())
}
