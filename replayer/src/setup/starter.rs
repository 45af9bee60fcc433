//! The starting `qa/venomqa.toml` that `venomqa init` writes: every key
//! commented, the test users found in the recorded logins (only those who
//! exist before any journey: identities the journeys sign up are listed as
//! generated), each secret read from an environment variable, every
//! mutation on, sensible budgets.

use std::fmt::Write as _;
use std::path::Path;

use venomqa_learner::{Action, Auth, KeyAuth, Model};
use venomqa_traffic::{is_pseudonym, is_secret_header, is_secret_name};

use crate::mutate::mutation::Mutation;
use crate::oracle::invariant::singular;
use crate::run::request::{form_decode, BodyTemplate, RequestTemplate};
use crate::setup::auth::learned_auth;
use crate::setup::config::{env_var, Reset};
use crate::setup::identities::{login_account, recorded_login_failed, Identities};
use crate::setup::keys::{KEY_FIELD, RECORDED_KEY};
use crate::setup::recorded::Recorded;

/// A starting configuration for `model`, whose traffic is in `store` (read
/// for the recorded logins; written into the file as given, so pass it as
/// the `qa/` directory should see it or absolute). When the store cannot be
/// read (in use, missing), the users are placeholders.
pub fn starter_config(model: &Model, store: &Path, target: &str, reset: Option<&str>) -> String {
    let recorded = match Recorded::open(store, model) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the store could not be read; users are placeholders");
            Recorded::default()
        }
    };
    starter_config_from(model, &recorded, &store.to_string_lossy(), target, reset)
}

/// [`starter_config`] with the recorded exchanges already at hand.
pub fn starter_config_from(
    model: &Model,
    recorded: &Recorded,
    store: &str,
    target: &str,
    reset: Option<&str>,
) -> String {
    let learned = learned_auth(model);
    let (login, logout) = (learned.login.as_deref(), learned.logout.as_deref());
    let mut out = String::new();
    let w = &mut out;
    write_header(w, store);
    write_target(w, target);
    write_reset(w, reset);
    write_auth(w, login, logout);
    write_users(w, model, recorded, login);
    write_mutations(w);
    write_budget(w, model);
    w.push_str(EXPLORE_SECTION);
    write_invariants(w, model);
    write_report(w);
    out
}

/// The file's header: what it is, and the store and model it reads.
fn write_header(w: &mut String, store: &str) {
    let _ = writeln!(
        w,
        "# venomqa: what `venomqa run` needs beyond the recording. Written by `venomqa init`"
    );
    let _ =
        writeln!(w, "# from what was recorded and learned; every key is explained, edit freely.");
    let _ =
        writeln!(w, "# Paths are relative to this file's directory. A misspelt key is an error.\n");
    let _ = writeln!(
        w,
        "# The traffic store `venomqa record` wrote, and the model `venomqa learn` made of it."
    );
    let _ = writeln!(w, "store = {}", quote(store));
    let _ = writeln!(w, "model = \"model.json\"\n");
}

/// `[target]`: the service under test.
fn write_target(w: &mut String, target: &str) {
    let _ = writeln!(w, "[target]");
    let _ =
        writeln!(w, "# The service under test: a test environment, never production. Required:");
    let _ = writeln!(w, "# venomqa never guesses where to send mutated traffic.");
    let _ = writeln!(w, "url = {}", quote(target.trim_end_matches('/')));
    let _ = writeln!(w, "# Longest one request may take: \"500ms\", \"10s\", \"2m\".");
    let _ = writeln!(w, "timeout = \"10s\"");
    let _ = writeln!(w, "# Sequences in flight at once when no reset runs between them.");
    let _ = writeln!(w, "parallel = 8");
    let _ = writeln!(
        w,
        "# An https:// target signed by a private CA: its PEM file, relative to this directory."
    );
    let _ = writeln!(w, "# ca = \"staging-ca.pem\"");
    let _ = writeln!(
        w,
        "# Or check no certificate at all (a throwaway one; said loudly on every run)."
    );
    let _ = writeln!(w, "# insecure = true\n");
}

