//! The command line: every command, flag and default a user sees in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::color::ColorChoice;

/// Store directory used when `--store` is not given.
pub const DEFAULT_STORE: &str = "./venomqa-store";

/// venomqa finds the bugs that live between API calls: a refund applied twice,
/// a shipment of an unpaid order, another user's order readable by id.
///
/// Put `venomqa record` in front of a staging service, let testers and
/// clients use it, and venomqa captures their sessions into an embedded store.
#[derive(Debug, Parser)]
#[command(name = "venomqa", version, propagate_version = true)]
#[command(after_help = "Start with `venomqa demo`: it runs the whole pipeline on a sample shop.\n\
Exit codes: 0 clean, 1 findings, 2 usage or configuration error, 3 the target or store could not be used, \
4 incomplete (`run`/`replay`/`explore`: a budget ran out before everything planned was tested, and nothing was found).")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Colour the output for people: `auto` colours a terminal unless
    /// `NO_COLOR` is set or `TERM=dumb` (`CLICOLOR_FORCE=1` colours a pipe too).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// No progress bars, and only errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More in the log on stderr: `-v` info, `-vv` debug (`RUST_LOG` overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sample shop, record QA traffic through the proxy, and show the sessions captured.
    Demo(DemoArgs),
    /// Run the recording proxy: in front of a service (`--upstream`), or as the clients'
    /// HTTP(S) proxy (`--forward`, HTTPS read with the store's CA).
    Record(RecordArgs),
    /// List the recorded sessions: one row a session.
    Sessions(SessionsArgs),
    /// Show the exchanges of one session.
    Show(ShowArgs),
    /// Write recorded exchanges as a HAR 1.2 file (opens in browser devtools).
    Export(ExportArgs),
    /// Add the exchanges of a HAR file (from devtools, mitmproxy, or `venomqa export`) to a store.
    Import(ImportArgs),
    /// Learn the API's model from recorded traffic: actions, data flow, state machines, journeys.
    Learn(LearnArgs),
    /// Show a learned model as text, a state diagram, or an OpenAPI document.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Write a starting qa/venomqa.toml (and qa/model.json) from what was recorded and learned.
    Init(InitArgs),
    /// Replay the learned journeys, mutated, against a test target and report the bugs found.
    Replay(ReplayArgs),
    /// Search the learned state graph beyond what the recording showed: model actions from the
    /// recorded states, pruned by learned preconditions and seen states; reports like `replay`.
    Explore(ExploreArgs),
    /// The CI entry: replay with everything from DIR/venomqa.toml. Exit 0 clean (everything
    /// planned was tested), 1 findings, 4 incomplete (a budget ran out first, nothing found).
    Run(RunArgs),
    /// The sample shop and its QA traffic driver, for trying venomqa out.
    #[command(subcommand)]
    Sample(SampleCommand),
    /// The store's recording CA, which `record --forward` reads HTTPS with.
    #[command(subcommand)]
    Ca(CaCommand),
}

/// `venomqa ca …`
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Print the store's CA certificate (PEM), making the CA first if the
    /// store has none: trust it in the browser or device that records
    /// through `record --forward`. The CA's key stays in the store.
    Export(CaExportArgs),
}

#[derive(Debug, Args)]
pub struct CaExportArgs {
    #[command(flatten)]
    pub store: StoreArg,
}

const RECORD_HELP: &str = "\
Modes:
  venomqa record --upstream http://127.0.0.1:8081           reverse proxy: clients use the proxy's address
  venomqa record --upstream https://staging.internal \\
      --tls-cert c.pem --tls-key k.pem                     ... over HTTPS on both sides
  venomqa record --forward --listen 127.0.0.1:8080          forward proxy: clients set HTTP(S)_PROXY
  venomqa ca export > venomqa-ca.pem                        the CA a forward proxy's clients must trust

In forward mode each CONNECT to a recorded host is intercepted: the client gets a certificate
for the host from the store's CA (made once, its key readable by you only), the exchanges are
recorded as if sent to a reverse proxy, and the origin is reached over TLS with the same trust
as --upstream (--upstream-ca, --insecure-upstream). Exit codes: 0 stopped cleanly, 2 a bad
flag or file, 3 the store could not be written.";

