//! `venomqa init`, `venomqa replay` and `venomqa run`: from a configuration
//! to findings, reports and an exit code CI understands.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use venomqa_learner::LearnOptions;
use venomqa_replayer::report::{
    render_html, render_json, render_junit, render_junit_error, render_terminal, write_reproducers,
    ReportContext,
};
use venomqa_replayer::{Config, Finding, Progress, Recorded, RunOutcome, Strategy, CONFIG_FILE};

use crate::browse::open_store;
use crate::cli::{ExploreArgs, InitArgs, ReplayArgs, ReportArgs, RunArgs, StrategyArg};
use crate::learn::{read_model, write_model};
use crate::output::{is_stdio, shown, write_all};
use crate::usage;

/// The model file `init` writes next to venomqa.toml.
const MODEL_FILE: &str = "model.json";

/// The exit code of a run that found nothing but did not test all it planned.
const INCOMPLETE: u8 = 4;

pub fn init(args: InitArgs) -> Result<ExitCode> {
    let config_path = args.dir.join(CONFIG_FILE);
    if config_path.exists() && !args.force {
        return Err(usage(format!(
            "{} already exists; pass --force to overwrite it",
            config_path.display()
        )));
    }
    let model = match &args.model {
        Some(path) => read_model(path)?,
        None => {
            let store = open_store(&args.store)?;
            venomqa_learner::learn_store(&store, &LearnOptions::default())
                .with_context(|| format!("cannot learn from {}", store.dir().display()))?
                .model
        }
    };
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    write_model(&model, &args.dir.join(MODEL_FILE))?;
    // The store as the qa/ directory sees it, so the directory works from any clone.
    let store_from_config = relative_path(&args.dir, &args.store)?;
    let recorded = match Recorded::open(&args.store, &model) {
        Ok(recorded) => recorded,
        Err(err) => {
            eprintln!("venomqa: the store cannot be read ({err}); the users in the configuration are placeholders");
            Recorded::default()
        }
    };
    let text = venomqa_replayer::starter_config_from(
        &model,
        &recorded,
        &store_from_config.to_string_lossy(),
        &args.target,
        args.reset.as_deref(),
    );
    std::fs::write(&config_path, &text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    if let Some(header) = venomqa_replayer::key_header_without_login(&model, &recorded) {
        eprintln!(
            "venomqa: the recording authenticates with the `{header}` header and shows no login; \
             venomqa replays users who log in, not per-user keys yet, so the users in {} are \
             placeholders (README: \"What venomqa does not replay yet\")",
            config_path.display()
        );
    }
    let variables: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split("env = \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let model_path = args.dir.join(MODEL_FILE);
    if args.json {
        let said = serde_json::json!({
            "config": config_path.display().to_string(),
            "model": model_path.display().to_string(),
            "variables": variables,
        });
        println!("{said}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("wrote {} and {}", config_path.display(), model_path.display());
    if !variables.is_empty() {
        println!(
            "set the test users' secrets before `venomqa run {}`: {}",
            args.dir.display(),
            variables.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let mut config = load_config(&args.config)?;
    config.set_target(&args.target)?;
    execute(config, &args.reports).await
}

pub async fn run(args: RunArgs) -> Result<ExitCode> {
    let mut config = load_config(&args.dir)?;
    if let Some(target) = &args.target {
        config.set_target(target)?;
    }
    execute(config, &args.reports).await
}

/// `venomqa explore`: the configuration's `[explore]` with the flags on top;
/// the budgets given bound the whole command.
pub async fn explore(args: ExploreArgs) -> Result<ExitCode> {
    let mut config = load_config(&args.config)?;
    config.set_target(&args.target)?;
    // Here exploration is the whole run: its own limits are the run's, and
    // running out of one makes the run incomplete.
    let explore = &mut config.explore;
    if let Some(seconds) = explore.seconds.take() {
        config.budget.seconds = config.budget.seconds.min(seconds);
    }
    if let Some(requests) = explore.requests.take() {
        config.budget.requests = config.budget.requests.min(requests);
    }
    explore.enabled = true;
    if let Some(strategy) = args.strategy {
        explore.strategy = match strategy {
            StrategyArg::Bfs => Strategy::Bfs,
            StrategyArg::Dfs => Strategy::Dfs,
            StrategyArg::Random => Strategy::Random,
            StrategyArg::Coverage => Strategy::Coverage,
        };
    }
    if let Some(depth) = args.max_depth {
        explore.max_depth = usize::from(depth);
    }
    if let Some(seed) = args.seed {
        explore.seed = seed;
    }
    if let Some(try_disabled) = args.try_disabled {
        explore.try_disabled = try_disabled;
    }
    if let Some(requests) = args.budget_requests {
        config.budget.requests = requests;
    }
    if let Some(seconds) = args.budget_seconds {
        config.budget.seconds = seconds;
    }
    execute_as(config, &args.reports, Phase::Explore).await
}

/// What a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// `replay` and `run`: the mutated journeys, then exploration if `[explore] enabled`.
    Replay,
    /// `explore`: exploration alone.
    Explore,
}

/// The configuration in `path`: a directory holding `venomqa.toml` (the
/// usual `qa/`), or the file itself.
fn load_config(path: &Path) -> Result<Config> {
    let names_file = path.is_file() || path.extension().is_some_and(|e| e == "toml");
    let (dir, file) = if names_file {
        (
            path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")),
            path.to_path_buf(),
        )
    } else {
        (path, path.join(CONFIG_FILE))
    };
    if !file.exists() {
        return Err(usage(format!(
            "no configuration at {}; write one with `venomqa init {} --target URL`",
            file.display(),
            dir.display()
        )));
    }
    Ok(Config::load(&file)?)
}

/// Runs the replay, writes every report asked for, and turns findings into exit code 1.
async fn execute(config: Config, reports: &ReportArgs) -> Result<ExitCode> {
    execute_as(config, reports, Phase::Replay).await
}

async fn execute_as(mut config: Config, reports: &ReportArgs, phase: Phase) -> Result<ExitCode> {
    if let Some(json) = &reports.json {
        config.report.json = Some(json.clone());
    }
    if let Some(junit) = &reports.junit {
        config.report.junit = Some(junit.clone());
    }
    if let Some(html) = &reports.html {
        config.report.html = Some(html.clone());
    }
    if let Some(out) = &reports.out {
        config.report.out = Some(out.clone());
    }
    let target = config.target_url()?.to_string();
    if let Some(warning) = config.target.insecure_warning() {
        eprintln!("venomqa: WARNING: {warning}");
    }
    let bar = crate::progress::Running::new(config.budget.seconds);
    let ran = match phase {
        Phase::Replay => {
            eprintln!("venomqa: replaying against {target}");
            venomqa_replayer::run(&config, |p| bar.update(p)).await
        }
        Phase::Explore => {
            let e = &config.explore;
            eprintln!(
                "venomqa: exploring {target} ({} strategy, depth {}{})",
                e.strategy,
                e.max_depth,
                if e.try_disabled { ", disabled actions too" } else { "" }
            );
            venomqa_replayer::run_explore(&config, |p| bar.update(p)).await
        }
    };
    bar.finish();
    let outcome = match ran {
        Ok(outcome) => outcome,
        Err(err) => {
            // CI publishes the JUnit report whatever happened: it says why.
            if let Some(path) = &config.report.junit {
                let xml = render_junit_error(&target, &err.to_string());
                if let Err(write) = write_all(path, xml.as_bytes()) {
                    eprintln!("venomqa: {write:#}");
                }
            }
            return Err(err.into());
        }
    };
    let text = write_reports(&outcome, &config, &target, crate::color::enabled())?;
    // A report written to stdout keeps stdout to itself.
    let to_stdout = [&config.report.json, &config.report.junit, &config.report.html]
        .into_iter()
        .any(|p| p.as_deref().is_some_and(is_stdio));
    if to_stdout {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    Ok(exit_code(&outcome))
}

/// 1 with findings; else 4 when a budget ran out before everything planned
/// was tested (a green run must mean the plan was tested); else 0.
fn exit_code(outcome: &RunOutcome) -> ExitCode {
    if !outcome.findings.is_empty() {
        ExitCode::from(1)
    } else if !outcome.stats.complete {
        ExitCode::from(INCOMPLETE)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes the JSON, JUnit, HTML and reproducer outputs `config.report`
/// names and returns the terminal report.
pub fn write_reports(
    outcome: &RunOutcome,
    config: &Config,
    target: &str,
    color: bool,
) -> Result<String> {
    let mut context = outcome.report_context(target);
    if let Some(dir) = &config.report.out {
        context.reproducer_files = write_reproducers(&outcome.findings, dir)
            .with_context(|| format!("cannot write reproducers into {}", dir.display()))?;
    }
    if let Some(path) = &config.report.json {
        write_json(&outcome.findings, &context, path)?;
    }
    if let Some(path) = &config.report.junit {
        write_all(path, render_junit(&outcome.findings, &context).as_bytes())
            .with_context(|| format!("cannot write the JUnit report to {}", shown(path)))?;
    }
    if let Some(path) = &config.report.html {
        // The run read the same model; the page draws its state machines.
        let model = read_model(&config.model)?;
        write_all(path, render_html(&outcome.findings, &context, &model).as_bytes())
            .with_context(|| format!("cannot write the HTML report to {}", shown(path)))?;
    }
    Ok(render_terminal(&outcome.findings, &context, color))
}

pub fn write_json(findings: &[Finding], context: &ReportContext, path: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(&render_json(findings, context))?;
    write_all(path, (json + "\n").as_bytes())
        .with_context(|| format!("cannot write the JSON report to {}", shown(path)))
}

/// One stderr line per new finding, so a long run shows it is getting somewhere.
pub fn print_progress(progress: Progress) {
    if let Progress::Found(finding) = progress {
        let action = finding.actions.last().map(String::as_str).unwrap_or("");
        eprintln!("  found: {} on {action} ({})", finding.oracle, finding.mutation);
    }
}

/// `path` as seen from inside `dir` (`qa/` + `./venomqa-store` → `../venomqa-store`),
/// so a qa/ directory committed to a repository works from any clone.
fn relative_path(dir: &Path, path: &Path) -> Result<PathBuf> {
    let dir = std::path::absolute(dir).context("cannot resolve the qa directory")?;
    let path = std::path::absolute(path).context("cannot resolve the store directory")?;
    fn normal(p: &Path) -> Vec<Component<'_>> {
        let mut parts = Vec::new();
        for part in p.components() {
            match part {
                Component::CurDir => {}
                Component::ParentDir => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        parts
    }
    let (from, to) = (normal(&dir), normal(&path));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for part in &to[common..] {
        relative.push(part.as_os_str());
    }
    Ok(relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_written_relative_to_the_qa_directory() {
        assert_eq!(
            relative_path(Path::new("qa"), Path::new("./venomqa-store")).unwrap(),
            PathBuf::from("../venomqa-store")
        );
        assert_eq!(
            relative_path(Path::new("a/qa"), Path::new("a/store")).unwrap(),
            PathBuf::from("../store")
        );
        assert_eq!(
            relative_path(Path::new("."), Path::new("store")).unwrap(),
            PathBuf::from("store")
        );
    }
}