/// `[reset]`: the given request or command, or a commented example.
fn write_reset(w: &mut String, reset: Option<&str>) {
    let _ = writeln!(
        w,
        "# Put the target back in a known state: an HTTP request on the target, or a shell"
    );
    let _ = writeln!(
        w,
        "# command run in this directory (`command = \"./reset-db.sh\"`). `scope`: \"sequence\""
    );
    let _ = writeln!(
        w,
        "# resets before every sequence (they then run one at a time); \"run\" resets once and"
    );
    let _ = writeln!(w, "# runs sequences in parallel, each on the resources it creates.");
    match reset {
        Some(r) => {
            let _ = writeln!(w, "[reset]");
            let key = if crate::setup::config::parse_request_line(r).is_ok() {
                "request"
            } else {
                "command"
            };
            let _ = writeln!(w, "{key} = {}", quote(r));
            let _ = writeln!(w, "scope = \"sequence\"");
            write_reset_tries(w, "");
        }
        None => {
            let _ = writeln!(w, "# [reset]");
            let _ = writeln!(w, "# request = \"POST /__reset\"");
            let _ = writeln!(w, "# scope = \"sequence\"");
            write_reset_tries(w, "# ");
        }
    }
}

/// `[reset] tries`, explained; `prefix` comments the key out with the table.
fn write_reset_tries(w: &mut String, prefix: &str) {
    let _ = writeln!(
        w,
        "# A reset that fails (non-2xx, no answer, non-zero exit) is tried again after 100ms,"
    );
    let _ = writeln!(
        w,
        "# then 400ms, ...; the run stops when every try failed (1 to {}).",
        Reset::MAX_TRIES
    );
    let _ = writeln!(w, "{prefix}tries = {}\n", Reset::DEFAULT_TRIES);
}

/// `[auth]`: the login and logout the model names.
fn write_auth(w: &mut String, login: Option<&str>, logout: Option<&str>) {
    let _ = writeln!(
        w,
        "# Which actions log in and out (learned from the recording; correct them if wrong)."
    );
    let _ = writeln!(w, "[auth]");
    match &login {
        Some(l) => {
            let _ = writeln!(w, "login = {}", quote(l));
        }
        None => {
            let _ = writeln!(w, "# login = \"POST /login\"");
        }
    }
    match &logout {
        Some(l) => {
            let _ = writeln!(w, "logout = {}\n", quote(l));
        }
        None => {
            let _ = writeln!(w, "# logout = \"POST /logout\"\n");
        }
    }
}

/// `[mutations]`: every family on.
fn write_mutations(w: &mut String) {
    let _ = writeln!(w, "[mutations]");
    let _ = writeln!(w, "# The mutation families to run; remove a name to skip it.");
    let names: Vec<String> = Mutation::ALL.iter().map(|m| quote(m.name())).collect();
    let _ = writeln!(w, "enabled = [");
    for chunk in names.chunks(4) {
        let _ = writeln!(w, "    {},", chunk.join(", "));
    }
    let _ = writeln!(w, "]");
    let _ = writeln!(w, "# Copies `concurrent` sends at once.");
    let _ = writeln!(w, "concurrency = 2");
    let _ = writeln!(w, "# Re-runs of a race, to report how often it reproduces.");
    let _ = writeln!(w, "repeat = 5\n");
}

/// `[budget]`: the default limits.
/// `[budget]`, sized to the recording: a run on the sample library (every
/// bug planted, so shrinking too) sent about 150 requests and 3.3
/// sequences per recorded step; the limits leave more than twice that,
/// and never less than a small recording needs.
fn write_budget(w: &mut String, model: &Model) {
    let steps: u64 = model.journeys.iter().map(|j| j.steps.len() as u64).sum();
    let sequences = (8 * steps).max(2_000);
    let requests = (400 * steps).max(100_000);
    let _ = writeln!(w, "[budget]");
    let _ = writeln!(
        w,
        "# Exploration stops at the first limit reached; what was found is still shrunk."
    );
    let _ = writeln!(w, "# Sized to the {steps} recorded steps of the model's journeys.");
    let _ = writeln!(w, "sequences = {sequences}");
    let _ = writeln!(w, "requests = {requests}");
    let _ = writeln!(w, "seconds = 120\n");
}

