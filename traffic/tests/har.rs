//! HAR 1.2 import and export: exact round trips of our own exports, lenient
//! reading of devtools and mitmproxy files, and errors that say what to fix.

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;

use serde_json::{json, Value};
use venomqa_traffic::{
    read_har, write_har, Body, Exchange, ExchangeError, HarError, Headers, Request, Response,
    SessionKey,
};

/// 2024-05-14T09:26:40Z in Unix nanoseconds.
const T0: u64 = 1_715_678_800_000_000_000;
const SECOND: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

fn headers(pairs: &[(&str, &[u8])]) -> Headers {
    let mut headers = Headers::default();
    for (name, value) in pairs {
        headers.push(*name, *value);
    }
    headers
}

fn request(method: &str, url: &str, headers: Headers, body: Body) -> Request {
    Request { method: method.into(), url: url.into(), version: "HTTP/1.1".into(), headers, body }
}

fn response(status: u16, headers: Headers, body: Body) -> Response {
    Response { status, version: "HTTP/1.1".into(), headers, body }
}

fn exchange(id: u64, request: Request, response: Option<Response>) -> Exchange {
    Exchange {
        id,
        session: SessionKey("x-session:s-1".into()),
        started_at: id,
        duration_ns: 12_345_678,
        client: Some("127.0.0.1:53122".into()),
        request,
        response,
        error: None,
    }
}

fn fixture(name: &str) -> Vec<Exchange> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    read_har(file).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn export(exchanges: &[Exchange]) -> Vec<u8> {
    let mut out = Vec::new();
    let written = write_har(exchanges.to_vec(), &mut out).expect("export");
    assert_eq!(written, exchanges.len());
    out
}

