//! The HTML report end to end: the shop recorded, learned and replayed by
//! the real binary with `--html`, the page checked against the JSON report
//! of the same run, and the page opened in a real browser (headless
//! Chromium) with the network cut off.
//!
//! The browser test needs `chromium` on the PATH. Without it the test says
//! so on stderr and passes, unless `VENOMQA_REQUIRE_CHROMIUM=1` (as in
//! `.ci/run`) makes a missing browser a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{recorded_and_initialised, run_qa, start_shop, text};
use serde_json::Value;

/// Makes a missing Chromium a failure instead of a skip.
const REQUIRE_CHROMIUM: &str = "VENOMQA_REQUIRE_CHROMIUM";

/// Longest a headless Chromium may take to load and draw the page.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn run_with_html_writes_one_page_with_every_finding_and_the_orders_state_machine() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("all");
    recorded_and_initialised(dir.path(), &shop_url);
    let (qa, page, json) =
        (dir.path().join("qa"), dir.path().join("page.html"), dir.path().join("findings.json"));
    let ran = run_qa(&[
        "run",
        qa.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    shop.signal("TERM");
    assert_eq!(ran.status.code(), Some(1), "findings exit 1: {}", text(&ran.stderr));
    assert!(!qa.join("report.html").exists(), "--html replaces [report] html");

    let html = std::fs::read_to_string(&page).unwrap();
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<article class=\"finding\"").count(), findings.len());
    for finding in findings {
        let id = finding["id"].as_u64().unwrap();
        assert!(html.contains(&format!("<article class=\"finding\" id=\"finding-{id}\">")));
        let oracle = finding["oracle"].as_str().unwrap();
        assert!(
            html.contains(&format!("<a href=\"#finding-{id}\">#{id}</a> {oracle} · ")),
            "#{id}"
        );
    }
    let requests = report["stats"]["requests"].as_u64().unwrap();
    assert!(html.contains(&format!("in {requests} requests")), "the same run's numbers");
    assert!(html.contains(&format!("<code>{shop_url}</code>")), "the target");
    assert!(html.contains("<figure class=\"machine\" id=\"machine-orders\">"));
    for state in ["created", "paid", "shipped", "refunded", "cancelled"] {
        assert!(html.contains(&format!("dominant-baseline=\"middle\">{state}</text>")), "{state}");
    }
    assert!(html.contains("class=\"edge crossed\""), "the findings' transitions are marked");
    assert!(html.contains("state machine: <a href=\"#machine-orders\">orders</a>"));
    // The planted ship of an unpaid order is a move no recorded session made.
    assert!(html.contains("class=\"edge crossed unlearned\"><title>created → shipped"), "{html}");
    for password in ["alice-pw", "bob-pw", "carol-pw"] {
        assert!(!html.contains(password), "the configured secrets stay off the page");
    }
    assert!(!html.contains("<script"), "no script: the page is inert");
}

