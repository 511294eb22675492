//! One refused recipient must not cost the others their digest: the real
//! binary's `digest send` against the real SMTP server, whose recipients
//! `reject…` (550), `greylist…` (450 once), `flaky…` (the connection dropped
//! once) and `hang…` (never answered once) behave like a real relay's.

use std::process::Stdio;

use super::send::{config, week_to_send};
use super::smtp::{self, Received};
use crate::both_backends;
use crate::support::{Backend, Mw};

fn digests(mw: &Mw) -> Vec<serde_json::Value> {
    mw.run(&["digest", "list", "--format", "json"]).ok().json().as_array().cloned().unwrap()
}

/// `(address, status)` of each recipient's delivery, in the order tried.
fn deliveries(row: &serde_json::Value) -> Vec<(String, String)> {
    row["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["address"].as_str().unwrap().to_owned(), d["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, s)| ((*a).to_owned(), (*s).to_owned())).collect()
}

/// Each envelope's recipients, in arrival order.
fn envelopes(got: &[Received]) -> Vec<Vec<String>> {
    got.iter().map(|m| m.rcpt_tos.clone()).collect()
}

fn one_each(list: &[&str]) -> Vec<Vec<String>> {
    list.iter().map(|a| vec![(*a).to_owned()]).collect()
}

async fn a_refused_recipient_costs_the_others_nothing(backend: Backend) {
    if !smtp::available("a_refused_recipient_costs_the_others_nothing") {
        return;
    }
    let recipients = r#"["lead@example.com", "rejected-user@example.com", "研究组 <team@example.com>"]"#;
    let Some((smtp, mw, _server)) = week_to_send(backend, recipients, "").await else { return };

    let run = mw.run_async(&["digest", "send"]).await;
    assert_eq!(run.code, 1, "a recipient did not get it: {}", run.stderr);
    assert!(run.stderr.contains("refused for rejected-user@example.com"), "{}", run.stderr);
    let got = smtp.received();
    assert_eq!(envelopes(&got), one_each(&["lead@example.com", "team@example.com"]), "the two others got it");
    let message_id = got[0].message_id.clone();
    assert_eq!(got[1].message_id, message_id, "one message, one Message-ID");
    assert!(got[0].to.contains("rejected-user@example.com"), "headers unchanged: {}", got[0].to);

    let row = &digests(&mw)[0];
    assert_eq!(row["status"], "failed", "{row}");
    let error = row["last_error"].as_str().unwrap();
    assert!(error.starts_with("2 of 3 recipient(s) delivered; refused rejected-user@example.com: "), "{error}");
    assert!(error.contains("550") && error.contains("Recipient address rejected"), "{error}");
    assert_eq!(
        deliveries(row),
        pairs(&[
            ("lead@example.com", "delivered"),
            ("rejected-user@example.com", "refused"),
            ("team@example.com", "delivered")
        ])
    );
    let table = mw.run(&["digest", "list"]).ok().stdout;
    assert!(table.contains("2/3"), "{table}");

    // A plain send leaves the failed digest alone.
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(smtp.received().len(), 2);

    // The operator fixes the address: the retry goes to it alone.
    let fixed = r#"["lead@example.com", "fixed-user@example.com", "研究组 <team@example.com>"]"#;
    std::fs::write(&mw.config, config(smtp.port, fixed, "")).unwrap();
    let retry = mw.run_async(&["digest", "send", "--retry-failed"]).await.ok();
    assert!(retry.stderr.contains("Sent the digest"), "{}", retry.stderr);
    let got = smtp.received();
    assert_eq!(envelopes(&got), one_each(&["lead@example.com", "team@example.com", "fixed-user@example.com"]));
    assert_eq!(got[2].message_id, message_id, "a resend keeps the Message-ID");
    let row = &digests(&mw)[0];
    assert_eq!((row["status"].as_str(), row["last_error"].as_str()), (Some("sent"), None), "{row}");
    assert_eq!(
        deliveries(row),
        pairs(&[
            ("lead@example.com", "delivered"),
            ("team@example.com", "delivered"),
            ("fixed-user@example.com", "delivered")
        ])
    );
}

both_backends!(a_refused_recipient_costs_the_others_nothing_on, a_refused_recipient_costs_the_others_nothing);