/// Every shape of exchange the proxy records.
fn rich_exchanges() -> Vec<Exchange> {
    let binary: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe".to_vec();
    let accented = "é".repeat(8).into_bytes();

    let mut create = exchange(
        T0 + 123_456_789,
        request(
            "POST",
            "/orders?coupon=SPRING%2024&gift",
            headers(&[
                ("Host", b"shop.test:8080"),
                ("X-Trace", b"1"),
                ("Content-Type", b"application/json"),
                ("x-trace", b"2"),
                ("Accept", b"*/*"),
                ("X-TRACE", b"3"),
                ("Cookie", b"sid=~r:3fa9c2d1; theme=dark"),
            ]),
            Body::complete(br#"{"amount":1250,"note":"gift"}"#.to_vec()),
        ),
        Some(response(
            201,
            headers(&[
                ("Content-Type", b"application/json; charset=utf-8"),
                ("Set-Cookie", b"sid=~r:77; Path=/; HttpOnly"),
                ("Location", b"/orders/o-7f3a"),
                ("set-cookie", b"theme=light"),
            ]),
            Body::complete("{\"note\":\"naïve café — 注文 ✓ 🚀\"}"),
        )),
    );
    create.session = SessionKey("authorization:~r:3fa9c2d1e0b47a55#2".into());

    let mut upload = exchange(
        T0 + SECOND + 1,
        request(
            "PUT",
            "http://shop.test/files/7?v=2",
            headers(&[
                ("Host", b"shop.test"),
                ("X-Name", b"caf\xe9"),
                ("Content-Type", b"application/octet-stream"),
            ]),
            Body::complete(binary),
        ),
        Some(response(
            200,
            headers(&[
                ("Content-Type", b"image/png"),
                ("Content-Disposition", b"attachment; filename=\"r\xe9sum\xe9.png\""),
            ]),
            Body::complete(png),
        )),
    );
    upload.request.version = "HTTP/2.0".into();
    if let Some(r) = upload.response.as_mut() {
        r.version = "HTTP/2.0".into();
    }

    // Both bodies cut at the cap; the response mid-way through a character.
    let truncated = exchange(
        T0 + 2 * SECOND,
        request(
            "POST",
            "/imports",
            headers(&[("Host", b"shop.test"), ("Content-Type", b"text/csv")]),
            Body { bytes: b"id,amount\n1,10\n".to_vec(), original_len: 2_000_000, truncated: true },
        ),
        Some(response(
            200,
            headers(&[("Content-Type", b"text/plain; charset=utf-8")]),
            Body { bytes: accented[..15].to_vec(), original_len: 5_000_000, truncated: true },
        )),
    );

    let mut refused = exchange(
        T0 + 3 * SECOND,
        request(
            "POST",
            "/orders/o-7f3a/pay",
            headers(&[("Host", b"shop.test"), ("Idempotency-Key", b"k-1")]),
            Body::default(),
        ),
        None,
    );
    refused.error = Some(ExchangeError {
        kind: "refused".into(),
        message: "upstream 127.0.0.1:8081 refused the connection".into(),
    });
    refused.client = None;

    let head = exchange(
        T0 + 4 * SECOND,
        request("HEAD", "/orders/o-7f3a", headers(&[("Host", b"shop.test")]), Body::default()),
        Some(response(
            200,
            headers(&[("Content-Length", b"123"), ("ETag", b"\"v3\"")]),
            Body::default(),
        )),
    );

    let delete = exchange(
        T0 + 5 * SECOND,
        request("DELETE", "/orders/o-7f3a", headers(&[("Host", b"shop.test")]), Body::default()),
        Some(response(204, Headers::default(), Body::default())),
    );

    // Captured with a cap of 0, then reset by the upstream mid-body: a
    // response and an error at once.
    let mut reset = exchange(
        T0 + 6 * SECOND,
        request(
            "POST",
            "/logout",
            headers(&[("Host", b"shop.test")]),
            Body { bytes: Vec::new(), original_len: 10, truncated: true },
        ),
        Some(response(
            200,
            headers(&[("Transfer-Encoding", b"chunked")]),
            Body { bytes: b"{\"ok\":".to_vec(), original_len: 6, truncated: false },
        )),
    );
    reset.error =
        Some(ExchangeError { kind: "reset".into(), message: "upstream reset mid-body".into() });

    // Not yet in a store, no Host header, and a CONNECT in authority form.
    let mut unstored = exchange(
        999,
        request("GET", "/legacy", Headers::default(), Body::complete("x")),
        Some(response(404, Headers::default(), Body::complete(""))),
    );
    unstored.id = 0;
    unstored.session = SessionKey::default();
    unstored.duration_ns = 0;
    unstored.request.version = "HTTP/1.0".into();
    let connect = exchange(
        T0 + 7 * SECOND,
        request(
            "CONNECT",
            "shop.test:443",
            headers(&[("Host", b"shop.test:443")]),
            Body::default(),
        ),
        Some(response(200, Headers::default(), Body::default())),
    );

    vec![create, upload, truncated, refused, head, delete, reset, unstored, connect]
}

#[test]
fn every_field_of_every_kind_of_exchange_survives_export_then_import() {
    let exchanges = rich_exchanges();
    let file = export(&exchanges);
    let imported = read_har(file.as_slice()).expect("import");
    assert_eq!(imported, exchanges);
}

#[test]
fn export_is_a_har_1_2_log_with_every_required_field() {
    let file = export(&rich_exchanges());
    let har: Value = serde_json::from_slice(&file).expect("the export is JSON");
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "venomqa");
    assert_eq!(log["creator"]["version"], env!("CARGO_PKG_VERSION"));
    let entries = log["entries"].as_array().expect("log.entries is an array");
    assert_eq!(entries.len(), rich_exchanges().len());

    for entry in entries {
        let started = entry["startedDateTime"].as_str().expect("startedDateTime");
        assert_eq!(started.len(), "2024-05-14T09:26:40.123Z".len(), "{started}");
        assert!(started.ends_with('Z') && started.as_bytes()[19] == b'.', "{started}");
        let time = entry["time"].as_f64().expect("time");
        let timings = &entry["timings"];
        let mut sum = 0.0;
        for key in ["send", "wait", "receive"] {
            sum += timings[key].as_f64().unwrap_or_else(|| panic!("timings.{key}"));
        }
        for key in ["blocked", "dns", "connect"] {
            sum += timings[key].as_f64().map_or(0.0, |ms| ms.max(0.0));
        }
        assert!((time - sum).abs() < 1e-9, "time {time} is the sum of timings {sum}");
        assert!(entry["cache"].is_object(), "cache");

        let request = &entry["request"];
        for key in ["method", "url", "httpVersion"] {
            assert!(request[key].is_string(), "request.{key}");
        }
        for key in ["cookies", "headers", "queryString"] {
            assert!(request[key].is_array(), "request.{key}");
        }
        for key in ["headersSize", "bodySize"] {
            assert!(request[key].is_i64(), "request.{key}");
        }
        let url = request["url"].as_str().unwrap_or_default();
        let method = request["method"].as_str().unwrap_or_default();
        assert!(url.starts_with("http") || method == "CONNECT", "absolute url: {url}");
        if let Some(post_data) = request.get("postData") {
            assert!(post_data["mimeType"].is_string(), "postData.mimeType");
        }
        for header in request["headers"].as_array().into_iter().flatten() {
            assert!(header["name"].is_string() && header["value"].is_string(), "{header}");
        }

        let response = &entry["response"];
        assert!(response["status"].is_u64(), "response.status");
        for key in ["statusText", "httpVersion", "redirectURL"] {
            assert!(response[key].is_string(), "response.{key}");
        }
        for key in ["cookies", "headers"] {
            assert!(response[key].is_array(), "response.{key}");
        }
        for key in ["headersSize", "bodySize"] {
            assert!(response[key].is_i64(), "response.{key}");
        }
        assert!(response["content"]["size"].is_u64(), "content.size");
        assert!(response["content"]["mimeType"].is_string(), "content.mimeType");
    }

    // The refused exchange: status 0 and our `_error`.
    let refused = &entries[3];
    assert_eq!(refused["response"]["status"], 0);
    assert_eq!(refused["_error"]["kind"], "refused");
    assert_eq!(entries[0]["response"]["statusText"], "Created");
    assert_eq!(entries[0]["startedDateTime"], "2024-05-14T09:26:40.123Z");
    assert_eq!(entries[0]["time"], 12.345678);
}

