//! `venomqa explore` through the real binary against the sample shop: the
//! search alone (no mutated recorded journeys) finds every planted bug and
//! nothing on a clean shop; each pruning rule is shown by the paths it
//! saves; budgets stop it; a seed makes it repeatable.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{recorded_and_initialised, run_qa, start_shop, text, Running};
use serde_json::Value;

/// `venomqa explore --config DIR/qa --target URL --json FILE` with `extra`
/// flags: its exit code, its report and what it printed.
fn explore(dir: &Path, url: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let qa = dir.join("qa");
    let json = dir.join(format!("explore-{}.json", extra.join("_").replace(['-', ' '], "")));
    let mut args = vec![
        "explore",
        "--config",
        qa.to_str().unwrap(),
        "--target",
        url,
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let ran = run_qa(&args);
    let said = format!("{}\n{}", text(&ran.stdout), text(&ran.stderr));
    let report = std::fs::read(&json)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("no JSON report:\n{said}"));
    (ran.status.code(), report, said)
}

fn pruned(report: &Value, why: &str) -> u64 {
    report["exploration"]["pruned"][why].as_u64().unwrap_or(0)
}

fn paths(report: &Value) -> u64 {
    report["exploration"]["paths"].as_u64().expect("exploration.paths")
}

#[test]
fn exploration_alone_finds_every_shop_bug_shrunk_and_nothing_on_a_clean_shop() {
    let dir = tempfile::tempdir().unwrap();
    let (buggy, buggy_url) = start_shop("all");
    recorded_and_initialised(dir.path(), &buggy_url);
    let model: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("qa/model.json")).unwrap()).unwrap();

    let (code, report, said) = explore(dir.path(), &buggy_url, &[]);
    assert_eq!(code, Some(1), "findings exit 1:\n{said}");
    let findings = report["findings"].as_array().unwrap();
    let found: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| {
            let last = f["actions"].as_array().unwrap().last().unwrap().as_str().unwrap();
            (f["oracle"].as_str().unwrap().to_string(), last.to_string())
        })
        .collect();
    // The shop's nine bugs, each as the oracle and action that show it.
    let unexpected = |action: &str| ("unexpected-accept".to_string(), action.to_string());
    for bug in [
        unexpected("POST /orders/{order_id}/ship"),
        unexpected("POST /orders/{order_id}/cancel"),
        unexpected("POST /orders/{order_id}/refund"),
    ] {
        assert!(found.contains(&bug), "{bug:?} missing from {found:?}\n{said}");
    }
    let oracles: BTreeSet<&str> = found.iter().map(|(o, _)| o.as_str()).collect();
    for oracle in
        ["cross-user", "after-delete", "race", "stale-token", "idempotency", "stale-write"]
    {
        assert!(oracles.contains(oracle), "{oracle} missing from {found:?}\n{said}");
    }
    for f in findings {
        assert_eq!(f["mutation"], "explore", "every finding is exploration's: {f}");
        let steps = f["actions"].as_array().unwrap().len();
        assert!(steps <= 6, "shrunk to a few steps: {}", f["actions"]);
    }
    let e = &report["exploration"];
    assert_eq!(report["stats"]["cases_planned"], 0, "no recorded journey was mutated");
    assert!(pruned(&report, "finding") > 0, "a finding ends its path: {e}");
    assert!(said.contains("explored "), "the coverage summary is printed:\n{said}");
    assert!(said.contains("pruning: "), "{said}");

    // Every transition it calls new is one the recording never showed.
    let learned: BTreeSet<(String, String, String)> = model["machines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["transitions"].as_array().unwrap().iter())
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_string();
            (s("from"), s("action"), s("to"))
        })
        .collect();
    let new = e["transitions_new"].as_array().unwrap();
    assert!(!new.is_empty(), "it went where the recording did not: {e}");
    for t in new {
        let s = |k: &str| t[k].as_str().unwrap().to_string();
        assert!(!learned.contains(&(s("from"), s("action"), s("to"))), "{t} was recorded");
    }
    assert!(
        new.iter().any(|t| t["from"] == "created" && t["to"] == "shipped"),
        "shipping an unpaid order is a transition the recording never showed: {new:?}"
    );
    buggy.signal("TERM");

    let (clean, clean_url) = start_shop("none");
    let (code, report, said) = explore(dir.path(), &clean_url, &[]);
    assert_eq!(code, Some(0), "a clean shop explored to the end exits 0:\n{said}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{said}");
    assert_eq!(report["stats"]["complete"], true);
    let e = &report["exploration"];
    assert!(paths(&report) > 20, "{e}");
    assert!(e["stopped_by"].is_null(), "it ran out of paths, not of budget: {e}");
    assert_eq!(e["states_missed"], serde_json::json!([]), "every learned state reached: {e}");

    // `run` explores after replaying when [explore] asks for it (init
    // writes the section, off).
    let config_path = dir.path().join("qa/venomqa.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    assert!(config.contains("[explore]\n"), "init writes [explore]: {config}");
    assert!(config.contains("\nenabled = false\n"), "{config}");
    std::fs::write(&config_path, config.replace("\nenabled = false\n", "\nenabled = true\n"))
        .unwrap();
    let json = dir.path().join("run.json");
    let qa = dir.path().join("qa");
    let ran = run_qa(&[
        "run",
        qa.to_str().unwrap(),
        "--target",
        &clean_url,
        "--json",
        json.to_str().unwrap(),
    ]);
    let said = format!("{}{}", text(&ran.stdout), text(&ran.stderr));
    assert_eq!(ran.status.code(), Some(0), "{said}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(report["stats"]["cases_planned"].as_u64().unwrap() > 0, "it replayed: {said}");
    assert!(paths(&report) > 20, "and explored: {}", report["exploration"]);
    assert!(said.contains("explored "), "{said}");
    clean.signal("TERM");
}

#[test]
fn each_pruning_rule_saves_paths_budgets_stop_the_search_and_a_seed_repeats_it() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, url) = start_shop("none");
    recorded_and_initialised(dir.path(), &url);

    let bfs = ["--strategy", "bfs", "--max-depth", "3", "--try-disabled=false"];
    let (code, base, said) = explore(dir.path(), &url, &bfs);
    assert_eq!(code, Some(0), "{said}");
    let e = &base["exploration"];
    assert_eq!(e["strategy"], "bfs");
    assert_eq!(e["depth_reached"], 3, "{e}");
    // Learned preconditions: shipping an order that is not paid, refunding
    // one that is not, are not tried; with --try-disabled they are.
    assert!(pruned(&base, "precondition") > 0, "{e}");
    let (_, disabled, said) =
        explore(dir.path(), &url, &["--strategy", "bfs", "--max-depth", "3", "--try-disabled"]);
    assert_eq!(pruned(&disabled, "precondition"), 0, "{said}");
    assert!(paths(&disabled) > paths(&base), "disabled actions are paths too: {said}");
    // Refused actions and states another path reached end a path.
    assert!(pruned(&disabled, "refused") > 0, "{}", disabled["exploration"]);
    assert!(pruned(&base, "same_state") > 0, "{e}");
    // The depth limit: one action fewer, fewer paths; paths at the limit are not extended.
    let (_, shallow, _) = explore(
        dir.path(),
        &url,
        &["--strategy", "bfs", "--max-depth", "2", "--try-disabled=false"],
    );
    assert!(paths(&shallow) < paths(&base), "{} vs {}", paths(&shallow), paths(&base));
    assert!(pruned(&shallow, "depth") > 0, "{}", shallow["exploration"]);
    // Far fewer paths than a naive search to the same depth.
    let naive = e["naive_sequences"].as_f64().unwrap();
    assert!((paths(&base) as f64) < naive / 10.0, "{} of {naive}", paths(&base));

    // A request budget stops it: incomplete, exit 4 (nothing found), and
    // within one sequence of the limit.
    let (code, cut, said) = explore(dir.path(), &url, &["--budget-requests", "400"]);
    assert_eq!(code, Some(4), "{said}");
    assert_eq!(cut["stats"]["complete"], false);
    assert!(said.contains("incomplete: the `requests` budget ran out"), "{said}");
    assert!(pruned(&cut, "budget") > 0, "{}", cut["exploration"]);
    let sent = cut["stats"]["requests"].as_u64().unwrap();
    assert!(sent < 400 + 60, "stopped near the budget: {sent}");

    // The same seed explores the same paths; the order changes with it.
    let seeded = |seed: &str| {
        let (code, report, said) = explore(
            dir.path(),
            &url,
            &["--strategy", "random", "--seed", seed, "--max-depth", "3"],
        );
        assert_eq!(code, Some(0), "{said}");
        let e = &report["exploration"];
        (paths(&report), e["transitions_reached"].clone(), e["transitions_new"].clone())
    };
    assert_eq!(seeded("7"), seeded("7"));
    shop.signal("TERM");
}