#[derive(Debug, Args)]
pub struct StoreArg {
    /// The traffic store directory.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STORE)]
    pub store: PathBuf,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// How exchanges are grouped into sessions: a comma-separated list of
    /// rules tried in order, each one of `header:NAME`, `cookie:NAME`,
    /// `cookie:*` (the first cookie named like a session: `sid`,
    /// `sessionid`, `connect.sid`, `JSESSIONID`, `_app_session`, ...), `client`.
    /// A token or cookie rule also claims the login whose response issued it.
    #[arg(
        long,
        value_name = "RULES",
        default_value = "header:x-session,header:authorization,cookie:*,header:x-api-key,client"
    )]
    pub session_by: String,

    /// Silence after which the same key starts a new session (e.g. `30m`, `90s`).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub idle_gap: Duration,

    /// Store secrets as they are. By default Authorization, Cookie and Set-Cookie
    /// values, headers named like auth or a secret, and JSON/form/multipart/query
    /// fields named like a secret (password, pwd, secret, token, api_key,
    /// private_key, credential, pin, otp, totp, mfa, ssn, pan, card_number, cvv,
    /// cvc, session, ...; short words only as a whole word of the name) are
    /// replaced by a stable keyed pseudonym before touching disk, everything
    /// inside them too; gzip, deflate and br bodies are decoded first.
    #[arg(long)]
    pub keep_secrets: bool,

    /// Also redact the value of this JSON, form, multipart or query field
    /// (a whole name, case ignored; repeatable), e.g. `--redact-field birth_date`.
    #[arg(long, value_name = "NAME")]
    pub redact_field: Vec<String>,

    /// Also redact the value of this header (a whole name, case ignored;
    /// repeatable), e.g. `--redact-header X-Tenant-Key`.
    #[arg(long, value_name = "NAME")]
    pub redact_header: Vec<String>,
}

#[derive(Debug, Args)]
#[command(after_long_help = RECORD_HELP)]
pub struct RecordArgs {
    /// The service to forward to, e.g. `http://127.0.0.1:8081` or
    /// `https://staging.internal` (a reverse proxy in front of it).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "forward",
        conflicts_with = "forward"
    )]
    pub upstream: Option<String>,

    /// Be a forward proxy instead: clients set `HTTP_PROXY`/`HTTPS_PROXY` to
    /// this address; HTTPS is read with certificates from the store's CA
    /// (`venomqa ca export` prints it for clients to trust).
    #[arg(long)]
    pub forward: bool,

    /// With --forward: tunnel these hosts without reading them (recorded as
    /// one CONNECT each). `api.example.com`, `*.example.com` or `*`;
    /// repeatable.
    #[arg(long, value_name = "HOST_PATTERN", requires = "forward")]
    pub passthrough: Vec<String>,

    /// With --forward: record only these hosts (others are forwarded, and
    /// tunnelled unread); repeatable.
    #[arg(long, value_name = "HOST_PATTERN", requires = "forward")]
    pub only: Vec<String>,

    /// Serve clients over HTTPS with this certificate chain (PEM, the
    /// server's own certificate first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Trust this CA (PEM) for an `https://` upstream's certificate, besides
    /// the bundled Mozilla roots: a private staging CA.
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,

    /// Accept any certificate from an `https://` upstream. The traffic is
    /// still encrypted, but anyone in between can read and change it: for a
    /// throwaway staging certificate only.
    #[arg(long)]
    pub insecure_upstream: bool,

    /// Address the proxy listens on. Loopback by default: pass `0.0.0.0:8080`
    /// explicitly to accept traffic from other machines.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub store: StoreArg,

    #[command(flatten)]
    pub sessions: SessionArgs,

    /// Capture at most this much of each body (e.g. `1MiB`, `64KiB`, `0`).
    /// Forwarded bytes are never affected.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub body_cap: usize,

    /// Add `Forwarded` and `X-Forwarded-For` headers to forwarded requests.
    #[arg(long)]
    pub forwarded: bool,

    /// Forward without capturing anything (to measure the proxy itself).
    #[arg(long)]
    pub no_capture: bool,

    /// Give up on an upstream that has not answered within this time (504),
    /// counted from when the request's body was all sent: a long upload is
    /// not the upstream's fault (a stalled one is cut by the idle timeout).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub upstream_timeout: Duration,

    /// At shutdown, wait at most this long for the store to write what is
    /// queued and confirm it on disk; past it venomqa exits 3 saying how
    /// many exchanges may be lost (the store reopens with the rest).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub flush_deadline: Duration,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub store: StoreArg,

    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The session key as `venomqa sessions` prints it (a unique prefix is enough).
    pub session: String,

    #[command(flatten)]
    pub store: StoreArg,

    /// Print one JSON document instead of a table: each exchange with its
    /// request and response headers and bodies, redacted as stored.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The HAR file to write; `-` writes it to standard output.
    #[arg(long, value_name = "FILE")]
    pub har: PathBuf,

    /// Print one JSON line (`{"exported": N, "har": FILE}`) instead of a sentence.
    #[arg(long)]
    pub json: bool,

    /// Export only this session (a unique prefix is enough).
    #[arg(long, value_name = "SESSION")]
    pub session: Option<String>,

    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The HAR file to read; `-` reads standard input.
    pub file: PathBuf,

    /// Print one JSON line (`imported`, `sessions`, `skipped_duplicates`,
    /// `dropped`, `file`, `store`) instead of sentences.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub store: StoreArg,

    #[command(flatten)]
    pub sessions: SessionArgs,

    /// Keep exchanges the store holds already (same start time, method, URL
    /// and request body). By default they are skipped and counted, so
    /// importing one HAR twice adds nothing.
    #[arg(long)]
    pub allow_duplicates: bool,
}

