//! `digest send | preview | list` driving the real binary against a real
//! SMTP server: what arrives, and that a period's digest is never lost and
//! never sent twice.

use std::process::Stdio;

use super::smtp::{self, SmtpServer};
use crate::both_backends;
use crate::support::{Backend, Mw, Page, TestServer};

pub const V1: &str = r#"<html><head><title>百度发布文心一言</title></head><body>
<nav><a href="/">首页</a></nav>
<article><h1>百度发布文心一言</h1>
<p>3月16日，百度正式发布知识增强大语言模型文心一言。</p>
<p>文心一言的参数规模为千亿级，目前仅对受邀用户开放。</p>
<p>企业用户可以申请百度智能云的测试资格。</p>
</article></body></html>"#;

const GONE_PAGE: &str = r#"<html><head><title>AIGC 行业全景图</title></head><body>
<article><h1>AIGC 行业全景图</h1><p>AIGC 正在加速成为 AI 领域的商业新边界。</p></article></body></html>"#;

pub fn config(smtp_port: u16, recipients: &str, extra: &str) -> String {
    format!(
        r#"{base}
[liveness]
confirm_after = 1
[digest]
from = "modelwatch <digest@ai-notes.example.cn>"
recipients = {recipients}
{extra}
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
timeout = "10s"
connect_timeout = "3s"
"#,
        base = crate::support::TEST_CONFIG
    )
}

/// A week with one edited article (tag 大模型) and one that died (tag 行业分析).
/// What the digest tests start from: an SMTP sink, an instance on
/// `backend` mailing `recipients` (a TOML list; `extra` digest settings),
/// a week of changes to send, and the server of its pages (kept for the
/// test's own checks). `None` when the backend is not available.
pub async fn week_to_send(backend: Backend, recipients: &str, extra: &str) -> Option<(SmtpServer, Mw, TestServer)> {
    let smtp = SmtpServer::start();
    let mw = Mw::with_config(backend, &config(smtp.port, recipients, extra)).await?;
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;
    Some((smtp, mw, server))
}

