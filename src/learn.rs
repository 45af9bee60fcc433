//! `venomqa learn` and `venomqa model show`: from a store to a model, and views of it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use regex::Regex;
use venomqa_learner::{LearnOptions, LearnProgress, LearnSummary, Model};

use crate::browse::open_store;
use crate::cli::{LearnArgs, ModelFormat, ModelShowArgs};
use crate::output::{self, is_stdio, say, shown};
use crate::progress;
use crate::usage;

pub fn learn(args: LearnArgs) -> Result<ExitCode> {
    let mut options = LearnOptions::default();
    for pattern in &args.ignore {
        let regex = Regex::new(pattern)
            .map_err(|err| usage(format!("--ignore `{pattern}` is not a regex: {err}")))?;
        options.ignore.push(regex);
    }
    let store = open_store(&args.store.store)?;
    // Nothing learnable in the store (empty, only errors, only noise) makes it unusable: exit 3.
    let total = store.stats().map_or(0, |s| s.exchanges);
    let progress = LearnProgress::default();
    let learned = progress::learning(total, &progress, || {
        venomqa_learner::learn_store_with_progress(&store, &options, &progress)
    })
    .with_context(|| format!("cannot learn from {}", store.dir().display()))?;
    let model_on_stdout = is_stdio(&args.out);
    if model_on_stdout && (args.json || args.show) {
        return Err(usage("--out - writes the model to standard output: --json and --show want it too; give --out a file"));
    }
    write_model(&learned.model, &args.out)?;
    if args.json {
        println!("{}", summary_json(&learned.summary, &args.out));
        return Ok(ExitCode::SUCCESS);
    }
    say(model_on_stdout, learned.summary.to_string().trim_end());
    say(model_on_stdout, &format!("model written to {}", shown(&args.out)));
    if args.show {
        println!();
        print!("{}", venomqa_learner::render_text(&learned.model));
    }
    Ok(ExitCode::SUCCESS)
}

/// `learn --json`: the summary's counts, and where the model went.
fn summary_json(s: &LearnSummary, out: &Path) -> serde_json::Value {
    serde_json::json!({
        "exchanges": s.exchanges,
        "used": s.used,
        "ignored": s.ignored,
        "sessions": s.sessions,
        "actions": s.actions,
        "resources": s.resources,
        "links": s.links,
        "states": s.states,
        "transitions": s.transitions,
        "journeys": s.journeys,
        "journeys_dropped": s.journeys_dropped,
        "model": out,
    })
}

pub fn show(args: ModelShowArgs) -> Result<ExitCode> {
    let model = read_model(&args.model)?;
    let model = match args.resource.as_deref() {
        Some(name) => model.resource_view(name).ok_or_else(|| {
            usage(format!(
                "--resource `{name}`: the model has no such resource; it has: {}",
                model.resource_names().join(", ")
            ))
        })?,
        None => model,
    };
    match args.format {
        ModelFormat::Text => print!("{}", venomqa_learner::render_text(&model)),
        ModelFormat::Mermaid => print!("{}", mermaid(&model)),
        ModelFormat::Dot => print!("{}", venomqa_learner::render_dot(&model)),
        ModelFormat::Openapi => {
            println!("{}", serde_json::to_string_pretty(&venomqa_learner::render_openapi(&model))?)
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A bare `stateDiagram-v2` when one machine is shown, so Mermaid's own tools
/// read the output unchanged; fenced Markdown blocks when there are several.
fn mermaid(model: &Model) -> String {
    match model.machines.as_slice() {
        [one] => venomqa_learner::mermaid_machine(one),
        _ => venomqa_learner::render_mermaid(model),
    }
}

/// Writes the model to `path`, or to standard output for `-`.
pub fn write_model(model: &Model, path: &Path) -> Result<()> {
    output::write_all(path, model.to_json_pretty().as_bytes())
        .with_context(|| format!("cannot write the model to {}", shown(path)))
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
