//! Logins of other shapes than `{"username", "password"}`: nested one level
//! and named by email, an OAuth2 password form, schemes other than
//! `Bearer`, and failed logins that still answer 200.

mod common;

use common::{call, pseudonym, Traffic};
use serde_json::json;
use venomqa_learner::Location;

/// Users log in with `{"user": {"email", "password"}}`; the answer sets a
/// cookie. One login fails yet answers `200 {"ok": false}` with no cookie.
fn nested_email_logins() -> Traffic {
    let mut t = Traffic::new();
    for (n, email) in ["ann@example.com", "bo@example.com"].iter().enumerate() {
        let s = format!("client:{n}");
        let cookie = format!("sid=s{n}x9k2m4q7");
        if n == 1 {
            t.push(
                call(&s, "POST", "/session")
                    .json(json!({"user": {"email": email, "password": pseudonym(9)}}))
                    .reply(json!({"ok": false, "error": "bad credentials"})),
            );
        }
        t.push(
            call(&s, "POST", "/session")
                .json(json!({"user": {"email": email, "password": pseudonym(n as u64)}}))
                .reply_header("Set-Cookie", &format!("{cookie}; Path=/; HttpOnly"))
                .reply(json!({"ok": true, "user": {"email": email}})),
        );
        t.push(
            call(&s, "GET", "/me/settings")
                .header("Cookie", &cookie)
                .reply(json!({"theme": "dark"})),
        );
    }
    t
}

#[test]
fn a_nested_login_by_email_names_its_account_and_secret_by_pointer() {
    let auth = nested_email_logins().learn().model.auth;
    assert_eq!(auth.login.as_deref(), Some("POST /session"));
    assert_eq!(auth.account.as_deref(), Some("/user/email"));
    assert_eq!(auth.credentials, ["/user/password"]);
    assert_eq!(auth.login_body.as_deref(), Some("json"));
    assert_eq!(auth.scheme.as_deref(), Some("cookie:sid"));
}

#[test]
fn a_2xx_login_without_a_credential_is_a_failed_login() {
    let auth = nested_email_logins().learn().model.auth;
    let failed = auth.failed_login.expect("a failed login was recorded");
    assert_eq!(failed.statuses.into_iter().collect::<Vec<_>>(), [(200, 1)]);
    assert_eq!(failed.granted, 2);
    assert_eq!(failed.fields["/ok"], ["false"]);
    assert_eq!(failed.fields["/error"], ["\"bad credentials\""]);
    assert!(!failed.fields.contains_key("/user"), "{:?}", failed.fields);
}

#[test]
fn an_oauth2_password_form_is_the_login_and_the_token_scheme_is_kept_as_sent() {
    let mut t = Traffic::new();
    for n in 0..2u64 {
        let s = format!("client:{n}");
        let token = format!("tok{n}a8f3k2j9x7");
        t.push(
            call(&s, "POST", "/oauth/token")
                .raw(
                    "application/x-www-form-urlencoded",
                    format!("grant_type=password&username=u{n}&password=p").as_bytes(),
                )
                .reply(json!({"access_token": token, "token_type": "bearer"})),
        );
        t.push(
            call(&s, "GET", "/projects")
                .header("Authorization", &format!("Token {token}"))
                .reply(json!([])),
        );
    }
    let model = t.learn().model;
    let token_link = model.links.iter().find(|l| l.to == Location::Bearer);
    let token_link = token_link.expect("the token a `Token` request carries is linked");
    assert_eq!(
        (token_link.producer.as_str(), token_link.consumer.as_str()),
        ("POST /oauth/token", "GET /projects")
    );
    assert_eq!(token_link.from, Location::Body { pointer: "/access_token".into() });
    let auth = model.auth;
    assert_eq!(auth.login.as_deref(), Some("POST /oauth/token"));
    assert_eq!(auth.account.as_deref(), Some("/username"));
    assert_eq!(auth.credentials, ["/password"]);
    assert_eq!(auth.login_body.as_deref(), Some("form"));
    assert_eq!(auth.scheme.as_deref(), Some("Token"));
    assert_eq!(auth.failed_login, None, "every login granted a token");
}

