//! Who owns instances and who may read them, known from the recording
//! (a create, an owner field naming the reader, a list only its owner's
//! session got) and never from who touched an instance first; and which
//! roles users act in, with what only one role did.

mod common;

use common::{call, pseudonym, token_id, Traffic};
use serde_json::json;

/// `user` logs in with a bearer token; the login answers their role.
fn login(t: &mut Traffic, user: &str, role: &str) -> (String, String) {
    let s = format!("client:{user}");
    let token = format!("{user}tok8f2k9x3m7q");
    t.push(
        call(&s, "POST", "/login")
            .json(json!({"username": user, "password": pseudonym(1)}))
            .reply(json!({"token": token, "user": {"name": user, "role": role}})),
    );
    (s, token)
}

fn recording() -> Traffic {
    let mut t = Traffic::new();
    let (ann, ann_token) = login(&mut t, "ann", "member");
    let (bo, bo_token) = login(&mut t, "bo", "member");
    let (sam, sam_token) = login(&mut t, "sam", "staff");
    // Drafts exist before the recording: each user's list shows only theirs.
    for (s, token, user) in [(&ann, &ann_token, "ann"), (&bo, &bo_token, "bo")] {
        let draft = token_id("drf", user.len() as u64);
        t.push(call(s, "GET", "/drafts").bearer(token).reply(json!([{"id": draft}])));
    }
    // Bo's draft, read by ann (the intruder touching it first): refused.
    let bo_draft = token_id("drf", 2);
    t.push(call(&ann, "GET", &format!("/drafts/{bo_draft}")).bearer(&ann_token).status(404));
    // A public list: bo sees what ann sees and one more, which is not his.
    let (a1, a2) = (token_id("art", 1), token_id("art", 2));
    t.push(call(&ann, "GET", "/articles").bearer(&ann_token).reply(json!([{"id": a1}])));
    t.push(call(&bo, "GET", "/articles").bearer(&bo_token).reply(json!([{"id": a1}, {"id": a2}])));
    t.push(call(&bo, "GET", &format!("/articles/{a2}")).bearer(&bo_token).reply(json!({"id": a2})));
    // Notes name their owner.
    let note = token_id("nte", 1);
    t.push(
        call(&bo, "GET", &format!("/notes/{note}"))
            .bearer(&bo_token)
            .reply(json!({"id": note, "owner": "bo"})),
    );
    // Posts are created by ann and read by bo: public.
    let post = token_id("pst", 1);
    t.push(
        call(&ann, "POST", "/posts")
            .bearer(&ann_token)
            .json(json!({"body": "hi"}))
            .status(201)
            .reply(json!({"id": post})),
    );
    t.push(
        call(&bo, "GET", &format!("/posts/{post}")).bearer(&bo_token).reply(json!({"id": post})),
    );
    // Only staff redeem codes.
    let code = token_id("cde", 1);
    t.push(
        call(&sam, "POST", &format!("/codes/{code}/redeem"))
            .bearer(&sam_token)
            .reply(json!({"id": code})),
    );
    t
}

#[test]
fn owners_are_known_by_creator_owner_field_or_own_list() {
    let model = recording().learn().model;
    let owners = |name: &str| model.resource(name).unwrap().ownership.owners.clone();
    assert_eq!(owners("posts").into_iter().collect::<Vec<_>>(), [("creator".to_string(), 1)]);
    assert_eq!(owners("notes").into_iter().collect::<Vec<_>>(), [("field:owner".to_string(), 1)]);
    assert_eq!(owners("drafts").into_iter().collect::<Vec<_>>(), [("own_list".to_string(), 2)]);
    assert!(
        owners("articles").is_empty(),
        "a list that shows one item to two users is no one's own"
    );
}

#[test]
fn a_resource_read_by_others_is_public_and_one_refused_to_others_is_private() {
    let model = recording().learn().model;
    let visibility = |name: &str| model.resource(name).unwrap().ownership.visibility.clone();
    assert_eq!(visibility("posts").as_deref(), Some("public"));
    assert_eq!(visibility("drafts").as_deref(), Some("private"), "listed, never created");
    assert_eq!(visibility("notes"), None, "only its owner read it: unknown");
    assert_eq!(visibility("articles").as_deref(), Some("public"));
}

