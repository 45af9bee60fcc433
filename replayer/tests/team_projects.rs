//! A team's projects, named by their maker, with tasks numbered 1, 2, 3 in
//! each: a task made in a deleted project (only its `201` can show it),
//! and a delete only alice was granted and bob refused (`403`).

mod toy;

use serde_json::json;
use toy::{findings, record, summary, Visit};
use venomqa_replayer::{Confidence, OracleKind};

/// Alice makes a project with a task she finishes, and a scratch project
/// she deletes; Bob makes a project with a task, and is refused its delete.
async fn projects_and_tasks(base: String) {
    let v = Visit::login(&base, "alice-projects", "alice").await;
    v.with("POST", "/projects", json!({"slug": "apollo"})).await;
    let task = v.with("POST", "/projects/apollo/tasks", json!({"title": "launch"})).await;
    assert_eq!(task["number"], 1);
    v.send("POST", "/projects/apollo/tasks/1/done", None).await;
    v.with("POST", "/projects", json!({"slug": "scratch"})).await;
    v.send("DELETE", "/projects/scratch", None).await;
    let (gone, _) = v.attempt("GET", "/projects/scratch", None).await;
    assert_eq!(gone, 404);
    let v = Visit::login(&base, "bob-projects", "bob").await;
    v.with("POST", "/projects", json!({"slug": "gemini"})).await;
    v.with("POST", "/projects/gemini/tasks", json!({"title": "orbit"})).await;
    let (refused, _) = v.attempt("DELETE", "/projects/gemini", None).await;
    assert_eq!(refused, 403, "only alice deletes projects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_made_in_a_deleted_project_is_found_by_its_answer() {
    let learned = record(projects_and_tasks).await;
    let found = findings(&learned, "after-delete", &["task-on-deleted-project"]).await;
    let made = found.iter().find(|f| f.oracle == OracleKind::AfterDelete);
    let made =
        made.unwrap_or_else(|| panic!("the task in a deleted project: {:#?}", summary(&found)));
    assert_eq!(made.actions.last().map(String::as_str), Some("POST /projects/{slug}/tasks"));
    assert_eq!(made.confidence, Confidence::Low, "only its own answer shows it");

    let quiet = findings(&learned, "after-delete", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_refused_to_bob_and_then_allowed_is_found() {
    let learned = record(projects_and_tasks).await;
    let privileged = learned.model.roles.iter().find(|r| r.name == "privileged");
    let privileged = privileged.unwrap_or_else(|| panic!("{:#?}", learned.model.roles));
    assert_eq!(privileged.withheld, ["DELETE /projects/{slug}"]);

    let found = findings(&learned, "as-lesser-role", &["member-deletes-project"]).await;
    let deleted = found.iter().find(|f| f.oracle == OracleKind::FunctionLevelAuth);
    let deleted = deleted.unwrap_or_else(|| panic!("bob's delete: {:#?}", summary(&found)));
    assert_eq!(deleted.confidence, Confidence::Medium, "the recording saw it refused");

    let quiet = findings(&learned, "as-lesser-role", &[]).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}
