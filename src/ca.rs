//! `venomqa ca export`, and the store's recording CA for `record --forward`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use venomqa_tls::RecordingCa;
use venomqa_traffic::Store;

use crate::cli::CaExportArgs;

/// Where a store keeps its CA.
pub fn ca_dir(store: &Path) -> PathBuf {
    store.join("ca")
}

/// The store's CA, made on first use. The store must exist or be creatable
/// (opened once, so that an empty directory becomes a store before the CA
/// goes in it); a CA already made is read without opening the store, so
/// this works while `record` holds it.
pub fn store_ca(store: &Path) -> Result<Arc<RecordingCa>> {
    let dir = ca_dir(store);
    if !dir.exists() {
        drop(
            Store::open(store)
                .with_context(|| format!("cannot open the store at {}", store.display()))?,
        );
    }
    let ca = RecordingCa::load_or_create(&dir)
        .with_context(|| format!("cannot use the store's recording CA in {}", dir.display()))?;
    Ok(Arc::new(ca))
}

pub fn export(args: CaExportArgs) -> Result<ExitCode> {
    let ca = store_ca(&args.store.store)?;
    print!("{}", ca.cert_pem());
    eprintln!(
        "venomqa ca export: the CA of {} (its key stays there): trust it in the client that \
         records through `venomqa record --forward`",
        args.store.store.display()
    );
    Ok(ExitCode::SUCCESS)
}
