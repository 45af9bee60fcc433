//! An API without a login: each user sends a key of their own
//! (`X-Api-Key`) that no answer handed out, and form-encoded bodies. Replay
//! sends each configured user's key where the recording had that user's,
//! so another user's key on the owner's invoice is tried; and a request
//! the recording saw refused when sent a second time, accepted twice on
//! the target, is found by replaying the journey as it was.

mod toy;

use toy::{findings_as, record, run_as, summary, Visit};
use venomqa_replayer::{Confidence, OracleKind};

/// Alice makes an invoice, pays it, reads it, refunds all of it and is
/// refused a second refund of all of it; Bob does the same with a note
/// written between the two refunds.
async fn invoices_refunded(base: String) {
    refunds(base, &["bob"]).await
}

/// [`invoices_refunded`], both users writing a note between the refunds.
async fn invoices_noted_between_refunds(base: String) {
    refunds(base, &["alice", "bob"]).await
}

async fn refunds(base: String, noting: &[&str]) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::keyed(&base, &format!("keys-{n}"), user);
        let (status, made) = v.form("/invoices", &[("amount", "1200")]).await;
        assert_eq!(status, 200, "{made}");
        let id = made["id"].as_str().expect("an id").to_string();
        assert_eq!(v.form(&format!("/invoices/{id}/pay"), &[]).await.0, 200);
        v.send("GET", &format!("/invoices/{id}"), None).await;
        let refund = [("invoice", id.as_str()), ("amount", "1200")];
        assert_eq!(v.form("/refunds", &refund).await.0, 200);
        if noting.contains(&user) {
            let note = [("text", "refunded by phone")];
            assert_eq!(v.form(&format!("/invoices/{id}/notes"), &note).await.0, 200);
        }
        assert_eq!(v.form("/refunds", &refund).await.0, 400, "nothing left to refund");
    }
}

