//! The store under disk trouble, on real (small or limited) file systems
//! and through the real binary: a full disk is said once while traffic
//! flows and capture resumes when space returns; a store that cannot write
//! is said once and shutdown ends within its deadline, exiting 3 with what
//! may be lost; read commands never leave a store unopenable; a read-only
//! store is refused saying why and what to do; stores are private; a
//! damaged `conf` is an error naming it.
//!
//! The tmpfs tests need root (CI runs as root) and are skipped, saying so,
//! elsewhere unless `VENOMQA_REQUIRE_TMPFS=1`; the file-size limit needs
//! nothing.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::disk::{lines_with, read_log, start_recorder, upload_until, CountingUpstream, Tmpfs};
use common::{run, text, venomqa};
use serde_json::Value;
use venomqa_testkit::TempStore;

const UPLOAD: usize = 50_000;
const MIB: u64 = 1024 * 1024;

/// What the store logs when the disk is nearly full, once a pause.
const FULL: &str = "is nearly full";
/// What the store logs when a write failed.
const FAILED: &str = "No more captures are written in this run";

/// `venomqa record: stopped. N exchanges captured in ...` → N, and the
/// number of captures dropped because of the store's disk.
fn summary_counts(stdout: &[String]) -> (u64, u64) {
    let line = stdout
        .iter()
        .find(|l| l.starts_with("venomqa record: stopped."))
        .unwrap_or_else(|| panic!("no summary in {stdout:?}"));
    let number_before = |marker: &str| -> u64 {
        let before = &line[..line.find(marker).unwrap_or_else(|| panic!("{marker:?} in {line}"))];
        before.rsplit([' ', '(']).next().unwrap().parse().unwrap()
    };
    let by_store =
        if line.contains("because of the store's disk") { number_before(" because of") } else { 0 };
    (number_before(" exchanges captured"), by_store)
}

/// The exchanges `venomqa sessions` finds in `store`.
fn stored_exchanges(store: &Path) -> u64 {
    let listed = run(&["sessions", "--store", store.to_str().unwrap(), "--json"]);
    assert!(listed.status.success(), "the store reopens: {}", text(&listed.stderr));
    let sessions: Value = serde_json::from_slice(&listed.stdout).unwrap();
    sessions.as_array().unwrap().iter().map(|s| s["exchanges"].as_u64().unwrap()).sum()
}