/// Where reports go; each flag overrides the `[report]` table of the configuration.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write `{"findings": [...], "stats": {...}}` to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a JUnit XML report (one testcase per journey × mutation family) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write one HTML page to this file (`-`: standard output, the terminal
    /// report then goes to stderr): the summary, each finding with its
    /// requests and answers, and each resource's learned state machine with
    /// the transitions findings crossed in red. Self-contained: it opens from
    /// a CI artifact with no network; credentials and secret fields are blanked.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write one runnable bash + curl reproducer per finding into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to write venomqa.toml and model.json into.
    #[arg(value_name = "DIR", default_value = "qa")]
    pub dir: PathBuf,

    /// The test target the configuration points at (never production).
    #[arg(long, value_name = "URL")]
    pub target: String,

    /// How to reset the target before each sequence: an HTTP request such as
    /// `POST /__reset`. Without it, sequences rely on the resources they create.
    #[arg(long, value_name = "REQUEST")]
    pub reset: Option<String>,

    /// The traffic store to read the recorded logins (and, without --model, to learn) from.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STORE)]
    pub store: PathBuf,

    /// A model already learned; by default the store is learned now.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// Overwrite an existing DIR/venomqa.toml.
    #[arg(long)]
    pub force: bool,

    /// Print `{"config": …, "model": …, "variables": [...]}` on stdout
    /// instead of the sentences: the files written and the environment
    /// variables to set before `venomqa run`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The test target to replay against, e.g. `http://127.0.0.1:9000`.
    #[arg(long, value_name = "URL")]
    pub target: String,

    /// The configuration: a venomqa.toml file or the directory holding one.
    #[arg(long, value_name = "PATH", default_value = "qa/venomqa.toml")]
    pub config: PathBuf,

    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Each path starts from a recorded prefix cut to one create (login, create) and grows \