#[test]
fn the_page_renders_offline_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (shop, shop_url) = start_shop("all");
    recorded_and_initialised(dir.path(), &shop_url);
    let qa = dir.path().join("qa");
    // No --html: the page `init` turned on in [report].
    let ran = run_qa(&["run", qa.to_str().unwrap()]);
    assert_eq!(ran.status.code(), Some(1), "{}", text(&ran.stderr));
    // Exploration's page: its figures, and the moves it made that no
    // recorded session did, on the machine.
    let explored = dir.path().join("explored.html");
    let ran = run_qa(&[
        "explore",
        "--config",
        qa.to_str().unwrap(),
        "--target",
        &shop_url,
        "--max-depth",
        "3",
        "--html",
        explored.to_str().unwrap(),
    ]);
    shop.signal("TERM");
    assert_eq!(ran.status.code(), Some(1), "{}", text(&ran.stderr));
    let page = qa.join("report.html");
    assert!(page.is_file(), "init writes html = \"report.html\" into [report]");
    let url = format!("file://{}", std::fs::canonicalize(&page).unwrap().display());

    let dom = browse(&chromium, dir.path(), &["--dump-dom", &url]);
    let dom = text(&dom.stdout);
    assert!(dom.contains("<article class=\"finding\" id=\"finding-1\">"), "{dom}");
    assert!(dom.contains("cross-user"), "the shop's cross-user findings are on the page");
    let svg = dom.split("<svg class=\"machine\"").nth(1).expect("an <svg> in the DOM");
    for state in ["created", "paid", "shipped", "refunded"] {
        assert!(svg.contains(&format!(">{state}</text>")), "{state} drawn in the <svg>");
    }

    let explored_url = format!("file://{}", std::fs::canonicalize(&explored).unwrap().display());
    let dom = text(&browse(&chromium, dir.path(), &["--dump-dom", &explored_url]).stdout);
    assert!(dom.contains("<table class=\"exploration\" id=\"exploration\">"), "{dom}");
    assert!(dom.contains("learned transitions taken"), "{dom}");
    assert!(dom.contains("never recorded; new, by exploration"), "{dom}");
    assert!(dom.contains("class=\"edge unlearned\"") || dom.contains("edge crossed unlearned"));

    let png = dir.path().join("page.png");
    let screenshot = format!("--screenshot={}", png.display());
    browse(&chromium, dir.path(), &[&screenshot, "--window-size=1200,2000", &url]);
    let (colours, inked) = colours_and_ink(&png);
    assert!(colours >= 8, "the screenshot has {colours} colours: blank or broken page");
    assert!(inked > 0.02, "only {:.1}% of the screenshot is not white", inked * 100.0);
}

/// The Chromium binary, or `None` (said loudly) when it is missing and not required.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path).map(|dir| dir.join("chromium")).collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var(REQUIRE_CHROMIUM).as_deref() != Ok("1"),
            "{REQUIRE_CHROMIUM}=1 but there is no `chromium` on the PATH: install it \
             (`apt-get install -y chromium` on Debian)"
        );
        eprintln!(
            "SKIPPED the_page_renders_offline_in_headless_chromium: no `chromium` on the PATH \
             (set {REQUIRE_CHROMIUM}=1 to make this a failure)"
        );
    }
    found
}

/// Runs headless Chromium with the network cut off (no name resolves, every
/// connection goes to a closed proxy), a profile of its own under `dir`,
/// and a time bound; fails the test unless it exits 0.
fn browse(chromium: &Path, dir: &Path, args: &[&str]) -> Output {
    let profile = format!("--user-data-dir={}", dir.join("chromium-profile").display());
    let mut child = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .args(["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"])
        .arg(profile)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let started = Instant::now();
    // Read its output on threads, so a chatty browser never blocks on a full pipe.
    let stdout = child.stdout.take().map(read_on_thread);
    let stderr = child.stderr.take().map(read_on_thread);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
    };
    let output = Output { status, stdout: collect(stdout), stderr: collect(stderr) };
    assert!(output.status.success(), "chromium {args:?} failed: {}", text(&output.stderr));
    output
}

fn read_on_thread(
    mut from: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        bytes
    })
}

/// How many distinct colours a PNG has (up to a few hundred are counted),
/// and the share of its pixels that are not white: a blank page has one
/// colour and no ink.
fn colours_and_ink(png_file: &Path) -> (usize, f64) {
    let bytes = std::fs::read(png_file).unwrap_or_else(|e| panic!("no screenshot: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
    let frame = reader.next_frame(&mut pixels).expect("a PNG frame");
    let channels = frame.color_type.samples();
    let pixels = &pixels[..frame.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    for pixel in pixels.chunks(channels) {
        let rgb = &pixel[..channels.min(3)];
        if rgb.iter().any(|&c| c < 245) {
            inked += 1;
        }
        if colours.len() < 512 {
            colours.insert(rgb.to_vec());
        }
    }
    (colours.len(), inked as f64 / (pixels.len() / channels).max(1) as f64)
}
