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
