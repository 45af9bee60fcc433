//! Learning straight from a traffic [`Store`]: each pass reads and decodes
//! the store on a thread of its own and hands exchanges over in batches, so
//! decoding (about a third of the work) runs on a second core while the
//! learner works on the first (BENCHMARKS.md, `## learn`).
//!
//! A record that cannot be read stops learning with an error rather than
//! quietly giving a model of part of the traffic.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use venomqa_traffic::{Exchange, Store};

use crate::learn::{learn_passes, LearnOptions, Learned};
use crate::Error;

/// Exchanges a reader thread hands over at once: large enough that the
/// channel costs nothing per exchange, small enough to bound memory.
const READ_BATCH: usize = 1024;
/// Batches waiting for the learner; the reader stops ahead of it by this much.
const READ_AHEAD: usize = 4;

/// What the reader thread sends: a batch of exchanges, or why it stopped.
type Batch = Result<Vec<Exchange>, venomqa_traffic::Error>;

/// Learns a model from every exchange of a store.
///
/// Fails with [`Error::Traffic`] when the store cannot be read (the traffic
/// error is kept as the cause, so "store in use" or "corrupt record" stay
/// matchable), and like [`learn`](crate::learn) when there is nothing to
/// learn from.
pub fn learn_store(store: &Store, options: &LearnOptions) -> Result<Learned, Error> {
    learn_store_with_progress(store, options, &LearnProgress::default())
}

/// [`learn_store`], telling `progress` how far it has come (another thread
/// may read it to draw a progress bar).
pub fn learn_store_with_progress(
    store: &Store,
    options: &LearnOptions,
    progress: &LearnProgress,
) -> Result<Learned, Error> {
    learn_passes(|| ReaderPass::start(store.clone(), progress), options)
}

/// How far learning from a store has come: which of its
/// [`PASSES`](LearnProgress::PASSES) over the store it is in, and how many
/// exchanges that pass has read.
#[derive(Debug, Default)]
pub struct LearnProgress {
    pass: AtomicU32,
    read: AtomicU64,
}

impl LearnProgress {
    /// Passes over the store: the templates, then everything else.
    pub const PASSES: u32 = 2;

    /// The pass under way, from 1; 0 before the first.
    pub fn pass(&self) -> u32 {
        self.pass.load(Ordering::Relaxed)
    }

    /// Exchanges the pass under way has read.
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

/// One pass over the store, fed by a reader thread.
struct ReaderPass<'p> {
    batches: Receiver<Batch>,
    /// Joined once the channel closes, to tell a finished reader from a
    /// panicked one.
    reader: Option<JoinHandle<()>>,
    current: std::vec::IntoIter<Exchange>,
    progress: &'p LearnProgress,
}

impl<'p> ReaderPass<'p> {
    fn start(store: Store, progress: &'p LearnProgress) -> ReaderPass<'p> {
        let (sender, batches) = mpsc::sync_channel::<Batch>(READ_AHEAD);
        let reader = std::thread::spawn(move || read_in_batches(&store, &sender));
        progress.pass.fetch_add(1, Ordering::Relaxed);
        progress.read.store(0, Ordering::Relaxed);
        ReaderPass { batches, reader: Some(reader), current: Vec::new().into_iter(), progress }
    }

    /// The reader closed the channel: it finished, or it panicked.
    fn reader_finished(&mut self) -> Option<Result<Exchange, Error>> {
        let reader = self.reader.take()?;
        match reader.join() {
            Ok(()) => None,
            Err(_) => Some(Err(Error::ReaderPanicked)),
        }
    }
}

/// Sends the store's exchanges in batches until the end, the first read
/// error, or the learner hanging up.
fn read_in_batches(store: &Store, sender: &SyncSender<Batch>) {
    let mut batch = Vec::with_capacity(READ_BATCH);
    for item in store.exchanges() {
        match item {
            Ok(exchange) => batch.push(exchange),
            Err(err) => {
                let _ = sender.send(Err(err));
                return;
            }
        }
        if batch.len() == READ_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(READ_BATCH));
            // The learner stopped early (it dropped the receiver): so do we.
            if sender.send(Ok(full)).is_err() {
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(Ok(batch));
    }
}

impl Iterator for ReaderPass<'_> {
    type Item = Result<Exchange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(exchange) = self.current.next() {
                return Some(Ok(exchange));
            }
            match self.batches.recv() {
                Ok(Ok(batch)) => {
                    self.progress.read.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    self.current = batch.into_iter();
                }
                Ok(Err(err)) => return Some(Err(err.into())),
                Err(_) => return self.reader_finished(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use venomqa_traffic::{Body, Headers, Request, Response, SessionKey};

    use super::*;

    fn exchange(id: u64) -> Exchange {
        Exchange {
            id,
            session: SessionKey("x-session:s-1".into()),
            started_at: id,
            duration_ns: 1,
            client: None,
            request: Request {
                method: "GET".into(),
                url: "/orders".into(),
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::default(),
            },
            response: Some(Response {
                status: 200,
                version: "HTTP/1.1".into(),
                headers: Headers::default(),
                body: Body::complete("[]"),
            }),
            error: None,
        }
    }

    #[test]
    fn an_empty_store_has_nothing_to_learn_from() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        let err = learn_store(&store, &LearnOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Empty), "{err}");
    }

    #[test]
    fn a_read_error_stops_learning_and_stays_matchable() {
        let corrupt = || venomqa_traffic::Error::Corrupt {
            dir: PathBuf::from("/tmp/store"),
            what: "block 7".into(),
        };
        let passes = || vec![Ok(exchange(1)), Err(corrupt().into()), Ok(exchange(2))].into_iter();
        let err = learn_passes(passes, &LearnOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Traffic(venomqa_traffic::Error::Corrupt { .. })), "{err}");
        assert_eq!(err.to_string(), corrupt().to_string(), "the store's own message, once");
    }

    #[test]
    fn progress_counts_each_pass_and_the_exchanges_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        let exchanges: Vec<Exchange> = (1..=2500).map(exchange).collect();
        store.append(exchanges, venomqa_traffic::RecordOptions::default()).unwrap();
        let progress = LearnProgress::default();
        assert_eq!((progress.pass(), progress.read()), (0, 0));
        learn_store_with_progress(&store, &LearnOptions::default(), &progress).unwrap();
        assert_eq!(progress.pass(), LearnProgress::PASSES);
        assert_eq!(progress.read(), 2500, "the last pass read every exchange");
    }
}
