//! `qa/venomqa.toml`: what it accepts, and errors that name the file, line
//! and column; the starter `venomqa init` writes parses back.

mod common;

use std::path::Path;
use std::time::Duration;

use venomqa_replayer::{
    starter_config_from, Branching, Config, ConfigError, DatabaseUrl, Mutation, ResetHow,
    ResetScope,
};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse_with_env(text, Path::new("qa/venomqa.toml"), |var| match var {
        "VENOMQA_ALICE_PASSWORD" => Some("alice-pw".into()),
        _ => None,
    })
}

#[test]
fn a_full_configuration_resolves_paths_secrets_and_defaults() {
    let config = parse(
        r#"
store = "../venomqa-store"
model = "model.json"
[target]
url = "http://127.0.0.1:8081/"
timeout = "500ms"
[reset]
request = "post /__reset"
scope = "run"
[users.alice]
username = "alice"
password = { env = "VENOMQA_ALICE_PASSWORD" }
[mutations]
enabled = ["duplicate", "concurrent"]
concurrency = 3
[budget]
sequences = 10
[[invariants]]
name = "refunds within amount"
resource = "orders"
expr = "order.refunded <= order.amount"
[report]
json = "out/report.json"
html = "out/report.html"
"#,
    )
    .expect("parses");
    assert_eq!(config.store, Path::new("qa/../venomqa-store"));
    assert_eq!(config.model, Path::new("qa/model.json"));
    assert_eq!(config.target.url.as_deref(), Some("http://127.0.0.1:8081"));
    assert_eq!(config.target.timeout, Duration::from_millis(500));
    let reset = config.reset.expect("reset");
    assert_eq!(reset.how, ResetHow::Request { method: "POST".into(), path: "/__reset".into() });
    assert_eq!(reset.scope, ResetScope::Run);
    assert_eq!(config.users[0].fields["password"], "alice-pw");
    assert!(!format!("{:?}", config.users[0]).contains("alice-pw"), "Debug never shows secrets");
    assert_eq!(config.mutations.enabled, [Mutation::Duplicate, Mutation::Concurrent]);
    assert_eq!(config.mutations.concurrency, 3);
    assert_eq!((config.budget.sequences, config.budget.requests), (10, 100_000));
    assert_eq!(config.invariants[0].variable(), "order");
    assert_eq!(config.report.json.as_deref(), Some(Path::new("qa/out/report.json")));
    assert_eq!(config.report.html.as_deref(), Some(Path::new("qa/out/report.html")));
}

#[test]
fn an_empty_file_has_defaults_but_no_target() {
    let config = parse("").expect("parses");
    assert_eq!(config.mutations.enabled, Mutation::ALL);
    assert!(config.reset.is_none());
    let err = config.target_url().expect_err("no target");
    assert!(err.to_string().contains("no target"), "{err}");
}

#[test]
fn a_misspelt_key_names_file_line_and_column() {
    let err =
        parse("[target]\nurl = \"http://x:1\"\n\n[budget]\nsequnces = 5\n").expect_err("refused");
    let text = err.to_string();
    assert!(text.starts_with("qa/venomqa.toml:5:1: unknown field `sequnces`"), "{text}");
    let err = parse("[targt]\nurl = \"http://x:1\"\n").expect_err("refused");
    assert!(err.to_string().starts_with("qa/venomqa.toml:1:"), "{err}");
}

#[test]
fn a_bad_value_names_its_line() {
    let err = parse("[mutations]\nenabled = [\"duplicate\", \"dupe\"]\n").expect_err("refused");
    assert!(err.to_string().starts_with("qa/venomqa.toml:2:25: unknown mutation `dupe`"), "{err}");
    let err = parse("[target]\nurl = \"ftp://x\"\n").expect_err("refused");
    assert!(err.to_string().starts_with("qa/venomqa.toml:2:7:"), "{err}");
    let err = parse("[reset]\nrequest = \"reset it\"\n").expect_err("refused");
    assert!(err.to_string().contains("is not `METHOD /path`"), "{err}");
    let err = parse("[target]\ntimeout = \"10 parsecs\"\n").expect_err("refused");
    assert!(err.to_string().starts_with("qa/venomqa.toml:2:11:"), "{err}");
    let err = parse("[users.bob]\npassword = { vault = \"x\" }\n").expect_err("refused");
    assert!(err.to_string().starts_with("qa/venomqa.toml:2:"), "{err}");
}

