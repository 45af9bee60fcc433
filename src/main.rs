//! The `venomqa` binary: parses the command line, wires the library crates
//! together and maps failures to exit codes. The work lives in the crates.

mod browse;
mod cli;
mod demo;
mod format;
mod har;
mod learn;
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

use cli::{Cli, Command, ModelCommand, SampleCommand};

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
    init_logging();
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
            eprintln!("venomqa: error: {err:#}");
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
        Command::Model(ModelCommand::Show(args)) => learn::show(args),
        Command::Sample(SampleCommand::Serve(args)) => sample::serve(args).await,
        Command::Sample(SampleCommand::Drive(args)) => sample::drive(args).await,
        Command::Sample(SampleCommand::Generate(args)) => sample::generate(args),
    }
}

/// 2 for usage and configuration mistakes; 3 for a store, target, file or
/// network that could not be used.
fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.chain().any(|cause| cause.is::<UsageError>()) {
        2
    } else {
        3
    }
}

/// Logs go to stderr, quiet unless `RUST_LOG` asks (e.g. `RUST_LOG=venomqa_proxy=debug`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
