//! Serving the shop: the shared sample server (`serve.rs`) answering with
//! the shop's routes.

use std::future::Future;
use std::io;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::Request;
use tokio::net::TcpListener;

use super::routes;
use super::state::Shop;
use super::ShopConfig;
use crate::serve::{serve, spawn, BoxAnswer, SampleHandle};

/// A shop running in a background task, for tests and the demo.
///
/// Dropping the handle stops the shop too, without waiting for it.
pub type ShopHandle = SampleHandle;

/// Answers each request with the routes, over one shared `Shop`.
fn app(shop: Arc<Shop>) -> impl Fn(Request<Incoming>) -> BoxAnswer + Clone {
    move |req| Box::pin(routes::handle(Arc::clone(&shop), req))
}

/// Serves the shop on `listener` until `shutdown` resolves, then drains.
///
/// Errors on single connections (a client hanging up mid-request) are logged
/// and never stop the shop.
pub async fn serve_shop(
    listener: TcpListener,
    config: ShopConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve("shop", listener, app(Arc::new(Shop::new(config.bugs))), shutdown).await
}

/// Starts a shop on 127.0.0.1 and a free port, in a background task.
pub async fn spawn_shop(config: ShopConfig) -> io::Result<ShopHandle> {
    spawn("shop", app(Arc::new(Shop::new(config.bugs)))).await
}
