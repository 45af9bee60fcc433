//! End to end: the real binary serves the sample library, its QA driver
//! plays through a `venomqa record` proxy, and the store holds every
//! session: the librarian's, each member's, the desk's.

mod common;

use common::{run, start_library, start_recorder, text};
use serde_json::Value;
use venomqa_samples::LibraryBug;
use venomqa_testkit::TempStore;

#[test]
fn library_sessions_driven_through_the_recorder_are_all_in_the_store() {
    let temp = TempStore::new();
    let store = temp.arg();
    let (_library, library_url) = start_library("all");
    let (recorder, recorder_url) = start_recorder(&library_url, store, &[]);
    let drive = run(&[
        "sample",
        "drive",
        "--app",
        "library",
        "--base",
        &recorder_url,
        "--users",
        "3",
        "--sessions",
        "6",
    ]);
    assert!(drive.status.success(), "drive failed: {}", text(&drive.stderr));
    let printed = text(&drive.stdout);
    assert!(printed.contains("no unexpected answers"), "{printed}");
    let played: usize = printed.split(' ').next().and_then(|n| n.parse().ok()).expect("a count");
    assert!(played >= 8, "the librarian, six member sessions and the desk: {printed}");
    recorder.stop_cleanly();

    let listed = run(&["sessions", "--store", store, "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let sessions: Value = serde_json::from_slice(&listed.stdout).expect("sessions --json is JSON");
    let sessions = sessions.as_array().expect("a list");
    assert_eq!(sessions.len(), played, "one stored session per driven session");
    let endpoints = |session: &Value| -> Vec<String> {
        let list = session["endpoints"].as_array().expect("endpoints");
        list.iter().map(|e| e.as_str().unwrap_or_default().to_string()).collect()
    };
    for session in sessions {
        assert!(session["key"].as_str().unwrap().starts_with("x-session:"), "{session}");
        assert!(endpoints(session).iter().any(|e| e == "POST /api/v1/session"), "{session}");
    }
    let with = |endpoint: &str| {
        sessions.iter().filter(|s| endpoints(s).iter().any(|e| e == endpoint)).count()
    };
    assert_eq!(with("POST /api/v1/members"), 3, "each member signs up once");
    assert!(with("POST /api/v1/books") >= 1, "the librarian stocked the catalogue");
    assert!(with("POST /api/v1/desk/pickups") >= 1, "the desk redeemed pickup codes");
}

#[test]
fn an_unknown_sample_app_is_a_usage_error_naming_the_known_ones() {
    let served = run(&["sample", "serve", "--app", "zoo", "--port", "0"]);
    assert_eq!(served.status.code(), Some(2));
    let said = text(&served.stderr);
    assert!(said.contains("shop") && said.contains("library"), "{said}");
    let driven = run(&["sample", "drive", "--app", "zoo"]);
    assert_eq!(driven.status.code(), Some(2));
}

#[test]
fn serve_help_names_every_library_bug() {
    let help = run(&["sample", "serve", "--help"]);
    assert!(help.status.success(), "{}", text(&help.stderr));
    let said = text(&help.stdout);
    let missing: Vec<&str> =
        LibraryBug::all().into_iter().map(LibraryBug::name).filter(|n| !said.contains(n)).collect();
    assert!(missing.is_empty(), "the help leaves out {missing:?}: {said}");
    assert!(said.contains("seventeen planted bugs"), "{said}");
}
