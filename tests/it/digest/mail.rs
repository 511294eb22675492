//! `SmtpMailer` against a real SMTP server: what arrives, and how refusals read.

use std::time::Duration;

use modelwatch::mail::{Accepted, MailError, MailSession, Mailer, OutgoingMail, SmtpMailer, SmtpSettings, SmtpTls};

use super::smtp::{self, SmtpServer};

fn mailer(port: u16) -> SmtpMailer {
    SmtpMailer::new(SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port,
        tls: SmtpTls::None,
        connect_timeout: Duration::from_secs(5),
        send_timeout: Duration::from_secs(10),
        ..SmtpSettings::default()
    })
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        from: "modelwatch <digest@ai-notes.example.cn>".to_owned(),
        to: vec![to.to_owned()],
        subject: "modelwatch 周报 2026-11-23 – 2026-11-30：3 处内容变更 · 2 个新模型".to_owned(),
        text: "文心一言的参数规模为[-千亿级-]{+2600亿+}。\n".to_owned(),
        html: "<p>文心一言的参数规模为<del>千亿级</del><ins>2600亿</ins>。</p>".to_owned(),
        message_id: "<modelwatch.digest.2026-11-30.all@ai-notes.example.cn>".to_owned(),
    }
}

/// The message to `to` alone, in a session of its own.
async fn send(mailer: &SmtpMailer, to: &str) -> Result<Accepted, MailError> {
    let mut session = mailer.open(&mail(to))?;
    let result = session.send_to(to).await;
    session.close().await;
    result
}

#[tokio::test]
async fn smtp_mailer_delivers_multipart_alternative_utf8() {
    if !smtp::available("smtp_mailer_delivers_multipart_alternative_utf8") {
        return;
    }
    let server = SmtpServer::start();
    let accepted = send(&mailer(server.port), "研究组 <team@example.com>").await.expect("accepted");
    assert!(accepted.reply.starts_with("250"), "{accepted:?}");
    let got = server.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.subject, "modelwatch 周报 2026-11-23 – 2026-11-30：3 处内容变更 · 2 个新模型");
    assert_eq!(m.message_id, "<modelwatch.digest.2026-11-30.all@ai-notes.example.cn>");
    assert_eq!(m.rcpt_tos, ["team@example.com"]);
    assert!(m.part("text/plain").contains("{+2600亿+}"));
    assert!(m.part("text/html").contains("<ins>2600亿</ins>"));
    assert!(m.parts.iter().all(|p| p.charset.as_deref() == Some("utf-8")));
}

#[tokio::test]
async fn smtp_mailer_reports_a_rejected_recipient_as_permanent_with_the_reason() {
    if !smtp::available("smtp_mailer_reports_a_rejected_recipient_as_permanent_with_the_reason") {
        return;
    }
    let server = SmtpServer::start();
    let err = send(&mailer(server.port), "rejected-user@example.com").await.expect_err("refused");
    assert!(err.is_permanent(), "{err:?}");
    assert!(err.report().contains("550"), "{}", err.report());
    assert!(err.report().contains("Recipient address rejected"), "{}", err.report());
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_fails_with_a_hint() {
    if !smtp::available("implicit_tls_against_a_plain_server_fails_with_a_hint") {
        return;
    }
    let server = SmtpServer::start();
    let m = SmtpMailer::new(SmtpSettings {
        host: "localhost".to_owned(),
        port: server.port,
        tls: SmtpTls::Tls,
        connect_timeout: Duration::from_secs(3),
        send_timeout: Duration::from_secs(6),
        ..SmtpSettings::default()
    });
    let err = send(&m, "team@example.com").await.expect_err("TLS against plain SMTP");
    assert!(!err.is_permanent(), "{err:?}");
    assert!(err.report().contains("hint:"), "{}", err.report());
}

/// A recipient on an internationalised domain (`例子.中国`) is deliverable
/// through any relay: the domain has an ASCII form (IDNA), so the envelope
/// needs no SMTPUTF8, which this relay (like many) does not offer.
#[tokio::test]
async fn a_recipient_on_an_idn_domain_goes_out_in_its_ascii_form() {
    if !smtp::available("a_recipient_on_an_idn_domain_goes_out_in_its_ascii_form") {
        return;
    }
    let server = SmtpServer::start();
    let accepted = send(&mailer(server.port), "研究组 <lead@例子.中国>").await;
    assert!(accepted.is_ok(), "{}", accepted.map(|a| a.reply).unwrap_or_else(|e| e.report()));
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_tos, ["lead@xn--fsqu00a.xn--fiqs8s"]);
}

