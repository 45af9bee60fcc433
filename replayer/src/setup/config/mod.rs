//! `qa/venomqa.toml`: everything a run needs that the recording cannot say —
//! the target, how to reset it, the test users and their secrets, which
//! mutations to run, budgets, invariants and report outputs.
//!
//! Every table refuses keys it does not know, so a misspelt key is an error
//! naming its file, line and column, never a silently ignored setting.
//! Paths are relative to the directory holding the file.
//!
//! ```toml
//! # Where `venomqa record` wrote the traffic and `venomqa learn` the model.
//! store = "../venomqa-store"
//! model = "model.json"
//!
//! [target]
//! url = "http://127.0.0.1:8081"   # required: venomqa never guesses the target
//! timeout = "10s"                 # per request: "500ms", "10s", "2m" or seconds
//! parallel = 8                    # sequences in flight when nothing resets between them
//! ca = "staging-ca.pem"           # an https:// target signed by a private CA: trust it
//!                                 # (PEM; besides the usual public roots)
//! # insecure = true               # or check no certificate at all (said loudly; for a
//!                                 # throwaway staging certificate only)
//!
//! [reset]                         # optional: put the target back before each sequence
//! request = "POST /__reset"       # an HTTP call on the target, or
//! # command = "./reset-db.sh"    # a shell command run in this directory
//! scope = "sequence"              # "sequence" (default) or "run": once, then sequences
//!                                 # run in parallel, each on the resources it creates
//! tries = 3                       # a failed reset is tried again (after 100ms, 400ms, ...)
//!
//! [auth]                          # optional: learned from the model when absent
//! login = "POST /login"
//! logout = "POST /logout"
//!
//! [users.alice]                   # one table per test user: the login's body fields
//! username = "alice"
//! password = { env = "VENOMQA_ALICE_PASSWORD" }  # read from the environment
//!
//! [users.bob]
//! username = "bob"
//! password = { env = "VENOMQA_BOB_PASSWORD" }
//!
//! [mutations]
//! enabled = ["duplicate", "drop", "swap", "move-later", "as-other-user", "after-delete",
//!            "after-logout", "concurrent", "splice", "idempotency-retry", "stale-validator"]
//! concurrency = 2                 # copies `concurrent` sends at once
//! repeat = 5                      # re-runs of a race, to say how often it reproduces
//!
//! [budget]                        # exploration stops at the first one reached
//! sequences = 2000
//! requests = 100000
//! seconds = 120
//!
//! [[invariants]]                  # CEL over one instance, seen as the singular
//! name = "refunds never exceed the amount"
//! resource = "orders"
//! expr = "order.refunded <= order.amount"
//!
//! [explore]                     # search the learned state graph beyond the recording
//! enabled = true                  # `venomqa run` explores after replaying (default false)
//! strategy = "coverage"           # "bfs", "dfs", "random" or "coverage" (default)
//! max_depth = 6                   # actions added after a recorded create, at most
//! requests = 20000                # its own budgets, inside the run's
//! seconds = 60
//! seed = 0                        # same seed, same deterministic target: same search
//! try_disabled = true             # also try actions never seen accepted in a state
//! checkpoint = "./db.sh save {name}"     # branch from saved states (a command, or
//! rollback = "./db.sh restore {name}"    # a request: "POST /__checkpoint/{name}")
//! # database = "sqlite:../shop.db"      # or built in: the target's SQLite file, or
//! # database = { env = "VENOMQA_DATABASE_URL" }   # its PostgreSQL database (postgres://…)
//!
//! [report]
//! json = "venomqa-report.json"
//! junit = "venomqa-junit.xml"
//! html = "report.html"           # one self-contained page; open it in a browser
//! out = "reproducers"
//! ```

mod parse;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::mutate::mutation::Mutation;
use crate::oracle::invariant::Invariant;
pub(crate) use parse::parse_request_line;
use parse::{budget, check_url, File};
use raw::RawConfig;

/// The file `Config::load` reads inside a `qa/` directory.
pub const CONFIG_FILE: &str = "venomqa.toml";