/// `[explore]`: the state-graph search, off for `run` until asked for.
const EXPLORE_SECTION: &str = r#"[explore]
# `venomqa explore` searches the learned state graph beyond what was recorded;
# with `enabled = true`, `venomqa run` does too, after replaying.
enabled = false
# "coverage" runs what the recording showed least first; or "bfs", "dfs", "random".
strategy = "coverage"
# Actions added after a recorded write, at most (1 to 12).
max_depth = 4
# Also try actions the recording never saw accepted in a state, after the others.
try_disabled = true
# Branch from saved states instead of a reset and a replay of each path: the target's
# database (a SQLite file, or PostgreSQL: literal or from the environment) ...
# database = "sqlite:../app.db"
# database = { env = "VENOMQA_DATABASE_URL" }
# ... or hooks: a command run in this directory or a request on the target, `{name}`
# the checkpoint's name.
# checkpoint = "./db.sh save {name}"
# rollback = "./db.sh restore {name}"
# Its own limit inside `run`'s budget (reaching it does not make the run incomplete);
# for `venomqa explore` the command's limit (reaching it does: exit 4).
seconds = 30

"#;

/// `[[invariants]]`: a commented example on the model's first resource.
fn write_invariants(w: &mut String, model: &Model) {
    let _ = writeln!(
        w,
        "# Invariants: CEL over one instance of a resource, read back after every step;"
    );
    let _ = writeln!(w, "# the instance is seen under the singular of the resource's name.");
    match model.resources.first() {
        Some(r) => {
            let var = singular(&r.name);
            let _ = writeln!(w, "# [[invariants]]");
            let _ = writeln!(w, "# name = \"every {var} keeps its id\"");
            let _ = writeln!(w, "# resource = {}", quote(&r.name));
            let _ = writeln!(w, "# expr = {}\n", quote(&format!("has({var}.id)")));
        }
        None => {
            let _ = writeln!(w, "# [[invariants]]");
            let _ = writeln!(w, "# name = \"refunds never exceed the amount\"");
            let _ = writeln!(w, "# resource = \"orders\"");
            let _ = writeln!(w, "# expr = \"order.refunded <= order.amount\"\n");
        }
    }
}

/// `[report]`: the default outputs.
fn write_report(w: &mut String) {
    let _ = writeln!(w, "[report]");
    let _ =
        writeln!(w, "# Findings as JSON, as JUnit (one testcase per journey and mutation), as one");
    let _ =
        writeln!(w, "# HTML page (the summary, each finding, the learned state machines with the");
    let _ = writeln!(
        w,
        "# transitions findings crossed; it opens without a network), and one runnable"
    );
    let _ = writeln!(w, "# curl script per finding in `out`.");
    let _ = writeln!(w, "json = \"venomqa-report.json\"");
    let _ = writeln!(w, "junit = \"venomqa-junit.xml\"");
    let _ = writeln!(w, "html = \"report.html\"");
    let _ = writeln!(w, "out = \"reproducers\"");
}

/// A user seen in the recorded logins: identity, readable fields, secret field names.
type RecordedUser = (String, Vec<(String, String)>, Vec<String>);

/// The `[users.NAME]` tables of the users who exist before any journey
/// (they log in without a recorded sign-up), and the identities the
/// journeys make, listed in a comment.
fn write_users(w: &mut String, model: &Model, recorded: &Recorded, login: Option<&str>) {
    let _ = writeln!(
        w,
        "# Test users. Recorded secrets are redacted and never replayed: each secret is"
    );
    let _ =
        writeln!(w, "# read from the environment variable named here. Other fields are literal.");
    let auth = Auth { login: login.map(str::to_string), ..learned_auth(model).into_owned() };
    let identities = Identities::find(model, recorded, &auth);
    write_generated(w, &identities);
    let login = login.and_then(|l| model.action(l));
    let (users, secret_fields) = match login {
        Some(login) => recorded_users(model, recorded, login, &auth, &identities),
        None => (Vec::new(), Vec::new()),
    };
    if users.is_empty() && !identities.made.is_empty() {
        let _ = writeln!(
            w,
            "# Every recorded login is of an identity a journey made: no user to set.\n"
        );
        return;
    }
    if let Some(key) = model.auth.key.as_ref().filter(|_| users.is_empty() && login.is_none()) {
        write_key_users(w, key);
        return;
    }
    if users.is_empty() {
        if let Some(header) = key_header_without_login(model, recorded) {
            let _ = writeln!(
                w,
                "# The recording authenticates with the `{header}` header and shows no login:\n\
                 # venomqa replays users who log in (a token or cookie a login answers), not\n\
                 # per-user keys yet. The users below are placeholders; replay stops at the\n\
                 # first request that needs a key (README: \"What venomqa does not replay yet\")."
            );
        }
        write_placeholder_users(w, model, secret_fields);
        return;
    }
    for (identity, visible, secret) in &users {
        let name = table_name(identity);
        let _ = writeln!(w, "[users.{}]", key(&name));
        for (k, v) in visible {
            let _ = writeln!(w, "{} = {}", key(k), quote(v));
        }
        for f in secret {
            let _ = writeln!(w, "{} = {{ env = {} }}", key(f), quote(&env_var(&name, f)));
        }
        w.push('\n');
    }
}