/// Exports the whole store (every record decodes) and returns the count.
fn exported(store: &Path, out: &Path) -> u64 {
    let har = out.join("all.har");
    let done = run(&["export", "--har", har.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let said = text(&done.stdout);
    let count = said.split("exported ").nth(1).and_then(|r| r.split(' ').next());
    count.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no count in {said:?}"))
}

#[test]
fn a_full_disk_is_said_once_traffic_flows_and_capture_resumes_when_space_returns() {
    let Some(disk) = Tmpfs::mount("12m") else { return };
    let outside = tempfile::tempdir().unwrap();
    let log = outside.path().join("record.log");
    let filler = disk.path().join("filler");
    std::fs::write(&filler, vec![0u8; 4 * MIB as usize]).unwrap();
    let store = disk.path().join("store");
    let upstream = CountingUpstream::start();
    let (recorder, proxy) = start_recorder(&upstream.url(), &store, &log, None, None);

    upload_until(&upstream, &proxy, &log, FULL, (0, 300, UPLOAD));
    // Full: traffic still flows, and the log does not repeat itself.
    for n in 0..20 {
        assert_eq!(upstream.upload(&proxy, 500 + n, UPLOAD).0, 200);
    }
    assert_eq!(lines_with(&log, FULL), 1, "said once:\n{}", read_log(&log));
    let said = read_log(&log);
    assert!(said.contains("Free some space on that disk") && said.contains("--store"), "{said}");

    std::fs::remove_file(&filler).unwrap();
    upload_until(&upstream, &proxy, &log, "has room again", (1000, 100, UPLOAD));

    recorder.signal("TERM");
    let (code, stdout) = recorder.wait_exit();
    let said = read_log(&log);
    assert_eq!(code, Some(3), "the store could not take everything: exit 3\n{said}");
    assert!(said.contains("the recording is incomplete: the store's disk ran low"), "{said}");
    let (captured, by_store) = summary_counts(&stdout);
    assert!(by_store > 0 && captured > 0, "{stdout:?}");

    // Everything written was flushed: it all reopens and reads.
    assert_eq!(stored_exchanges(&store), captured);
    assert_eq!(exported(&store, outside.path()), captured);
}

#[test]
fn a_store_that_cannot_write_is_said_once_and_shutdown_exits_3_saying_what_may_be_lost() {
    let temp = TempStore::new();
    let log = temp.dir().join("record.log");
    let upstream = CountingUpstream::start();
    // No file of the store may grow past 900 KiB: small uploads fit, and
    // one whole 1 MiB capture cannot, whichever of sled's files (its log or
    // a blob) it lands in, however the writer groups exchanges.
    let limit = 900 * 1024;
    let (recorder, proxy) = start_recorder(&upstream.url(), temp.path(), &log, Some(limit), None);
    for n in 0..5 {
        assert_eq!(upstream.upload(&proxy, n, 10_000).0, 200);
    }
    // The store flushes about once a second: let those reach the disk.
    std::thread::sleep(std::time::Duration::from_secs(2));

    upload_until(&upstream, &proxy, &log, FAILED, (100, 20, MIB as usize));
    for n in 0..20 {
        assert_eq!(upstream.upload(&proxy, 500 + n, UPLOAD).0, 200, "traffic still flows");
    }
    assert_eq!(lines_with(&log, FAILED), 1, "said once:\n{}", read_log(&log));

    // Bounded by `wait_exit` (30 s) only so that a hang fails the test.
    recorder.signal("TERM");
    let (code, stdout) = recorder.wait_exit();
    let said = read_log(&log);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("were not confirmed written and may be lost"), "{said}");
    let (_, by_store) = summary_counts(&stdout);
    assert!(by_store >= 20, "what came after the failure was dropped and counted: {stdout:?}");

    // Without the limit the store reopens, with every record readable.
    let reopened = stored_exchanges(temp.path());
    assert!(reopened > 0);
    assert_eq!(exported(temp.path(), temp.dir()), reopened);
}

/// `venomqa sample generate` into `store`: a store with sessions to read.
fn generate(store: &Path) {
    let made =
        run(&["sample", "generate", "--store", store.to_str().unwrap(), "--exchanges", "200"]);
    assert!(made.status.success(), "{}", text(&made.stderr));
}

/// The first session of `store`, as `show` takes it.
fn first_session(store: &Path) -> String {
    let listed = run(&["sessions", "--store", store.to_str().unwrap(), "--json"]);
    let sessions: Value = serde_json::from_slice(&listed.stdout).unwrap();
    sessions[0]["key"].as_str().unwrap().to_string()
}

/// Runs each read command on `store` (writing its files to `out`) and
/// returns their exit codes and stderr.
fn read_commands(store: &Path, session: &str, out: &Path) -> Vec<(String, Option<i32>, String)> {
    let store = store.to_str().unwrap();
    let har = out.join("read.har");
    let model = out.join("model.json");
    let commands: [Vec<&str>; 4] = [
        vec!["sessions", "--store", store],
        vec!["show", session, "--store", store],
        vec!["export", "--har", har.to_str().unwrap(), "--store", store],
        vec!["learn", "--out", model.to_str().unwrap(), "--store", store],
    ];
    commands
        .iter()
        .map(|args| {
            let done = run(args);
            (args[0].to_string(), done.status.code(), text(&done.stderr))
        })
        .collect()
}

fn generating_snapshots(store: &Path) -> Vec<String> {
    std::fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".generating"))
        .collect()
}

#[test]
fn reading_a_store_on_a_full_disk_is_refused_and_never_leaves_it_unopenable() {
    let Some(disk) = Tmpfs::mount("8m") else { return };
    let outside = tempfile::tempdir().unwrap();
    let store = disk.path().join("store");
    generate(&store);
    let session = first_session(&store);
    let before = stored_exchanges(&store);

    let filler = disk.fill("filler");
    for (command, code, stderr) in read_commands(&store, &session, outside.path()) {
        assert_eq!(code, Some(3), "{command}: {stderr}");
        assert!(stderr.contains("Free some space on that disk"), "{command}: {stderr}");
        assert!(generating_snapshots(&store).is_empty(), "{command} left a snapshot behind");
    }

    std::fs::remove_file(filler).unwrap();
    assert_eq!(stored_exchanges(&store), before);
    for (command, code, stderr) in read_commands(&store, &session, outside.path()) {
        assert_eq!(code, Some(0), "{command} with space again: {stderr}");
    }
}

