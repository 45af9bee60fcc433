//! Keys the client chose: a value sent in a create or sign-up request
//! (JSON body, nested one level, form or query) that later names an
//! instance in a path links to that request, which created the instance.

mod common;

use common::{call, pseudonym, signups_then_profiles, Traffic};
use serde_json::json;
use venomqa_learner::{Link, Location, Model};

fn link_into<'m>(model: &'m Model, consumer: &'m str) -> &'m Link {
    model.links_into(consumer).next().unwrap_or_else(|| panic!("no link into {consumer}"))
}

#[test]
fn a_username_chosen_at_sign_up_names_the_user_it_created() {
    let t = signups_then_profiles();
    let model = t.learn().model;
    let link = link_into(&model, "GET /people/v2/{username}");
    assert_eq!(link.to, Location::Path { name: "username".into() });
    assert_eq!((link.producer.as_str(), link.status), ("POST /signup", 201));
    assert_eq!(link.from, Location::Body { pointer: "/user/username".into() });
    assert!(link.from_request, "the value was in the sign-up's request");
    assert!(!link.cross_session);
    let people = model.resource("people").unwrap();
    assert_eq!(people.create.as_deref(), Some("POST /signup"), "sign-up creates a user");
    assert_eq!((people.ownership.instances, people.ownership.created), (3, 3));
}

#[test]
fn a_slug_sent_in_a_create_without_an_id_in_its_answer_names_its_instance() {
    let mut t = Traffic::new();
    for (s, slug) in [("x-session:a", "road-map"), ("x-session:b", "launch")] {
        t.push(
            call(s, "POST", "/boards")
                .json(json!({"slug": slug, "title": "A board"}))
                .status(201)
                .reply(json!({"ok": true})),
        );
        t.push(call(s, "GET", &format!("/boards/{slug}")).reply(json!({"title": "A board"})));
        t.push(call(s, "DELETE", &format!("/boards/{slug}")).status(204));
    }
    let model = t.learn().model;
    let boards = model.resource("boards").unwrap();
    assert_eq!(boards.id_param, "slug");
    assert_eq!(boards.create.as_deref(), Some("POST /boards"));
    assert_eq!((boards.ownership.instances, boards.ownership.created), (2, 2));
    let link = link_into(&model, "DELETE /boards/{slug}");
    assert_eq!(link.producer, "POST /boards");
    assert_eq!(link.from, Location::Body { pointer: "/slug".into() });
    assert!(link.from_request);
}

#[test]
fn a_key_sent_in_a_form_sign_up_counts_too() {
    let mut t = Traffic::new();
    for user in ["dave", "erin"] {
        let s = format!("x-session:{user}");
        let form = format!("username={user}&password=~r%3Aabc");
        t.push(
            call(&s, "POST", "/register")
                .raw("application/x-www-form-urlencoded", form.as_bytes())
                .status(303),
        );
        t.push(call(&s, "GET", &format!("/members/{user}")).reply(json!({"bio": ""})));
    }
    let model = t.learn().model;
    let link = link_into(&model, "GET /members/{username}");
    assert_eq!(link.producer, "POST /register");
    assert_eq!(link.from, Location::Body { pointer: "/username".into() });
    assert!(link.from_request);
    assert_eq!(model.resource("members").unwrap().create.as_deref(), Some("POST /register"));
}

#[test]
fn a_login_that_names_an_existing_account_creates_nothing() {
    // The users exist before the recording: logging in with a username and
    // then reading that user's profile must not count as creating it.
    let mut t = Traffic::new();
    for (n, user) in ["alice", "bob"].iter().enumerate() {
        let s = format!("x-session:{user}");
        t.push(
            call(&s, "POST", "/login")
                .json(json!({"username": user, "password": pseudonym(n as u64)}))
                .reply(json!({"token": pseudonym(10 + n as u64)})),
        );
        t.push(call(&s, "GET", &format!("/people/{user}")).reply(json!({"bio": ""})));
    }
    let model = t.learn().model;
    let people = model.resources.iter().find(|r| r.collection == "/people").unwrap();
    assert_eq!(people.id_param, "username", "the login's field still names the parameter");
    assert_eq!(people.create, None);
    assert_eq!(people.ownership.created, 0);
}

#[test]
fn a_chosen_key_is_linked_but_never_bound_in_a_journey() {
    // Replay rebinds values from live responses; a value that was only in
    // a request stays as recorded, so the journey has no binding for it.
    let mut t = Traffic::new();
    for user in ["alice", "bob"] {
        let s = format!("x-session:{user}");
        t.push(
            call(&s, "POST", "/signup")
                .json(json!({"username": user}))
                .status(201)
                .reply(json!({"username": user, "id": format!("usr_{user}9x8y7z")})),
        );
        t.push(call(&s, "GET", &format!("/people/{user}")).reply(json!({"bio": ""})));
    }
    let model = t.learn().model;
    let link = link_into(&model, "GET /people/{username}");
    assert!(link.from_request, "the response's echo of the request is no production");
    for journey in &model.journeys {
        assert!(journey.steps[1].bindings.is_empty(), "{journey:?}");
    }
}

#[test]
fn a_put_that_answered_created_creates_at_the_key_the_client_chose() {
    let mut t = Traffic::new();
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let s = format!("x-session:{n}");
        for round in 0..3 {
            let slug = format!("{user}-notes-{round}");
            let space = json!({"slug": slug, "title": "notes", "owner": user});
            t.push(
                call(&s, "PUT", &format!("/spaces/{slug}"))
                    .json(json!({"title": "notes"}))
                    .status(201)
                    .reply(space.clone()),
            );
            t.push(call(&s, "GET", &format!("/spaces/{slug}")).reply(space.clone()));
            t.push(
                call(&s, "PUT", &format!("/spaces/{slug}"))
                    .json(json!({"title": "renamed"}))
                    .reply(space),
            );
        }
    }
    let model = t.learn().model;
    let spaces = model.resources.iter().find(|r| r.name == "spaces").expect("spaces");
    assert_eq!(spaces.create.as_deref(), Some("PUT /spaces/{slug}"));
    assert_eq!(spaces.update, ["PUT /spaces/{slug}"]);
    assert_eq!(spaces.ownership.created, 6, "{:?}", spaces.ownership);
}