#[test]
fn roles_come_from_the_login_answer_and_staff_only_actions_are_named() {
    let roles = recording().learn().model.roles;
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["member", "staff"]);
    assert_eq!(roles[0].field, "/user/role");
    assert_eq!(roles[0].users, ["ann", "bo"]);
    assert_eq!(roles[1].users, ["sam"]);
    assert_eq!(roles[1].only, ["POST /codes/{code_id}/redeem"]);
    assert!(roles[0].only.iter().all(|a| a != "POST /login"), "{:?}", roles[0].only);
}

#[test]
fn the_text_view_prints_owners_visibility_and_roles() {
    let text = venomqa_learner::render_text(&recording().learn().model);
    for expected in [
        "owners: creator 1; public",
        "owners: own_list 2; private",
        "owners: field:owner 1; visibility unknown",
        "roles (2)",
        "staff (at /user/role): sam in 1 sessions\n    only  POST /codes/{code_id}/redeem",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
}

#[test]
fn an_owner_id_equal_to_the_user_id_the_login_answered_names_the_owner() {
    let mut t = Traffic::new();
    for (n, user) in [(3u64, "ann"), (4, "bo")] {
        let s = format!("client:{user}");
        let token = format!("{user}tok8f2k9x3m7q");
        t.push(
            call(&s, "POST", "/auth/login")
                .json(json!({"email": format!("{user}@x.io"), "password": pseudonym(n)}))
                .reply(json!({"access_token": token, "user": {"id": n}})),
        );
        // Task ids collide with user ids on purpose: only `owner_id` counts.
        let task = token_id("tsk", n);
        t.push(
            call(&s, "GET", &format!("/tasks/{task}"))
                .bearer(&token)
                .reply(json!({"id": task, "owner_id": n, "assignee_id": 9})),
        );
    }
    let model = t.learn().model;
    let owners = &model.resource("tasks").unwrap().ownership.owners;
    assert_eq!(owners.iter().collect::<Vec<_>>(), [(&"field:owner_id".to_string(), &2)]);
}

#[test]
fn a_reader_in_another_role_does_not_make_an_instance_public() {
    let mut t = Traffic::new();
    let (ann, ann_token) = login(&mut t, "ann", "member");
    let (bo, bo_token) = login(&mut t, "bo", "member");
    let (sam, sam_token) = login(&mut t, "sam", "staff");
    let mut loans = Vec::new();
    for (s, token, n) in [(&ann, &ann_token, 1), (&bo, &bo_token, 2)] {
        let loan = token_id("lon", n);
        t.push(
            call(s, "POST", "/loans")
                .bearer(token)
                .json(json!({"book": "dune"}))
                .status(201)
                .reply(json!({"id": loan})),
        );
        t.push(call(s, "GET", &format!("/loans/{loan}")).bearer(token).reply(json!({"id": loan})));
        loans.push(json!({"id": loan}));
    }
    // Staff see every member's loans, in the list and one by one.
    t.push(call(&sam, "GET", "/loans").bearer(&sam_token).reply(json!(loans)));
    let first = token_id("lon", 1);
    t.push(
        call(&sam, "GET", &format!("/loans/{first}"))
            .bearer(&sam_token)
            .reply(json!({"id": first})),
    );
    let model = t.learn().model;
    let loans = model.resource("loans").expect("loans are a resource");
    assert_eq!(
        loans.ownership.visibility, None,
        "staff reading every loan says nothing of members"
    );

    // A member reading another member's loan does make it public.
    let mut t = recording();
    let (cy, cy_token) = login(&mut t, "cy", "member");
    let post = token_id("pst", 1);
    t.push(
        call(&cy, "GET", &format!("/posts/{post}")).bearer(&cy_token).reply(json!({"id": post})),
    );
    let model = t.learn().model;
    assert_eq!(model.resource("posts").unwrap().ownership.visibility.as_deref(), Some("public"));
}

#[test]
fn readers_in_a_larger_role_make_what_a_smaller_role_made_public() {
    // One librarian adds books; three members read them. Members are the
    // many, staff the few: the catalogue is public, not the librarian's.
    let mut t = Traffic::new();
    let (sam, sam_token) = login(&mut t, "sam", "staff");
    let members: Vec<(String, String)> =
        ["ann", "bo", "cy"].iter().map(|m| login(&mut t, m, "member")).collect();
    for n in 1..=2 {
        let book = token_id("bk", n);
        t.push(
            call(&sam, "POST", "/books").bearer(&sam_token).status(201).reply(json!({"id": book})),
        );
        for (s, token) in &members {
            t.push(
                call(s, "GET", &format!("/books/{book}")).bearer(token).reply(json!({"id": book})),
            );
        }
    }
    let model = t.learn().model;
    let books = model.resource("books").expect("books are a resource");
    assert_eq!(books.ownership.visibility.as_deref(), Some("public"));
}

/// `user` logs in; the answer says nothing of a role.
fn plain_login(t: &mut Traffic, user: &str) -> (String, String) {
    let s = format!("client:{user}");
    let token = format!("{user}tok8f2k9x3m7q");
    t.push(
        call(&s, "POST", "/login")
            .json(json!({"username": user, "password": pseudonym(1)}))
            .reply(json!({"token": token})),
    );
    (s, token)
}

#[test]
fn without_a_role_field_an_action_granted_to_some_and_forbidden_to_others_splits_roles() {
    let mut t = Traffic::new();
    let users: Vec<(String, String)> =
        ["ann", "bo", "sam"].iter().map(|u| plain_login(&mut t, u)).collect();
    let report = token_id("rpt", 1);
    for (k, (s, token)) in users.iter().enumerate() {
        t.push(call(s, "GET", "/articles").bearer(token).reply(json!([])));
        let status = if k == 2 { 200 } else { 403 };
        t.push(call(s, "POST", &format!("/reports/{report}/approve")).bearer(token).status(status));
    }
    let roles = t.learn().model.roles;
    let names: Vec<(&str, &str)> =
        roles.iter().map(|r| (r.name.as_str(), r.field.as_str())).collect();
    assert_eq!(names, [("privileged", ""), ("regular", "")]);
    assert_eq!(roles[0].users, ["sam"]);
    assert_eq!(roles[0].only, ["POST /reports/{report_id}/approve"]);
    assert_eq!(roles[1].users, ["ann", "bo"]);
}

#[test]
fn an_action_only_one_user_happened_to_perform_is_no_role() {
    // Nobody was refused: doing something others did not do is not a role.
    let mut t = Traffic::new();
    let users: Vec<(String, String)> =
        ["ann", "bo"].iter().map(|u| plain_login(&mut t, u)).collect();
    let report = token_id("rpt", 1);
    let (s, token) = &users[0];
    t.push(call(s, "POST", &format!("/reports/{report}/approve")).bearer(token));
    assert!(t.learn().model.roles.is_empty());

    // A user granted one such action and refused another: not two roles.
    let mut t = Traffic::new();
    let users: Vec<(String, String)> =
        ["ann", "bo"].iter().map(|u| plain_login(&mut t, u)).collect();
    for (k, path) in ["/reports/{id}/approve", "/reports/{id}/archive"].iter().enumerate() {
        let path = path.replace("{id}", &token_id("rpt", 1));
        for (j, (s, token)) in users.iter().enumerate() {
            let status = if j == k { 200 } else { 403 };
            t.push(call(s, "POST", &path).bearer(token).status(status));
        }
    }
    assert!(t.learn().model.roles.is_empty(), "{:?}", t.learn().model.roles);
}

#[test]
fn one_role_seen_at_two_places_is_one_role() {
    let mut t = Traffic::new();
    login(&mut t, "ann", "member");
    // Sam's login answers `{"user": {"role"}}`; Tia's profile answers `{"role"}`.
    let (sam, sam_token) = login(&mut t, "sam", "staff");
    let tia = "client:tia".to_string();
    t.push(
        call(&tia, "POST", "/login")
            .json(json!({"username": "tia", "password": pseudonym(2)}))
            .reply(json!({"token": "tiatok8f2k9x3m7q"})),
    );
    t.push(call(&tia, "GET", "/me").bearer("tiatok8f2k9x3m7q").reply(json!({"role": "staff"})));
    t.push(call(&sam, "GET", "/me").bearer(&sam_token).reply(json!({"name": "sam"})));
    let roles = t.learn().model.roles;
    let staff: Vec<_> = roles.iter().filter(|r| r.name == "staff").collect();
    assert_eq!(staff.len(), 1, "{roles:?}");
    assert_eq!(staff[0].users, ["sam", "tia"]);
}

/// Alice writes two articles and publishes them; bob reads each once
/// published. `member` holds the state; `noise` is another member.
fn published_and_read(member: &str, noise: Option<(&str, &str)>) -> Traffic {
    let mut t = Traffic::new();
    let (alice, alice_auth) = login(&mut t, "alice", "member");
    let (bob, bob_auth) = login(&mut t, "bob", "member");
    for n in 0..2 {
        let id = format!("art_{n}k3j9x2m7");
        let article = |state: &str| {
            let mut a = json!({"id": id, "author": "alice", member: state});
            if let Some((k, v)) = noise {
                a[k] = json!(v);
            }
            a
        };
        t.push(
            call(&alice, "POST", "/articles")
                .bearer(&alice_auth)
                .json(json!({"title": "t"}))
                .status(201)
                .reply(article("draft")),
        );
        t.push(
            call(&alice, "POST", &format!("/articles/{id}/publish"))
                .bearer(&alice_auth)
                .reply(article("published")),
        );
        t.push(
            call(&bob, "GET", &format!("/articles/{id}"))
                .bearer(&bob_auth)
                .reply(article("published")),
        );
    }
    t
}

#[test]
fn public_only_in_the_states_others_read_it_in_by_the_machines_own_field() {
    let articles = |t: Traffic| {
        let model = t.learn().model;
        model.resources.into_iter().find(|r| r.name == "articles").expect("articles").ownership
    };
    let plain = articles(published_and_read("status", None));
    assert_eq!(plain.visibility.as_deref(), Some("public"));
    assert_eq!(plain.public_in, ["published"]);
    // A constant `status` beside the machine's `state` names no state.
    let beside = articles(published_and_read("state", Some(("status", "ok"))));
    assert_eq!(beside.public_in, ["published"], "{beside:?}");
    // A machine field no read is known to show: public in any state.
    let other = articles(published_and_read("lifecycle", None));
    assert_eq!(other.visibility.as_deref(), Some("public"));
    assert!(other.public_in.is_empty(), "{other:?}");
}

/// Ann makes a private repository and a public one; with `named`, she adds
/// bo to the private one by name (`PUT …/members/bo`) before bo reads it;
/// bo reads both, cy (an outsider) the public one only. With
/// `all_public`, both are public.
fn repositories(named: bool, all_public: bool) -> Traffic {
    let mut t = Traffic::new();
    let (ann, ann_token) = plain_login(&mut t, "ann");
    let (bo, bo_token) = plain_login(&mut t, "bo");
    let (cy, cy_token) = plain_login(&mut t, "cy");
    let repo = |id: &str, visibility: &str| json!({"id": id, "visibility": visibility, "stars": 0});
    let (private, public) = (token_id("repo", 1), token_id("repo", 2));
    let hidden = if all_public { "public" } else { "private" };
    t.push(
        call(&ann, "POST", "/repos")
            .bearer(&ann_token)
            .json(json!({"visibility": hidden}))
            .status(201)
            .reply(repo(&private, hidden)),
    );
    t.push(
        call(&ann, "POST", "/repos")
            .bearer(&ann_token)
            .json(json!({"visibility": "public"}))
            .status(201)
            .reply(repo(&public, "public")),
    );
    if named {
        t.push(
            call(&ann, "PUT", &format!("/repos/{private}/members/bo"))
                .bearer(&ann_token)
                .json(json!({"role": "reader"}))
                .reply(json!({"repo": private, "member": "bo"})),
        );
    }
    for id in [&private, &public] {
        t.push(
            call(&bo, "GET", &format!("/repos/{id}"))
                .bearer(&bo_token)
                .reply(repo(id, if *id == private { hidden } else { "public" })),
        );
    }
    t.push(
        call(&cy, "GET", &format!("/repos/{public}"))
            .bearer(&cy_token)
            .reply(repo(&public, "public")),
    );
    t
}

#[test]
fn a_visibility_field_others_read_by_says_which_instances_are_public() {
    let model = repositories(true, false).learn().model;
    let ownership = &model.resource("repos").expect("repos").ownership;
    assert_eq!(ownership.visibility.as_deref(), Some("public"));
    let by: Vec<(&str, Vec<&str>)> = ownership
        .public_by
        .iter()
        .map(|(m, v)| (m.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(by, [("visibility", vec!["public"])], "bo was let in by name: {ownership:?}");
}

#[test]
fn a_reader_not_named_or_no_other_value_leaves_visibility_by_field_unknown() {
    // Bo read the private one without being named: anyone may, it seems.
    let unnamed = repositories(false, false).learn().model;
    let ownership = &unnamed.resource("repos").expect("repos").ownership;
    assert_eq!(ownership.visibility.as_deref(), Some("public"));
    assert!(ownership.public_by.is_empty(), "{ownership:?}");
    // Every repository public: the field tells no instance apart.
    let all_public = repositories(true, true).learn().model;
    let ownership = &all_public.resource("repos").expect("repos").ownership;
    assert!(ownership.public_by.is_empty(), "{ownership:?}");
}
