//! An HTTPS staging service end to end: `venomqa sample serve --tls` writes
//! its throwaway CA, `sample drive` reaches it trusting that CA, and
//! `venomqa run` finds its planted bug with `[target] ca` (or `insecure`),
//! refuses it without either (exit 3, naming the certificate problem and
//! the setting that fixes it), and writes reproducers that confirm the bug
//! over HTTPS. The recording is made over plain HTTP: only the target is
//! HTTPS.

mod common;

use std::path::Path;

use common::{recorded_and_initialised, run, run_qa, shellcheck_clean, start_shop, text, Running};

/// `venomqa sample serve --tls` on a free port with `bugs` planted, its CA
/// written to `ca`; the shop and its `https://` URL.
fn start_tls_shop(bugs: &str, ca: &Path) -> (Running, String) {
    let ca = ca.to_str().unwrap();
    let args = ["sample", "serve", "--port", "0", "--bugs", bugs, "--tls", "--tls-ca-out", ca];
    let mut shop = Running::start(&args);
    let url = shop.wait_for_url("listening on");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}; saw {:?}", shop.seen);
    assert!(
        shop.seen.iter().any(|l| l.contains("written to") && l.contains(ca)),
        "{:?}",
        shop.seen
    );
    (shop, url)
}

/// `config` with another `[target]` url and these lines after it, and only
/// the `as-other-user` family (the planted bug is cross-user).
fn retargeted(config: &str, recorded_url: &str, url: &str, lines: &str) -> String {
    let config =
        config.replace(&format!("url = \"{recorded_url}\""), &format!("url = \"{url}\"\n{lines}"));
    let start = config.find("enabled = [").expect("init lists the mutation families");
    let end = start + config[start..].find("]\n").expect("the list ends");
    format!("{}enabled = [\"as-other-user\"]{}", &config[..start], &config[end + 1..])
}