one model action at a time, bound to the path's live answers. A path ends when the target refuses its \
last action, when it reaches a state another path reached (volatile fields ignored), when an oracle \
finds a bug on it, or at --max-depth. At every new state the mutation families of [mutations] run their \
tests there. Findings name \"mutation\": \"explore\"; exit codes are `run`'s (0 clean, 1 findings, \
2 usage, 3 target or store unusable, 4 a budget ran out first and nothing was found).\n\n\
Branching: with a way to save the target's state in qa/venomqa.toml's [explore], each path's next \
actions start from its saved state instead of a reset and a replay of the path: \
`database = \"sqlite:../app.db\"` (the target's SQLite file, copied with SQLite's backup API), \
`database = \"postgres://user@host/db\"` (each table copied into a schema per checkpoint), or \
`checkpoint = \"CMD {name}\"` with `rollback = \"CMD {name}\"` (commands, or requests on the target).\n\n\
Examples:\n  venomqa explore --target http://127.0.0.1:8081\n  \
venomqa explore --target http://127.0.0.1:8081 --strategy bfs --max-depth 4 --try-disabled --json explore.json"
)]
pub struct ExploreArgs {
    /// The test target to explore, e.g. `http://127.0.0.1:9000`.
    #[arg(long, value_name = "URL")]
    pub target: String,

    /// The configuration: a venomqa.toml file or the directory holding one.
    #[arg(long, value_name = "PATH", default_value = "qa/venomqa.toml")]
    pub config: PathBuf,

    /// Which open path to extend next: `coverage` runs what the recording
    /// showed least first (actions never seen in a state, then paths after
    /// a new state or transition). Default: [explore] strategy, else coverage.
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,

    /// Actions added after a path's start, at most (1-12). Default: [explore] max_depth, else 6.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=12))]
    pub max_depth: Option<u16>,

    /// Stop after this many requests (calibration included). Default:
    /// [explore] requests, else [budget] requests.
    #[arg(long, value_name = "N")]
    pub budget_requests: Option<u64>,

    /// Stop after this many seconds (calibration included). Default:
    /// [explore] seconds, else [budget] seconds.
    #[arg(long, value_name = "S")]
    pub budget_seconds: Option<u64>,

    /// Seed of `--strategy random`: the same seed against the same
    /// deterministic target explores the same paths.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Also try actions the recording never saw accepted in a state (after
    /// the others): where "accepted when it should be refused" bugs hide.
    /// `--try-disabled=false` leaves them out whatever [explore] says.
    /// Default: [explore] try_disabled, else false.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub try_disabled: Option<bool>,

    #[command(flatten)]
    pub reports: ReportArgs,
}

/// `--strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// Breadth first: every path of depth d before any of depth d + 1.
    Bfs,
    /// Depth first: one path as deep as it goes, then the next.
    Dfs,
    /// A random open path each time (`--seed`).
    Random,
    /// What the recording showed least first.
    Coverage,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The directory holding venomqa.toml (or the file itself).
    #[arg(value_name = "DIR", default_value = "qa")]
    pub dir: PathBuf,

    /// Override the configuration's `[target] url`.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    #[command(flatten)]
    pub reports: ReportArgs,
}

/// Model file used when none is named.
pub const DEFAULT_MODEL: &str = "venomqa-model.json";

#[derive(Debug, Args)]
pub struct LearnArgs {
    #[command(flatten)]
    pub store: StoreArg,

    /// Where to write the model (pretty, deterministic JSON: same store, same
    /// bytes); `-` writes it to standard output, and the summary to stderr.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub out: PathBuf,

    /// Ignore exchanges whose `METHOD /path` matches this regex (repeatable),
    /// on top of the default noise rules (OPTIONS, health checks, static assets, `/__` hooks).
    #[arg(long, value_name = "REGEX")]
    pub ignore: Vec<String>,

    /// Print the model's text view after learning.
    #[arg(long)]
    pub show: bool,

    /// Print the summary as one JSON line (counts, `ignored` by reason, and
    /// `model`: where it was written) instead of sentences.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a model: `text` for people, `mermaid`/`dot` state diagrams, `openapi` 3.1 JSON.
    Show(ModelShowArgs),
}

