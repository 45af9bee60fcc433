//! Sessions: each rule, lists of rules, claims of the login, idle gaps.

mod common;

use std::time::Duration;

use common::*;
use venomqa_traffic::{
    Error, RecordOptions, SessionKey, SessionRule, SessionRules, Store, DEFAULT_SESSION_RULES,
};

fn by(rules: &str) -> RecordOptions {
    RecordOptions { session_rules: rules.parse().unwrap(), ..RecordOptions::default() }
}

#[test]
fn rules_parse_from_the_cli_forms_and_print_back() {
    let rules: SessionRules = "header:X-Session, cookie:sid ,client".parse().unwrap();
    assert_eq!(
        rules.rules(),
        &[
            SessionRule::Header("x-session".into()),
            SessionRule::Cookie("sid".into()),
            SessionRule::Client
        ]
    );
    assert_eq!(rules.to_string(), "header:x-session,cookie:sid,client");
    assert_eq!(SessionRules::default().to_string(), DEFAULT_SESSION_RULES);
    assert_eq!(DEFAULT_SESSION_RULES.parse::<SessionRules>().unwrap(), SessionRules::default());
}

#[test]
fn an_unknown_rule_is_refused_with_the_accepted_forms() {
    for bad in ["ip", "header:", "cookie:a=b", "", "header:x,", "query:page"] {
        let err = bad.parse::<SessionRules>().unwrap_err();
        assert!(matches!(err, Error::SessionRule { .. }), "{bad}: {err:?}");
        let message = err.to_string();
        for form in ["header:NAME", "cookie:NAME", "cookie:*", "client", "comma-separated"] {
            assert!(message.contains(form), "{bad}: {message}");
        }
    }
}

#[test]
fn the_header_rule_groups_by_the_header_value() {
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        exchange("GET", "/a", t(1)).req_header("X-Session", "s-1"),
        exchange("GET", "/b", t(2)).req_header("x-session", "s-2"),
        exchange("GET", "/c", t(3)).req_header("X-SESSION", "s-1"),
    ];
    let (store, summary) = record_all(dir.path(), by("header:X-Session"), sent);
    assert_eq!(session_keys(&store), vec!["x-session:s-1", "x-session:s-2", "x-session:s-1"]);
    assert_eq!(summary.sessions_touched, 2);
    let s1: Vec<String> = store
        .session_exchanges(&SessionKey("x-session:s-1".into()))
        .map(|e| e.unwrap().request.url)
        .collect();
    assert_eq!(s1, vec!["/a", "/c"]);
}