/// `text` with `[explore]`'s `try_disabled` line followed by `extra`.
fn with_explore(config: &str, extra: &str) -> String {
    let line = "\ntry_disabled = true\n";
    assert!(config.contains(line), "init writes try_disabled: {config}");
    config.replacen(line, &format!("{line}{extra}\n"), 1)
}

/// The search the branching tests compare: only it decides where it ends,
/// no time budget cuts a slower run short.
const BRANCHING_FLAGS: [&str; 7] =
    ["--strategy", "bfs", "--max-depth", "3", "--try-disabled=false", "--budget-seconds", "900"];

/// `venomqa explore` on the configuration `config` with `[explore]` given
/// `bad`: refused before it starts (exit 2), naming the file and line and
/// saying `says`.
fn assert_refused(config_path: &Path, config: &str, url: &str, bad: &str, says: &[&str]) {
    std::fs::write(config_path, with_explore(config, bad)).unwrap();
    let ran = run_qa(&["explore", "--config", config_path.to_str().unwrap(), "--target", url]);
    let said = text(&ran.stderr);
    assert_eq!(ran.status.code(), Some(2), "{bad}: {said}");
    assert!(said.contains("venomqa.toml:"), "names the file and line: {said}");
    assert!(says.iter().any(|s| said.contains(s)), "{bad}: {said}");
}