#[test]
fn an_empty_snapshot_an_interrupted_open_left_no_longer_makes_the_store_unopenable() {
    let temp = TempStore::new();
    generate(temp.path());
    let before = stored_exchanges(temp.path());
    // What an open on a full disk used to leave: sled then failed every
    // open with "Read corrupted data at file offset None".
    let leftover = temp.path().join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&leftover, b"").unwrap();

    let listed = run(&["sessions", "--store", temp.arg(), "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(text(&listed.stderr).contains("removed") && !leftover.exists());
    assert_eq!(stored_exchanges(temp.path()), before);
}

#[test]
fn a_store_on_a_read_only_file_system_is_read_from_a_private_copy_that_goes_away() {
    let Some(disk) = Tmpfs::mount("8m") else { return };
    let outside = tempfile::tempdir().unwrap();
    let copies = tempfile::tempdir().unwrap();
    let store = disk.path().join("store");
    generate(&store);
    let session = first_session(&store);
    let before = stored_exchanges(&store);

    disk.remount(true);
    let (dir, har) = (store.to_str().unwrap(), outside.path().join("read.har"));
    let commands: [Vec<&str>; 3] = [
        vec!["sessions", "--store", dir, "--json"],
        vec!["show", &session, "--store", dir],
        vec!["export", "--har", har.to_str().unwrap(), "--store", dir],
    ];
    for args in &commands {
        let done = venomqa().args(args).env("TMPDIR", copies.path()).output().unwrap();
        let stderr = text(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.contains("reading a copy of it"), "{args:?} says what it does: {stderr}");
        let left: Vec<_> = std::fs::read_dir(copies.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left its copy behind: {left:?}");
    }
    assert!(har.exists(), "the export was written");
    assert_eq!(stored_exchanges(&store), before, "read through the copy, all of it");
    disk.remount(false);
    assert_eq!(stored_exchanges(&store), before, "nothing was changed");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every directory under (and with) `dir` and every file, with its mode.
fn modes(dir: &Path) -> Vec<(String, bool, u32)> {
    let mut found = vec![(dir.display().to_string(), true, mode(dir))];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(modes(&path));
        } else {
            found.push((path.display().to_string(), false, mode(&path)));
        }
    }
    found
}

#[test]
fn a_recorded_store_is_private_whatever_the_umask_and_an_open_one_is_warned_about_once() {
    let temp = TempStore::new();
    let log = temp.dir().join("record.log");
    let upstream = CountingUpstream::start();
    let (recorder, proxy) = start_recorder(&upstream.url(), temp.path(), &log, None, Some(0));
    // Large bodies: sled keeps them in files of their own, under blobs/.
    for n in 0..6 {
        assert_eq!(upstream.upload(&proxy, n, 300_000).0, 200);
    }
    recorder.stop_cleanly();

    let found = modes(temp.path());
    assert!(found.iter().any(|(path, dir, _)| !dir && path.contains("/blobs/")), "{found:?}");
    for (path, is_dir, mode) in &found {
        let wanted = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, wanted, "{path} is {mode:o} under umask 000");
    }

    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let shown = run(&["show", "x-session:uploader", "--store", temp.arg()]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let said = text(&shown.stderr);
    let fix = format!("chmod -R go-rwx {}", temp.arg());
    assert_eq!(said.matches(&fix).count(), 1, "warned once, with the fix: {said}");
    assert_eq!(mode(temp.path()), 0o755, "a store opened up on purpose is left as it is");
}

#[test]
fn a_missing_or_garbled_conf_is_an_error_naming_it_and_the_advice_repairs_it() {
    let temp = TempStore::new();
    generate(temp.path());
    let conf = temp.path().join("conf");
    let good = std::fs::read(&conf).unwrap();

    let mut garbled = good.clone();
    garbled[2] ^= 0x01;
    std::fs::write(&conf, &garbled).unwrap();
    let refused = run(&["sessions", "--store", temp.arg()]);
    assert_eq!(refused.status.code(), Some(3));
    let said = text(&refused.stderr);
    assert!(said.contains(&conf.display().to_string()) && said.contains("garbled"), "{said}");

    std::fs::remove_file(&conf).unwrap();
    let said = text(&run(&["sessions", "--store", temp.arg()]).stderr);
    assert!(said.contains(&format!("{} is missing", conf.display())), "{said}");

    // The advice: any store this venomqa made has the same conf.
    let other = TempStore::new();
    generate(other.path());
    std::fs::copy(other.path().join("conf"), &conf).unwrap();
    assert!(stored_exchanges(temp.path()) > 0);
}