#[derive(Debug, Args)]
pub struct ModelShowArgs {
    /// The model file written by `venomqa learn`.
    #[arg(value_name = "MODEL", default_value = DEFAULT_MODEL)]
    pub model: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ModelFormat::Text)]
    pub format: ModelFormat,

    /// Only this resource (e.g. `orders`, or its collection `/api/v1/orders`),
    /// in every format: its actions, links, state machine and children. With
    /// `--format mermaid`, one machine prints a bare diagram that `mmdc`
    /// reads; several come in fenced Markdown blocks. An unknown name is an
    /// error (exit 2) that lists the resources there are.
    #[arg(long, value_name = "NAME")]
    pub resource: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelFormat {
    /// Actions, resources, links, state machines and journeys, for people.
    Text,
    /// One Mermaid `stateDiagram-v2` per resource.
    Mermaid,
    /// One Graphviz digraph, a cluster per resource.
    Dot,
    /// An OpenAPI 3.1 document (JSON) of the learned actions, with links.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum SampleCommand {
    /// Serve a sample with planted sequence bugs: the shop (default) or `--app library`.
    Serve(SampleServeArgs),
    /// Play realistic happy-path QA sessions against a sample (directly or through `venomqa record`).
    Drive(SampleDriveArgs),
    /// Write N synthetic exchanges of shop-like QA traffic into a store, for benchmarks.
    Generate(SampleGenerateArgs),
}

/// Which sample service `sample serve` and `sample drive` speak to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SampleApp {
    /// An orders API: bearer tokens, four fixed users, random ids, nine planted bugs.
    #[default]
    Shop,
    /// A community library: cookie sessions, sign-up and login by email,
    /// staff and members, slugs, sequential ids, a soft delete, pickup
    /// codes, reading lists, seventeen planted bugs.
    Library,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The shop's bugs: double-refund, ship-unpaid, cancel-after-ship, cross-user, \
pay-after-delete, concurrent-refund, token-after-logout, idempotency-recharge, lost-update.\n\
The library's bugs: double-pickup, pickup-after-cancel, renew-after-return, borrow-held-copy, \
cross-member-loan, loan-after-withdraw, concurrent-borrow, session-after-logout, stale-preferences, \
role-injection, login-enumeration, stale-patch-after-put, item-after-publish, edit-after-withdraw, \
create-after-logout, cross-member-password, feature-by-member.\n\n\
Examples:\n  venomqa sample serve --port 8081\n  \
venomqa sample serve --app library --port 8082 --bugs double-pickup,stale-preferences\n  \
venomqa sample serve --bugs none --db sqlite:shop.db\n  \
venomqa sample serve --tls --tls-ca-out ca.pem   # HTTPS, as staging is; clients trust ca.pem\n\n\
Both answer POST /__reset (back to a fresh state) and GET /health. The library's \
endpoints live under /api/v1; its staff log in as librarian@library.test / librarian-pw \
and desk@library.test / desk-pw, and members sign up at POST /api/v1/members."
)]
pub struct SampleServeArgs {
    /// Which sample to serve: `shop` (the default) or `library`.
    #[arg(long, value_enum, default_value_t = SampleApp::Shop)]
    pub app: SampleApp,

    /// Port to listen on (on 127.0.0.1 unless `--host` says otherwise).
    #[arg(long, default_value_t = 8081)]
    pub port: u16,

    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,

    /// Planted bugs: `all`, `none`, or a comma-separated list of the app's bug names (below).
    #[arg(long, value_name = "BUGS", default_value = "all")]
    pub bugs: String,

    /// Keep the shop's state in a SQLite file (`sqlite:shop.db`, created when
    /// missing, kept across restarts) instead of in memory: what exploration's
    /// `[explore] database = "sqlite:…"` checkpoints copy and restore.
    #[arg(long, value_name = "sqlite:PATH")]
    pub db: Option<String>,

    /// Serve HTTPS (HTTP/2 and HTTP/1.1) with a certificate made at start,
    /// by a throwaway CA, for `--host` (unless 0.0.0.0), `localhost` and
    /// `127.0.0.1`. Clients trust that CA: write it with `--tls-ca-out`.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls: bool,