/// The users by their own keys: alice's pinned to the recording's first
/// key, bob's found by what the store pseudonymises his key to.
fn key_users(first_recorded: &str) -> String {
    format!(
        r#"
[users.alice]
recorded_key = "{first_recorded}"
key = "key-alice-7f3a91"

[users.bob]
key = "key-bob-2c9e64"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_replays_with_their_own_key_and_another_users_key_is_tried() {
    let learned = record(invoices_refunded).await;
    let key = learned.model.auth.key.as_ref().expect("a per-user key learned");
    assert_eq!(key.header, "x-api-key");
    assert_eq!(key.keys.len(), 2, "{:?}", key.keys);
    assert!(learned.model.auth.login.is_none());
    let form_link = learned.model.links_into("POST /refunds").any(|l| {
        l.producer == "POST /invoices"
            && l.to == venomqa_learner::Location::Body { pointer: "/invoice".into() }
    });
    assert!(form_link, "the form's invoice field is linked to the invoice's create");

    let users = key_users(&key.keys[0]);
    let outcome = run_as(&learned, "as-other-user", &["invoice-leak"], &users).await;
    let leak = outcome.findings.iter().find(|f| {
        f.oracle == OracleKind::CrossUser
            && f.actions.last().map(String::as_str) == Some("GET /invoices/{invoice_id}")
    });
    let leak =
        leak.unwrap_or_else(|| panic!("bob reads alice's: {:#?}", summary(&outcome.findings)));
    assert!(leak.summary.starts_with("bob read alice's invoice"), "{}", leak.summary);
    // The stand-in login is never sent: no request of the finding is one.
    assert!(leak.requests.iter().all(|r| !r.url.is_empty()), "{:#?}", leak.requests);
    assert!(
        leak.requests.iter().all(|r| r.headers.iter().any(|(n, _)| n == "x-api-key")),
        "every request carries a key"
    );

    let quiet = run_as(&learned, "as-other-user", &[], &users).await;
    assert!(quiet.findings.is_empty(), "{:#?}", summary(&quiet.findings));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_a_key_is_refused_with_what_to_write() {
    let learned = record(invoices_refunded).await;
    let users = "\n[users.alice]\nusername = \"alice\"\n";
    let toy = toy::service::start(&[]).await;
    let text = format!("[target]\nurl = \"http://{}\"\n{users}", toy.addr);
    let config = venomqa_replayer::Config::parse_with_env(
        &text,
        std::path::Path::new("qa/venomqa.toml"),
        |_| None,
    )
    .expect("parses");
    let err = venomqa_replayer::replay(&learned.model, &learned.recorded, &config, |_| {})
        .await
        .expect_err("alice has no key");
    let text = err.to_string();
    assert!(text.contains("user alice has no `key`"), "{text}");
    assert!(text.contains("x-api-key"), "{text}");
    assert!(text.contains("VENOMQA_ALICE_KEY"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_refund_refused_in_the_recording_and_accepted_now_is_found() {
    let learned = record(invoices_refunded).await;
    let key = learned.model.auth.key.as_ref().expect("a per-user key learned");
    let users = key_users(&key.keys[0]);
    let outcome = run_as(&learned, "as-other-user", &["refund-twice"], &users).await;
    let again: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.oracle == OracleKind::UnexpectedAccept && f.summary.contains("second time"))
        .collect();
    assert_eq!(again.len(), 1, "{:#?}", summary(&outcome.findings));
    assert_eq!(again[0].confidence, Confidence::Medium);
    assert_eq!(again[0].actions.last().map(String::as_str), Some("POST /refunds"));
    assert_eq!(again[0].journey, "x-session:keys-0", "alice's journey");

    let quiet = run_as(&learned, "as-other-user", &[], &users).await;
    assert!(quiet.findings.is_empty(), "{:#?}", summary(&quiet.findings));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_after_another_write_proves_nothing_when_accepted_now() {
    // A note written between the refunds may be what the second one was
    // refused for: the pair is not the same request sent twice in a row.
    let learned = record(invoices_noted_between_refunds).await;
    let key = learned.model.auth.key.as_ref().expect("a per-user key learned");
    let outcome =
        run_as(&learned, "as-other-user", &["refund-twice"], &key_users(&key.keys[0])).await;
    let again = outcome.findings.iter().filter(|f| f.summary.contains("second time"));
    assert_eq!(again.count(), 0, "{:#?}", summary(&outcome.findings));
}

/// Each user makes a payer with a balance (an `Idempotency-Key` sent),
/// an invoice it pays, pays it, and is refused paying it again.
async fn invoices_paid_by_payers(base: String) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::keyed(&base, &format!("payers-{n}"), user);
        let key = format!("payer-key-{n}-4f1e");
        let (_, payer) = v.form_keyed("/payers", &[("balance", "5000")], Some(&key)).await;
        let payer = payer["id"].as_str().expect("a payer").to_string();
        v.send("GET", &format!("/payers/{payer}"), None).await;
        let (_, made) = v.form("/invoices", &[("payer", &payer), ("amount", "1200")]).await;
        let id = made["id"].as_str().expect("an invoice").to_string();
        assert_eq!(v.form(&format!("/invoices/{id}/pay"), &[]).await.0, 200);
        assert_eq!(v.form(&format!("/invoices/{id}/pay"), &[]).await.0, 400, "paid already");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pays_at_once_that_debit_the_payer_twice_are_a_race_seen_on_the_payer() {
    let learned = record(invoices_paid_by_payers).await;
    let key = learned.model.auth.key.as_ref().expect("a per-user key learned");
    let users = key_users(&key.keys[0]);
    let found = findings_as(&learned, "concurrent", &["pay-race"], &users).await;
    let race = found.iter().find(|f| {
        f.oracle == OracleKind::Race
            && f.actions.last().is_some_and(|a| a.ends_with("POST /invoices/{invoice_id}/pay"))
    });
    let race = race.unwrap_or_else(|| panic!("the double debit: {:#?}", summary(&found)));
    assert!(race.summary.contains("the payer it touched reads otherwise"), "{}", race.summary);
    assert!(race.evidence.iter().any(|e| e.contains("balance")), "{:#?}", race.evidence);

    let quiet = findings_as(&learned, "concurrent", &[], &users).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_create_that_makes_a_second_payer_breaks_idempotency() {
    let learned = record(invoices_paid_by_payers).await;
    let key = learned.model.auth.key.as_ref().expect("a per-user key learned");
    let users = key_users(&key.keys[0]);
    let found = findings_as(&learned, "idempotency-retry", &["payer-idempotency"], &users).await;
    let second = found.iter().find(|f| f.oracle == OracleKind::Idempotency);
    let second = second.unwrap_or_else(|| panic!("a second payer: {:#?}", summary(&found)));
    assert!(second.summary.contains("made a second payer"), "{}", second.summary);

    let quiet = findings_as(&learned, "idempotency-retry", &[], &users).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));
}

/// Each user makes a payer and deletes it, reads it (`{"deleted": true}`),
/// and is refused an invoice naming it; with `between`, another payer is
/// made between the delete and the refusal.
async fn payers_deleted(base: String, between: bool) {
    for (n, user) in ["alice", "bob"].into_iter().enumerate() {
        let v = Visit::keyed(&base, &format!("gone-{n}"), user);
        let (_, payer) = v.form("/payers", &[("balance", "100")]).await;
        let payer = payer["id"].as_str().expect("a payer").to_string();
        v.send("DELETE", &format!("/payers/{payer}"), None).await;
        v.send("GET", &format!("/payers/{payer}"), None).await;
        if between {
            v.form("/payers", &[("balance", "200")]).await;
        }
        let (status, _) = v.form("/invoices", &[("payer", &payer), ("amount", "50")]).await;
        assert_eq!(status, 400, "the payer is deleted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_for_a_deleted_payer_refused_in_the_recording_and_accepted_now_is_found() {
    let learned = record(|base| payers_deleted(base, false)).await;
    let users = key_users(&learned.model.auth.key.as_ref().expect("keys").keys[0]);
    let found = findings_as(&learned, "as-other-user", &["invoice-deleted-payer"], &users).await;
    let gone = found.iter().find(|f| f.oracle == OracleKind::AfterDelete);
    let gone = gone.unwrap_or_else(|| panic!("the deleted payer: {:#?}", summary(&found)));
    assert_eq!(gone.actions.last().map(String::as_str), Some("POST /invoices"));
    assert!(gone.summary.contains("naming a payer the journey had deleted"), "{}", gone.summary);
    assert!(gone.evidence.iter().any(|e| e.contains("body field payer")), "{:#?}", gone.evidence);

    let quiet = findings_as(&learned, "as-other-user", &[], &users).await;
    assert!(quiet.is_empty(), "{:#?}", summary(&quiet));

    // Another payer made between the delete and the refusal may be what
    // the invoice was refused for: nothing to conclude.
    let learned = record(|base| payers_deleted(base, true)).await;
    let users = key_users(&learned.model.auth.key.as_ref().expect("keys").keys[0]);
    let found = findings_as(&learned, "as-other-user", &["invoice-deleted-payer"], &users).await;
    assert!(found.iter().all(|f| f.oracle != OracleKind::AfterDelete), "{:#?}", summary(&found));
}