/// The identities the journeys make, in a comment: nothing to set for them.
fn write_generated(w: &mut String, identities: &Identities) {
    if identities.made.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "# Generated: these accounts were signed up inside the recorded journeys. Replay signs"
    );
    let _ = writeln!(
        w,
        "# each up again with a fresh account and secret, and logs in with those (no variable):"
    );
    for m in &identities.made {
        let _ = writeln!(w, "#   {}", m.account);
    }
    w.push('\n');
}

/// The users of the accepted recorded logins that no journey made, and the
/// names of the secret fields logins send.
fn recorded_users(
    model: &Model,
    recorded: &Recorded,
    login: &Action,
    auth: &Auth,
    identities: &Identities,
) -> (Vec<RecordedUser>, Vec<String>) {
    let mut users: Vec<RecordedUser> = Vec::new();
    let mut secret_fields: Vec<String> = Vec::new();
    for step in model.journeys.iter().flat_map(|j| &j.steps).filter(|s| s.action == login.id) {
        let Some(exchange) = recorded.get(step.exchange) else { continue };
        let template = RequestTemplate::from_exchange(login, exchange);
        let account = login_account(&template.body, auth);
        if recorded_login_failed(exchange, auth)
            || account.is_some_and(|a| identities.index(&a).is_some())
        {
            continue;
        }
        let (secret, visible): (Vec<_>, Vec<_>) = login_fields(&template, model)
            .into_iter()
            .partition(|(k, v)| is_pseudonym(v.as_bytes()) || is_secret_name(k.as_bytes()));
        let secret: Vec<String> = secret.into_iter().map(|(k, _)| k).collect();
        for k in &secret {
            if !secret_fields.contains(k) {
                secret_fields.push(k.clone());
            }
        }
        // The account names the user (`username=alice`), not whichever
        // field came first (`grant_type=password`).
        let account_key = model.auth.account.as_deref().map(field_key);
        let named = visible.iter().find(|(k, _)| Some(k) == account_key.as_ref());
        let Some((_, identity)) = named.or(visible.first()).cloned() else { continue };
        if !users.iter().any(|(id, _, _)| *id == identity) {
            users.push((identity, visible, secret));
        }
    }
    users.extend(unjourneyed_users(model, &users, identities));
    if secret_fields.is_empty() && !model.auth.credentials.is_empty() {
        secret_fields = model.auth.credentials.iter().map(|p| field_key(p)).collect();
    }
    if secret_fields.is_empty() {
        if let Some(schema) = &login.request.schema {
            let names = schema.properties.keys().filter(|k| is_secret_name(k.as_bytes()));
            secret_fields = names.cloned().collect();
        }
    }
    (users, secret_fields)
}

/// The users whose logins the kept journeys do not show (their sessions
/// took the shape of another user's journey), from the accounts the model
/// saw logged in: each like the first user found, with its own account.
fn unjourneyed_users(
    model: &Model,
    users: &[RecordedUser],
    identities: &Identities,
) -> Vec<RecordedUser> {
    let (Some(account), Some((_, like, secret))) = (&model.auth.account, users.first()) else {
        return Vec::new();
    };
    let account_key = field_key(account);
    if !like.iter().any(|(k, _)| *k == account_key) {
        return Vec::new();
    }
    model
        .auth
        .accounts
        .iter()
        .filter(|a| !users.iter().any(|(id, _, _)| id == *a) && identities.index(a).is_none())
        .map(|a| {
            let visible = like
                .iter()
                .map(|(k, v)| (k.clone(), if *k == account_key { a.clone() } else { v.clone() }))
                .collect();
            (a.clone(), visible, secret.clone())
        })
        .collect()
}