/// A loaded, validated configuration: secrets resolved, invariants compiled.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from (for messages).
    pub path: PathBuf,
    /// The directory relative paths are resolved against.
    pub dir: PathBuf,
    /// The traffic store directory.
    pub store: PathBuf,
    /// The learned model file.
    pub model: PathBuf,
    /// The service under test.
    pub target: Target,
    /// How to put the target back into a known state; `None`: sequences rely
    /// on fresh resources only.
    pub reset: Option<Reset>,
    /// Which actions log in and out, when the model's are not right.
    pub auth: Auth,
    /// Test users, sorted by name.
    pub users: Vec<User>,
    /// Which mutation families run, and how.
    pub mutations: Mutations,
    /// Where exploration stops.
    pub budget: Budget,
    /// The user invariants, compiled.
    pub invariants: Vec<Invariant>,
    /// Where the reports go.
    pub report: Report,
    /// `[explore]`: the state-graph search.
    pub explore: Explore,
}

/// The system under test.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Base URL; `None` until given (in the file or by the CLI): a run refuses it.
    pub url: Option<String>,
    /// Longest a single request may take.
    pub timeout: Duration,
    /// Sequences in flight at once when no reset runs between them.
    pub parallel: usize,
    /// A PEM file of CA certificates an `https://` target's certificate may
    /// be signed by, besides the public roots: a private staging CA. An
    /// absolute path, checked to hold a certificate when the file is read.
    pub ca: Option<PathBuf>,
    /// Accept any certificate from an `https://` target: the traffic is
    /// encrypted but not to a checked party. For a throwaway staging
    /// certificate; a run says so loudly.
    pub insecure: bool,
}

impl Target {
    /// Whether the target is reached over TLS.
    pub fn is_https(&self) -> bool {
        self.url.as_deref().is_some_and(|url| url.starts_with("https://"))
    }

    /// What a run says, once, when `insecure` leaves an `https://`
    /// target's certificate unchecked; `None` otherwise.
    pub fn insecure_warning(&self) -> Option<String> {
        (self.insecure && self.is_https()).then(|| {
            format!(
                "[target] insecure = true: the TLS certificate of {} is not checked; anyone between \
                 here and it can read and change the traffic (set [target] ca to the CA that signed \
                 it instead)",
                self.url.as_deref().unwrap_or_default()
            )
        })
    }

    /// What the HTTP client trusts, as `ca` and `insecure` say.
    pub(crate) fn trust(&self) -> venomqa_tls::ClientTrust {
        venomqa_tls::ClientTrust { extra_ca: self.ca.clone(), insecure: self.insecure }
    }
}

/// How the target is reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reset {
    /// A request on the target or a shell command.
    pub how: ResetHow,
    /// Before every sequence, or once.
    pub scope: ResetScope,
    /// How many times a reset is tried before the run stops (real reset
    /// endpoints fail now and then); at least 1.
    pub tries: u32,
}

impl Reset {
    /// The tries a reset gets when `[reset]` does not say.
    pub const DEFAULT_TRIES: u32 = 3;
    /// The most tries `[reset] tries` accepts: more only hides a broken reset.
    pub const MAX_TRIES: u32 = 10;
}

/// A reset is an HTTP request on the target or a shell command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResetHow {
    /// `POST /__reset`: method and path on the target.
    Request {
        /// `POST`
        method: String,
        /// `/__reset`
        path: String,
    },
    /// Run with `sh -c` in the configuration's directory; must exit 0.
    Command(String),
}

/// When the reset runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetScope {
    /// Before every sequence; sequences then run one at a time.
    Sequence,
    /// Once before the run; sequences run in parallel, isolated by creating
    /// their own resources.
    Run,
}

/// Which actions log in and out, when the model's guess is not right.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    /// `POST /login`
    pub login: Option<String>,
    /// `POST /logout`
    pub logout: Option<String>,
}

/// A test user: the values of the login's body fields, secrets resolved.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The table's name (`alice` for `[users.alice]`); reports name the user by it.
    pub name: String,
    /// Field → value (`username` → `alice`, `password` → the secret).
    pub fields: BTreeMap<String, String>,
    /// An identity a journey makes (it signs up, then logs in), named by
    /// its recorded account: never configured, never sent as another user.
    pub generated: bool,
    /// Field → the environment variable its value was read from (a
    /// secret): reports write the variable, never the value.
    pub variables: BTreeMap<String, String>,
    /// For an API without a login: the recorded key (as the store
    /// pseudonymised it) this user's `key` stands for (`recorded_key`).
    pub recorded_key: Option<String>,
}

