//! Dependencies between journeys: an instance one session made (its create
//! answered the id, or its request chose the key) that another session
//! found by itself (in a list, or named by the key) had to exist first.
//! The using journey records how far the making one had got, so replay
//! runs that much of it first; a seeded instance, first seen in a read,
//! is no one's making.

mod common;

use common::{call, Traffic};
use serde_json::json;
use venomqa_learner::Model;

fn journey<'m>(model: &'m Model, session: &str) -> (usize, &'m venomqa_learner::Journey) {
    let i = model.journeys.iter().position(|j| j.session == session).expect(session);
    (i, &model.journeys[i])
}

/// Staff add two books (slugs they choose) and a copy of each; a member
/// then lists the books and borrows one by the slug the list showed. The
/// list also shows a book the shop was seeded with.
fn staff_then_member() -> Traffic {
    let mut t = Traffic::new();
    let staff = "x-session:staff";
    let member = "x-session:member";
    t.push(
        call(staff, "POST", "/session")
            .json(json!({"email": "s@x.test"}))
            .reply(json!({"ok": true})),
    );
    for slug in ["kindred-q7", "piranesi-q7"] {
        let book = json!({"slug": slug, "title": slug});
        t.push(call(staff, "POST", "/books").json(book.clone()).status(201).reply(book));
        let path = format!("/books/{slug}/copies");
        t.push(call(staff, "POST", &path).status(201).reply(json!({"id": 3})));
    }
    t.push(
        call(member, "POST", "/session")
            .json(json!({"email": "m@x.test"}))
            .reply(json!({"ok": true})),
    );
    let list = json!({"books": [{"slug": "seeded-classic"}, {"slug": "kindred-q7"}, {"slug": "piranesi-q7"}]});
    t.push(call(member, "GET", "/books").reply(list));
    t.push(
        call(member, "POST", "/loans")
            .json(json!({"book": "piranesi-q7"}))
            .status(201)
            .reply(json!({"id": "ln_8f2k9x", "book": "piranesi-q7"})),
    );
    // Staff go on after the member's loan: none of that was needed.
    t.push(call(staff, "GET", "/loans").reply(json!({"loans": []})));
    t
}

#[test]
fn a_member_borrowing_a_book_found_in_a_list_depends_on_the_staff_who_added_it() {
    let model = staff_then_member().learn().model;
    let (staff, _) = journey(&model, "x-session:staff");
    let (_, member) = journey(&model, "x-session:member");
    assert_eq!(member.depends_on.len(), 1, "{:?}", member.depends_on);
    let d = &member.depends_on[0];
    assert_eq!(d.journey, staff);
    // The loan (step 2) used the book; the staff had made 5 requests by then.
    assert_eq!((d.step, d.after_steps), (2, 5));
    let text = venomqa_learner::render_text(&model);
    let line = format!("from step 2  ⇐  the first 5 steps of journey {staff}");
    assert!(text.contains("journeys using instances other journeys made (1)"), "{text}");
    assert!(text.contains(&line), "{text}");
}

#[test]
fn the_maker_itself_and_a_seeded_instance_make_no_dependency() {
    let model = staff_then_member().learn().model;
    let (_, staff) = journey(&model, "x-session:staff");
    assert!(staff.depends_on.is_empty(), "{:?}", staff.depends_on);

    // The member borrows the seeded book: no session made it.
    let mut t = Traffic::new();
    let member = "x-session:member";
    t.push(
        call("x-session:staff", "POST", "/books")
            .json(json!({"slug": "kindred-q7"}))
            .status(201)
            .reply(json!({"slug": "kindred-q7"})),
    );
    t.push(call(member, "GET", "/books").reply(json!({"books": [{"slug": "seeded-classic"}]})));
    t.push(
        call(member, "POST", "/loans")
            .json(json!({"book": "seeded-classic"}))
            .status(201)
            .reply(json!({"id": "ln_8f2k9x"})),
    );
    let model = t.learn().model;
    let (_, member) = journey(&model, member);
    assert!(member.depends_on.is_empty(), "{:?}", member.depends_on);
}

#[test]
fn a_key_typed_by_another_session_depends_on_its_maker_and_binds_nothing() {
    // The member types the slug (no list read): nothing of the member's
    // own produced it, so it is not bound, yet the book had to exist.
    let mut t = Traffic::new();
    let slugs = [
        "kindred-q7",
        "piranesi-q7",
        "beloved-q7",
        "middlemarch-q7",
        "emma-q7",
        "ulysses-q7",
        "dracula-q7",
        "walden-q7",
    ];
    for (n, slug) in slugs.iter().enumerate() {
        let book = json!({"slug": slug});
        let staff = format!("x-session:staff{n}");
        t.push(call(&staff, "POST", "/books").json(book.clone()).status(201).reply(book.clone()));
        let member = format!("x-session:member{n}");
        let reviews = format!("/books/{slug}/reviews");
        t.push(call(&member, "GET", &reviews).reply(json!({"reviews": []})));
    }
    let model = t.learn().model;
    let actions: Vec<&str> = model.actions.iter().map(|a| a.id.as_str()).collect();
    // Another session made each slug: the parameter is named by its field.
    assert!(actions.contains(&"GET /books/{slug}/reviews"), "{actions:?}");
    let (staff, _) = journey(&model, "x-session:staff0");
    let (_, member) = journey(&model, "x-session:member0");
    assert_eq!(member.depends_on.len(), 1, "{:?}", member.depends_on);
    assert_eq!((member.depends_on[0].journey, member.depends_on[0].after_steps), (staff, 1));
    assert!(member.consumes.is_empty(), "{:?}", member.consumes);
    assert!(member.steps[0].bindings.is_empty(), "{:?}", member.steps[0].bindings);
}