#[test]
fn the_authorization_rule_keys_by_the_pseudonym_of_the_credential_and_claims_the_login() {
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        exchange("POST", "/login", t(1))
            .req_json(r#"{"username":"alice","password":"pw-a"}"#)
            .resp_json(r#"{"user":{"name":"alice"},"token":"tok-alice"}"#),
        exchange("POST", "/login", t(2))
            .req_json(r#"{"username":"bob","password":"pw-b"}"#)
            .resp_json(r#"{"access_token":"tok-bob","token_type":"Bearer"}"#),
        exchange("GET", "/orders", t(3)).req_header("Authorization", "Bearer tok-alice"),
        exchange("GET", "/orders", t(4)).req_header("Authorization", "Bearer tok-bob"),
        exchange("POST", "/logout", t(5)).req_header("Authorization", "Bearer tok-alice"),
    ];
    let (store, _) = record_all(dir.path(), by("header:authorization"), sent);
    let r = store.redactor();
    let alice = format!("authorization:{}", r.pseudonym(b"tok-alice"));
    let bob = format!("authorization:{}", r.pseudonym(b"tok-bob"));
    assert_eq!(
        session_keys(&store),
        [&alice, &bob, &alice, &bob, &alice].iter().map(|s| s.as_str()).collect::<Vec<_>>()
    );
    assert!(!alice.contains("tok-alice"), "keys never carry secrets");
}

#[test]
fn without_redaction_the_authorization_key_is_the_credential_itself() {
    let dir = tempfile::tempdir().unwrap();
    let options = RecordOptions { redact: false, ..by("header:authorization") };
    let sent = vec![exchange("GET", "/", t(1)).req_header("Authorization", "Bearer tok-1")];
    let (store, _) = record_all(dir.path(), options, sent);
    assert_eq!(session_keys(&store), vec!["authorization:tok-1"]);
}

#[test]
fn the_cookie_rule_keys_by_the_cookie_and_claims_the_response_that_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        exchange("POST", "/login", t(1)).resp_header("Set-Cookie", "sid=abc123; Path=/; HttpOnly"),
        exchange("GET", "/cart", t(2)).req_header("Cookie", "theme=dark; sid=abc123"),
        exchange("GET", "/cart", t(3)).req_header("Cookie", "sid=zzz999"),
    ];
    let (store, _) = record_all(dir.path(), by("cookie:sid"), sent);
    let r = store.redactor();
    let first = format!("cookie:sid={}", r.pseudonym(b"abc123"));
    let second = format!("cookie:sid={}", r.pseudonym(b"zzz999"));
    assert_eq!(
        session_keys(&store),
        [&first, &first, &second].iter().map(|s| s.as_str()).collect::<Vec<_>>()
    );
}

#[test]
fn the_session_cookie_rule_finds_the_cookie_named_like_a_session_and_claims_its_login() {
    let rules: SessionRules = "cookie:*,client".parse().unwrap();
    assert_eq!(rules.rules(), &[SessionRule::SessionCookie, SessionRule::Client]);
    assert_eq!(rules.to_string(), "cookie:*,client");
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        exchange("POST", "/session", t(1))
            .client(Some("127.0.0.1:50001"))
            .resp_header("Set-Cookie", "connect.sid=s%3Aabc; Path=/; HttpOnly"),
        exchange("GET", "/me", t(2))
            .client(Some("127.0.0.1:50001"))
            .req_header("Cookie", "theme=dark; connect.sid=s%3Aabc"),
        exchange("GET", "/me", t(3))
            .client(Some("127.0.0.1:50001"))
            .req_header("Cookie", "JSESSIONID=j42; theme=dark"),
        exchange("GET", "/me", t(4))
            .client(Some("127.0.0.1:50001"))
            .req_header("Cookie", "_shop_session=r9"),
        // No cookie named like a session (a preference, a consent): the next rule.
        exchange("GET", "/", t(5))
            .client(Some("127.0.0.1:50001"))
            .req_header("Cookie", "theme=dark; consent=yes"),
    ];
    let (store, _) = record_all(dir.path(), by("cookie:*,client"), sent);
    let r = store.redactor();
    let express = format!("cookie:connect.sid={}", r.pseudonym(b"s%3Aabc"));
    let java = format!("cookie:JSESSIONID={}", r.pseudonym(b"j42"));
    let rails = format!("cookie:_shop_session={}", r.pseudonym(b"r9"));
    assert_eq!(
        session_keys(&store),
        [express.as_str(), &express, &java, &rails, "client:127.0.0.1"]
    );
}

#[test]
fn by_default_a_cookie_session_keys_its_journey_after_any_token() {
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        exchange("POST", "/session", t(1))
            .client(Some("127.0.0.1:50001"))
            .resp_header("Set-Cookie", "sid=a1; HttpOnly"),
        exchange("GET", "/me", t(2)).client(Some("127.0.0.1:50001")).req_header("Cookie", "sid=a1"),
        exchange("POST", "/session", t(3))
            .client(Some("127.0.0.1:50001"))
            .resp_header("Set-Cookie", "sid=b2; HttpOnly"),
        exchange("GET", "/me", t(4)).client(Some("127.0.0.1:50001")).req_header("Cookie", "sid=b2"),
    ];
    let (store, _) = record_all(dir.path(), RecordOptions::default(), sent);
    let r = store.redactor();
    let (a, b) = (
        format!("cookie:sid={}", r.pseudonym(b"a1")),
        format!("cookie:sid={}", r.pseudonym(b"b2")),
    );
    assert_eq!(
        session_keys(&store),
        [a.as_str(), &a, &b, &b],
        "two logins from one address are two journeys"
    );
}

#[test]
fn by_default_a_key_of_the_users_own_keys_its_journey_but_never_before_a_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let from = |e: venomqa_traffic::Exchange| e.client(Some("127.0.0.1:50001"));
    let sent = vec![
        // Two API clients on one machine, each with a key of its own.
        from(exchange("POST", "/v1/invoices", t(1))).req_header("X-Api-Key", "key-ann-7f3a"),
        from(exchange("POST", "/v1/invoices", t(2))).req_header("X-Api-Key", "key-bo-2c9e"),
        // A browser app sending one key for all its users beside each
        // user's session cookie: the cookie keys the journey.
        from(exchange("GET", "/me", t(3)))
            .req_header("X-Api-Key", "app-key-shared")
            .req_header("Cookie", "sid=c3"),
    ];
    let (store, _) = record_all(dir.path(), RecordOptions::default(), sent);
    let r = store.redactor();
    let key = |k: &[u8]| format!("x-api-key:{}", r.pseudonym(k));
    let cookie = format!("cookie:sid={}", r.pseudonym(b"c3"));
    assert_eq!(
        session_keys(&store),
        [key(b"key-ann-7f3a").as_str(), &key(b"key-bo-2c9e"), &cookie],
        "each key a journey; a cookie before the key"
    );
}

