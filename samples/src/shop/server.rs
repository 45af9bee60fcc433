//! Serving the shop: the shared sample server (`serve.rs`) answering with
//! the shop's routes.

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::routes;
use super::state::Shop;
use super::ShopConfig;
use crate::serve::{serve, spawn, SampleHandle};

/// A shop running in a background task, for tests and the demo.
///
/// Dropping the handle stops the shop too, without waiting for it.
pub type ShopHandle = SampleHandle;

/// Serves the shop on `listener` until `shutdown` resolves, then drains
/// (over TLS when `config.tls` says so).
///
/// Errors on single connections (a client hanging up mid-request) are logged
/// and never stop the shop.
pub async fn serve_shop(
    listener: TcpListener,
    config: ShopConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let tls = config.tls.clone();
    let shop = Arc::new(open(config)?);
    serve("shop", listener, tls, move |req| routes::handle(Arc::clone(&shop), req), shutdown).await
}

/// Starts a shop on 127.0.0.1 and a free port, in a background task (over
/// TLS when `config.tls` says so: its `base_url` is then `https://`).
pub async fn spawn_shop(config: ShopConfig) -> io::Result<ShopHandle> {
    let tls = config.tls.clone();
    let shop = Arc::new(open(config)?);
    spawn("shop", tls, move |req| routes::handle(Arc::clone(&shop), req)).await
}

/// The shop `config` describes: in memory, or on its database file.
fn open(config: ShopConfig) -> io::Result<Shop> {
    match &config.database {
        None => Ok(Shop::new(config.bugs)),
        Some(path) => Shop::with_database(config.bugs, path).map_err(io::Error::other),
    }
}
