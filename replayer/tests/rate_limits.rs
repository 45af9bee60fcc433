//! A target that limits its rate (`429` with `Retry-After`): each refused
//! request is sent again after the wait it asks for, so a rate limit is
//! neither taken for the API's logic nor hides the bug a request was sent
//! to find. Through the real proxy and store, against a service on loopback.

mod toy;

use toy::{record, run, summary, things_archived_and_renamed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_request_is_sent_again_and_the_bug_behind_it_still_found() {
    let learned = record(things_archived_and_renamed).await;

    let unlimited = run(&learned, "after-delete", &["rename-archived"]).await;
    let limited = run(&learned, "after-delete", &["rename-archived", "rate-limit"]).await;
    assert_eq!(
        (limited.stats.cases_exercised, limited.stats.journeys_calibrated),
        (unlimited.stats.cases_exercised, unlimited.stats.journeys_calibrated),
        "as much tested as without the limit: {:?}",
        limited.stats.cases_skipped
    );
    assert!(
        limited.findings.iter().any(|f| f.actions.last().map(String::as_str)
            == Some("POST /things/{thing_id}/rename")),
        "the rename after the delete, behind a rate limit: {:#?}",
        summary(&limited.findings)
    );
    assert!(limited.stats.rate_limited > 0, "the toy refused every other request");
    let ctx = limited.report_context("http://toy");
    let said = format!("the target rate-limited {} answers", limited.stats.rate_limited);
    let terminal = venomqa_replayer::report::render_terminal(&limited.findings, &ctx, false);
    assert!(terminal.contains(&said), "{terminal}");
    let json = venomqa_replayer::report::render_json(&limited.findings, &ctx);
    assert_eq!(json["stats"]["rate_limited"], limited.stats.rate_limited);
    assert!(
        limited.findings.iter().all(|f| f.requests.iter().all(|r| r.status != Some(429))),
        "no finding rests on a rate limit's refusal: {:#?}",
        summary(&limited.findings)
    );

    let quiet = run(&learned, "after-delete", &["rate-limit"]).await;
    assert!(quiet.findings.is_empty(), "{:#?}", summary(&quiet.findings));
    assert!(quiet.stats.rate_limited > 0);
}