#[test]
fn the_text_view_prints_the_account_secrets_scheme_and_failed_login() {
    let text = venomqa_learner::render_text(&nested_email_logins().learn().model);
    for expected in [
        "account /user/email, secrets /user/password, as json, sent as cookie:sid",
        "failed login: 200×1 with /error \"bad credentials\", /ok false",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
}

#[test]
fn the_accounts_logged_in_are_listed_but_not_those_the_recording_signed_up() {
    let mut t = Traffic::new();
    let accounts =
        ["alice@example.com", "bob@example.com", "new-1@example.com", "new-2@example.com"];
    for (n, email) in accounts.into_iter().enumerate() {
        let s = format!("client:{n}");
        if email.starts_with("new") {
            t.push(
                call(&s, "POST", "/users")
                    .json(json!({"email": email, "password": pseudonym(n as u64)}))
                    .status(201)
                    .reply(json!({"id": n, "email": email})),
            );
        }
        let token = format!("tok{n}q8z3k2m9x7");
        t.push(
            call(&s, "POST", "/session")
                .json(json!({"email": email, "password": pseudonym(n as u64)}))
                .reply(json!({"token": token})),
        );
        t.push(
            call(&s, "GET", "/me")
                .header("Authorization", &format!("Bearer {token}"))
                .reply(json!({"email": email})),
        );
    }
    // alice changes her password, then logs in with it: no sign-up of hers.
    let s = "client:9";
    t.push(
        call(s, "POST", "/password")
            .header("Authorization", "Bearer tok0q8z3k2m9x7")
            .json(json!({"email": "alice@example.com", "password": pseudonym(9)}))
            .reply(json!({"ok": true})),
    );
    t.push(
        call(s, "POST", "/session")
            .json(json!({"email": "alice@example.com", "password": pseudonym(9)}))
            .reply(json!({"token": "tok9q8z3k2m9x7"})),
    );
    let auth = t.learn().model.auth;
    assert_eq!(auth.sign_up.as_deref(), Some("POST /users"));
    assert_eq!(auth.accounts, ["alice@example.com", "bob@example.com"]);
}

#[test]
fn a_password_change_then_a_login_is_no_sign_up() {
    let mut t = Traffic::new();
    let s = "client:1";
    t.push(
        call(s, "POST", "/session")
            .json(json!({"email": "alice@example.com", "password": pseudonym(1)}))
            .reply(json!({"token": "tok1q8z3k2m9x7"})),
    );
    t.push(
        call(s, "POST", "/password")
            .header("Authorization", "Bearer tok1q8z3k2m9x7")
            .json(json!({"email": "alice@example.com", "password": pseudonym(2)}))
            .reply(json!({"ok": true})),
    );
    t.push(
        call(s, "POST", "/session")
            .json(json!({"email": "alice@example.com", "password": pseudonym(2)}))
            .reply(json!({"token": "tok2q8z3k2m9x7"})),
    );
    let auth = t.learn().model.auth;
    assert_eq!(auth.sign_up, None, "alice had logged in before she changed her password");
    assert_eq!(auth.accounts, ["alice@example.com"]);
}

/// Each user logs in, makes a note, and refreshes its token; the fresh
/// token keys a session of its own, in which the user reads the note.
fn refreshed_sessions() -> Traffic {
    let mut t = Traffic::new();
    for (n, user) in ["ann", "bo"].iter().enumerate() {
        let n = n as u64;
        let (first, refresh, fresh) = (pseudonym(10 + n), pseudonym(20 + n), pseudonym(30 + n));
        let s = format!("authorization:{first}");
        t.push(
            call(&s, "POST", "/login")
                .json(json!({"username": user, "password": pseudonym(n)}))
                .reply(json!({"token": first, "refresh_token": refresh})),
        );
        let note = common::token_id("note", n);
        t.push(
            call(&s, "POST", "/notes")
                .bearer(&first)
                .json(json!({"text": "x"}))
                .status(201)
                .reply(json!({"id": note, "text": "x"})),
        );
        t.push(
            call(&s, "POST", "/token/refresh")
                .bearer(&first)
                .json(json!({"refresh_token": refresh}))
                .reply(json!({"token": fresh})),
        );
        let s = format!("authorization:{fresh}");
        t.push(
            call(&s, "GET", &format!("/notes/{note}")).bearer(&fresh).reply(json!({"id": note})),
        );
    }
    t
}

#[test]
fn a_session_keyed_by_a_refreshed_token_is_its_users() {
    let model = refreshed_sessions().learn().model;
    let notes = model.resource("notes").expect("notes");
    // Read by a session with no login of its own: had it been taken for
    // another user, every note would look public.
    assert_eq!(notes.ownership.visibility, None, "{:#?}", notes.ownership);
}

/// Two users each send a key of their own on every request (no login),
/// plus whatever `extra` adds to each session.
fn keyed(header: &str, value: impl Fn(usize) -> String) -> Traffic {
    let mut t = Traffic::new();
    for n in 0..2 {
        let s = format!("client:{n}");
        let id = format!("inv_{n}7c2e9a41");
        t.push(
            call(&s, "POST", "/v1/invoices")
                .header(header, &value(n))
                .json(json!({"amount": 1200}))
                .reply(json!({"id": id, "status": "draft"})),
        );
        t.push(
            call(&s, "GET", &format!("/v1/invoices/{id}"))
                .header(header, &value(n))
                .reply(json!({"id": id, "status": "draft"})),
        );
    }
    t
}

#[test]
fn a_key_of_each_users_own_that_no_answer_handed_out_is_a_per_user_key() {
    let model = keyed("Authorization", |n| format!("Bearer {}", pseudonym(n as u64))).learn().model;
    let key = model.auth.key.expect("a per-user key");
    assert_eq!(key.header, "authorization");
    assert_eq!(key.keys, [pseudonym(0), pseudonym(1)], "in order of first use");
    assert_eq!(model.auth.scheme.as_deref(), Some("Bearer"));

    let model = keyed("X-Api-Key", |n| pseudonym(n as u64 + 5)).learn().model;
    assert_eq!(model.auth.key.expect("a per-user key").header, "x-api-key");
}

#[test]
fn a_token_a_login_answered_a_basic_pair_or_a_clear_key_is_no_per_user_key() {
    // A login's token: a session's credential, not a user's key.
    let mut t = Traffic::new();
    for n in 0..2u64 {
        let s = format!("client:{n}");
        let token = pseudonym(n + 3);
        t.push(
            call(&s, "POST", "/login")
                .json(json!({"username": format!("u{n}"), "password": pseudonym(n)}))
                .reply(json!({"token": token})),
        );
        t.push(call(&s, "GET", "/v1/me").bearer(&token).reply(json!({"name": "u"})));
    }
    assert_eq!(t.learn().model.auth.key, None);

    // `Basic` carries a user and a password, not a key.
    let basic = keyed("Authorization", |n| format!("Basic dXNlcjpwYXNz{n}"));
    assert_eq!(basic.learn().model.auth.key, None);

    // Keys recorded without redaction never reach the model.
    let clear = keyed("X-Api-Key", |n| format!("sk_live_{n}9f8e7d6c5b4a"));
    let key = clear.learn().model.auth.key.expect("the header is still known");
    assert!(key.keys.is_empty(), "{:?}", key.keys);
}