    /// With `--tls`: write the throwaway CA's certificate (PEM) to this
    /// file, for clients to trust (`sample drive --ca`, `[target] ca`,
    /// `curl --cacert`).
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_ca_out: Option<PathBuf>,

    /// Serve HTTPS with this certificate chain (PEM, the server's own
    /// certificate first) instead of a throwaway one; with `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "The shop's sessions: one of its four users logs in, orders, pays, ships, \
refunds, cancels or deletes, and sometimes logs out.\n\
The library's run: the librarian stocks the catalogue; then --sessions member sessions, \
--users members in turn (each signs up in their first session, then borrows, renews, \
returns, holds and cancels); then the desk redeems the members' pickup codes. So it plays \
two or more sessions beyond --sessions.\n\n\
Examples:\n  venomqa record --upstream http://127.0.0.1:8082 --listen 127.0.0.1:8080 &\n  \
venomqa sample drive --app library --base http://127.0.0.1:8080 --users 4 --sessions 20\n  \
venomqa sample drive --base https://127.0.0.1:8443 --ca ca.pem")]
pub struct SampleDriveArgs {
    /// Which sample the target is: `shop` (the default) or `library`.
    #[arg(long, value_enum, default_value_t = SampleApp::Shop)]
    pub app: SampleApp,

    /// Base URL of the sample, or of a `venomqa record` proxy in front of
    /// it: `http://…` or `https://…`.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub base: String,

    /// For an `https://` base: also trust the CA certificates in this PEM
    /// file (a private staging CA; `sample serve --tls --tls-ca-out FILE`
    /// writes the sample's).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// For an `https://` base: accept any certificate (still encrypted, but
    /// unchecked: for a throwaway staging certificate only).
    #[arg(long, conflicts_with = "ca")]
    pub insecure: bool,

    /// How many users take part: 1 to 4 of the shop's, or 1 to 12 library members.
    #[arg(long, default_value_t = 3)]
    pub users: usize,

    /// How many QA sessions to play (for the library: member sessions).
    #[arg(long, default_value_t = 20)]
    pub sessions: usize,

    /// Seed for the sessions' choices: the same seed plays the same sessions.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,

    /// Sessions played at the same time.
    #[arg(long, default_value_t = 3)]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct SampleGenerateArgs {
    /// The store to write into (created if missing); exchanges go through the
    /// same sessionizing and redaction as a recording.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STORE)]
    pub store: PathBuf,

    /// How many exchanges to write.
    #[arg(long, value_name = "N")]
    pub exchanges: u64,

    /// Seed for the traffic: the same seed writes the same exchanges.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write the findings as JSON (`{"findings": [...]}`) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Keep the recorded traffic in this store instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// How many QA sessions to drive through the proxy.
    #[arg(long, default_value_t = 20)]
    pub sessions: usize,

    /// How many of the shop's users take part (1 to 4).
    #[arg(long, default_value_t = 3)]
    pub users: usize,

    /// Then explore too: a second shop keeping its state in a SQLite file,
    /// searched from the learned model (depth 3, 30 s) and branched from that
    /// file's saved copies (`[explore] database = "sqlite:…"`).
    #[arg(long)]
    pub explore: bool,

    /// HTTPS end to end: the shop serves HTTPS (a throwaway CA), the proxy
    /// speaks HTTPS to the QA clients and to the shop, and the replay
    /// trusts the shop's CA as `[target] ca` does.
    #[arg(long)]
    pub https: bool,
}

/// Parses `30m`, `90s`, `1h 30m`, `250ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. `30m`, `90s`, `250ms`"))
}

/// Parses `1MiB`, `64KiB`, `1048576`, `1MB`, `0`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let number: usize = digits.parse().map_err(|_| {
        format!("`{text}` is not a size; write e.g. `1MiB`, `64KiB` or a number of bytes")
    })?;
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1024 * 1024 * 1024,
        other => {
            return Err(format!("unknown size unit `{other}` in `{text}`; use B, KiB, MiB or GiB"))
        }
    };
    number.checked_mul(multiplier).ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("1MiB"), Ok(1024 * 1024));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("1 parsec").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
    }

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