pub async fn seed_week(mw: &Mw, server: &TestServer) {
    server.set("/news/wenxin.html", Page::html(V1));
    server.set("/report/aigc.html", Page::html(GONE_PAGE));
    mw.init().await;
    mw.add(&server.url("/news/wenxin.html"), &["--tag", "大模型"]).await;
    mw.add(&server.url("/report/aigc.html"), &["--tag", "行业分析"]).await;
    mw.run_async(&["check"]).await.ok();
    server
        .set("/news/wenxin.html", Page::html(V1.replace("千亿级，目前仅对受邀用户开放", "2600亿，即日起向全社会开放")));
    server.set("/report/aigc.html", Page::status(404));
    mw.run_async(&["check"]).await.ok();
    let kinds: Vec<String> = mw.changes(None).await.iter().map(|c| c["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds.len(), 2, "seeded week: {kinds:?}");
}

/// One digest run of the job, in this process, at `clock`'s time (what the
/// daemon's cron tick does): build, store, deliver.
pub async fn digest_run_at(mw: &Mw, clock: &dyn modelwatch::clock::Clock) -> modelwatch::jobs::digest::RunReport {
    use modelwatch::mail::{SmtpMailer, SmtpSettings};
    let config = mw.load_config();
    let store = modelwatch::store::Store::connect(&mw.db.url, 2).await.unwrap();
    let settings = modelwatch::jobs::digest::settings(&config.digest, &config.smtp, &config.web).unwrap();
    let mailer = SmtpMailer::new(SmtpSettings::from_config(&config.smtp));
    let report = modelwatch::jobs::digest::run_once(&store, &mailer, &settings, clock, false).await.unwrap();
    store.close().await.unwrap();
    report
}

fn digests(mw: &Mw) -> Vec<serde_json::Value> {
    mw.run(&["digest", "list", "--format", "json"]).ok().json().as_array().cloned().unwrap()
}

async fn send_delivers_a_multipart_digest_with_every_section(backend: Backend) {
    if !smtp::available("send_delivers_a_multipart_digest_with_every_section") {
        return;
    }
    let smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(backend, &config(smtp.port, r#"["研究组 <team@example.com>"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;

    let sent = mw.run_async(&["digest", "send"]).await.ok();
    assert!(sent.stderr.contains("Sent the digest"), "{}", sent.stderr);
    let got = smtp.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.rcpt_tos, ["team@example.com"]);
    assert_eq!(m.from, "modelwatch <digest@ai-notes.example.cn>");
    assert!(m.subject.starts_with("modelwatch 周报 "), "{}", m.subject);
    assert!(m.subject.ends_with("：1 处内容变更 · 1 个链接失效"), "{}", m.subject);
    assert!(m.message_id.starts_with("<modelwatch.digest.") && m.message_id.ends_with(".all@ai-notes.example.cn>"));

    let text = m.part("text/plain");
    for needle in [
        "本期共 1 处变更，涉及 1 个来源；新提及模型 0 个；失效链接 1 个。",
        "== 内容变更 ==",
        "-- 大模型 --",
        "百度发布文心一言",
        "2600亿",
        "== 链接健康 ==",
        "已失效",
        "AIGC 行业全景图",
    ] {
        assert!(text.contains(needle), "text part lacks {needle:?}:\n{text}");
    }
    // The section order of the issue: summary, content, then link health.
    assert!(text.find("== 内容变更 ==") < text.find("== 链接健康 =="));
    let html = m.part("text/html");
    assert!(html.contains("<ins class=\"mw-ins\"") && html.contains("2600亿"), "{html}");
    assert!(html.contains("<del class=\"mw-del\""), "{html}");
    assert!(!html.contains("<script") && !html.contains("<img"));

    let list = digests(&mw);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "sent");
    assert_eq!(list[0]["attempts"], 1);
    assert_eq!(list[0]["message_id"].as_str(), Some(m.message_id.as_str()));

    // The same day again: the period is already built and sent; nothing goes out.
    let again = mw.run_async(&["digest", "send"]).await.ok();
    assert!(again.stderr.contains("already built"), "{}", again.stderr);
    assert_eq!(smtp.received().len(), 1);
}

both_backends!(
    send_delivers_a_multipart_digest_with_every_section_on,
    send_delivers_a_multipart_digest_with_every_section
);

async fn smtp_down_keeps_the_digest_pending_until_it_is_back(backend: Backend) {
    if !smtp::available("smtp_down_keeps_the_digest_pending_until_it_is_back") {
        return;
    }
    let mut smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(backend, &config(smtp.port, r#"["team@example.com"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;
    smtp.stop();

    let down = mw.run_async(&["digest", "send"]).await;
    assert_eq!(down.code, 1, "{}", down.stderr);
    assert!(down.stderr.contains("stays pending"), "{}", down.stderr);
    let list = digests(&mw);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "pending");
    let error = list[0]["last_error"].as_str().unwrap();
    assert!(error.contains("hint: nothing listens on 127.0.0.1"), "{error}");

    smtp.restart();
    let back = mw.run_async(&["digest", "send"]).await.ok();
    assert!(back.stderr.contains("Sent the digest"), "{}", back.stderr);
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(smtp.received().len(), 1, "exactly one message");
    let list = digests(&mw);
    assert_eq!((list[0]["status"].as_str(), list[0]["attempts"].as_i64()), (Some("sent"), Some(2)));
}

both_backends!(
    smtp_down_keeps_the_digest_pending_until_it_is_back_on,
    smtp_down_keeps_the_digest_pending_until_it_is_back
);

/// The job's retries wait for their backoff on the job's clock: a digest the
/// server did not take stays pending until the clock passes its next
/// attempt (one minute after the first failure), then goes out once.
async fn a_failed_send_waits_for_its_backoff_on_the_clock(backend: Backend) {
    use modelwatch::clock::ManualClock;
    if !smtp::available("a_failed_send_waits_for_its_backoff_on_the_clock") {
        return;
    }
    let mut smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(backend, &config(smtp.port, r#"["team@example.com"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;
    smtp.stop();
    let clock = ManualClock::new(chrono::Utc::now());
    let first = digest_run_at(&mw, clock.as_ref()).await;
    assert_eq!((first.built.len(), first.retrying.len()), (1, 1), "{first:?}");

    smtp.restart();
    clock.advance(chrono::Duration::seconds(30));
    let early = digest_run_at(&mw, clock.as_ref()).await;
    assert!(early.sent.is_empty() && early.retrying.is_empty(), "not due yet: {early:?}");
    assert_eq!(smtp.received().len(), 0);

    clock.advance(chrono::Duration::seconds(31));
    let due = digest_run_at(&mw, clock.as_ref()).await;
    assert_eq!(due.sent.len(), 1, "{due:?}");
    assert_eq!(smtp.received().len(), 1);
    let list = digests(&mw);
    assert_eq!((list[0]["status"].as_str(), list[0]["attempts"].as_i64()), (Some("sent"), Some(2)));
}

both_backends!(a_failed_send_waits_for_its_backoff_on_the_clock_on, a_failed_send_waits_for_its_backoff_on_the_clock);

async fn a_rejected_recipient_fails_the_digest_with_the_servers_reason(backend: Backend) {
    if !smtp::available("a_rejected_recipient_fails_the_digest_with_the_servers_reason") {
        return;
    }
    let smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(backend, &config(smtp.port, r#"["rejected-user@example.com"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;

    let run = mw.run_async(&["digest", "send"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let list = digests(&mw);
    assert_eq!(list[0]["status"], "failed", "a 550 is not retried");
    let error = list[0]["last_error"].as_str().unwrap();
    assert!(error.contains("550") && error.contains("Recipient address rejected"), "{error}");
    // Nothing pending: a plain send does not retry it…
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(digests(&mw)[0]["attempts"], 1);
    // …`--retry-failed` does (and the server refuses again).
    let retry = mw.run_async(&["digest", "send", "--retry-failed"]).await;
    assert_eq!(retry.code, 1);
    assert!(retry.stderr.contains("1 failed digest(s) made pending again"), "{}", retry.stderr);
    assert!(smtp.received().is_empty());
    let message_id = digests(&mw)[0]["message_id"].as_str().unwrap().to_owned();

    // The user fixes the address in the config: the retry goes to it.
    std::fs::write(&mw.config, config(smtp.port, r#"["研究组 <team@example.com>"]"#, "")).unwrap();
    mw.run_async(&["digest", "send"]).await.ok();
    assert!(smtp.received().is_empty(), "a plain send does not retry a failed digest");
    let fixed = mw.run_async(&["digest", "send", "--retry-failed"]).await.ok();
    assert!(fixed.stderr.contains("Sent the digest"), "{}", fixed.stderr);
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_tos, ["team@example.com"]);
    assert_eq!(got[0].message_id, message_id, "a resend keeps the Message-ID");
    let list = digests(&mw);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "sent");
    assert_eq!(list[0]["recipients"][0], "研究组 <team@example.com>");
}

both_backends!(
    a_rejected_recipient_fails_the_digest_with_the_servers_reason_on,
    a_rejected_recipient_fails_the_digest_with_the_servers_reason
);

async fn two_racing_sends_deliver_one_message(backend: Backend) {
    if !smtp::available("two_racing_sends_deliver_one_message") {
        return;
    }
    let smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(backend, &config(smtp.port, r#"["team@example.com"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;

    let spawn = || mw.command(&["digest", "send"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let outputs = tokio::task::spawn_blocking(move || (a.wait_with_output().unwrap(), b.wait_with_output().unwrap()))
        .await
        .unwrap();
    for out in [&outputs.0, &outputs.1] {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(smtp.received().len(), 1, "two racing sends, one message");
    let list = digests(&mw);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "sent");
}

both_backends!(two_racing_sends_deliver_one_message_on, two_racing_sends_deliver_one_message);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_and_dry_run_record_and_send_nothing() {
    if !smtp::available("preview_and_dry_run_record_and_send_nothing") {
        return;
    }
    let smtp = SmtpServer::start();
    let Some(mw) =
        Mw::with_config(Backend::Sqlite, &config(smtp.port, r#"["team@example.com"]"#, "language = \"en\"")).await
    else {
        return;
    };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;

    let out = mw.path().join("digest.html");
    mw.run_async(&["digest", "preview", "--since", "7d", "--format", "html", "--output", out.to_str().unwrap()])
        .await
        .ok();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Content changes"), "{html}");
    let text = mw.run_async(&["digest", "preview"]).await.ok().stdout;
    assert!(text.starts_with("Subject: modelwatch digest "), "{text}");
    assert!(text.contains("== Link health =="), "{text}");
    let dry = mw.run_async(&["digest", "send", "--dry-run"]).await.ok().stdout;
    assert!(dry.starts_with("To: team@example.com\nSubject: modelwatch digest "), "{dry}");
    assert!(digests(&mw).is_empty(), "preview and dry run record nothing");
    assert!(smtp.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_week_sends_nothing_unless_asked() {
    if !smtp::available("an_empty_week_sends_nothing_unless_asked") {
        return;
    }
    let smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(Backend::Sqlite, &config(smtp.port, r#"["team@example.com"]"#, "")).await else {
        return;
    };
    mw.init().await;
    let quiet = mw.run_async(&["digest", "send"]).await.ok();
    assert!(quiet.stderr.contains("Nothing to report"), "{}", quiet.stderr);
    assert!(smtp.received().is_empty());

    let mut mw = mw;
    mw.env.push(("MODELWATCH_DIGEST__SEND_EMPTY".to_owned(), "true".to_owned()));
    mw.run_async(&["digest", "send"]).await.ok();
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].subject.ends_with("：本周无变化"), "{}", got[0].subject);
    assert!(got[0].part("text/plain").contains("本期没有需要关注的变化。"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_filtered_recipient_gets_only_its_sources() {
    if !smtp::available("a_tag_filtered_recipient_gets_only_its_sources") {
        return;
    }
    let smtp = SmtpServer::start();
    let recipients = r#"["lead@example.com", { address = "llm-team@example.com", tags = ["大模型"] }]"#;
    let Some(mw) = Mw::with_config(Backend::Sqlite, &config(smtp.port, recipients, "")).await else { return };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;
    mw.run_async(&["digest", "send"]).await.ok();

    let got = smtp.received();
    assert_eq!(got.len(), 2, "one message per audience");
    let to = |addr: &str| got.iter().find(|m| m.rcpt_tos == [addr]).unwrap_or_else(|| panic!("nothing for {addr}"));
    let all = to("lead@example.com").part("text/plain");
    let llm = to("llm-team@example.com").part("text/plain");
    assert!(all.contains("== 链接健康 ==") && all.contains("2600亿"), "{all}");
    // The dead source is tagged 行业分析: not this audience's business.
    assert!(!llm.contains("== 链接健康 ==") && llm.contains("2600亿"), "{llm}");
    assert_ne!(got[0].message_id, got[1].message_id);
    assert_eq!(digests(&mw).len(), 2);
}

/// Page text is hostile: a title carrying a right-to-left override
/// (U+202E) shows the rest of its line reversed in the digest and the web
/// view (`\u{202E}gnp.exe` reads `exe.png`). The digest's text and HTML carry the
/// title without bidi overrides, embeddings or isolates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_with_bidi_overrides_is_shown_without_them() {
    let Some(mw) = Mw::with_config(Backend::Sqlite, &config(2525, r#"["team@example.com"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    let page = |v: &str| {
        format!(
            "<html><head><title>年度报告\u{202E}gnp.exe\u{202C} \u{2067}摘要\u{2069}</title></head><body><article>\
             <h1>年度报告</h1><p>{v}：百度发布文心一言，参数规模为千亿级，企业用户可以申请测试资格。</p>\
             <p>第二段文字也足够长，以便提取器把它当作正文，而不是导航。</p></article></body></html>"
        )
    };
    server.set("/report.html", Page::html(page("第一版")));
    mw.init().await;
    mw.add(&server.url("/report.html"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/report.html", Page::html(page("第二版")));
    mw.run_async(&["check"]).await.ok();

    let text = mw.run_async(&["digest", "preview"]).await.ok().stdout;
    let out = mw.path().join("digest.html");
    mw.run_async(&["digest", "preview", "--format", "html", "--output", out.to_str().unwrap()]).await.ok();
    let html = std::fs::read_to_string(&out).unwrap();
    for (name, body) in [("text", &text), ("html", &html)] {
        assert!(body.contains("gnp.exe"), "the title is there ({name}):\n{body}");
        let bidi: Vec<char> =
            body.chars().filter(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')).collect();
        assert!(bidi.is_empty(), "bidi controls {bidi:?} in the {name} part:\n{body}");
    }
}