/// One `[users.NAME]` table per key the recording used, for an API
/// without a login whose users each send a key of their own: `key` from
/// the environment, `recorded_key` the recorded one it replaces.
fn write_key_users(w: &mut String, key: &KeyAuth) {
    let _ = writeln!(
        w,
        "# The recording shows no login: each user sent a key of their own in the `{}`",
        key.header
    );
    let _ = writeln!(
        w,
        "# header. One table per recorded key; `recorded_key` is the recording's pseudonym"
    );
    let _ = writeln!(
        w,
        "# of the key the user stands for (a user whose key the recording used may leave"
    );
    let _ = writeln!(w, "# it out). Name the tables as you like; set each key's variable.");
    let names: Vec<String> = match key.keys.len() {
        0 => vec!["user1".into(), "user2".into()],
        n => (1..=n).map(|i| format!("key{i}")).collect(),
    };
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(w, "[users.{name}]");
        if let Some(recorded) = key.keys.get(i) {
            let _ = writeln!(w, "{RECORDED_KEY} = {}", quote(recorded));
        }
        let _ = writeln!(w, "{KEY_FIELD} = {{ env = {} }}", quote(&env_var(name, KEY_FIELD)));
        w.push('\n');
    }
}

/// A secret request header the recording authenticated with (`X-Api-Key`)
/// when it shows no login and the model learned no per-user key from it
/// (a model learned before models knew them): what replay cannot use.
pub fn key_header_without_login(model: &Model, recorded: &Recorded) -> Option<String> {
    if learned_auth(model).login.is_some() || model.auth.key.is_some() {
        return None;
    }
    let mut names: Vec<String> = recorded
        .exchanges()
        .flat_map(|e| e.request.headers.iter())
        .map(|h| h.name.to_ascii_lowercase())
        .filter(|n| is_secret_header(n) && !matches!(n.as_str(), "cookie" | "proxy-authorization"))
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().next()
}

/// Two users to fill in, when the recorded logins do not show who logged in.
fn write_placeholder_users(w: &mut String, model: &Model, secret_fields: Vec<String>) {
    let _ = writeln!(
        w,
        "# The recorded logins do not show who logged in (every field was redacted, or"
    );
    let _ =
        writeln!(w, "# no login was recorded): fill in two users that can log in to the target.");
    let fields =
        if secret_fields.is_empty() { vec!["password".to_string()] } else { secret_fields };
    let account = model.auth.account.as_deref().map_or("username".into(), field_key);
    for name in ["user1", "user2"] {
        let _ = writeln!(w, "[users.{name}]");
        let value =
            if account.contains("email") { format!("{name}@example.com") } else { name.into() };
        let _ = writeln!(w, "{} = {}", key(&account), quote(&value));
        for f in &fields {
            let _ = writeln!(w, "{} = {{ env = {} }}", key(f), quote(&env_var(name, f)));
        }
        w.push('\n');
    }
}

/// The fields of a recorded login a user gives: the top-level ones, or when
/// the model's account field is nested (`/user/email`), the account and
/// credentials at the model's pointers, keyed by pointer without its
/// leading `/` (`user/email`), which is how a login draft sets them.
fn login_fields(template: &RequestTemplate, model: &Model) -> Vec<(String, String)> {
    let auth = &model.auth;
    let top_level = || match &template.body {
        BodyTemplate::Form(pairs) => {
            pairs.iter().map(|(k, v)| (k.clone(), form_decode(v))).collect()
        }
        body => body.fields(),
    };
    let Some(account) = auth.account.as_deref().filter(|p| p.matches('/').count() > 1) else {
        return top_level();
    };
    let BodyTemplate::Json(json) = &template.body else { return top_level() };
    let text = |pointer: &str| match json.pointer(pointer) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    std::iter::once(account)
        .chain(auth.credentials.iter().map(String::as_str))
        .filter_map(|p| Some((field_key(p), text(p)?)))
        .collect()
}