impl User {
    /// Whether `account`, as the recording shows it, is this user's: a made
    /// identity's recorded account, or a configured user's field value.
    pub fn is_account(&self, account: &str) -> bool {
        if self.generated {
            self.name.eq_ignore_ascii_case(account)
        } else {
            self.fields.values().any(|v| v.eq_ignore_ascii_case(account))
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secrets.
        f.debug_struct("User")
            .field("name", &self.name)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("generated", &self.generated)
            .finish()
    }
}

/// Which mutations run and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutations {
    /// The families to run, in the order given, each once.
    pub enabled: Vec<Mutation>,
    /// Copies sent at once by `concurrent` (at least 2).
    pub concurrency: u32,
    /// Re-runs of a shrunk race to count how often it reproduces.
    pub repeat: u32,
}

/// Exploration stops at the first limit reached (shrinking what was found still finishes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Sequences sent (calibration and shrinking included).
    pub sequences: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Seconds since the run started.
    pub seconds: u64,
}

/// The deepest search `max_depth` allows.
pub(crate) const MAX_DEPTH: usize = 12;
/// `max_depth` when the file does not say.
pub(crate) const DEFAULT_DEPTH: usize = 6;

/// How exploration searches the learned state graph (`[explore]`, `venomqa explore`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explore {
    /// `venomqa run` explores after replaying.
    pub enabled: bool,
    /// Which path to extend next.
    pub strategy: Strategy,
    /// Actions added after a path's start (a recorded create), at most.
    pub max_depth: usize,
    /// Requests exploration may send (the run's own budget still applies).
    pub requests: Option<u64>,
    /// Seconds exploration may take (the run's own budget still applies).
    pub seconds: Option<u64>,
    /// Seeds the `random` strategy and the order of equal choices.
    pub seed: u64,
    /// Also try actions the recording never saw accepted in a state, after
    /// the others: where "accepted when it should be refused" bugs hide.
    pub try_disabled: bool,
    /// How to save the state a path reached and put it back, so its next
    /// actions branch from there instead of from a reset and a replay of
    /// the path; `None`: reset and replay.
    pub branching: Option<Branching>,
}

/// How exploration saves the target's state and puts it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Branching {
    /// `[explore] checkpoint` and `rollback`: each a request on the target
    /// or a shell command (run in the configuration's directory), `{name}`
    /// the checkpoint's name.
    Hooks {
        /// Saves the target's state under `{name}`.
        checkpoint: ResetHow,
        /// Puts back the state saved under `{name}`.
        rollback: ResetHow,
    },
    /// `[explore] database = "sqlite:PATH"`: the target's SQLite file,
    /// copied out and back with SQLite's online backup API while the
    /// target keeps it open.
    Sqlite(PathBuf),
    /// `[explore] database = "postgres://…"`: the target's PostgreSQL
    /// database, each table copied into a schema of the checkpoint's own
    /// and copied back in one transaction.
    Postgres(DatabaseUrl),
}

/// A database URL that may carry a password: shown without it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL with its password, if any, replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else { return self.0.clone() };
        let Some((credentials, host)) = rest.rsplit_once('@') else { return self.0.clone() };
        match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Default for Explore {
    fn default() -> Explore {
        Explore {
            enabled: false,
            strategy: Strategy::Coverage,
            max_depth: DEFAULT_DEPTH,
            requests: None,
            seconds: None,
            seed: 0,
            try_disabled: false,
            branching: None,
        }
    }
}

/// The order in which exploration extends paths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Breadth first: every path of depth d before any of depth d + 1.
    Bfs,
    /// Depth first: one path as deep as it goes, then the next.
    Dfs,
    /// A random open path each time (seeded).
    Random,
    /// What the recording showed least first: actions never seen in a
    /// state, then transitions never observed, then the rest.
    #[default]
    Coverage,
}

impl Strategy {
    /// Every strategy, by name.
    pub const ALL: [Strategy; 4] =
        [Strategy::Bfs, Strategy::Dfs, Strategy::Random, Strategy::Coverage];

    /// Its name in the configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
            Strategy::Random => "random",
            Strategy::Coverage => "coverage",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A strategy name that is not one.
#[derive(Debug, thiserror::Error)]
#[error("unknown strategy `{0}`: expected one of bfs, dfs, random, coverage")]
pub struct UnknownStrategy(pub String);

impl std::str::FromStr for Strategy {
    type Err = UnknownStrategy;

    fn from_str(s: &str) -> Result<Strategy, UnknownStrategy> {
        Strategy::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| UnknownStrategy(s.to_string()))
    }
}

/// Where reports go; the CLI writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The JSON report.
    pub json: Option<PathBuf>,
    /// The JUnit XML report.
    pub junit: Option<PathBuf>,
    /// The HTML page: summary, findings, and the learned state machines.
    pub html: Option<PathBuf>,
    /// Directory for the reproducer scripts.
    pub out: Option<PathBuf>,
}