#[test]
fn a_run_against_an_https_target_trusts_its_ca_finds_the_bug_and_its_reproducer_confirms_it() {
    let dir = tempfile::tempdir().unwrap();
    let (recorded_shop, recorded_url) = start_shop("none");
    let config = recorded_and_initialised(dir.path(), &recorded_url);
    recorded_shop.signal("TERM");
    assert!(config.contains("# ca = ") && config.contains("# insecure = true"), "{config}");
    let qa = dir.path().join("qa");
    let ca = qa.join("staging-ca.pem");
    let (shop, url) = start_tls_shop("cross-user", &ca);

    // The driver reaches it trusting the CA, and says why not without it.
    let driven =
        run(&["sample", "drive", "--base", &url, "--sessions", "2", "--ca", ca.to_str().unwrap()]);
    assert!(driven.status.success(), "{}", text(&driven.stderr));
    assert!(text(&driven.stdout).contains("no unexpected answers"), "{}", text(&driven.stdout));
    let refused = run(&["sample", "drive", "--base", &url, "--sessions", "2"]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let said = text(&refused.stderr);
    assert!(said.contains("unknown issuer") && said.contains("--ca FILE"), "{said}");

    // `[target] ca`, relative to qa/: the bug is found.
    let file = qa.join("venomqa.toml");
    std::fs::write(&file, retargeted(&config, &recorded_url, &url, "ca = \"staging-ca.pem\""))
        .unwrap();
    let out = dir.path().join("reproducers");
    let ran = run_qa(&["run", qa.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stdout = text(&ran.stdout);
    assert_eq!(ran.status.code(), Some(1), "findings exit 1:\n{stdout}\n{}", text(&ran.stderr));
    assert!(stdout.contains("cross-user"), "{stdout}");
    assert!(!text(&ran.stderr).contains("WARNING"), "{}", text(&ran.stderr));

    // Its reproducer trusts the same CA, from VENOMQA_CA (here a copy
    // elsewhere), and confirms the bug over HTTPS.
    shellcheck_clean(&out);
    let script = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("-cross-user-"))
        .expect("a cross-user reproducer");
    let script_text = std::fs::read_to_string(&script).unwrap();
    let absolute = format!("VENOMQA_CA=\"${{VENOMQA_CA:-{}}}\"", ca.display());
    assert!(script_text.contains(&absolute), "{script_text}");
    assert!(script_text.contains("curl --cacert \"$VENOMQA_CA\""), "{script_text}");
    let copy = dir.path().join("copy-of-ca.pem");
    std::fs::copy(&ca, &copy).unwrap();
    let mut bash = std::process::Command::new("bash");
    common::with_shop_secrets(bash.arg(&script).env("VENOMQA_CA", &copy).current_dir(dir.path()));
    let confirmed = bash.output().unwrap();
    let said = text(&confirmed.stdout);
    assert_eq!(confirmed.status.code(), Some(1), "{said}\n{}", text(&confirmed.stderr));
    assert!(said.contains("\nREPRODUCED: "), "{said}");
    // A CA that did not sign the target's certificate: curl refuses it.
    let mut bash = std::process::Command::new("bash");
    let wrong = dir.path().join("not-a-ca.pem");
    std::fs::write(&wrong, "").unwrap();
    common::with_shop_secrets(bash.arg(&script).env("VENOMQA_CA", &wrong));
    assert_ne!(bash.output().unwrap().status.code(), Some(1), "not reproduced without the CA");

    // Neither `ca` nor `insecure`: exit 3 before any finding, naming the
    // certificate problem and the settings, once (not a failure a request).
    std::fs::write(&file, retargeted(&config, &recorded_url, &url, "")).unwrap();
    let ran = run_qa(&["run", qa.to_str().unwrap()]);
    let stderr = text(&ran.stderr);
    assert_eq!(ran.status.code(), Some(3), "{}\n{stderr}", text(&ran.stdout));
    assert!(stderr.contains(&format!("the target {url} could not be trusted")), "{stderr}");
    assert!(stderr.contains("unknown issuer"), "{stderr}");
    assert!(stderr.contains("[target] ca") && stderr.contains("insecure = true"), "{stderr}");
    assert_eq!(stderr.matches("could not be trusted").count(), 1, "{stderr}");
    assert!(!stderr.contains("refused the connection"), "{stderr}");

    // `insecure = true`: the run goes on, said loudly once.
    std::fs::write(&file, retargeted(&config, &recorded_url, &url, "insecure = true")).unwrap();
    let insecure_out = dir.path().join("insecure-reproducers");
    let ran = run_qa(&["run", qa.to_str().unwrap(), "--out", insecure_out.to_str().unwrap()]);
    let stderr = text(&ran.stderr);
    assert_eq!(ran.status.code(), Some(1), "{}\n{stderr}", text(&ran.stdout));
    assert!(text(&ran.stdout).contains("cross-user"), "{}", text(&ran.stdout));
    assert_eq!(stderr.matches("WARNING: [target] insecure = true").count(), 1, "{stderr}");
    shellcheck_clean(&insecure_out);
    shop.signal("TERM");
}

#[test]
fn a_missing_ca_file_is_a_configuration_error_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa");
    std::fs::create_dir(&qa).unwrap();
    let config = "[target]\nurl = \"https://127.0.0.1:9\"\nca = \"nowhere.pem\"\n";
    std::fs::write(qa.join("venomqa.toml"), config).unwrap();
    let ran = run_qa(&["run", qa.to_str().unwrap()]);
    let stderr = text(&ran.stderr);
    assert_eq!(ran.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("venomqa.toml:3:6: [target] ca `nowhere.pem`"), "{stderr}");
}

#[test]
fn sample_serve_refuses_a_certificate_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let args = ["sample", "serve", "--port", "0", "--tls-cert", cert.to_str().unwrap()];
    let ran = run(&[&args[..], &["--tls-key", key.to_str().unwrap()]].concat());
    let stderr = text(&ran.stderr);
    assert_eq!(ran.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cert.pem") && stderr.contains("no certificate"), "{stderr}");
    // `--tls-ca-out` is for the throwaway CA of `--tls`.
    let ran = run(&["sample", "serve", "--port", "0", "--tls-ca-out", "ca.pem"]);
    assert_eq!(ran.status.code(), Some(2), "{}", text(&ran.stderr));
}
