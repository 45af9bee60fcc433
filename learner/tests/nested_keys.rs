//! Keys the client chooses under parents: a repository named by its
//! creator inside an organisation (`/orgs/{login}/repos/{name}`), renamed
//! later, read by other users; issues numbered 1, 2, 3 in every repository.

mod common;

use common::{call, token_id, Traffic};
use serde_json::json;

/// Two users each make an organisation (a bodiless `201` and a
/// `Location`) and a repository in it (its name echoed), open issues 1 and
/// 2, comment on one (a `201` of its own) and close it, rename the
/// repository (`PATCH`), read it by its new name; a third user reads each
/// repository by its name.
fn organisations() -> Traffic {
    let mut t = Traffic::new();
    for (n, user) in ["ann", "bo"].iter().enumerate() {
        let s = format!("cookie:{user}");
        let org = format!("org-{user}");
        t.push(
            call(&s, "POST", "/orgs")
                .json(json!({"login": org}))
                .status(201)
                .reply_header("Location", &format!("/orgs/{org}")),
        );
        let repos = format!("/orgs/{org}/repos");
        let repo = |name: &str| json!({"name": name, "full_name": format!("{org}/{name}")});
        t.push(
            call(&s, "POST", &repos)
                .json(json!({"name": "widget"}))
                .status(201)
                .reply(repo("widget")),
        );
        for number in [1, 2] {
            let issue = json!({"number": number, "state": "open", "title": "bug"});
            t.push(
                call(&s, "POST", &format!("{repos}/widget/issues"))
                    .json(json!({"title": "bug"}))
                    .status(201)
                    .reply(issue),
            );
        }
        let one = format!("{repos}/widget/issues/1");
        t.push(
            call(&s, "POST", &format!("{one}/comments"))
                .json(json!({"body": "+1"}))
                .status(201)
                .reply(json!({"body": "+1", "author": user})),
        );
        t.push(
            call(&s, "POST", &format!("{one}/close"))
                .reply(json!({"number": 1, "state": "closed", "title": "bug"})),
        );
        t.push(
            call(&s, "PATCH", &format!("{repos}/widget"))
                .json(json!({"name": format!("gadget-{n}")}))
                .reply(repo(&format!("gadget-{n}"))),
        );
        t.push(call(&s, "GET", &format!("{repos}/gadget-{n}")).reply(repo(&format!("gadget-{n}"))));
        let reader = format!("cookie:reader-{n}");
        t.push(
            call(&reader, "GET", &format!("{repos}/gadget-{n}"))
                .reply(repo(&format!("gadget-{n}"))),
        );
    }
    t
}

#[test]
fn renamed_keys_and_keys_other_sessions_made_are_parameters() {
    let model = organisations().learn().model;
    let ids: Vec<&str> = model.actions.iter().map(|a| a.id.as_str()).collect();
    assert!(ids.contains(&"GET /orgs/{login}/repos/{name}"), "{ids:?}");
    assert!(!ids.iter().any(|a| a.contains("gadget")), "a renamed key is a value: {ids:?}");
}

#[test]
fn a_create_that_answers_the_key_its_request_chose_binds_later_paths() {
    let model = organisations().learn().model;
    let journey = model.journeys.iter().find(|j| j.steps.len() > 4).expect("a maker's journey");
    let read_issue = journey
        .steps
        .iter()
        .find(|s| s.action == "POST /orgs/{login}/repos/{name}/issues")
        .expect("an issue made");
    let bound: Vec<String> = read_issue.bindings.iter().map(|b| b.to.to_string()).collect();
    assert!(bound.iter().any(|b| b.contains("login")), "{bound:?}");
    assert!(bound.iter().any(|b| b.contains("name")), "{bound:?}");
}

#[test]
fn a_comments_own_answer_says_nothing_of_its_issues_state() {
    let model = organisations().learn().model;
    let issues = model.resource("orgs.repos.issues").expect("issues");
    assert_eq!(
        issues.ownership.instances, 4,
        "issue 1 of each organisation: {:#?}",
        issues.ownership
    );
    let machine = model.machine("orgs.repos.issues").expect("a machine");
    let close = "POST /orgs/{login}/repos/{name}/issues/{issue_id}/close";
    // The comment's own `201` answer says nothing of the issue's state.
    assert!(machine.has_transition("open", close, "closed"), "{machine:#?}");
}

#[test]
fn an_issue_numbered_like_another_repositorys_keeps_its_own_state() {
    // Ann locks her issue 1; Bo then opens issue 1 of his repository; Ann's
    // comment on her locked issue is refused. Numbered alike, they are two.
    let mut t = Traffic::new();
    let issue = |state: &str| json!({"number": 1, "state": state, "title": "bug"});
    for round in 0..2u64 {
        let path =
            |n: u64| format!("/orgs/{}/repos/{}/issues", token_id("org", n), token_id("rep", n));
        let (ann, bo) = (&path(2 * round), &path(2 * round + 1));
        let (sa, sb) = (format!("cookie:ann{round}"), format!("cookie:bo{round}"));
        t.push(
            call(&sa, "POST", ann).json(json!({"title": "bug"})).status(201).reply(issue("open")),
        );
        t.push(call(&sa, "POST", &format!("{ann}/1/lock")).reply(issue("locked")));
        t.push(
            call(&sb, "POST", bo).json(json!({"title": "bug"})).status(201).reply(issue("open")),
        );
        t.push(
            call(&sa, "POST", &format!("{ann}/1/comments"))
                .json(json!({"body": "+1"}))
                .status(409)
                .reply(json!({"error": "locked"})),
        );
        t.push(call(&sb, "POST", &format!("{bo}/1/close")).reply(issue("closed")));
    }
    let model = t.learn().model;
    let machine = model.machine("orgs.repos.issues").expect("a machine");
    let comments = "POST /orgs/{org_id}/repos/{repo_id}/issues/{issue_id}/comments";
    let state = |name: &str| machine.states.iter().find(|s| s.name == name).expect(name);
    assert_eq!(state("locked").rejected.get(comments), Some(&2), "{machine:#?}");
    assert!(state("open").rejected.is_empty(), "Bo's new issue 1 is not Ann's: {machine:#?}");
}
