//! Instances without an id of their own: per-user singletons (`/me/…`), and
//! children created under a parent that are read only through it.

mod common;

use common::{call, pseudonym, token_id, Traffic};
use serde_json::json;

fn singletons_recording() -> Traffic {
    let mut t = Traffic::new();
    for n in 0..2u64 {
        let s = format!("client:{n}");
        let token = format!("tok{n}k3j8x2m9q4");
        t.push(
            call(&s, "POST", "/login")
                .json(json!({"username": format!("u{n}"), "password": pseudonym(n)}))
                .reply(json!({"token": token})),
        );
        let etag = format!("\"v{n}\"");
        t.push(
            call(&s, "GET", "/me/settings")
                .bearer(&token)
                .reply_header("ETag", &etag)
                .reply(json!({"theme": "dark"})),
        );
        t.push(
            call(&s, "PUT", "/me/settings")
                .bearer(&token)
                .header("If-Match", &etag)
                .json(json!({"theme": "light"}))
                .reply(json!({"theme": "light"})),
        );
        // The same for everyone, never written: not known to be per user.
        t.push(call(&s, "GET", "/feed").bearer(&token).reply(json!({"title": "news"})));
        // A collection is not a singleton.
        let id = token_id("ord", n);
        t.push(
            call(&s, "POST", "/orders")
                .bearer(&token)
                .json(json!({"sku": "a"}))
                .status(201)
                .reply(json!({"id": id})),
        );
        t.push(call(&s, "GET", "/orders").bearer(&token).reply(json!({"items": [{"id": id}]})));
    }
    t
}

#[test]
fn a_path_without_an_id_read_and_written_by_each_user_is_a_singleton() {
    let model = singletons_recording().learn().model;
    let paths: Vec<&str> = model.singletons.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["/me/settings"], "{:#?}", model.singletons);
    let settings = &model.singletons[0];
    assert_eq!(settings.read, ["GET /me/settings"]);
    assert_eq!(settings.write, ["PUT /me/settings"]);
    assert!(settings.etag);
}

fn playlists_recording() -> Traffic {
    let mut t = Traffic::new();
    for n in 0..3u64 {
        let s = format!("x-session:{n}");
        let id = token_id("pl", n);
        let path = format!("/playlists/{id}");
        t.push(call(&s, "POST", "/playlists").status(201).reply(json!({"id": id, "tracks": []})));
        t.push(
            call(&s, "POST", &format!("{path}/tracks"))
                .json(json!({"song": "a"}))
                .status(201)
                .reply(json!({"song": "a"})),
        );
        t.push(
            call(&s, "POST", &format!("{path}/play")).json(json!({"volume": 3})).reply(json!({})),
        );
        t.push(call(&s, "GET", &path).reply(json!({"id": id, "tracks": [{"song": "a"}]})));
    }
    t
}

#[test]
fn a_child_without_its_own_read_is_read_through_its_parent_and_a_command_is_no_child() {
    let model = playlists_recording().learn().model;
    assert_eq!(model.children.len(), 1, "{:#?}", model.children);
    let tracks = &model.children[0];
    assert_eq!(tracks.collection, "/playlists/{playlist_id}/tracks");
    assert_eq!(tracks.parent, "playlists");
    assert_eq!(tracks.create, "POST /playlists/{playlist_id}/tracks");
    assert!(tracks.read.is_empty());
    assert_eq!(tracks.read_through.as_deref(), Some("GET /playlists/{playlist_id}"));
}

#[test]
fn the_text_view_prints_singletons_and_children() {
    let text = venomqa_learner::render_text(&singletons_recording().learn().model);
    assert!(text.contains("singletons (1)\n  /me/settings  (etag)"), "{text}");
    let text = venomqa_learner::render_text(&playlists_recording().learn().model);
    let line = "/playlists/{playlist_id}/tracks (in playlists): create POST \
                /playlists/{playlist_id}/tracks; read through GET /playlists/{playlist_id}";
    assert!(text.contains(line), "{text}");
}
