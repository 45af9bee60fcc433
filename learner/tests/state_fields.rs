//! Which field is an instance's state: one that changes within an instance
//! over time, never one constant per instance, and changes made by bodiless
//! actions count when a later read or list shows them.

mod common;

use common::{call, token_id, Traffic};
use serde_json::json;
use venomqa_learner::StateBasis;

/// A note as the API shows it.
fn note(id: &str, owner: &str, status: &str) -> serde_json::Value {
    json!({"id": id, "owner": owner, "status": status, "title": "groceries"})
}

/// Each user creates a note, reads it, deletes it (a bodiless `204`), finds
/// its read answering `404`, and sees it again only in the list filtered by
/// `status=closed`: a soft delete.
fn soft_deleted_notes() -> Traffic {
    let mut t = Traffic::new();
    for (n, user) in ["alice", "bob", "carol"].iter().enumerate() {
        let s = format!("cookie:{user}");
        let id = token_id("note", n as u64);
        let path = format!("/notes/{id}");
        t.push(
            call(&s, "POST", "/notes")
                .json(json!({"title": "groceries"}))
                .status(201)
                .reply(note(&id, user, "open")),
        );
        t.push(call(&s, "GET", &path).reply(note(&id, user, "open")));
        t.push(call(&s, "DELETE", &path).status(204));
        t.push(call(&s, "GET", &path).status(404).reply(json!({"error": "not found"})));
        t.push(
            call(&s, "GET", "/notes?status=closed")
                .reply(json!({"items": [note(&id, user, "closed")]})),
        );
    }
    t
}

#[test]
fn a_soft_delete_seen_only_in_a_filtered_list_is_a_transition_of_status_not_owner() {
    let model = soft_deleted_notes().learn().model;
    let machine = model.machine("notes").expect("a machine for notes");
    assert_eq!(machine.basis, StateBasis::Field);
    assert_eq!(machine.field.as_deref(), Some("status"), "owner is constant per note");
    assert!(machine.has_transition("open", "DELETE /notes/{note_id}", "closed"), "{machine:#?}");
    assert!(!machine.has_transition("open", "DELETE /notes/{note_id}", "deleted"));
    // The read refused after the delete was refused in `closed`.
    let state = |name: &str| machine.states.iter().find(|s| s.name == name);
    let closed = state("closed").expect("a closed state");
    assert_eq!(closed.rejected.get("GET /notes/{note_id}"), Some(&3), "{machine:#?}");
    assert!(state("deleted").is_none_or(|d| d.rejected.is_empty()), "{machine:#?}");
}

#[test]
fn a_status_named_field_constant_per_instance_is_not_the_state() {
    let mut t = Traffic::new();
    for (n, status) in ["active", "archived", "active", "archived"].iter().enumerate() {
        let s = format!("x-session:{n}");
        let id = token_id("wid", n as u64);
        let path = format!("/widgets/{id}");
        let widget = |name: &str| json!({"id": id, "status": status, "name": name});
        t.push(
            call(&s, "POST", "/widgets").json(json!({"name": "a"})).status(201).reply(widget("a")),
        );
        t.push(call(&s, "PUT", &path).json(json!({"name": "b"})).reply(widget("b")));
        t.push(call(&s, "DELETE", &path).status(204));
        t.push(call(&s, "GET", &path).status(404));
    }
    let model = t.learn().model;
    let machine = model.machine("widgets").expect("a machine for widgets");
    assert_eq!(machine.basis, StateBasis::LastAction, "{machine:#?}");
    assert_eq!(machine.field, None);
}

#[test]
fn a_bodiless_command_whose_effect_shows_in_a_later_list_is_a_transition() {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("x-session:{n}");
        let id = token_id("tkt", n);
        let ticket = |status: &str| json!({"id": id, "status": status});
        t.push(call(&s, "POST", "/tickets").status(201).reply(ticket("open")));
        t.push(call(&s, "POST", &format!("/tickets/{id}/close")).status(204));
        t.push(call(&s, "GET", "/tickets").reply(json!([ticket("closed")])));
    }
    let model = t.learn().model;
    let machine = model.machine("tickets").expect("a machine for tickets");
    assert_eq!(machine.field.as_deref(), Some("status"));
    assert!(machine.has_transition("open", "POST /tickets/{ticket_id}/close", "closed"));
}