#[test]
fn the_client_rule_keys_by_ip_without_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        exchange("GET", "/", t(1)).client(Some("127.0.0.1:50001")),
        exchange("GET", "/", t(2)).client(Some("127.0.0.1:50002")),
        exchange("GET", "/", t(3)).client(Some("[::1]:50003")),
        exchange("GET", "/", t(4)).client(None),
    ];
    let (store, _) = record_all(dir.path(), by("client"), sent);
    assert_eq!(
        session_keys(&store),
        vec!["client:127.0.0.1", "client:127.0.0.1", "client:::1", "unmatched"]
    );
}

#[test]
fn a_list_of_rules_is_tried_in_order_request_before_claim() {
    let dir = tempfile::tempdir().unwrap();
    let sent = vec![
        // The X-Session rule matches first, even though a token is issued.
        exchange("POST", "/login", t(1))
            .req_header("X-Session", "s-9")
            .resp_json(r#"{"token":"tok-9"}"#),
        // No X-Session: the login is claimed by the token it issues...
        exchange("POST", "/login", t(2)).resp_json(r#"{"token":"tok-7"}"#),
        // ...and the bearer that uses it follows it.
        exchange("GET", "/orders", t(3)).req_header("Authorization", "Bearer tok-7"),
        // Nothing else: the client address.
        exchange("GET", "/health", t(4)),
    ];
    let (store, _) = record_all(dir.path(), RecordOptions::default(), sent);
    let tok7 = format!("authorization:{}", store.redactor().pseudonym(b"tok-7"));
    assert_eq!(session_keys(&store), vec!["x-session:s-9", &tok7, &tok7, "client:127.0.0.1"]);
}

#[test]
fn a_session_key_seen_again_after_the_idle_gap_starts_a_new_session() {
    let dir = tempfile::tempdir().unwrap();
    let options = RecordOptions { idle_gap: Duration::from_secs(60), ..by("header:x-session") };
    let sent = vec![
        exchange("GET", "/", t(0)).req_header("X-Session", "s"),
        exchange("GET", "/", t(59)).req_header("X-Session", "s"),
        exchange("GET", "/", t(200)).req_header("X-Session", "s"),
        exchange("GET", "/", t(250)).req_header("X-Session", "s"),
        exchange("GET", "/", t(400)).req_header("X-Session", "s"),
    ];
    let (store, summary) = record_all(dir.path(), options, sent);
    assert_eq!(
        session_keys(&store),
        vec!["x-session:s", "x-session:s", "x-session:s#2", "x-session:s#2", "x-session:s#3"]
    );
    assert_eq!(summary.sessions_touched, 3);
    assert_eq!(store.stats().unwrap().sessions, 3);
}

#[test]
fn a_new_recording_continues_sessions_and_their_idle_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let options = || RecordOptions { idle_gap: Duration::from_secs(60), ..by("header:x-session") };
    let s = |at| exchange("GET", "/", at).req_header("X-Session", "s");
    let (store, _) = record_all(dir.path(), options(), vec![s(t(0)), s(t(100))]);
    drop(store);
    let (store, _) = record_all(dir.path(), options(), vec![s(t(130))]);
    drop(store);
    let (store, _) = record_all(dir.path(), options(), vec![s(t(500))]);
    assert_eq!(
        session_keys(&store),
        vec!["x-session:s", "x-session:s#2", "x-session:s#2", "x-session:s#3"]
    );
    assert_eq!(store.stats().unwrap().sessions, 3);
}

#[test]
fn a_session_the_exchange_already_carries_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut imported = exchange("GET", "/", t(1)).req_header("X-Session", "s-1");
    imported.session = SessionKey("journey-from-har".into());
    let (store, _) = record_all(dir.path(), RecordOptions::default(), vec![imported]);
    assert_eq!(session_keys(&store), vec!["journey-from-har"]);
    let sessions = store.sessions().unwrap();
    assert_eq!(sessions[0].key.as_str(), "journey-from-har");
}

#[test]
fn sessions_are_listed_for_a_store_reopened_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let sent = (0..6)
        .map(|n| exchange("GET", "/", t(n)).req_header("X-Session", &format!("s-{}", n % 2)))
        .collect();
    drop(record_all(dir.path(), RecordOptions::default(), sent));
    let store = Store::open_existing(dir.path()).unwrap();
    let counts: Vec<(String, u64)> =
        store.sessions().unwrap().into_iter().map(|s| (s.key.0, s.exchanges)).collect();
    assert_eq!(counts, vec![("x-session:s-0".into(), 3), ("x-session:s-1".into(), 3)]);
}