#[test]
fn origin_form_urls_export_absolute_from_the_host_header_and_import_as_sent() {
    let file = export(&rich_exchanges());
    let har: Value = serde_json::from_slice(&file).expect("JSON");
    let create = &har["log"]["entries"][0]["request"];
    assert_eq!(create["url"], "http://shop.test:8080/orders?coupon=SPRING%2024&gift");
    assert_eq!(create["_url"], "/orders?coupon=SPRING%2024&gift");
    assert_eq!(
        create["queryString"],
        json!([{"name": "coupon", "value": "SPRING%2024"}, {"name": "gift", "value": ""}])
    );
    assert_eq!(create["cookies"][1], json!({"name": "theme", "value": "dark"}));
    let absolute = &har["log"]["entries"][1]["request"];
    assert_eq!(absolute["url"], "http://shop.test/files/7?v=2");
    assert!(absolute.get("_url").is_none());
    let no_host = &har["log"]["entries"][7]["request"];
    assert_eq!(no_host["url"], "http://localhost/legacy");

    let imported = read_har(file.as_slice()).expect("import");
    assert_eq!(imported[0].request.url, "/orders?coupon=SPRING%2024&gift");
    assert_eq!(imported[7].request.url, "/legacy");
}

#[test]
fn binary_bodies_and_header_values_are_base64_next_to_readable_text() {
    let file = export(&rich_exchanges());
    let har: Value = serde_json::from_slice(&file).expect("JSON");
    let upload = &har["log"]["entries"][1];
    assert_eq!(upload["request"]["postData"]["_encoding"], "base64");
    assert_eq!(upload["request"]["postData"]["_originalSize"], 512);
    assert_eq!(upload["response"]["content"]["encoding"], "base64");
    let name = &upload["request"]["headers"][1];
    assert_eq!(name["value"], "caf\u{fffd}");
    assert_eq!(name["_valueBase64"], "Y2Fm6Q==");

    let create = &har["log"]["entries"][0];
    assert_eq!(create["response"]["content"]["text"], "{\"note\":\"naïve café — 注文 ✓ 🚀\"}");
    assert!(create["response"]["content"].get("encoding").is_none());

    let truncated = &har["log"]["entries"][2];
    assert_eq!(truncated["request"]["postData"]["text"], "id,amount\n1,10\n");
    assert_eq!(truncated["request"]["postData"]["_truncated"], true);
    assert_eq!(truncated["response"]["content"]["encoding"], "base64");
    assert_eq!(truncated["response"]["content"]["size"], 5_000_000);
}

