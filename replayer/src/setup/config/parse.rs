//! From the TOML tables to the validated configuration, one table a step:
//! the target, the reset, the users (secrets from the environment), the
//! mutations, the budget and the invariants. Every error names the file,
//! line and column of the value it is about.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::raw::{
    DurationValue, RawBudget, RawExplore, RawInvariant, RawMutations, RawReset, RawTarget, Secret,
};
use super::{
    Branching, Budget, ConfigError, DatabaseUrl, Explore, Mutations, Reset, ResetHow, ResetScope,
    Strategy, Target, UnknownStrategy, User, DEFAULT_DEPTH, MAX_DEPTH,
};
use crate::mutate::mutation::{Mutation, UnknownMutation};
use crate::oracle::invariant::Invariant;
use crate::setup::keys::RECORDED_KEY;

/// The configuration file being parsed: its text, to turn a span into a
/// line and column, and its path, to name it.
#[derive(Clone, Copy)]
pub(super) struct File<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
}

impl File<'_> {
    /// An invalid value at `span`.
    pub(super) fn invalid(&self, span: Range<usize>, message: String) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid { path: self.path.to_path_buf(), line, column, message }
    }

    /// `[target]`: the URL checked, the timeout parsed, defaults filled in.
    pub(super) fn target(&self, raw: RawTarget) -> Result<Target, ConfigError> {
        let url = match raw.url {
            None => None,
            Some(url) => {
                let value = url.get_ref().trim_end_matches('/').to_string();
                check_url(&value).map_err(|m| self.invalid(url.span(), m))?;
                Some(value)
            }
        };
        let timeout = raw.timeout.map_or(Ok(Duration::from_secs(10)), |t| {
            parse_duration(t.get_ref()).map_err(|m| self.invalid(t.span(), m))
        })?;
        let parallel = raw.parallel.unwrap_or(8).max(1);
        let insecure = raw.insecure.as_ref().is_some_and(|i| *i.get_ref());
        if let (Some(_), Some(flag)) = (&raw.ca, raw.insecure.as_ref().filter(|i| *i.get_ref())) {
            return Err(self.invalid(
                flag.span(),
                "[target] takes `ca` (check the certificate against that CA) or `insecure = true` \
                 (check nothing), not both"
                    .into(),
            ));
        }
        let ca = raw.ca.map(|ca| self.ca_file(&ca)).transpose()?;
        Ok(Target { url, timeout, parallel, ca, insecure })
    }

    /// `[target] ca`: the file relative to this file's directory, made
    /// absolute (reproducer scripts name it), read now so a missing or
    /// wrong file stops the run before anything is sent.
    fn ca_file(&self, raw: &Spanned<String>) -> Result<PathBuf, ConfigError> {
        let given = raw.get_ref();
        let dir = self.path.parent().unwrap_or(Path::new(""));
        let path = std::path::absolute(dir.join(given)).map_err(|err| {
            self.invalid(raw.span(), format!("[target] ca `{given}`: no absolute path: {err}"))
        })?;
        venomqa_tls::read_certificates(&path).map_err(|err| {
            self.invalid(
                raw.span(),
                format!(
                    "[target] ca `{given}` must be a PEM file of the CA certificates the target's \
                     certificate is signed by: {err}"
                ),
            )
        })?;
        Ok(path)
    }

    /// `[reset]`: a request or a command (exactly one), and its scope.
    pub(super) fn reset(&self, raw: RawReset) -> Result<Reset, ConfigError> {
        let how = match (raw.request, raw.command) {
            (Some(req), None) => {
                let (method, path) =
                    parse_request_line(req.get_ref()).map_err(|m| self.invalid(req.span(), m))?;
                ResetHow::Request { method, path }
            }
            (None, Some(cmd)) => ResetHow::Command(cmd.into_inner()),
            (Some(req), Some(_)) => {
                return Err(self
                    .invalid(req.span(), "[reset] takes `request` or `command`, not both".into()))
            }
            (None, None) => {
                return Err(self.invalid(0..0, "[reset] needs `request` or `command`".into()))
            }
        };
        let scope = match raw.scope.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("sequence") => ResetScope::Sequence,
            Some("run") => ResetScope::Run,
            Some(other) => {
                let span = raw.scope.as_ref().map_or(0..0, Spanned::span);
                return Err(self.invalid(
                    span,
                    format!("[reset] scope is \"sequence\" or \"run\", not \"{other}\""),
                ));
            }
        };
        let tries = self.reset_tries(raw.tries)?;
        Ok(Reset { how, scope, tries })
    }

    /// `[reset] tries`: 1 to [`Reset::MAX_TRIES`], [`Reset::DEFAULT_TRIES`] when absent.
    fn reset_tries(&self, raw: Option<Spanned<i64>>) -> Result<u32, ConfigError> {
        let Some(tries) = raw else { return Ok(Reset::DEFAULT_TRIES) };
        match u32::try_from(*tries.get_ref()) {
            Ok(n) if (1..=Reset::MAX_TRIES).contains(&n) => Ok(n),
            _ => Err(self.invalid(
                tries.span(),
                format!(
                    "[reset] tries is how many times a reset is tried, 1 to {}, not {}",
                    Reset::MAX_TRIES,
                    tries.get_ref()
                ),
            )),
        }
    }

    /// `[users.NAME]`: each field literal or read from the environment.
    pub(super) fn users(
        &self,
        raw: BTreeMap<String, BTreeMap<String, Spanned<Secret>>>,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<User>, ConfigError> {
        let mut users = Vec::new();
        for (name, fields) in raw {
            let mut resolved = BTreeMap::new();
            let mut variables = BTreeMap::new();
            for (field, value) in fields {
                let span = value.span();
                let text_value = match value.into_inner() {
                    Secret::Literal(v) => v,
                    Secret::Env(var) => env(&var)
                        .inspect(|_| {
                            variables.insert(field.clone(), var.clone());
                        })
                        .ok_or_else(|| {
                            let (line, column) = line_column(self.text, span.start);
                            ConfigError::MissingEnv {
                                path: self.path.to_path_buf(),
                                line,
                                column,
                                user: name.clone(),
                                field: field.clone(),
                                var,
                            }
                        })?,
                };
                resolved.insert(field, text_value);
            }
            // Not a field a login sends: which recorded key the user's `key` replaces.
            let recorded_key = resolved.remove(RECORDED_KEY);
            users.push(User { name, fields: resolved, generated: false, variables, recorded_key });
        }
        Ok(users)
    }

    /// `[mutations]`: the enabled families by name (all when absent), once each.
    pub(super) fn mutations(&self, raw: RawMutations) -> Result<Mutations, ConfigError> {
        let enabled = match raw.enabled {
            None => Mutation::ALL.to_vec(),
            Some(names) => {
                let mut enabled = Vec::new();
                for name in names {
                    let m: Mutation = name
                        .get_ref()
                        .parse()
                        .map_err(|e: UnknownMutation| self.invalid(name.span(), e.to_string()))?;
                    if !enabled.contains(&m) {
                        enabled.push(m);
                    }
                }
                enabled
            }
        };
        Ok(Mutations {
            enabled,
            concurrency: raw.concurrency.unwrap_or(2).clamp(2, 64),
            repeat: raw.repeat.unwrap_or(5).clamp(1, 100),
        })
    }

    /// `[explore]`, defaults filled in: off for `run`, the coverage
    /// strategy, depth 6, half the run's time.
    pub(super) fn explore(
        &self,
        raw: RawExplore,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Explore, ConfigError> {
        let strategy = match &raw.strategy {
            None => Strategy::Coverage,
            Some(name) => name
                .get_ref()
                .parse()
                .map_err(|e: UnknownStrategy| self.invalid(name.span(), e.to_string()))?,
        };
        let max_depth = match &raw.max_depth {
            None => DEFAULT_DEPTH,
            Some(d) => match usize::try_from(*d.get_ref()) {
                Ok(depth @ 1..=MAX_DEPTH) => depth,
                _ => {
                    return Err(self
                        .invalid(d.span(), format!("max_depth must be between 1 and {MAX_DEPTH}")))
                }
            },
        };
        let branching = match (raw.checkpoint, raw.rollback) {
            (Some(hook), _) | (_, Some(hook)) if raw.database.is_some() => {
                return Err(self.invalid(
                    hook.span(),
                    "[explore] takes either `database` (built in) or `checkpoint` and `rollback` hooks, not both".into(),
                ))
            }
            (None, None) => match raw.database {
                None => None,
                Some(database) => Some(self.database(database, env)?),
            },
            (Some(checkpoint), Some(rollback)) => Some(Branching::Hooks {
                checkpoint: self.hook("checkpoint", &checkpoint)?,
                rollback: self.hook("rollback", &rollback)?,
            }),
            (Some(one), None) | (None, Some(one)) => {
                return Err(self.invalid(
                    one.span(),
                    "[explore] takes `checkpoint` and `rollback` together: one saves the state a path reached, the other puts it back".into(),
                ))
            }
        };
        Ok(Explore {
            branching,
            enabled: raw.enabled.unwrap_or(false),
            strategy,
            max_depth,
            requests: raw.requests,
            seconds: raw.seconds,
            seed: raw.seed.unwrap_or(0),
            try_disabled: raw.try_disabled.unwrap_or(false),
        })
    }

    /// `[explore] database`: `sqlite:PATH` (relative to this file's
    /// directory) or a `postgres://` URL, literal or from the environment.
    fn database(
        &self,
        raw: Spanned<Secret>,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Branching, ConfigError> {
        let span = raw.span();
        let text = match raw.into_inner() {
            Secret::Literal(text) => text,
            Secret::Env(var) => env(&var).ok_or_else(|| {
                self.invalid(
                    span.clone(),
                    format!("[explore] database reads ${var}, which is not set"),
                )
            })?,
        };
        if let Some(path) = text.strip_prefix("sqlite:").filter(|p| !p.is_empty()) {
            let dir = self.path.parent().unwrap_or(Path::new(""));
            return Ok(Branching::Sqlite(dir.join(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Branching::Postgres(DatabaseUrl(text)));
        }
        Err(self.invalid(
            span,
            "[explore] database is `sqlite:PATH` (the target's SQLite file) or a `postgres://user@host:port/db` URL".into(),
        ))
    }

    /// A checkpoint or rollback hook: a request on the target (`POST
    /// /__checkpoint/{name}`) or a shell command; either names `{name}`.
    fn hook(&self, which: &str, raw: &Spanned<String>) -> Result<ResetHow, ConfigError> {
        let text = raw.get_ref();
        if !text.contains("{name}") {
            return Err(self.invalid(
                raw.span(),
                format!("[explore] {which} must name the checkpoint as `{{name}}`, e.g. \"./db.sh {which} {{name}}\""),
            ));
        }
        Ok(match parse_request_line(text) {
            Ok((method, path)) => ResetHow::Request { method, path },
            Err(_) => ResetHow::Command(text.clone()),
        })
    }

    /// `[[invariants]]`: each compiled now, so a bad one is refused before a run.
    pub(super) fn invariants(&self, raw: Vec<RawInvariant>) -> Result<Vec<Invariant>, ConfigError> {
        raw.into_iter()
            .map(|inv| {
                Invariant::compile(&inv.name, &inv.resource, inv.expr.get_ref()).map_err(|source| {
                    let (line, column) = line_column(self.text, inv.expr.span().start);
                    ConfigError::Invariant {
                        path: self.path.to_path_buf(),
                        line,
                        column,
                        source: Box::new(source),
                    }
                })
            })
            .collect()
    }
}

/// `[budget]`, defaults filled in.
pub(super) fn budget(raw: RawBudget) -> Budget {
    Budget {
        sequences: raw.sequences.unwrap_or(2000),
        requests: raw.requests.unwrap_or(100_000),
        seconds: raw.seconds.unwrap_or(120),
    }
}

pub(super) fn check_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "target url `{url}` must be http:// or https:// with a host, not {}:",
            u.scheme()
        )),
        Err(e) => Err(format!("target url `{url}` is not a URL: {e}")),
    }
}