/// The relay drops the connection at the second of three recipients: the
/// first has the digest (recorded), the attempt ends, and the retry sends to
/// the second and third only.
async fn a_relay_dropped_mid_way_resumes_without_a_duplicate(backend: Backend) {
    if !smtp::available("a_relay_dropped_mid_way_resumes_without_a_duplicate") {
        return;
    }
    let recipients = r#"["lead@example.com", "flaky-user@example.com", "team@example.com"]"#;
    let Some((smtp, mw, _server)) = week_to_send(backend, recipients, "").await else { return };

    let first = mw.run_async(&["digest", "send"]).await;
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(first.stderr.contains("stays pending"), "{}", first.stderr);
    assert_eq!(envelopes(&smtp.received()), one_each(&["lead@example.com"]));
    let row = &digests(&mw)[0];
    assert_eq!(row["status"], "pending", "{row}");
    assert_eq!(deliveries(row), pairs(&[("lead@example.com", "delivered")]));
    let error = row["last_error"].as_str().unwrap();
    assert!(error.starts_with("1 of 3 recipient(s) delivered; stopped: "), "{error}");

    let second = mw.run_async(&["digest", "send"]).await.ok();
    assert!(second.stderr.contains("Sent the digest"), "{}", second.stderr);
    let got = smtp.received();
    assert_eq!(envelopes(&got), one_each(&["lead@example.com", "flaky-user@example.com", "team@example.com"]));
    // One connection carried both envelopes of the second attempt (the
    // connection is back in lettre's pool while the first one is recorded).
    assert_eq!(got[1].peer_port, got[2].peer_port, "{got:?}");
    assert!(got.iter().all(|m| m.message_id == got[0].message_id));
    let row = &digests(&mw)[0];
    assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("sent"), Some(2)), "{row}");
}

both_backends!(
    a_relay_dropped_mid_way_resumes_without_a_duplicate_on,
    a_relay_dropped_mid_way_resumes_without_a_duplicate
);

/// A greylisted recipient (450) does not hold back the ones after it: they
/// get the digest now; it gets it at the retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_greylisted_recipient_does_not_hold_back_the_others() {
    if !smtp::available("a_greylisted_recipient_does_not_hold_back_the_others") {
        return;
    }
    let recipients = r#"["greylist-user@example.com", "lead@example.com"]"#;
    let Some((smtp, mw, _server)) = week_to_send(Backend::Sqlite, recipients, "").await else { return };

    let first = mw.run_async(&["digest", "send"]).await;
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(envelopes(&smtp.received()), one_each(&["lead@example.com"]));
    let row = &digests(&mw)[0];
    assert_eq!(row["status"], "pending", "{row}");
    assert_eq!(deliveries(row), pairs(&[("greylist-user@example.com", "deferred"), ("lead@example.com", "delivered")]));
    assert!(row["last_error"].as_str().unwrap().contains("deferred greylist-user@example.com: "), "{row}");

    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(envelopes(&smtp.received()), one_each(&["lead@example.com", "greylist-user@example.com"]));
    assert_eq!(digests(&mw)[0]["status"], "sent");
}

/// `kill -9` while the second of three envelopes waits for the relay: the
/// first recipient's delivery was recorded, so the daemon's next start
/// (which takes the dead sender's claim back) sends to the second and
/// third only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_between_two_recipients_resends_to_neither_delivered_one() {
    use std::time::{Duration, Instant};
    if !smtp::available("a_sender_killed_between_two_recipients_resends_to_neither_delivered_one") {
        return;
    }
    let recipients = r#"["lead@example.com", "hang-user@example.com", "team@example.com"]"#;
    let Some((smtp, mw, _server)) =
        week_to_send(Backend::Sqlite, recipients, "enabled = true\ncron = \"0 0 8 * * Mon\"").await
    else {
        return;
    };

    let mut sender = mw
        .command(&["digest", "send"])
        .env("MODELWATCH_SMTP__TIMEOUT", "300s")
        .env("MODELWATCH_SMTP__CONNECT_TIMEOUT", "300s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first delivery is recorded: the sender then waits on
    // the second recipient's RCPT, which the relay never answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = digests(&mw);
        if list.first().is_some_and(|row| deliveries(row) == pairs(&[("lead@example.com", "delivered")])) {
            break;
        }
        assert!(Instant::now() < deadline, "the first delivery was never recorded: {list:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sender.kill().unwrap(); // SIGKILL
    sender.wait().unwrap();
    assert_eq!(envelopes(&smtp.received()), one_each(&["lead@example.com"]));

    let seen = super::daemon::daemon_until(&mw, &["Digest sent."]).await;
    assert!(seen.iter().any(|l| l.contains("died while sending")), "{}", seen.join("\n"));
    let got = smtp.received();
    assert_eq!(envelopes(&got), one_each(&["lead@example.com", "hang-user@example.com", "team@example.com"]));
    assert!(got.iter().all(|m| m.message_id == got[0].message_id));
    let row = &digests(&mw)[0];
    assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("sent"), Some(2)), "{row}");
}
