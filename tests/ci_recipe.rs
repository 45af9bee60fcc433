//! The CI recipes in `examples/ci/` (GitHub Actions, GitLab) run one script,
//! `examples/ci/venomqa-ci.sh`; this runs that script as they do, against
//! the real shop, and checks what they publish and the exit codes they act on.

mod common;

use std::path::Path;
use std::process::Command;

use common::{recorded_and_initialised, start_shop, text, with_shop_secrets};

const RECIPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ci");

/// The recipe's script run in `dir` against `target`, with the shop's secrets.
fn ci_script(dir: &Path, target: &str) -> std::process::Output {
    let mut command = Command::new("bash");
    command
        .arg(Path::new(RECIPES).join("venomqa-ci.sh"))
        .current_dir(dir)
        .env("VENOMQA", env!("CARGO_BIN_EXE_venomqa"))
        .env("VENOMQA_TARGET", target);
    with_shop_secrets(&mut command).output().expect("bash runs the recipe's script")
}

#[test]
fn the_ci_recipe_publishes_junit_html_and_reproducers_and_exits_as_venomqa_does() {
    let dir = tempfile::tempdir().unwrap();
    let (correct, correct_url) = start_shop("none");
    recorded_and_initialised(dir.path(), &correct_url);

    let (buggy, buggy_url) = start_shop("all");
    let found = ci_script(dir.path(), &buggy_url);
    assert_eq!(found.status.code(), Some(1), "{}\n{}", text(&found.stdout), text(&found.stderr));
    assert!(text(&found.stdout).contains("venomqa: findings: see venomqa-out/report.html"));
    let out = dir.path().join("venomqa-out");
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml");
    assert!(junit.contains("<failure"), "{junit}");
    assert!(std::fs::read_to_string(out.join("report.html")).unwrap().contains("<svg"));
    let json = std::fs::read_to_string(out.join("venomqa.json")).unwrap();
    assert!(json.contains("\"complete\": true"), "{json}");
    assert!(std::fs::read_dir(out.join("reproducers")).unwrap().count() > 0);

    let clean = ci_script(dir.path(), &correct_url);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stderr));
    assert!(text(&clean.stdout).contains("venomqa: clean"));

    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = ci_script(dir.path(), &format!("http://{unused}"));
    assert_eq!(down.status.code(), Some(3), "{}", text(&down.stderr));
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml on exit 3");
    assert!(junit.contains("<error message=\"target"), "{junit}");
    correct.signal("TERM");
    buggy.signal("TERM");
}

#[test]
fn both_recipes_run_the_script_and_publish_what_it_writes() {
    for recipe in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(Path::new(RECIPES).join(recipe)).unwrap();
        assert!(text.contains("examples/ci/venomqa-ci.sh"), "{recipe} runs the script");
        assert!(text.contains("venomqa-out/junit.xml"), "{recipe} publishes the JUnit report");
        assert!(text.contains("venomqa-out/"), "{recipe} keeps the HTML report and reproducers");
        assert!(text.contains("VENOMQA_TARGET"), "{recipe} names the target");
    }
    let script = Path::new(RECIPES).join("venomqa-ci.sh");
    match Command::new("shellcheck").arg(&script).output() {
        Ok(checked) => assert!(checked.status.success(), "{}", text(&checked.stdout)),
        Err(_) if std::env::var("VENOMQA_REQUIRE_SHELLCHECK").as_deref() != Ok("1") => {
            eprintln!("SKIPPED shellcheck of {}: no shellcheck on PATH", script.display());
        }
        Err(e) => panic!("shellcheck is required (VENOMQA_REQUIRE_SHELLCHECK=1): {e}"),
    }
}
