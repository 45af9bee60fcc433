//! The writer's flushes, on a thread of their own: the flush that tells the
//! recording how many exchanges are confirmed on disk.
//!
//! On its own thread because the writer must never wait on one: a flush
//! waits for the disk (an fsync), and after a failed write sled 0.34 may
//! never return from it at all. The writer asks for a flush with the count
//! of exchanges written so far and goes on; the flush confirms that count
//! when it succeeds, and an error is handed back for the writer to act on.
//! A request made while a flush is under way is dropped: the next one
//! covers it.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use super::health::Health;
use super::Store;
use crate::{Error, Result};

/// Flushes `store` on request; ends when dropped (after the flush under way).
pub(super) struct Flusher {
    requests: SyncSender<u64>,
    error: Arc<Mutex<Option<Error>>>,
}

impl Flusher {
    pub fn start(store: &Store, health: Arc<Health>) -> Result<Flusher> {
        let (requests, pending) = mpsc::sync_channel::<u64>(1);
        let error = Arc::new(Mutex::new(None));
        let failed = error.clone();
        let dir = store.dir().to_path_buf();
        let store = store.clone();
        std::thread::Builder::new()
            .name("venomqa-store-flusher".into())
            .spawn(move || {
                for written in pending {
                    if store.failed() {
                        break;
                    }
                    match store.flush() {
                        Ok(()) => health.confirm(written),
                        Err(e) => {
                            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                            break;
                        }
                    }
                }
            })
            .map_err(|e| Error::io(&dir, e))?;
        Ok(Flusher { requests, error })
    }

    /// Asks for a flush confirming `written` exchanges, unless one is
    /// already waiting to start.
    pub fn request(&self, written: u64) {
        match self.requests.try_send(written) {
            // Full: the waiting request is made again at the next checkpoint.
            Ok(()) | Err(TrySendError::Full(_)) => {}
            // The thread ended on an error, which `take_error` gives.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// The error a flush ran into, if one did (given once).
    pub fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}