/// A user field's key for a login field's pointer: `/user/email` → `user/email`.
fn field_key(pointer: &str) -> String {
    pointer.trim_start_matches('/').to_string()
}

/// A user's table name from its identifying value: `alice@example.com` → `alice`.
fn table_name(identity: &str) -> String {
    let base = identity.split('@').next().unwrap_or(identity);
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "user".into()
    } else {
        name
    }
}

/// A TOML key, quoted unless bare.
fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use venomqa_learner::{learn, LearnOptions};
    use venomqa_traffic::{Body, Exchange, Headers, Request, Response, SessionKey};

    use super::*;

    fn exchange(
        id: u64,
        method: &str,
        url: &str,
        body: serde_json::Value,
        cookie: bool,
    ) -> Exchange {
        let mut request_headers = Headers::default();
        request_headers.push("Content-Type", b"application/json".to_vec());
        let mut response_headers = Headers::default();
        if cookie {
            response_headers.push("Set-Cookie", b"sid=s8k2m4q7x9; Path=/".to_vec());
        } else {
            request_headers.push("Cookie", b"sid=s8k2m4q7x9".to_vec());
        }
        Exchange {
            id,
            session: SessionKey("client:1".into()),
            started_at: id,
            duration_ns: 1,
            client: None,
            request: Request {
                method: method.into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                headers: request_headers,
                body: Body::complete(body.to_string()),
            },
            response: Some(Response {
                status: 200,
                version: "HTTP/1.1".into(),
                headers: response_headers,
                body: Body::complete(json!({"ok": true}).to_string()),
            }),
            error: None,
        }
    }

    #[test]
    fn a_nested_login_by_email_gives_users_its_pointers_not_a_username() {
        let login =
            json!({"user": {"email": "ann@example.com", "password": "~r:00000000000000aa"}});
        let exchanges = vec![
            exchange(1, "POST", "/session", login, true),
            exchange(2, "GET", "/me", json!({}), false),
        ];
        let model =
            learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).unwrap().model;
        let recorded = Recorded::from_exchanges(exchanges);
        let text = starter_config_from(&model, &recorded, "store", "http://127.0.0.1:1", None);
        assert!(text.contains("[users.ann]\n\"user/email\" = \"ann@example.com\""), "{text}");
        assert!(text.contains("\"user/password\" = { env = "), "{text}");
        assert!(!text.contains("username"), "{text}");
        let placeholders =
            starter_config_from(&model, &Recorded::default(), "store", "http://127.0.0.1:1", None);
        assert!(placeholders.contains("\"user/email\" = \"user1@example.com\""), "{placeholders}");
        assert!(!placeholders.contains("username"), "{placeholders}");
        let path = std::path::Path::new("qa/venomqa.toml");
        let config =
            crate::setup::config::Config::parse_with_env(&text, path, |_| Some("x".into()))
                .expect("parses back");
        assert_eq!(config.users[0].fields["user/email"], "ann@example.com");
    }

    #[test]
    fn a_form_login_names_its_user_by_the_account_not_by_the_first_field() {
        let mut exchanges = Vec::new();
        for (n, user) in ["alice", "bob"].into_iter().enumerate() {
            let id = n as u64 * 2 + 1;
            let mut login = exchange(id, "POST", "/oauth/token", json!(null), true);
            login.session = SessionKey(format!("client:{n}"));
            login.request.headers = Headers::default();
            login
                .request
                .headers
                .push("Content-Type", b"application/x-www-form-urlencoded".to_vec());
            let form =
                format!("grant_type=password&username={user}&password=~r:00000000000000a{n}");
            login.request.body = Body::complete(form);
            let mut read = exchange(id + 1, "GET", "/me", json!({}), false);
            read.session = SessionKey(format!("client:{n}"));
            exchanges.extend([login, read]);
        }
        let model =
            learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).unwrap().model;
        assert_eq!(model.auth.account.as_deref(), Some("/username"));
        let recorded = Recorded::from_exchanges(exchanges);
        let text = starter_config_from(&model, &recorded, "store", "http://127.0.0.1:1", None);
        for user in ["alice", "bob"] {
            let table = format!("[users.{user}]\ngrant_type = \"password\"\nusername = \"{user}\"");
            assert!(text.contains(&table), "{text}");
        }
        assert!(!text.contains("[users.password]"), "{text}");
    }

    #[test]
    fn per_user_keys_without_a_login_get_one_user_per_recorded_key() {
        let keyed = |id: u64, method: &str, url: &str, key: &[u8]| {
            let mut e = exchange(id, method, url, json!({"name": "n"}), false);
            e.request.headers = Headers::default();
            e.request.headers.push("X-Api-Key", key.to_vec());
            e.session = SessionKey(format!("x-api-key:{}", String::from_utf8_lossy(key)));
            e
        };
        let (ann, bo) = (b"~r:00000000000000aa", b"~r:00000000000000bb");
        let exchanges = vec![
            keyed(1, "POST", "/items", ann),
            keyed(2, "GET", "/items/1", ann),
            keyed(3, "POST", "/items", bo),
        ];
        let mut model =
            learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).unwrap().model;
        let recorded = Recorded::from_exchanges(exchanges);
        assert_eq!(key_header_without_login(&model, &recorded), None, "replayed now");
        let text = starter_config_from(&model, &recorded, "store", "http://127.0.0.1:1", None);
        for (n, key) in [(1, "aa"), (2, "bb")] {
            let table = format!(
                "[users.key{n}]\nrecorded_key = \"~r:00000000000000{key}\"\nkey = {{ env = \"VENOMQA_KEY{n}_KEY\" }}"
            );
            assert!(text.contains(&table), "{text}");
        }
        let path = std::path::Path::new("qa/venomqa.toml");
        let config =
            crate::setup::config::Config::parse_with_env(&text, path, |_| Some("k".into()))
                .expect("parses back");
        assert_eq!(config.users[0].recorded_key.as_deref(), Some("~r:00000000000000aa"));
        assert_eq!(config.users[0].fields.keys().collect::<Vec<_>>(), ["key"]);

        // A model learned before models knew per-user keys: named as not replayed.
        model.auth.key = None;
        assert_eq!(key_header_without_login(&model, &recorded).as_deref(), Some("x-api-key"));
        let text = starter_config_from(&model, &recorded, "store", "http://127.0.0.1:1", None);
        assert!(
            text.contains("authenticates with the `x-api-key` header and shows no login"),
            "{text}"
        );

        // With a login recorded, a key header is not the story.
        let login = json!({"email": "ann@example.com", "password": "~r:00000000000000aa"});
        let logged_in = vec![
            exchange(1, "POST", "/session", login, true),
            exchange(2, "GET", "/me", json!({}), false),
        ];
        let model =
            learn(|| logged_in.clone().into_iter(), &LearnOptions::default()).unwrap().model;
        assert_eq!(key_header_without_login(&model, &Recorded::from_exchanges(logged_in)), None);
    }

    #[test]
    fn the_budget_grows_with_the_recording_and_never_below_the_floor() {
        let budget = |reads: u64| {
            let login = json!({"email": "ann@example.com", "password": "~r:00000000000000aa"});
            let exchanges: Vec<Exchange> =
                std::iter::once(exchange(1, "POST", "/session", login, true))
                    .chain((0..reads).map(|k| exchange(2 + k, "GET", "/me", json!({}), false)))
                    .collect();
            let model =
                learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).unwrap().model;
            let text = starter_config_from(
                &model,
                &Recorded::default(),
                "store",
                "http://127.0.0.1:1",
                None,
            );
            let path = std::path::Path::new("qa/venomqa.toml");
            let config =
                crate::setup::config::Config::parse_with_env(&text, path, |_| Some("x".into()))
                    .expect("parses back");
            (model.journeys.iter().map(|j| j.steps.len() as u64).sum::<u64>(), config.budget)
        };
        let (few, floor) = budget(2);
        assert!(few < 10, "{few} steps");
        assert_eq!((floor.sequences, floor.requests), (2_000, 100_000));
        let (steps, sized) = budget(600);
        assert!(steps > 250, "{steps} steps");
        assert_eq!((sized.sequences, sized.requests), (8 * steps, 400 * steps));
    }
}
