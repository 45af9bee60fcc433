//! Commands compose in scripts: `-` is standard output (or input) for every
//! file a command writes (or reads), the command's own messages then go to
//! stderr, no file named `-` appears, and `--json` prints one document a
//! script can read.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use common::{login_har, text, venomqa};
use serde_json::Value;

/// Runs venomqa in `dir`, feeding `stdin`.
fn run_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = venomqa()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("venomqa starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("venomqa exits")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", text(&out.stdout)))
}

#[test]
fn a_har_goes_in_from_stdin_and_out_to_stdout_with_json_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let har = std::fs::read(login_har(dir.path())).unwrap();
    let imported = json_of(&run_in(dir.path(), &["import", "-", "--store", "s", "--json"], &har));
    assert_eq!(imported["imported"], 1, "{imported}");
    assert_eq!(imported["skipped_duplicates"], 0, "{imported}");
    let again = json_of(&run_in(dir.path(), &["import", "-", "--store", "s", "--json"], &har));
    assert_eq!(
        (again["imported"].as_u64(), again["skipped_duplicates"].as_u64()),
        (Some(0), Some(1))
    );

    let exported = run_in(dir.path(), &["export", "--store", "s", "--har", "-"], b"");
    let doc = json_of(&exported);
    assert_eq!(doc["log"]["entries"].as_array().map(Vec::len), Some(1), "the HAR is on stdout");
    assert!(text(&exported.stderr).contains("exported 1 exchanges to standard output"));
    assert!(!dir.path().join("-").exists(), "no file named `-`");

    let summary =
        json_of(&run_in(dir.path(), &["export", "--store", "s", "--har", "x.har", "--json"], b""));
    assert_eq!(summary["exported"], 1, "{summary}");
    let both = run_in(dir.path(), &["export", "--store", "s", "--har", "-", "--json"], b"");
    assert_eq!(both.status.code(), Some(2), "both want stdout: {}", text(&both.stderr));
}

#[test]
fn show_json_carries_headers_and_bodies_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let har = login_har(dir.path());
    assert!(run_in(dir.path(), &["import", har.to_str().unwrap(), "--store", "s"], b"")
        .status
        .success());
    let sessions = json_of(&run_in(dir.path(), &["sessions", "--store", "s", "--json"], b""));
    let key = sessions[0]["key"].as_str().unwrap().to_string();
    let shown = json_of(&run_in(dir.path(), &["show", &key, "--store", "s", "--json"], b""));
    let exchange = &shown["exchanges"][0];
    let headers = exchange["request"]["headers"].as_array().expect("request headers");
    assert!(headers.iter().any(|h| h["name"] == "content-type"), "{exchange}");
    let body = exchange["request"]["body"]["text"].as_str().expect("a text body");
    assert!(body.contains("\"username\":\"ann\""), "{body}");
    assert!(!body.contains("hunter2"), "the password is redacted as stored: {body}");
    let answer = exchange["response"]["body"]["text"].as_str().expect("the answer's body");
    assert!(answer.starts_with(r#"{"token":"~r:"#), "the token is a pseudonym: {answer}");
}

#[test]
fn learn_writes_the_model_to_stdout_or_a_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let har = login_har(dir.path());
    assert!(run_in(dir.path(), &["import", har.to_str().unwrap(), "--store", "s"], b"")
        .status
        .success());
    let piped = run_in(dir.path(), &["learn", "--store", "s", "--out", "-"], b"");
    let model = json_of(&piped);
    assert!(model["actions"].as_array().is_some_and(|a| !a.is_empty()), "the model is on stdout");
    assert!(text(&piped.stderr).contains("model written to standard output"));
    assert!(!dir.path().join("-").exists(), "no file named `-`");

    let summary =
        json_of(&run_in(dir.path(), &["learn", "--store", "s", "--out", "m.json", "--json"], b""));
    assert_eq!(summary["actions"], 1, "{summary}");
    assert_eq!(summary["model"], "m.json", "{summary}");
    assert!(dir.path().join("m.json").exists());
    let both = run_in(dir.path(), &["learn", "--store", "s", "--out", "-", "--json"], b"");
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));
}

#[test]
fn init_json_says_the_files_written_and_the_variables_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let har = login_har(dir.path());
    assert!(run_in(dir.path(), &["import", har.to_str().unwrap(), "--store", "s"], b"")
        .status
        .success());
    let args = ["init", "qa", "--target", "http://127.0.0.1:9", "--store", "s", "--json"];
    let said = json_of(&run_in(dir.path(), &args, b""));
    assert_eq!(said["config"], "qa/venomqa.toml", "{said}");
    assert_eq!(said["model"], "qa/model.json", "{said}");
    let variables = said["variables"].as_array().expect("a list");
    assert!(!variables.is_empty(), "ann's password is read from a variable: {said}");
    assert!(
        variables.iter().all(|v| v.as_str().is_some_and(|v| v.starts_with("VENOMQA_"))),
        "{said}"
    );
    let config = std::fs::read_to_string(dir.path().join("qa/venomqa.toml")).unwrap();
    for v in variables {
        assert!(config.contains(&format!("env = {v}")), "{v} is in the file: {config}");
    }
}

/// A reader that stops early (`| head -1`) ends a printing command as it
/// ends any Unix tool: no panic, no backtrace, nothing on stderr.
#[test]
fn a_pipe_closed_by_its_reader_ends_a_printing_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let har = login_har(dir.path());
    // Enough exchanges that the HAR outgrows the pipe's buffer.
    let har_text = std::fs::read_to_string(&har).unwrap();
    let doc: Value = serde_json::from_str(&har_text).unwrap();
    let mut entries = Vec::new();
    for i in 0..3000 {
        let mut entry = doc["log"]["entries"][0].clone();
        entry["startedDateTime"] =
            format!("2026-01-01T00:{:02}:{:02}.000Z", i / 60 % 60, i % 60).into();
        entry["request"]["url"] = format!("http://shop.test/orders/{i}").into();
        entries.push(entry);
    }
    let mut many = doc.clone();
    many["log"]["entries"] = Value::Array(entries);
    std::fs::write(dir.path().join("many.har"), many.to_string()).unwrap();
    let imported = run_in(dir.path(), &["import", "many.har", "--store", "s"], b"");
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let learned = run_in(dir.path(), &["learn", "--store", "s", "--out", "m.json"], b"");
    assert!(learned.status.success(), "{}", text(&learned.stderr));
    let exe = env!("CARGO_BIN_EXE_venomqa");
    for command in ["export --store s --har -", "model show m.json --format openapi"] {
        let piped = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; '{exe}' {command} | head -c 10 >/dev/null"))
            .current_dir(dir.path())
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let stderr = text(&piped.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{command}: {stderr}"
        );
        // 141: ended by SIGPIPE, as `yes | head -1` is (0 when it had
        // written everything before the reader left).
        assert!(matches!(piped.status.code(), Some(141 | 0)), "{command}: {stderr}");
    }
}