#[test]
fn an_https_target_trusts_a_ca_file_beside_the_config_or_nothing_and_a_bad_one_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa");
    std::fs::create_dir(&qa).unwrap();
    let file = qa.join("venomqa.toml");
    let pki = venomqa_tls::TestPki::new(&["127.0.0.1"]).unwrap();
    std::fs::write(qa.join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(qa.join("notes.txt"), "not a certificate").unwrap();
    let parse_target = |lines: &str| {
        let text = format!("[target]\nurl = \"https://127.0.0.1:8443\"\n{lines}");
        Config::parse_with_env(&text, &file, |_| None)
    };

    // Relative to qa/, made absolute (reproducer scripts name it from anywhere).
    let config = parse_target("ca = \"ca.pem\"\n").expect("parses");
    assert_eq!(config.target.ca.as_deref(), Some(qa.join("ca.pem").as_path()));
    assert!(config.target.ca.as_deref().is_some_and(Path::is_absolute));
    assert!(!config.target.insecure && config.target.insecure_warning().is_none());
    let plain = parse_target("").expect("parses");
    assert_eq!((plain.target.ca, plain.target.insecure), (None, false), "the defaults");

    // Insecure is said; only where there is a certificate to skip.
    let insecure = parse_target("insecure = true\n").expect("parses");
    let warning = insecure.target.insecure_warning().expect("a warning");
    assert!(warning.contains("insecure = true") && warning.contains("not checked"), "{warning}");
    let mut on_http = insecure.clone();
    on_http.set_target("http://127.0.0.1:8081").unwrap();
    assert_eq!(on_http.target.insecure_warning(), None);

    // A missing file, a file that is no certificate, a wrong type, both keys:
    // each refused at its line and column, before anything is sent.
    let shown = file.display();
    let err = parse_target("ca = \"missing.pem\"\n").expect_err("no such file").to_string();
    assert!(err.starts_with(&format!("{shown}:3:6: [target] ca `missing.pem`")), "{err}");
    assert!(err.contains("No such file"), "{err}");
    let err = parse_target("ca = \"notes.txt\"\n").expect_err("not PEM").to_string();
    assert!(err.starts_with(&format!("{shown}:3:6:")) && err.contains("no certificate"), "{err}");
    let err = parse_target("insecure = \"yes\"\n").expect_err("not a boolean").to_string();
    assert!(err.starts_with(&format!("{shown}:3:12:")) && err.contains("bool"), "{err}");
    let err = parse_target("ca = 5\n").expect_err("not a path").to_string();
    assert!(err.starts_with(&format!("{shown}:3:6:")) && err.contains("string"), "{err}");
    let err = parse_target("ca = \"ca.pem\"\ninsecure = true\n").expect_err("both").to_string();
    assert!(err.starts_with(&format!("{shown}:4:12:")) && err.contains("not both"), "{err}");
}