/// `branched` (with checkpoints) searched exactly as `replayed` (a reset
/// and a replay of each path) did, finding the same bugs, in fewer requests.
fn assert_same_search_with_fewer_requests(replayed: &Value, branched: &Value, said: &str) {
    let (a, b) = (&replayed["exploration"], &branched["exploration"]);
    assert_eq!(a["rollbacks"], 0, "{a}");
    assert!(b["checkpoints"].as_u64().unwrap() > 0, "{b}");
    assert!(b["rollbacks"].as_u64().unwrap() > 0, "{b}");
    assert!(said.contains("branching: "), "{said}");
    // The same search: the same paths, states and transitions, the same bugs.
    for field in ["paths", "pruned", "transitions_reached", "transitions_new", "states_reached"] {
        assert_eq!(a[field], b[field], "{field} differs:\n{a}\n{b}");
    }
    let bugs = |report: &Value| -> BTreeSet<(String, String)> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["oracle"].to_string(),
                    f["actions"].as_array().unwrap().last().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(bugs(replayed), bugs(branched));
    // ... with fewer requests: each path's prefix is rolled back to, not replayed.
    let (with, without) = (b["requests"].as_u64().unwrap(), a["requests"].as_u64().unwrap());
    assert!(with * 10 < without * 9, "{with} requests with checkpoints, {without} without");
}

#[test]
fn a_sqlite_database_branches_the_same_search_and_a_wrong_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let mut shop = Running::start(&[
        "sample",
        "serve",
        "--port",
        "0",
        "--bugs",
        "all",
        "--db",
        &format!("sqlite:{}", db.display()),
    ]);
    let url = shop.wait_for_url("listening on");
    let config = recorded_and_initialised(dir.path(), &url);
    let config_path = dir.path().join("qa/venomqa.toml");
    let flags = BRANCHING_FLAGS;
    let (_, replayed, _) = explore(dir.path(), &url, &flags);

    // The shop's file, relative to qa/: copied out and back while it serves.
    std::fs::write(&config_path, with_explore(&config, "database = \"sqlite:../shop.db\""))
        .unwrap();
    let (code, branched, said) = explore(dir.path(), &url, &flags);
    assert_eq!(code, Some(1), "{said}");
    assert_same_search_with_fewer_requests(&replayed, &branched, &said);

    // A file that is not there is named, and none is created (exit 3).
    std::fs::write(&config_path, with_explore(&config, "database = \"sqlite:../typo.db\""))
        .unwrap();
    let (code, _, said) = explore(dir.path(), &url, &flags);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("there is no database file at") && said.contains("typo.db"), "{said}");
    assert!(!dir.path().join("typo.db").exists());

    // A database venomqa cannot branch, or hooks as well: exit 2, naming the line.
    for bad in [
        "database = \"mysql://root@127.0.0.1/shop\"",
        "database = \"sqlite:../shop.db\"\ncheckpoint = \"./save.sh {name}\"\nrollback = \"./load.sh {name}\"",
        "database = { env = \"VENOMQA_TEST_UNSET_DATABASE\" }",
    ] {
        assert_refused(&config_path, &config, &url, bad, &["[explore]"]);
    }
    shop.signal("TERM");
}

#[test]
fn checkpoints_branch_the_same_search_with_fewer_requests_and_a_failing_hook_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, url) = start_shop("all");
    let config = recorded_and_initialised(dir.path(), &url);
    let config_path = dir.path().join("qa/venomqa.toml");
    let flags = BRANCHING_FLAGS;
    let (_, replayed, said) = explore(dir.path(), &url, &flags);
    assert_eq!(replayed["exploration"]["rollbacks"], 0, "{said}");

    // The shop's test hooks: a command saves (curl), a request restores.
    let hooks = format!(
        "checkpoint = \"curl -sf -X POST {url}/__checkpoint/{{name}}\"\n\
         rollback = \"POST /__rollback/{{name}}\""
    );
    std::fs::write(&config_path, with_explore(&config, &hooks)).unwrap();
    let (code, branched, said) = explore(dir.path(), &url, &flags);
    assert_eq!(code, Some(1), "{said}");
    assert_same_search_with_fewer_requests(&replayed, &branched, &said);

    // A failing hook ends the run with the hook's own words (exit 3).
    let failing = "checkpoint = \"echo no space left for {name} >&2; exit 1\"\n\
                   rollback = \"POST /__rollback/{name}\"";
    std::fs::write(&config_path, with_explore(&config, failing)).unwrap();
    let (code, _, said) = explore(dir.path(), &url, &flags);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("the checkpoint hook failed"), "{said}");
    assert!(said.contains("no space left for venomqa-1"), "{said}");

    // A hook that does not name the checkpoint, or one without the other: exit 2.
    for bad in [
        "checkpoint = \"./save.sh\"\nrollback = \"./load.sh {name}\"",
        "checkpoint = \"./save.sh {name}\"",
    ] {
        assert_refused(&config_path, &config, &url, bad, &["{name}", "together"]);
    }
    shop.signal("TERM");
}