/// `POST /__reset` → (`POST`, `/__reset`).
pub(crate) fn parse_request_line(line: &str) -> Result<(String, String), String> {
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(path), None)
            if path.starts_with('/') && method.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            Ok((method.to_ascii_uppercase(), path.to_string()))
        }
        _ => Err(format!("`{line}` is not `METHOD /path` (e.g. \"POST /__reset\")")),
    }
}

/// "500ms", "10s", "2m", "1.5s" or a bare number of seconds.
fn parse_duration(value: &DurationValue) -> Result<Duration, String> {
    let secs = match value {
        DurationValue::Seconds(s) => *s,
        DurationValue::Text(t) => {
            let t = t.trim();
            let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
                Some(i) => (&t[..i], &t[i..]),
                None => (t, "s"),
            };
            let n: f64 = number.trim().parse().map_err(|_| {
                format!("`{t}` is not a duration such as \"500ms\", \"10s\" or \"2m\"")
            })?;
            match unit {
                "ms" => n / 1000.0,
                "s" => n,
                "m" => n * 60.0,
                _ => return Err(format!("`{t}`: the duration units are ms, s and m")),
            }
        }
    };
    if secs.is_finite() && secs > 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err("a duration must be positive".into())
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(1, |s| s.chars().count() + 1);
    (line, column)
}