#[test]
fn export_writes_each_entry_as_the_iterator_yields_it() {
    /// Counts bytes that reached the destination.
    struct Counting(Rc<Cell<usize>>);
    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.set(self.0.get() + buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let written = Rc::new(Cell::new(0));
    let seen_mid_way = Rc::new(Cell::new(0));
    let template = rich_exchanges().remove(0);
    let exchanges = (0..5_000u64).map({
        let (written, seen_mid_way) = (written.clone(), seen_mid_way.clone());
        move |i| {
            if i == 2_500 {
                seen_mid_way.set(written.get());
            }
            let mut exchange = template.clone();
            exchange.id = T0 + i;
            exchange
        }
    });
    let count = write_har(exchanges, Counting(written.clone())).expect("export");
    assert_eq!(count, 5_000);
    assert!(seen_mid_way.get() > 0, "nothing was written before the last entry");
    assert!(seen_mid_way.get() < written.get());
}

#[test]
fn an_empty_export_is_a_valid_log_that_imports_as_nothing() {
    let file = export(&[]);
    let har: Value = serde_json::from_slice(&file).expect("JSON");
    assert_eq!(har["log"]["entries"], json!([]));
    assert_eq!(read_har(file.as_slice()).expect("import"), Vec::<Exchange>::new());
}

#[test]
fn chrome_devtools_har_imports_with_methods_urls_statuses_bodies_and_times() {
    let imported = fixture("chrome-devtools.har");
    assert_eq!(imported.len(), 5);
    for exchange in &imported {
        assert_eq!(exchange.id, 0);
        assert_eq!(exchange.session, SessionKey::default());
        assert_eq!(exchange.client, None);
    }

    let list = &imported[0];
    assert_eq!(list.request.method, "GET");
    assert_eq!(list.request.url, "https://shop.example.com/api/orders?status=paid&page=2");
    assert_eq!(list.request.version, "http/2.0");
    assert_eq!(list.started_at, T0 + SECOND + 512 * MS);
    assert_eq!(list.duration_ns, 84_522_000);
    let names: Vec<&str> = list.request.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["accept", "authorization", "x-session"], "pseudo-headers dropped");
    let response = list.response.as_ref().expect("response");
    assert_eq!(response.status, 200);
    assert_eq!(response.headers.get("ETag"), Some(&b"\"v3\""[..]));
    assert_eq!(
        response.body,
        Body::complete("[{\"id\":\"o-7f3a\",\"status\":\"paid\",\"amount\":1250,\"note\":\"é\"}]")
    );

    let login = &imported[1];
    assert_eq!((login.request.method.as_str(), login.request.path()), ("POST", "/api/login"));
    assert_eq!(login.request.body, Body::complete(r#"{"username":"alice","password":"hunter2"}"#));
    assert_eq!(login.started_at, T0 + 3 * MS);
    assert_eq!(login.duration_ns, 120 * MS);
    let response = login.response.as_ref().expect("response");
    assert_eq!(response.status, 201);
    assert_eq!(response.headers.get_all("Set-Cookie").count(), 2);
    assert_eq!(response.body, Body::complete("{\"token\":\"t-91c2e0\"}\n"));

    let gif = imported[2].response.as_ref().expect("response");
    assert!(gif.body.bytes.starts_with(b"GIF89a"));
    assert_eq!(gif.body.bytes.len(), 43);
    assert_eq!(imported[2].duration_ns, 5_250_000);

    let refused = &imported[3];
    assert_eq!(refused.response, None);
    assert_eq!(
        refused.error,
        Some(ExchangeError {
            kind: "refused".into(),
            message: "net::ERR_CONNECTION_REFUSED".into()
        })
    );
    assert_eq!(refused.duration_ns, 0, "negative time and timings are unknown, not negative");
    assert_eq!(refused.request.headers.get_str("idempotency-key"), Some("k-1"));

    let cached = imported[4].response.as_ref().expect("response");
    assert_eq!(
        cached.body,
        Body { bytes: Vec::new(), original_len: 1834, truncated: true },
        "a body devtools did not save is an empty capture of its size"
    );
    assert_eq!(imported[4].duration_ns, 700_000);
}

#[test]
fn firefox_devtools_har_imports_offsets_form_params_and_timing_sums() {
    let imported = fixture("firefox-devtools.har");
    assert_eq!(imported.len(), 3);

    let refund = &imported[0];
    assert_eq!(refund.request.method, "POST");
    assert_eq!(refund.request.url, "http://127.0.0.1:8081/orders/o-7f3a/refund");
    assert_eq!(refund.started_at, T0 + 3 * SECOND + 250 * MS, "+02:00 offset applied");
    assert_eq!(refund.duration_ns, 13 * MS);
    assert_eq!(
        refund.request.body,
        Body::complete("amount=12.50&reason=arrived+late+%26+cold"),
        "postData.params without text become a form body"
    );
    assert_eq!(refund.request.headers.get_str("x-session"), Some("s-17"));
    assert_eq!(refund.request.headers.0[3].name, "X-SESSION", "header case kept");
    assert_eq!(refund.response.as_ref().map(|r| r.status), Some(200));

    let delete = &imported[1];
    assert_eq!(delete.request.method, "DELETE");
    assert_eq!(delete.duration_ns, 5_750_000, "no `time`: the known timings but ssl, summed");
    let response = delete.response.as_ref().expect("response");
    assert_eq!(response.status, 204);
    assert_eq!(response.body, Body::default());
    assert_eq!(delete.request.body, Body::default());

    let pdf = imported[2].response.as_ref().expect("response");
    assert_eq!(pdf.body, Body { bytes: Vec::new(), original_len: 48_213, truncated: true });
}

#[test]
fn mitmproxy_har_imports_microsecond_dates_base64_bodies_and_failed_flows() {
    let imported = fixture("mitmproxy.har");
    assert_eq!(imported.len(), 3);

    let create = &imported[0];
    assert_eq!(create.request.method, "POST");
    assert_eq!(create.request.url, "http://127.0.0.1:8081/orders");
    assert_eq!(create.started_at, T0 + 200 * SECOND + 123_456_000);
    assert_eq!(create.duration_ns, 9_876_000);
    assert_eq!(create.request.body, Body::complete(r#"{"amount":1250}"#));
    let response = create.response.as_ref().expect("response");
    assert_eq!(response.status, 201);
    assert_eq!(response.headers.get_str("Location"), Some("/orders/o-88d1"));
    assert_eq!(response.body, Body::complete(r#"{"id":"o-88d1","status":"new","amount":1250}"#));

    let label = &imported[1];
    assert_eq!(label.started_at, T0 + 201 * SECOND + 500 * MS);
    let response = label.response.as_ref().expect("response");
    assert_eq!(response.body, Body::complete(vec![0x00, 0x01, 0xff, 0x80, 0x7f]));

    let pay = &imported[2];
    assert_eq!(pay.started_at, T0 + 202 * SECOND + 1_000);
    assert_eq!(pay.request.body, Body::default());
    assert_eq!(pay.response, None);
    let error = pay.error.as_ref().expect("error");
    assert_eq!(error.kind, "refused");
    assert!(error.message.contains("[Errno 111] Connection refused"), "{}", error.message);
}

#[test]
fn a_byte_order_mark_before_the_json_is_ignored() {
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend(export(&rich_exchanges()[..1]));
    assert_eq!(read_har(file.as_slice()).expect("import"), rich_exchanges()[..1].to_vec());
}

/// A small valid devtools-style entry to break in one place.
fn entry() -> Value {
    json!({
        "startedDateTime": "2024-05-14T09:26:40.000Z",
        "time": 1,
        "request": {"method": "GET", "url": "http://shop.test/", "httpVersion": "HTTP/1.1",
                    "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [],
                     "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"},
                     "redirectURL": "", "headersSize": -1, "bodySize": 0},
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0}
    })
}

fn har_of(entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"log": {"version": "1.2", "entries": entries}})).expect("JSON")
}

#[test]
fn text_that_is_not_json_is_refused_with_its_line_and_column() {
    let err = read_har(&b"{\"log\": {\"entries\": [\n  {\"time\": 1,}\n]}}"[..]).unwrap_err();
    assert!(matches!(err, HarError::NotJson { line: 2, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("invalid JSON at line 2, column"), "{message}");

    let err = read_har(&b""[..]).unwrap_err();
    assert!(matches!(err, HarError::NotJson { .. }), "{err:?}");
}

#[test]
fn json_without_log_entries_is_refused_as_not_a_har() {
    let err = read_har(&br#"{"version": "1.2"}"#[..]).unwrap_err();
    assert!(matches!(err, HarError::NotHar(_)), "{err:?}");
    assert!(err.to_string().contains("no top-level `log` object"), "{err}");

    let err = read_har(&br#"{"log": {"version": "1.2", "pages": []}}"#[..]).unwrap_err();
    assert!(err.to_string().contains("`log` has no `entries` array"), "{err}");

    let err = read_har(&br#"{"log": {"entries": {"0": {}}}}"#[..]).unwrap_err();
    assert!(matches!(err, HarError::NotHar(_)), "{err:?}");
    assert!(err.to_string().contains("array of HAR entries"), "{err}");

    let err = read_har(&b"[1, 2]"[..]).unwrap_err();
    assert!(err.to_string().starts_with("not a HAR file"), "{err}");
}

#[test]
fn an_entry_without_request_method_is_refused_naming_the_entry_and_field() {
    let mut broken = entry();
    broken["request"].as_object_mut().expect("object").remove("method");
    let err = read_har(har_of(vec![entry(), broken]).as_slice()).unwrap_err();
    assert!(
        matches!(&err, HarError::BadEntry { index: 1, field, .. } if field == "request.method"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "HAR entry 1 (log.entries[1]): request.method is missing");
}

#[test]
fn an_entry_with_a_bad_date_is_refused_naming_the_entry_and_field() {
    let mut broken = entry();
    broken["startedDateTime"] = json!("14/05/2024 09:26");
    let err = read_har(har_of(vec![broken]).as_slice()).unwrap_err();
    assert!(matches!(&err, HarError::BadEntry { index: 0, .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("HAR entry 0 (log.entries[0]): startedDateTime is not an RFC 3339"),
        "{message}"
    );
    assert!(message.contains("\"14/05/2024 09:26\""), "{message}");
}

#[test]
fn an_unusable_body_or_header_is_refused_naming_its_path() {
    let mut bad_base64 = entry();
    bad_base64["response"]["content"] =
        json!({"size": 3, "mimeType": "x", "text": "%%%", "encoding": "base64"});
    let err = read_har(har_of(vec![entry(), entry(), bad_base64]).as_slice()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("HAR entry 2 (log.entries[2]): response.content.text is not valid base64"),
        "{err}"
    );

    let mut bad_header = entry();
    bad_header["request"]["headers"] = json!([{"name": "Accept", "value": "*/*"}, {"value": "x"}]);
    let err = read_har(har_of(vec![bad_header]).as_slice()).unwrap_err();
    assert_eq!(err.to_string(), "HAR entry 0 (log.entries[0]): request.headers[1].name is missing");

    let mut bad_status = entry();
    bad_status["response"]["status"] = json!("OK");
    let err = read_har(har_of(vec![bad_status]).as_slice()).unwrap_err();
    assert!(err.to_string().contains("response.status must be an HTTP status code"), "{err}");
}
