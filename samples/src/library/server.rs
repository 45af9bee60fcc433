//! Serving the library: the shared sample server (`serve.rs`) answering
//! with the library's routes.

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::routes;
use super::state::Library;
use super::LibraryConfig;
use crate::serve::{serve, spawn, SampleHandle};

/// A library running in a background task, for tests. Dropping it stops the library too.
pub type LibraryHandle = SampleHandle;

/// Serves the library on `listener` until `shutdown` resolves, then drains
/// (over TLS when `config.tls` says so).
///
/// Errors on single connections are logged and never stop the library.
pub async fn serve_library(
    listener: TcpListener,
    config: LibraryConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let library = Arc::new(Library::new(config.bugs));
    let app = move |req| routes::handle(Arc::clone(&library), req);
    serve("library", listener, config.tls, app, shutdown).await
}

/// Starts a library on 127.0.0.1 and a free port, in a background task
/// (over TLS when `config.tls` says so: its `base_url` is then `https://`).
pub async fn spawn_library(config: LibraryConfig) -> io::Result<LibraryHandle> {
    let library = Arc::new(Library::new(config.bugs));
    spawn("library", config.tls, move |req| routes::handle(Arc::clone(&library), req)).await
}