/// A non-ASCII mailbox name (`张三@…`) needs SMTPUTF8; a relay without it
/// can never take the message, so the error is permanent (the digest is
/// marked failed at once, with the reason) instead of retried for a day.
#[tokio::test]
async fn a_non_ascii_mailbox_through_a_relay_without_smtputf8_is_a_permanent_error() {
    if !smtp::available("a_non_ascii_mailbox_through_a_relay_without_smtputf8_is_a_permanent_error") {
        return;
    }
    let server = SmtpServer::start();
    let err = send(&mailer(server.port), "张三@example.com").await.expect_err("no SMTPUTF8");
    assert!(err.is_permanent(), "{err:?}");
    assert!(err.report().contains("SMTPUTF8"), "{}", err.report());
    assert!(err.report().contains("张三@example.com"), "names the address: {}", err.report());
    assert!(server.received().is_empty());
}

/// One session, one message, an envelope per recipient: a refused address
/// is that envelope's outcome alone; the recipients after it still get the
/// same message (the same Message-ID, a `To:` naming them all).
#[tokio::test]
async fn a_refused_envelope_does_not_stop_the_next_recipient() {
    if !smtp::available("a_refused_envelope_does_not_stop_the_next_recipient") {
        return;
    }
    let server = SmtpServer::start();
    let to = ["研究组 <team@example.com>", "rejected-user@example.com", "lead@example.com"];
    let m = OutgoingMail { to: to.iter().map(|s| (*s).to_owned()).collect(), ..mail(to[0]) };
    let mut session = mailer(server.port).open(&m).unwrap();
    let first = session.send_to(to[0]).await;
    let refused = session.send_to(to[1]).await;
    let last = session.send_to(to[2]).await;
    session.close().await;
    assert!(first.is_ok() && last.is_ok(), "{first:?} {last:?}");
    let err = refused.expect_err("refused");
    assert!(err.is_permanent() && !err.ends_attempt(), "{err:?}");
    assert!(err.report().contains("550") && err.report().contains("rejected-user@example.com"), "{}", err.report());
    let got = server.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        (got[0].rcpt_tos.as_slice(), got[1].rcpt_tos.as_slice()),
        (&["team@example.com".to_owned()][..], &["lead@example.com".to_owned()][..])
    );
    assert_eq!(got[0].message_id, got[1].message_id);
    for m in &got {
        assert!(m.to.contains("team@example.com") && m.to.contains("lead@example.com"), "{}", m.to);
    }
}

/// A greylisting relay's 450 is the recipient's, for now: not the end of
/// the attempt. A dropped connection is the relay's: it ends the attempt.
#[tokio::test]
async fn a_deferred_recipient_is_transient_and_a_dropped_relay_ends_the_attempt() {
    if !smtp::available("a_deferred_recipient_is_transient_and_a_dropped_relay_ends_the_attempt") {
        return;
    }
    let server = SmtpServer::start();
    let err = send(&mailer(server.port), "greylist-user@example.com").await.expect_err("greylisted");
    assert!(!err.is_permanent() && !err.ends_attempt(), "{err:?}");
    assert!(err.report().contains("450"), "{}", err.report());
    let err = send(&mailer(server.port), "flaky-user@example.com").await.expect_err("dropped");
    assert!(!err.is_permanent() && err.ends_attempt(), "{err:?}");
    assert!(server.received().is_empty());
}
