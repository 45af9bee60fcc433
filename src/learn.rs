//! `venomqa learn` and `venomqa model show`: from a store to a model, and views of it.

use std::cell::RefCell;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use regex::Regex;
use venomqa_learner::{LearnOptions, Learned, Model};
use venomqa_traffic::{Exchange, Store};

use crate::browse::open_store;
use crate::cli::{LearnArgs, ModelFormat, ModelShowArgs};
use crate::usage;

pub fn learn(args: LearnArgs) -> Result<ExitCode> {
    let mut options = LearnOptions::default();
    for pattern in &args.ignore {
        let regex = Regex::new(pattern)
            .map_err(|err| usage(format!("--ignore `{pattern}` is not a regex: {err}")))?;
        options.ignore.push(regex);
    }
    let store = open_store(&args.store.store)?;
    let learned = learn_from_store(&store, &options)?;
    write_model(&learned.model, &args.out)?;
    print!("{}", learned.summary);
    println!("model written to {}", args.out.display());
    if args.show {
        println!();
        print!("{}", venomqa_learner::render_text(&learned.model));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: ModelShowArgs) -> Result<ExitCode> {
    let model = read_model(&args.model)?;
    match args.format {
        ModelFormat::Text => print!("{}", venomqa_learner::render_text(&model)),
        ModelFormat::Mermaid => print!("{}", mermaid(&model, args.resource.as_deref())?),
        ModelFormat::Dot => print!("{}", venomqa_learner::render_dot(&model)),
        ModelFormat::Openapi => {
            println!("{}", serde_json::to_string_pretty(&venomqa_learner::render_openapi(&model))?)
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A bare `stateDiagram-v2` when one machine is shown, so Mermaid's own tools
/// read the output unchanged; fenced Markdown blocks when there are several.
fn mermaid(model: &Model, resource: Option<&str>) -> Result<String> {
    let machines: Vec<_> = match resource {
        Some(name) => {
            let machine = model.machine(name).ok_or_else(|| {
                let known: Vec<&str> = model.machines.iter().map(|m| m.resource.as_str()).collect();
                usage(format!(
                    "--resource `{name}`: the model has no state machine for it; it has: {}",
                    known.join(", ")
                ))
            })?;
            vec![machine]
        }
        None => model.machines.iter().collect(),
    };
    Ok(match machines.as_slice() {
        [one] => venomqa_learner::mermaid_machine(one),
        _ => venomqa_learner::render_mermaid(model),
    })
}

/// Learns from every exchange of a store. A record that cannot be read stops
/// learning with an error rather than quietly giving a model of part of the
/// traffic.
///
/// Each pass reads and decodes the store on a thread of its own, handing
/// exchanges over in batches, so decoding (a third of the work) runs on the
/// second core while the learner works on the first.
pub fn learn_from_store(store: &Store, options: &LearnOptions) -> Result<Learned> {
    let read_error = RefCell::new(None);
    let passes = || {
        let (batches, reader) = spawn_reader(store.clone());
        ReaderPass {
            batches,
            reader: Some(reader),
            current: Vec::new().into_iter(),
            read_error: &read_error,
        }
    };
    let learned = venomqa_learner::learn(passes, options);
    if let Some(err) = read_error.into_inner() {
        return Err(err.context(format!("failed to read the store at {}", store.dir().display())));
    }
    // Nothing learnable in the store (empty, only errors, only noise): the store is unusable, exit 3.
    learned.map_err(|err| anyhow::anyhow!("cannot learn from {}: {err}", store.dir().display()))
}

/// Exchanges a reader thread hands over at once: large enough that the
/// channel costs nothing per exchange, small enough to bound memory.
const READ_BATCH: usize = 1024;
/// Batches waiting for the learner; the reader stops ahead of it by this much.
const READ_AHEAD: usize = 4;

type Batch = Result<Vec<Exchange>, venomqa_traffic::Error>;

fn spawn_reader(store: Store) -> (Receiver<Batch>, JoinHandle<()>) {
    let (sender, batches) = mpsc::sync_channel::<Batch>(READ_AHEAD);
    let reader = std::thread::spawn(move || {
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
    });
    (batches, reader)
}

/// One pass over the store, fed by a reader thread.
struct ReaderPass<'a> {
    batches: Receiver<Batch>,
    reader: Option<JoinHandle<()>>,
    current: std::vec::IntoIter<Exchange>,
    read_error: &'a RefCell<Option<anyhow::Error>>,
}

impl Iterator for ReaderPass<'_> {
    type Item = Exchange;

    fn next(&mut self) -> Option<Exchange> {
        loop {
            if let Some(exchange) = self.current.next() {
                return Some(exchange);
            }
            match self.batches.recv() {
                Ok(Ok(batch)) => self.current = batch.into_iter(),
                Ok(Err(err)) => {
                    self.read_error.borrow_mut().get_or_insert(err.into());
                    return None;
                }
                Err(_) => {
                    if let Some(reader) = self.reader.take() {
                        if reader.join().is_err() {
                            let err = anyhow::anyhow!(
                                "the thread reading the store panicked; see the log above"
                            );
                            self.read_error.borrow_mut().get_or_insert(err);
                        }
                    }
                    return None;
                }
            }
        }
    }
}

pub fn write_model(model: &Model, path: &Path) -> Result<()> {
    let mut json = model.to_json_pretty();
    if !json.ends_with('\n') {
        json.push('\n');
    }
    std::fs::write(path, json)
        .with_context(|| format!("cannot write the model to {}", path.display()))
}

pub fn read_model(path: &Path) -> Result<Model> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the model {} (write one with `venomqa learn --out {}`)",
            path.display(),
            path.display()
        )
    })?;
    Model::from_json(&text).map_err(|err| usage(format!("{}: {err}", path.display())))
}
