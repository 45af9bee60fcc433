//! Resource identity and parameter names: a resource is its collection
//! path, and a parameter is named after what it holds — the field that
//! produced it or the collection before it — never after a version or
//! other literal segment.

mod common;

use common::{action_ids, call, signups_then_profiles, Traffic};
use serde_json::json;
use venomqa_learner::render_openapi;

/// Two collections under one version segment, with small integer ids that
/// collide (person 1 and note 1).
fn versioned_traffic() -> Traffic {
    let mut t = Traffic::new();
    for (s, n) in [("x-session:a", 1), ("x-session:b", 2), ("x-session:c", 3)] {
        t.push(call(s, "POST", "/people/v2").status(201).reply(json!({"id": n, "name": "Ann"})));
        t.push(call(s, "GET", &format!("/people/v2/{n}")).reply(json!({"id": n, "name": "Ann"})));
        t.push(call(s, "POST", "/notes/v2").status(201).reply(json!({"id": n, "text": "hi"})));
        t.push(call(s, "GET", &format!("/notes/v2/{n}")).reply(json!({"id": n, "text": "hi"})));
        t.push(call(s, "DELETE", &format!("/notes/v2/{n}")).status(204));
    }
    t
}

#[test]
fn a_version_segment_never_names_a_parameter_or_a_resource() {
    let learned = versioned_traffic().learn();
    let ids = action_ids(&learned);
    assert!(ids.iter().all(|id| !id.contains("v2_id")), "{ids:?}");
    assert!(ids.contains(&"GET /people/v2/{people_id}".to_string()), "{ids:?}");
    assert!(ids.contains(&"DELETE /notes/v2/{note_id}".to_string()), "{ids:?}");
    let model = &learned.model;
    let people = model.resources.iter().find(|r| r.collection == "/people/v2").unwrap();
    let notes = model.resources.iter().find(|r| r.collection == "/notes/v2").unwrap();
    assert_eq!((people.name.as_str(), people.id_param.as_str()), ("people", "people_id"));
    assert_eq!((notes.name.as_str(), notes.id_param.as_str()), ("notes", "note_id"));
    assert_eq!(notes.delete, ["DELETE /notes/v2/{note_id}"]);
    assert!(people.delete.is_empty(), "a note's delete is not a person's");
}

#[test]
fn collections_under_an_api_prefix_are_distinct_resources() {
    let mut t = Traffic::new();
    for (s, n) in [("x-session:a", 1), ("x-session:b", 1), ("x-session:c", 2)] {
        t.push(call(s, "POST", "/api/v1/books").status(201).reply(json!({"id": n})));
        t.push(call(s, "POST", "/api/v1/loans").status(201).reply(json!({"id": n})));
        t.push(call(s, "GET", &format!("/api/v1/books/{n}")).reply(json!({"id": n})));
        t.push(call(s, "GET", &format!("/api/v1/loans/{n}")).reply(json!({"id": n})));
    }
    let model = t.learn().model;
    let names: Vec<(&str, &str, &str)> = model
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.collection.as_str(), r.id_param.as_str()))
        .collect();
    assert_eq!(
        names,
        [("books", "/api/v1/books", "book_id"), ("loans", "/api/v1/loans", "loan_id")]
    );
}

#[test]
fn a_key_the_client_chose_at_sign_up_names_the_parameter() {
    let t = signups_then_profiles();
    let learned = t.learn();
    let ids = action_ids(&learned);
    assert_eq!(
        ids,
        ["GET /people/v2/{username}", "PUT /people/v2/{username}", "POST /signup"],
        "a word the sign-up sent is a value, named after its field"
    );
    let openapi = render_openapi(&learned.model);
    assert!(
        openapi["paths"].get("/people/v2/{username}").is_some(),
        "the OpenAPI view uses the same name"
    );
}

#[test]
fn a_word_sent_at_the_root_stays_literal() {
    // A create that sends `{"name": "reports"}` does not turn `/reports`
    // into a parameter: a client-chosen key names an instance inside a
    // collection, never the collection itself.
    let mut t = Traffic::new();
    for s in ["x-session:a", "x-session:b"] {
        t.push(call(s, "POST", "/exports").json(json!({"name": "reports"})).status(201));
        t.push(call(s, "GET", "/reports").reply(json!([])));
    }
    assert_eq!(action_ids(&t.learn()), ["POST /exports", "GET /reports"]);
}

#[test]
fn two_collections_never_share_a_field_given_name() {
    let mut t = Traffic::new();
    for (s, slug) in [("x-session:a", "intro"), ("x-session:b", "setup")] {
        t.push(call(s, "POST", "/posts").status(201).reply(json!({"slug": slug})));
        t.push(call(s, "GET", &format!("/posts/{slug}")).reply(json!({"slug": slug})));
        t.push(call(s, "POST", "/pages").status(201).reply(json!({"slug": slug})));
        t.push(call(s, "GET", &format!("/pages/{slug}")).reply(json!({"slug": slug})));
    }
    let model = t.learn().model;
    let params: Vec<&str> = model.resources.iter().map(|r| r.id_param.as_str()).collect();
    assert_eq!(params.len(), 2);
    assert_ne!(params[0], params[1], "{params:?}");
    assert!(params.contains(&"slug"), "{params:?}");
}

#[test]
fn a_slug_the_client_chose_names_the_parameter_even_with_a_location() {
    // The create answers `Location: /api/v1/books/dune`: the `slug` the
    // request sent says more than the location's bare id.
    let mut t = Traffic::new();
    for (s, slug) in [("x-session:a", "dune"), ("x-session:b", "emma")] {
        t.push(
            call(s, "POST", "/api/v1/books")
                .json(json!({"slug": slug, "title": "A book"}))
                .status(201)
                .reply_header("Location", &format!("/api/v1/books/{slug}")),
        );
        t.push(call(s, "GET", &format!("/api/v1/books/{slug}")).reply(json!({"title": "A book"})));
    }
    let model = t.learn().model;
    let books = model.resource("books").unwrap();
    assert_eq!((books.collection.as_str(), books.id_param.as_str()), ("/api/v1/books", "slug"));
    assert_eq!(books.ownership.created, 2);
}