/// Why a configuration was refused; `Display` starts with `file:line:column:`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The configuration file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key, a wrong type or value.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// 1-based column of the value.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// A `{ env = "..." }` secret whose variable is not set.
    #[error("{}:{line}:{column}: users.{user}.{field}: the environment variable {var} is not set", path.display())]
    MissingEnv {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// 1-based column of the value.
        column: usize,
        /// The user's table name.
        user: String,
        /// The field the secret is for.
        field: String,
        /// The environment variable that is not set.
        var: String,
    },
    /// An invariant that does not compile.
    #[error("{}:{line}:{column}: {source}", path.display())]
    Invariant {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// 1-based column of the value.
        column: usize,
        /// Why the invariant does not compile.
        source: Box<crate::oracle::invariant::InvariantError>,
    },
    /// No target URL anywhere.
    #[error("{}: no target: set [target] url (venomqa never guesses which service to send mutated traffic to)", path.display())]
    MissingTarget {
        /// The configuration file.
        path: PathBuf,
    },
}

impl Config {
    /// The users' secrets read from the environment, each with its
    /// variable: what reports and reproducers write instead of the value.
    pub fn secrets(&self) -> crate::report::Secrets {
        crate::report::Secrets::new(self.users.iter().flat_map(|u| {
            u.variables
                .iter()
                .filter_map(|(field, var)| Some((u.fields.get(field)?.clone(), var.clone())))
        }))
    }

    /// Reads `path`: a `venomqa.toml` file or a directory holding one.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let file = if path.is_dir() { path.join(CONFIG_FILE) } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&file)
            .map_err(|source| ConfigError::Read { path: file.clone(), source })?;
        Config::parse(&text, &file)
    }

    /// Parses the text of a configuration file, resolving relative paths
    /// against `path`'s directory and secrets from the environment.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::parse_with_env(text, path, |var| std::env::var(var).ok())
    }

    /// [`Config::parse`] with the environment given as a function (for tests).
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = File { text, path };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            file.invalid(e.span().unwrap_or(0..0), e.message().trim_end().to_string())
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &str| if p.is_empty() { dir.clone() } else { dir.join(p) };
        let report = raw.report.unwrap_or_default();
        Ok(Config {
            path: path.to_path_buf(),
            store: resolve(raw.store.as_deref().unwrap_or("../venomqa-store")),
            model: resolve(raw.model.as_deref().unwrap_or("model.json")),
            dir: dir.clone(),
            target: file.target(raw.target)?,
            reset: raw.reset.map(|r| file.reset(r)).transpose()?,
            auth: raw.auth.map(|a| Auth { login: a.login, logout: a.logout }).unwrap_or_default(),
            users: file.users(raw.users, &env)?,
            mutations: file.mutations(raw.mutations.unwrap_or_default())?,
            budget: budget(raw.budget.unwrap_or_default()),
            invariants: file.invariants(raw.invariants)?,
            explore: file.explore(raw.explore.unwrap_or_default(), &env)?,
            report: Report {
                json: report.json.as_deref().map(resolve),
                junit: report.junit.as_deref().map(resolve),
                html: report.html.as_deref().map(resolve),
                out: report.out.as_deref().map(resolve),
            },
        })
    }

    /// The target URL, or the error a run gives without one.
    pub fn target_url(&self) -> Result<&str, ConfigError> {
        self.target
            .url
            .as_deref()
            .ok_or_else(|| ConfigError::MissingTarget { path: self.path.clone() })
    }

    /// Sets the target (the CLI's `--target`), checking it is an http(s) URL.
    pub fn set_target(&mut self, url: &str) -> Result<(), ConfigError> {
        let url = url.trim_end_matches('/');
        check_url(url).map_err(|message| ConfigError::Invalid {
            path: PathBuf::from("--target"),
            line: 1,
            column: 1,
            message,
        })?;
        self.target.url = Some(url.to_string());
        Ok(())
    }
}

/// The environment variable holding a user's secret field:
/// `VENOMQA_<USER>_<FIELD>`, upper-case, other characters `_`; a field
/// nested in the login's body (`user/password`) by its own name.
pub fn env_var(user: &str, field: &str) -> String {
    let field = field.rsplit('/').next().unwrap_or(field);
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
            .collect()
    };
    format!("VENOMQA_{}_{}", clean(user), clean(field))
}