/// Boards keyed by a slug the client chose; each gets items (children whose
/// create answers the item, with a `status` of its own), then is archived by
/// a bodiless `DELETE` that only the filtered list shows.
fn boards_with_items_archived() -> Traffic {
    let mut t = Traffic::new();
    for (n, name) in ["roadmap", "bugs", "ideas"].iter().enumerate() {
        let s = format!("cookie:user{n}");
        let board = |status: &str| json!({"slug": name, "title": name, "status": status});
        t.push(
            call(&s, "POST", "/boards")
                .json(json!({"slug": name, "title": name}))
                .status(201)
                .reply(board("active")),
        );
        for k in 0..2u64 {
            let item = json!({"id": 10 * n as u64 + k, "text": "x", "status": "todo"});
            t.push(
                call(&s, "POST", &format!("/boards/{name}/items"))
                    .json(json!({"text": "x"}))
                    .status(201)
                    .reply(item),
            );
        }
        t.push(call(&s, "DELETE", &format!("/boards/{name}")).status(204));
        t.push(
            call(&s, "GET", "/boards?status=archived")
                .reply(json!({"boards": [board("archived")]})),
        );
    }
    t
}

#[test]
fn a_child_created_in_between_neither_lends_its_status_nor_hides_the_parents() {
    let model = boards_with_items_archived().learn().model;
    let machine = model.machine("boards").expect("a machine for boards");
    assert_eq!(machine.field.as_deref(), Some("status"), "{machine:#?}");
    assert!(
        machine.has_transition("active", "DELETE /boards/{slug}", "archived"),
        "the archive is a transition of the board's status: {machine:#?}"
    );
    let names: Vec<&str> = machine.states.iter().map(|s| s.name.as_str()).collect();
    assert!(!names.contains(&"todo"), "an item's status is not the board's: {names:?}");
}

/// Each user pays and then cancels an order in one session while a second
/// session of theirs (or, with `same_session`, the same one) lists their
/// orders. The store orders exchanges by when they were captured, so with
/// `overlapping` the list, taken while the pay was still running, comes
/// after the pay and shows the order `open`.
fn paid_then_cancelled_while_listed(overlapping: bool, same_session: bool) -> Traffic {
    let mut t = Traffic::new();
    for (n, user) in ["alice", "bob", "carol"].iter().enumerate() {
        let s = format!("cookie:{user}");
        let other = if same_session { s.clone() } else { format!("cookie:{user}-tab") };
        let id = token_id("ord", n as u64);
        let path = format!("/orders/{id}");
        let order = |status: &str| json!({"id": id, "status": status, "total": 5});
        t.push(
            call(&s, "POST", "/orders").json(json!({"total": 5})).status(201).reply(order("open")),
        );
        let pay = t.push(call(&s, "POST", &format!("{path}/pay")).reply(order("paid")));
        let list = t.push(call(&other, "GET", "/orders").reply(json!({"items": [order("open")]})));
        if overlapping {
            let pay = &t.exchanges[(pay - 1_000) as usize];
            let started = pay.started_at + pay.duration_ns / 2;
            t.exchanges[(list - 1_000) as usize].started_at = started;
        }
        t.push(call(&s, "POST", &format!("{path}/cancel")).reply(order("cancelled")));
    }
    t
}

#[test]
fn a_read_that_overlapped_a_change_does_not_move_the_state_back() {
    let model = paid_then_cancelled_while_listed(true, false).learn().model;
    let machine = model.machine("orders").expect("a machine for orders");
    assert_eq!(machine.field.as_deref(), Some("status"));
    let cancel = "POST /orders/{order_id}/cancel";
    assert!(machine.has_transition("paid", cancel, "cancelled"), "{machine:#?}");
    assert!(!machine.has_transition("open", cancel, "cancelled"), "{machine:#?}");
}

#[test]
fn a_read_that_started_after_a_change_shows_the_state_it_is_in() {
    // The same list, started once the pay had ended: its `open` is news (a
    // pay the server undid), and the cancel then starts from it.
    let model = paid_then_cancelled_while_listed(false, false).learn().model;
    let machine = model.machine("orders").expect("a machine for orders");
    let cancel = "POST /orders/{order_id}/cancel";
    assert!(machine.has_transition("open", cancel, "cancelled"), "{machine:#?}");
}

#[test]
fn a_sessions_own_read_moves_the_state_even_when_a_coarse_clock_starts_it_early() {
    // A HAR's millisecond times can start a read before the write it
    // followed ended; a session's own reads come after its writes.
    let model = paid_then_cancelled_while_listed(true, true).learn().model;
    let machine = model.machine("orders").expect("a machine for orders");
    let cancel = "POST /orders/{order_id}/cancel";
    assert!(machine.has_transition("open", cancel, "cancelled"), "{machine:#?}");
}
