//! Helpers for end-to-end tests of the real `venomqa` binary: start it as a
//! child process, read the address it prints, stop it with a signal; and the
//! set-ups built from that — the sample shop, a recorder in front of it, QA
//! traffic recorded through it.

#![allow(dead_code)]

pub mod bank;
#[cfg(unix)]
pub mod disk;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn venomqa() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_venomqa"));
    command.env_remove("HTTP_PROXY").env_remove("http_proxy").env("NO_COLOR", "1");
    command
}

/// Runs venomqa to completion with a time bound.
pub fn run(args: &[&str]) -> Output {
    let mut child = venomqa()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("venomqa starts");
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    });
    let stdout = child.stdout.take().map(read_all).unwrap_or_default();
    let stderr = child.stderr.take().map(read_all).unwrap_or_default();
    let status = child.wait().expect("venomqa exits");
    let _ = tx.send(());
    Output { status, stdout, stderr }
}

fn read_all(mut reader: impl std::io::Read) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = reader.read_to_end(&mut bytes);
    bytes
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A long-running venomqa (a shop, a proxy) whose stdout is read line by line.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn start(args: &[&str]) -> Running {
        let mut command = venomqa();
        command.args(args).stderr(Stdio::inherit());
        Running::spawn(command)
    }

    /// Starts `command` (a [`venomqa`] with its arguments, and stderr set
    /// as the test wants it), reading its stdout.
    pub fn spawn(mut command: Command) -> Running {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("venomqa starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines, seen: Vec::new() }
    }

    /// Waits for a line containing `needle`; panics with what was seen after 30 s.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?} within 30 s; saw {:?}", self.seen),
            }
        }
    }

    /// The `http://ADDR` (or `https://ADDR`) printed on the line containing `needle`.
    pub fn wait_for_url(&mut self, needle: &str) -> String {
        let line = self.wait_for(needle);
        let start = line
            .find("http://")
            .or_else(|| line.find("https://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        line[start..].split([',', ' ']).next().unwrap_or_default().to_string()
    }

    pub fn signal(&self, name: &str) {
        let status =
            Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status();
        assert!(status.map(|s| s.success()).unwrap_or(false), "kill -{name} works");
    }

    /// Waits for exit (at most 30 s) and returns the code and the rest of stdout.
    pub fn wait_exit(mut self) -> (Option<i32>, Vec<String>) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("child can be waited on") {
                let mut rest = std::mem::take(&mut self.seen);
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
                    rest.push(line);
                }
                return (status.code(), rest);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("venomqa did not exit within 30 s; saw {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `venomqa sample serve` on a free port with `bugs` planted (`all`,
/// `none`, or names); the shop and its URL. It stops when dropped.
pub fn start_shop(bugs: &str) -> (Running, String) {
    let mut shop = Running::start(&["sample", "serve", "--port", "0", "--bugs", bugs]);
    let url = shop.wait_for_url("listening on");
    (shop, url)
}

/// `venomqa sample serve --app library` on a free port; the library and its URL.
pub fn start_library(bugs: &str) -> (Running, String) {
    let mut library =
        Running::start(&["sample", "serve", "--app", "library", "--port", "0", "--bugs", bugs]);
    let url = library.wait_for_url("sample library listening on");
    (library, url)
}

/// `venomqa record` on a free port in front of `upstream`, writing into
/// `store`, with `extra` flags; the recorder and its URL.
pub fn start_recorder(upstream: &str, store: &str, extra: &[&str]) -> (Running, String) {
    let mut args =
        vec!["record", "--upstream", upstream, "--listen", "127.0.0.1:0", "--store", store];
    args.extend_from_slice(extra);
    let mut recorder = Running::start(&args);
    let url = recorder.wait_for_url("listening on");
    (recorder, url)
}

/// Records `venomqa sample drive` (with `drive_args`) through a recorder in
/// front of `shop_url` into `store`, and stops the recorder cleanly.
pub fn record_drive(shop_url: &str, store: &str, drive_args: &[&str]) {
    let (recorder, recorder_url) = start_recorder(shop_url, store, &[]);
    let mut args = vec!["sample", "drive", "--base", &recorder_url];
    args.extend_from_slice(drive_args);
    let drive = run(&args);
    assert!(drive.status.success(), "{}", text(&drive.stderr));
    recorder.stop_cleanly();
}

impl Running {
    /// Stops a recorder (or anything) as Ctrl-C would and checks it exits 0.
    pub fn stop_cleanly(self) {
        self.signal("INT");
        assert_eq!(self.wait_exit().0, Some(0), "exits cleanly on SIGINT");
    }
}

/// Records the shop's QA traffic into `dir/store` and writes `dir/qa` with
/// `init`; the configuration it wrote.
pub fn recorded_and_initialised(dir: &Path, shop_url: &str) -> String {
    let store = dir.join("store");
    let store = store.to_str().unwrap();
    record_drive(shop_url, store, &["--sessions", "8", "--users", "3"]);

    let qa = dir.join("qa");
    let init = run(&[
        "init",
        qa.to_str().unwrap(),
        "--target",
        shop_url,
        "--reset",
        "POST /__reset",
        "--store",
        store,
    ]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    let said = text(&init.stdout);
    assert!(said.contains("VENOMQA_ALICE_PASSWORD"), "init names the variables to set: {said}");
    std::fs::read_to_string(qa.join("venomqa.toml")).unwrap()
}

/// Every script in `dir` passes `shellcheck` (warnings and errors). CI
/// sets VENOMQA_REQUIRE_SHELLCHECK=1 and installs it; elsewhere a missing
/// shellcheck skips this check, loudly.
pub fn shellcheck_clean(dir: &Path) {
    let scripts: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    let checked = Command::new("shellcheck").arg("-S").arg("warning").args(&scripts).output();
    match checked {
        Ok(out) => assert!(out.status.success(), "shellcheck:\n{}", text(&out.stdout)),
        Err(_) if std::env::var("VENOMQA_REQUIRE_SHELLCHECK").as_deref() != Ok("1") => {
            eprintln!("SKIPPED shellcheck of the reproducers: no shellcheck on PATH (set VENOMQA_REQUIRE_SHELLCHECK=1 to make it an error)");
        }
        Err(e) => panic!("shellcheck is required (VENOMQA_REQUIRE_SHELLCHECK=1): {e}; apt-get install -y shellcheck"),
    }
}

/// The sample shop's users, whose password is `{user}-pw`.
pub const SHOP_USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// `command` with the shop's passwords in the variables `init` names.
pub fn with_shop_secrets(command: &mut Command) -> &mut Command {
    for user in SHOP_USERS {
        command.env(format!("VENOMQA_{}_PASSWORD", user.to_uppercase()), format!("{user}-pw"));
    }
    command
}

/// `venomqa run DIR` with the shop's passwords in the environment.
pub fn run_qa(args: &[&str]) -> Output {
    let mut command = venomqa();
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    with_shop_secrets(&mut command).output().unwrap()
}

/// Every file of a closed store under `dir` and every value it holds,
/// blocks decompressed, concatenated: for searching a store for secrets.
pub fn all_bytes_under(dir: &Path) -> Vec<u8> {
    venomqa_testkit::disk::store_bytes(dir)
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A HAR with one login whose password the store redacts (so the stored body
/// is longer or shorter than the `content-length` the client sent).
pub fn login_har(dir: &Path) -> std::path::PathBuf {
    let body = r#"{"username":"ann","password":"hunter2"}"#;
    let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
    "entries": [{
        "startedDateTime": "2026-12-01T10:00:00.123Z", "time": 3.0,
        "request": {"method": "POST", "url": "http://api.test/login", "httpVersion": "HTTP/1.1",
            "headers": [{"name": "content-type", "value": "application/json"},
                        {"name": "content-length", "value": body.len().to_string()}],
            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": body.len(),
            "postData": {"mimeType": "application/json", "text": body}},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
            "headers": [{"name": "content-type", "value": "application/json"},
                        {"name": "content-length", "value": "15"}],
            "cookies": [], "content": {"size": 15, "mimeType": "application/json",
                "text": r#"{"token":"t1x"}"#},
            "redirectURL": "", "headersSize": -1, "bodySize": 15},
        "cache": {}, "timings": {"send": 0, "wait": 3, "receive": 0}
    }]}});
    let path = dir.join("login.har");
    std::fs::write(&path, har.to_string()).unwrap();
    path
}
