//! The second sample, the library, learned from its QA traffic recorded
//! through the real proxy: its model is checked field by field, because the
//! library is shaped so that rules fitted to the shop get it wrong (cookie
//! sessions, colliding small ids, slugs, a versioned prefix, a singleton,
//! children without a read, a nested login by email that can fail with 200).

use venomqa_learner::{learn, LearnOptions, Location, Model};
use venomqa_samples::{spawn_library, LibraryBugSet, LibraryConfig};
use venomqa_testkit::record_library_sessions;

async fn library_model() -> Model {
    let library = spawn_library(LibraryConfig { bugs: LibraryBugSet::none(), tls: None })
        .await
        .expect("start the library");
    let exchanges = record_library_sessions(&library.base_url(), 12, 7).await;
    library.shutdown().await;
    learn(|| exchanges.clone().into_iter(), &LearnOptions::default()).expect("learn").model
}

/// The producer of the path parameter `param` of `consumer`.
fn path_producer<'m>(model: &'m Model, consumer: &str, param: &str) -> Vec<&'m str> {
    let to = Location::Path { name: param.into() };
    model
        .links
        .iter()
        .filter(|l| l.consumer == consumer && l.to == to)
        .map(|l| l.producer.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_model_is_right_field_by_field() {
    let model = library_model().await;

    // Resources by collection path, parameters named by what they hold.
    let resources: Vec<(&str, &str)> =
        model.resources.iter().map(|r| (r.collection.as_str(), r.id_param.as_str())).collect();
    for expected in
        [("/api/v1/books", "slug"), ("/api/v1/holds", "hold_id"), ("/api/v1/loans", "loan_id")]
    {
        assert!(resources.contains(&expected), "{expected:?} missing from {resources:?}");
    }
    assert!(
        model.actions.iter().all(|a| !a.template.contains("v1_id") && !a.template.contains("{v1")),
        "a version never names a parameter"
    );

    // Ids 1, 2, 3 collide between loans and holds: each links to its own create.
    let hold = path_producer(&model, "GET /api/v1/holds/{hold_id}", "hold_id");
    assert_eq!(hold, ["POST /api/v1/holds"], "holds come from their create");
    let loan = path_producer(&model, "GET /api/v1/loans/{loan_id}", "loan_id");
    assert_eq!(loan, ["POST /api/v1/loans"], "loans come from their create");

    // A slug the client chose names what its create made.
    let books = model.resources.iter().find(|r| r.collection == "/api/v1/books").unwrap();
    assert_eq!(books.create.as_deref(), Some("POST /api/v1/books"));
    let slug = path_producer(&model, "DELETE /api/v1/books/{slug}", "slug");
    assert_eq!(slug, ["POST /api/v1/books"]);

    // Owners are their creators; members' loans are not made public by staff reads.
    for name in ["holds", "loans"] {
        let r = model.resources.iter().find(|r| r.collection == format!("/api/v1/{name}")).unwrap();
        assert!(r.ownership.owners.contains_key("creator"), "{name}: {:?}", r.ownership);
        assert_ne!(r.ownership.visibility.as_deref(), Some("public"), "{name}");
    }
    // The catalogue staff add is every member's to read.
    assert_eq!(books.ownership.visibility.as_deref(), Some("public"));

    // Authentication: cookie sessions, a nested login by email that can fail with 200.
    let auth = &model.auth;
    assert_eq!(auth.login.as_deref(), Some("POST /api/v1/session"));
    assert_eq!(auth.logout.as_deref(), Some("DELETE /api/v1/session"));
    assert_eq!(auth.account.as_deref(), Some("/member/email"));
    assert!(auth.credentials.iter().any(|c| c == "/member/password"), "{:?}", auth.credentials);
    assert_eq!(auth.scheme.as_deref(), Some("cookie:sid"));
    let failed = auth.failed_login.as_ref().expect("the failed 200 logins are told apart");
    assert!(failed.statuses.contains_key(&200), "{failed:?}");
    assert!(failed.fields.contains_key("/ok"), "{failed:?}");

    // Staff-only actions belong to the staff role.
    let staff: Vec<&str> = model
        .roles
        .iter()
        .filter(|r| r.name == "staff")
        .flat_map(|r| r.only.iter().map(String::as_str))
        .collect();
    assert!(staff.contains(&"POST /api/v1/books"), "{:?}", model.roles);
    assert!(staff.contains(&"POST /api/v1/desk/pickups"), "{:?}", model.roles);

    // One staff role, whether its users' role showed in a login or a profile.
    let staff_roles: Vec<_> = model.roles.iter().filter(|r| r.name == "staff").collect();
    assert_eq!(staff_roles.len(), 1, "{:?}", model.roles);
    assert_eq!(staff_roles[0].users, ["desk@library.test", "librarian@library.test"]);

    // Withdrawing a book is a soft delete: a transition of its status, seen
    // only in the filtered list, not "gone"; copies added in between have a
    // status of their own that is not the book's.
    let books = model.machine("books").expect("books have a machine");
    assert_eq!(books.field.as_deref(), Some("status"), "{books:#?}");
    assert!(books.has_transition("available", "DELETE /api/v1/books/{slug}", "withdrawn"));
    assert!(books.states.iter().all(|s| s.name != "on_shelf"), "{books:#?}");
    let holds = model.machine("holds").expect("holds have a machine");
    assert!(holds.has_transition("ready", "POST /api/v1/holds/{hold_id}/cancel", "cancelled"));
    let loans = model.machine("loans").expect("loans have a machine");
    assert!(loans.has_transition("active", "POST /api/v1/loans/{loan_id}/return", "returned"));

    // Reading lists move from draft to published; their items are children
    // read only through the list.
    let lists = model.machine("lists").expect("reading lists have a machine");
    assert_eq!(lists.field.as_deref(), Some("status"), "{lists:#?}");
    let publish = "POST /api/v1/lists/{list_id}/publish";
    assert!(lists.has_transition("draft", publish, "published"), "{lists:#?}");
    let items = model.children.iter().find(|c| c.collection.ends_with("/items"));
    let items = items.unwrap_or_else(|| panic!("list items are children: {:?}", model.children));
    assert_eq!(items.read_through.as_deref(), Some("GET /api/v1/lists/{list_id}"));
    assert!(staff.contains(&"POST /api/v1/books/{slug}/feature"), "{:?}", model.roles);

    // A per-user singleton with an ETag, and copies read only through their book.
    let prefs = model.singletons.iter().find(|s| s.path == "/api/v1/me/preferences");
    assert!(prefs.is_some_and(|s| s.etag), "{:?}", model.singletons);
    let copies = model.children.iter().find(|c| c.collection.ends_with("/copies"));
    let copies = copies.unwrap_or_else(|| panic!("copies are children: {:?}", model.children));
    assert_eq!(copies.read_through.as_deref(), Some("GET /api/v1/books/{slug}"));
}
