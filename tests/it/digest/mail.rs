//! `SmtpMailer` against a real SMTP server: what arrives, and how refusals read.

use std::time::Duration;

use modelwatch::mail::{Mailer, OutgoingMail, SmtpMailer, SmtpSettings, SmtpTls};

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

#[tokio::test]
async fn smtp_mailer_delivers_multipart_alternative_utf8() {
    if !smtp::available("smtp_mailer_delivers_multipart_alternative_utf8") {
        return;
    }
    let server = SmtpServer::start();
    let accepted = mailer(server.port).send(&mail("研究组 <team@example.com>")).await.expect("accepted");
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
    let err = mailer(server.port).send(&mail("rejected-user@example.com")).await.expect_err("refused");
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
    let err = m.send(&mail("team@example.com")).await.expect_err("TLS against plain SMTP");
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
    let accepted = mailer(server.port).send(&mail("研究组 <lead@例子.中国>")).await;
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
    let err = mailer(server.port).send(&mail("张三@example.com")).await.expect_err("no SMTPUTF8");
    assert!(err.is_permanent(), "{err:?}");
    assert!(err.report().contains("SMTPUTF8"), "{}", err.report());
    assert!(err.report().contains("张三@example.com"), "names the address: {}", err.report());
    assert!(server.received().is_empty());
}
