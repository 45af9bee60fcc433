//! The `venomqa` binary: parses the command line, wires the library crates
//! together and maps failures to exit codes. The work lives in the crates.

mod browse;
mod ca;
mod cli;
mod color;
mod demo;
mod format;
mod har;
mod learn;
mod output;
mod progress;
mod record;
mod replay;
mod sample;
mod shutdown;

use std::process::ExitCode;

/// mimalloc instead of the system allocator: learning a large store and the
/// store writer allocate per exchange, and glibc's malloc was a fifth of the
/// learn time (BENCHMARKS.md, `## learn`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use cli::{CaCommand, Cli, Command, ModelCommand, SampleCommand};

/// A mistake in how venomqa was called or configured: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for failing with a [`UsageError`].
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if prints_only(&cli.command) {
        stop_quietly_on_a_closed_pipe();
    }
    color::init(cli.color);
    progress::init(cli.quiet);
    init_logging(cli.quiet, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("venomqa: could not start the async runtime: {err}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("venomqa: error: {}", message(&err));
            ExitCode::from(exit_code_for(&err))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Record(args) => record::run(args).await,
        Command::Sessions(args) => browse::sessions(args),
        Command::Show(args) => browse::show(args),
        Command::Export(args) => har::export(args),
        Command::Import(args) => har::import(args),
        Command::Learn(args) => learn::learn(args),
        Command::Init(args) => replay::init(args),
        Command::Replay(args) => replay::replay(args).await,
        Command::Run(args) => replay::run(args).await,
        Command::Explore(args) => replay::explore(args).await,
        Command::Model(ModelCommand::Show(args)) => learn::show(args),
        Command::Sample(SampleCommand::Serve(args)) => sample::serve(args).await,
        Command::Sample(SampleCommand::Drive(args)) => sample::drive(args).await,
        Command::Sample(SampleCommand::Generate(args)) => sample::generate(args),
        Command::Ca(CaCommand::Export(args)) => ca::export(args),
    }
}

/// Commands that read local files and print, opening no socket: piped into
/// `head`, they may simply stop when the reader goes.
fn prints_only(command: &Command) -> bool {
    matches!(
        command,
        Command::Sessions(_)
            | Command::Show(_)
            | Command::Export(_)
            | Command::Import(_)
            | Command::Learn(_)
            | Command::Init(_)
            | Command::Model(_)
            | Command::Ca(_)
            | Command::Sample(SampleCommand::Generate(_))
    )
}

/// Restores the default action of SIGPIPE (Rust ignores it, so a write to
/// a closed pipe fails and `println!` panics with a backtrace): `venomqa
/// model show | head -1` ends like any Unix tool. Only for [`prints_only`]
/// commands: a proxy or a client must see a closed socket as an error,
/// never die of it.
fn stop_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread is started;
    // setting a signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The error and its causes on one line, each cause once: an error whose
/// text already includes its cause (`{path}: {source}`) is not repeated.
fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// The one place an error becomes an exit code: 2 for usage and
/// configuration mistakes; 3 for a store, target, file or network that could
/// not be used. The first typed cause in the chain decides.
fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() || cause.is::<venomqa_replayer::ConfigError>() {
            return 2;
        }
        if let Some(err) = cause.downcast_ref::<venomqa_replayer::Error>() {
            return replay_exit_code(err);
        }
    }
    3
}

/// A replay error's exit code: the configuration (or how it fits the model)
/// is 2; the target or the store is 3.
fn replay_exit_code(err: &venomqa_replayer::Error) -> u8 {
    use venomqa_replayer::Error;
    match err {
        Error::Config(_) | Error::Setup(_) | Error::Model { .. } => 2,
        // A refused login is wrong credentials in the configuration; no
        // answer or a 5xx is the target's problem.
        Error::Login { status: Some(s), .. } if (400..500).contains(s) => 2,
        Error::Login { .. }
        | Error::Store(_)
        | Error::Unreachable { .. }
        | Error::UntrustedTarget { .. }
        | Error::Reset { .. }
        | Error::Hook { .. }
        | Error::NotTheRecordedApi { .. } => 3,
    }
}

/// Logs go to stderr: warnings by default, errors only with `-q`, more
/// with each `-v` (`info`, then `debug`); `RUST_LOG` overrides (e.g.
/// `RUST_LOG=venomqa_proxy=debug`). sled's own log is off: on a failing
/// disk it repeats the same error twice a second, and the store says what
/// happened once, with what to do (`RUST_LOG=sled=warn` shows it).
fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error,sled=off",
        (false, 0) => "warn,sled=off",
        (false, 1) => "info,sled=off",
        (false, _) => "debug,sled=off",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use venomqa_replayer::{ConfigError, Error, ModelError};

    use super::*;

    fn code(err: impl Into<anyhow::Error>) -> u8 {
        exit_code_for(&err.into())
    }

    #[test]
    fn configuration_mistakes_exit_2_and_what_cannot_be_used_exits_3() {
        let path = PathBuf::from("qa/venomqa.toml");
        assert_eq!(code(UsageError("bad flag".into())), 2);
        assert_eq!(code(ConfigError::MissingTarget { path: path.clone() }), 2);
        assert_eq!(code(Error::Config(ConfigError::MissingTarget { path: path.clone() })), 2);
        assert_eq!(code(Error::Setup("no user".into())), 2);
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(code(Error::Model { path, source: ModelError::Read(missing) }), 2);
        let login = |status| Error::Login {
            user: "bob".into(),
            action: "POST /login".into(),
            status,
            body: String::new(),
        };
        assert_eq!(code(login(Some(401))), 2);
        assert_eq!(code(login(Some(503))), 3);
        assert_eq!(code(login(None)), 3);
        let target = "http://127.0.0.1:9".to_string();
        assert_eq!(
            code(Error::Unreachable { target: target.clone(), reason: "refused".into() }),
            3
        );
        let untrusted = Error::UntrustedTarget {
            target,
            problem: "its TLS certificate has expired".into(),
            fix: "set [target] ca".into(),
        };
        assert_eq!(code(untrusted), 3);
        let dir = PathBuf::from("venomqa-store");
        assert_eq!(code(Error::Store(venomqa_traffic::Error::InUse { dir })), 3);
        assert_eq!(code(anyhow::anyhow!("cannot write the report")), 3);
    }

    #[test]
    fn each_cause_is_printed_once() {
        let read = std::io::Error::other("disk on fire");
        let err = ConfigError::Read { path: PathBuf::from("qa/venomqa.toml"), source: read };
        assert_eq!(message(&err.into()), "cannot read qa/venomqa.toml: disk on fire");
        let missing = std::io::Error::other("no such file");
        let err = Error::Model { path: "qa/model.json".into(), source: ModelError::Read(missing) };
        assert_eq!(message(&err.into()), "cannot read the model qa/model.json: no such file");
    }

    #[test]
    fn a_typed_cause_under_a_context_still_decides() {
        let err = anyhow::Error::new(Error::Setup("no user".into())).context("replaying");
        assert_eq!(exit_code_for(&err), 2);
    }
}