#[test]
fn a_missing_environment_variable_is_named_with_its_user_and_field() {
    let err =
        parse("[users.bob]\nusername = \"bob\"\npassword = { env = \"VENOMQA_BOB_PASSWORD\" }\n")
            .expect_err("refused");
    assert!(matches!(err, ConfigError::MissingEnv { line: 3, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "qa/venomqa.toml:3:12: users.bob.password: the environment variable VENOMQA_BOB_PASSWORD is not set"
    );
}

#[test]
fn bad_cel_names_the_invariant_and_the_line_of_its_expression() {
    let text = "[target]\nurl = \"http://x:1\"\n\n[[invariants]]\nname = \"broken\"\nresource = \"orders\"\nexpr = \"order.refunded <= \"\n";
    let err = parse(text).expect_err("refused");
    assert!(matches!(err, ConfigError::Invariant { line: 7, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("qa/venomqa.toml:7:8: invariant \"broken\""), "{text}");
}

#[test]
fn env_var_names_are_upper_case_with_underscores() {
    assert_eq!(venomqa_replayer::env_var("alice", "password"), "VENOMQA_ALICE_PASSWORD");
    assert_eq!(venomqa_replayer::env_var("jo.doe", "api-key"), "VENOMQA_JO_DOE_API_KEY");
    assert_eq!(venomqa_replayer::env_var("alice", "user/password"), "VENOMQA_ALICE_PASSWORD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_starter_names_the_recorded_users_and_parses_back() {
    let learned = common::record_shop(6, 3).await;
    let text = starter_config_from(
        &learned.model,
        &learned.recorded,
        "../venomqa-store",
        "http://127.0.0.1:8081",
        Some("POST /__reset"),
    );
    for expected in [
        "[users.alice]\nusername = \"alice\"\npassword = { env = \"VENOMQA_ALICE_PASSWORD\" }",
        "[users.bob]",
        "[users.carol]",
        "request = \"POST /__reset\"",
        "login = \"POST /login\"",
        "logout = \"POST /logout\"",
        "\"stale-validator\"",
        "html = \"report.html\"",
        "# ca = \"staging-ca.pem\"",
        "# insecure = true",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains("alice-pw") && !text.contains("~r:"), "no secret or pseudonym:\n{text}");
    let config = Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |var| {
        Some(format!("{var}-value"))
    })
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(config.users.len(), 3);
    assert_eq!(config.users[0].fields["password"], "VENOMQA_ALICE_PASSWORD-value");
    assert_eq!(config.mutations.enabled, Mutation::ALL);
    assert_eq!(config.target_url().expect("target"), "http://127.0.0.1:8081");
    assert_eq!(config.report.html.as_deref(), Some(Path::new("qa/report.html")), "on by default");
    // Every key is explained: no bare key line without a comment somewhere above it.
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_readable_logins_the_starter_has_placeholder_users() {
    let learned = common::record_shop(6, 3).await;
    let empty = venomqa_replayer::Recorded::default();
    let text = starter_config_from(&learned.model, &empty, "store", "http://127.0.0.1:1", None);
    assert!(text.contains("[users.user1]") && text.contains("[users.user2]"), "{text}");
    assert!(text.contains("VENOMQA_USER1_PASSWORD"), "{text}");
    assert!(text.contains("# [reset]"), "{text}");
    Config::parse_with_env(&text, Path::new("qa/venomqa.toml"), |_| Some("x".into()))
        .expect("parses back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints the starter configuration for a person to read"]
async fn print_starter() {
    let learned = common::record_shop(6, 3).await;
    println!(
        "{}",
        starter_config_from(
            &learned.model,
            &learned.recorded,
            "../venomqa-store",
            "http://127.0.0.1:8081",
            Some("POST /__reset")
        )
    );
}

#[test]
fn an_explore_database_is_a_sqlite_file_beside_the_config_or_a_postgres_url_shown_without_its_password(
) {
    let with =
        |line: &str| parse(&format!("[target]\nurl = \"http://127.0.0.1:1\"\n[explore]\n{line}\n"));
    let sqlite = with("database = \"sqlite:../shop.db\"").expect("parses");
    assert_eq!(
        sqlite.explore.branching,
        Some(Branching::Sqlite(Path::new("qa").join("../shop.db")))
    );
    let pg = with("database = \"postgres://venomqa:s3cret@127.0.0.1:5432/shop\"").expect("parses");
    let Some(Branching::Postgres(url)) = &pg.explore.branching else {
        panic!("{:?}", pg.explore.branching)
    };
    assert_eq!(url.redacted(), "postgres://venomqa:***@127.0.0.1:5432/shop");
    assert!(!format!("{:?}", pg.explore).contains("s3cret"));
    assert_eq!(
        DatabaseUrl("postgresql://venomqa@127.0.0.1/shop".into()).redacted(),
        "postgresql://venomqa@127.0.0.1/shop"
    );
    // From the environment, like a user's secret.
    let from_env = Config::parse_with_env(
        "[target]\nurl = \"http://127.0.0.1:1\"\n[explore]\ndatabase = { env = \"DB_URL\" }\n",
        Path::new("qa/venomqa.toml"),
        |var| (var == "DB_URL").then(|| "postgres://u:p@h/d".to_string()),
    )
    .expect("parses");
    assert!(matches!(from_env.explore.branching, Some(Branching::Postgres(_))));

    for (line, says) in [
        ("database = \"mysql://root@h/shop\"", "`sqlite:PATH`"),
        ("database = \"sqlite:\"", "`sqlite:PATH`"),
        ("database = { env = \"NOT_SET_HERE\" }", "$NOT_SET_HERE, which is not set"),
        (
            "database = \"sqlite:a.db\"\ncheckpoint = \"x {name}\"\nrollback = \"y {name}\"",
            "not both",
        ),
    ] {
        let err = with(line).expect_err(line).to_string();
        assert!(err.contains("qa/venomqa.toml:") && err.contains(says), "{line}: {err}");
    }
}
