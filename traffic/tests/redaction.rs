//! Redaction at rest: secrets never reach the disk; equal secrets stay equal.

mod common;

use std::path::Path;

use common::*;
use venomqa_traffic::{is_pseudonym, Body, Exchange, Headers, RecordOptions, Redactor};

const TOKEN: &str = "tok-3f9a-SECRET-bearer";
const PASSWORD: &str = "hunter2-SECRET-password";
const COOKIE: &str = "ck-77-SECRET-cookie";
const API_KEY: &str = "ak-SECRET-in-query";
/// Sent alongside the secrets, in the clear: proves the raw scan can see data.
const VISIBLE: &str = "visible-marker-alice";

fn journey() -> Vec<Exchange> {
    vec![
        exchange("POST", "/login", t(1))
            .req_header("X-Session", "s-1")
            .req_json(&format!(r#"{{"username":"{VISIBLE}","password":"{PASSWORD}"}}"#))
            .resp_header("Set-Cookie", &format!("sid={COOKIE}; Path=/; HttpOnly"))
            .resp_json(&format!(r#"{{"token":"{TOKEN}","expires_in":3600}}"#)),
        exchange("GET", &format!("/orders?api_key={API_KEY}&page=2"), t(2))
            .req_header("X-Session", "s-1")
            .req_header("Authorization", &format!("Bearer {TOKEN}"))
            .req_header("Cookie", &format!("theme=dark; sid={COOKIE}")),
        exchange("POST", "/password", t(3))
            .req_header("X-Session", "s-1")
            .req_header("Authorization", &format!("Bearer {TOKEN}"))
            .req_json(&format!(r#"{{"old_password":"{PASSWORD}","new":{{"password":"x"}}}}"#)),
    ]
}

/// Every file of the store and every value it holds, blocks decompressed.
fn raw_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    venomqa_testkit::disk::store_contents(dir)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_never_reach_the_raw_files_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), RecordOptions::default(), journey());
    drop(store);
    let files = raw_files(dir.path());
    assert!(files.iter().any(|(_, bytes)| contains(bytes, VISIBLE)), "the scan sees stored data");
    for (path, bytes) in &files {
        for secret in [TOKEN, PASSWORD, COOKIE, API_KEY] {
            assert!(!contains(bytes, secret), "{secret} found in {path}");
        }
    }
}

#[test]
fn with_keep_secrets_the_raw_files_hold_the_secrets() {
    // The control for the test above: the same journey unredacted is found.
    let dir = tempfile::tempdir().unwrap();
    let options = RecordOptions { redact: false, ..RecordOptions::default() };
    let (store, _) = record_all(dir.path(), options, journey());
    drop(store);
    let files = raw_files(dir.path());
    for secret in [TOKEN, PASSWORD, COOKIE, API_KEY] {
        assert!(files.iter().any(|(_, bytes)| contains(bytes, secret)), "{secret} not stored");
    }
}

#[test]
fn equal_secrets_get_equal_pseudonyms_wherever_they_appear() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), RecordOptions::default(), journey());
    let r = store.redactor();
    let (token, password, cookie) = (
        r.pseudonym(TOKEN.as_bytes()),
        r.pseudonym(PASSWORD.as_bytes()),
        r.pseudonym(COOKIE.as_bytes()),
    );
    let read = all(&store);

    let login = &read[0];
    let login_body: serde_json::Value = serde_json::from_slice(&login.request.body.bytes).unwrap();
    assert_eq!(login_body["password"], password.as_str());
    assert_eq!(login_body["username"], VISIBLE, "other fields are kept");
    let response = login.response.as_ref().unwrap();
    let issued: serde_json::Value = serde_json::from_slice(&response.body.bytes).unwrap();
    assert_eq!(issued["token"], token.as_str());
    assert_eq!(issued["expires_in"], 3600);
    assert_eq!(
        response.headers.get_str("set-cookie"),
        Some(format!("sid={cookie}; Path=/; HttpOnly").as_str())
    );

    let orders = &read[1];
    assert_eq!(
        orders.request.headers.get_str("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    let theme = r.pseudonym(b"dark");
    assert_eq!(
        orders.request.headers.get_str("cookie"),
        Some(format!("theme={theme}; sid={cookie}").as_str())
    );
    let api_key = r.pseudonym(API_KEY.as_bytes());
    assert_eq!(orders.request.url, format!("/orders?api_key={api_key}&page=2"));

    let change: serde_json::Value = serde_json::from_slice(&read[2].request.body.bytes).unwrap();
    assert_eq!(change["old_password"], password.as_str(), "same password, same pseudonym");
    assert_eq!(change["new"]["password"], r.pseudonym(b"x").as_str(), "nested fields too");
    assert_eq!(read[2].request.body.original_len, read[2].request.body.bytes.len() as u64);
}

#[test]
fn json_redaction_changes_only_the_secret_values_and_keeps_every_other_byte() {
    let r = Redactor::new(&[1; 32]);
    let text = br#"{ "b":1, "Api_Key" : 12345, "list":[{"secret":"s1"}, {"x":"s1"}],
  "tokens": ["t1", ["t2", 7]], "flag": true, "n": null, "esc": "\"q\"", "p\u0061sswd": "a\"b" }"#;
    let out = String::from_utf8(r.redact_json(text).unwrap()).unwrap();
    let p = |v: &[u8]| r.pseudonym(v);
    let expected = format!(
        r#"{{ "b":1, "Api_Key" : "{}", "list":[{{"secret":"{}"}}, {{"x":"s1"}}],
  "tokens": ["{}", ["{}", "{}"]], "flag": true, "n": null, "esc": "\"q\"", "p\u0061sswd": "{}" }}"#,
        p(b"12345"),
        p(b"s1"),
        p(b"t1"),
        p(b"t2"),
        p(b"7"),
        p(b"a\"b"),
    );
    assert_eq!(out, expected);
    assert_eq!(r.redact_json(br#"{"user":"bob","items":[1,2]}"#), None, "nothing secret, no copy");
}

#[test]
fn a_truncated_json_body_is_still_redacted() {
    let r = Redactor::new(&[2; 32]);
    let mut headers = Headers::default();
    headers.push("Content-Type", "application/json");
    let mut body = Body {
        bytes: br#"{"users":[{"name":"a","password":"abcdefgh"},{"name":"b","password":"ijkl"#
            .to_vec(),
        original_len: 10_000,
        truncated: true,
    };
    let before = body.bytes.len() as u64;
    assert!(r.redact_body(&headers, &mut body));
    let text = String::from_utf8(body.bytes.clone()).unwrap();
    assert!(!text.contains("abcdefgh") && !text.contains("ijkl"), "{text}");
    assert_eq!(body.original_len, 10_000 - before + body.bytes.len() as u64);
}

#[test]
fn form_bodies_and_query_strings_are_redacted_by_field_name() {
    let r = Redactor::new(&[3; 32]);
    let mut headers = Headers::default();
    headers.push("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    let mut body = Body::complete("user=bob&pass%77ord=p%40ss+word&client_secret=&x=1");
    assert!(r.redact_body(&headers, &mut body));
    let expected = format!("user=bob&pass%77ord={}&client_secret=&x=1", r.pseudonym(b"p@ss word"));
    assert_eq!(String::from_utf8(body.bytes.clone()).unwrap(), expected);
    assert_eq!(body.original_len, expected.len() as u64);

    let url = r.redact_url("http://shop.test/cb?code=1&access_token=abc#frag").unwrap();
    assert_eq!(
        url,
        format!("http://shop.test/cb?code=1&access_token={}#frag", r.pseudonym(b"abc"))
    );
    assert_eq!(r.redact_url("/orders?page=2"), None);
}

#[test]
fn headers_keep_their_scheme_and_attributes_and_secret_named_headers_are_hidden() {
    let r = Redactor::new(&[4; 32]);
    let p = |v: &[u8]| r.pseudonym(v);
    let red = |name: &str, value: &str| {
        r.redact_header_value(name, value.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    };
    assert_eq!(
        red("Authorization", "Basic dXNlcjpwdw=="),
        Some(format!("Basic {}", p(b"dXNlcjpwdw==")))
    );
    assert_eq!(red("Proxy-Authorization", "rawtoken"), Some(p(b"rawtoken")));
    assert_eq!(
        red("Set-Cookie", "sid=v1; Max-Age=60; Secure"),
        Some(format!("sid={}; Max-Age=60; Secure", p(b"v1")))
    );
    assert_eq!(red("X-Api-Key", "k-1"), Some(p(b"k-1")));
    assert_eq!(red("X-Auth-User", "alice:pw"), Some(p(b"alice:pw")));
    assert_eq!(
        red("X-Upstream-Authorization", "Bearer up-1"),
        Some(format!("Bearer {}", p(b"up-1")))
    );
    assert_eq!(red("WWW-Authenticate", r#"Bearer realm="shop""#), None);
    assert_eq!(
        red("Location", "https://app.test/cb?state=1&id_token=jwt-1"),
        Some(format!("https://app.test/cb?state=1&id_token={}", p(b"jwt-1")))
    );
    assert_eq!(red("Location", "/orders/7"), None);
    assert_eq!(red("X-Session", "s-1"), None);
    assert_eq!(red("Content-Type", "application/json"), None);
}

#[test]
fn pseudonyms_are_left_as_they_are_so_a_re_import_is_stable() {
    let r = Redactor::new(&[5; 32]);
    let mut once = journey().remove(1);
    assert!(r.redact_exchange(&mut once));
    let mut twice = once.clone();
    assert!(!r.redact_exchange(&mut twice), "nothing left to redact");
    assert_eq!(once, twice);
    let p = r.pseudonym(b"anything");
    assert!(is_pseudonym(p.as_bytes()));
    assert_eq!(r.pseudonym(p.as_bytes()), p);
    assert_ne!(Redactor::new(&[6; 32]).pseudonym(b"anything"), p, "the key matters");
}

#[test]
fn json_behind_a_byte_order_mark_is_redacted_whatever_its_content_type_says() {
    // Some frameworks put a UTF-8 byte order mark before their JSON; one
    // without a JSON content type was taken for text and kept whole.
    let bom_json =
        |secret: &str| format!("\u{feff}{{\"password\":\"{secret}\",\"name\":\"{VISIBLE}\"}}");
    let mut no_type = exchange("POST", "/signup", t(1)).req_header("X-Session", "s-1");
    no_type.request.body = Body::complete(bom_json(PASSWORD).into_bytes());
    let typed =
        exchange("POST", "/login", t(2)).req_header("X-Session", "s-1").req_json(&bom_json(TOKEN));
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record_all(dir.path(), RecordOptions::default(), vec![no_type, typed]);
    let stored = all(&store);
    for exchange in &stored {
        let body = String::from_utf8_lossy(&exchange.request.body.bytes);
        assert!(body.starts_with('\u{feff}') && body.contains(VISIBLE), "kept as sent: {body}");
    }
    drop(store);
    for (path, bytes) in &raw_files(dir.path()) {
        for secret in [PASSWORD, TOKEN] {
            assert!(!contains(bytes, secret), "{secret} found in {path}");
        }
    }
}
