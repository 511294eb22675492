//! Pages that stand between us and the article, through the binary: an
//! anti-bot or verification interstitial, a login wall, a client-side
//! redirect. None of them is the article: never content, never a
//! baseline, each reported with its own reason.

use crate::both_backends;
use crate::liveness::ARTICLE;
use crate::support::{Backend, Mw, Page, TestServer};

/// A Cloudflare-style "Just a moment..." challenge.
const CF_CHALLENGE: &str = r#"<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta name="robots" content="noindex,nofollow"></head><body><div class="main-wrapper" role="main">
<div class="main-content"><h1 class="zone-name-title h1">tech.example.cn</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript>
<div id="challenge-body-text" class="core-msg spacer">tech.example.cn needs to review the security of your connection before proceeding.</div>
</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "tech.example.cn",cType: 'managed'};}());</script>
<div class="footer" role="contentinfo"><div class="ray-id">Ray ID: <code>8a1b2c3d4e5f6a7b</code></div>
<div class="text-center" id="footer-text">Performance &amp; security by Cloudflare</div></div></body></html>"#;

/// A search portal's verification page.
const BAIDU_CHECK: &str = r#"<html><head><meta charset="utf-8"><title>百度安全验证</title></head><body>
<div class="timeout hide"><div class="timeout-title">网络不给力，请稍后重试</div>
<button type="button" class="timeout-button">返回首页</button></div>
<div class="passMod_dialog-body"><p>请完成下方验证后继续操作</p></div></body></html>"#;

/// A WAF's slider check.
const SLIDER: &str = r#"<html><head><meta charset="utf-8"><title>验证</title></head><body>
<div id="nc_1_wrapper"><p>请按住滑块，拖动到最右边</p></div>
<script>var _____tmd_____ = "/_____tmd_____/slide";</script></body></html>"#;

/// A generic "please verify" page with a captcha.
const CAPTCHA: &str = r#"<html><head><meta charset="utf-8"><title>访问验证</title></head><body>
<div class="box"><p>您的访问过于频繁，请输入验证码后继续访问。</p><img src="/captcha.png"><input name="code"></div>
</body></html>"#;

/// A DDoS-protection interstitial.
const DDOS_GUARD: &str = r#"<html><head><title>DDoS-Guard</title></head><body>
<div id="content"><h1>Checking your browser before accessing tech.example.cn</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p></div>
</body></html>"#;

async fn status(mw: &Mw, id: i64) -> String {
    mw.source(id).await["status"].as_str().unwrap_or_default().to_owned()
}

/// An interstitial answered 200 in place of the article was the page's new
/// text (or, when the article had a title, "the address now shows another
/// page" and, confirmed, `redirected`); the real page back was a second
/// change. It is a failed check (`blocked`, the message naming the wall) now: the
/// article stays current, the status goes failing only when confirmed,
/// and the page back is a recovery, never content.
async fn a_verification_page_is_never_content(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    for (n, wall) in [CF_CHALLENGE, BAIDU_CHECK, SLIDER, CAPTCHA, DDOS_GUARD].into_iter().enumerate() {
        let path = format!("/news/2024/{n}.html");
        server.set(&path, Page::html(ARTICLE));
        let id = mw.add(&server.url(&path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        server.set(&path, Page::html(wall));
        let first = mw.check_one(id).await;
        assert_eq!(
            (first["outcome"].as_str(), first["error_kind"].as_str()),
            (Some("failed"), Some("blocked")),
            "{path}: {first}"
        );
        assert!(first["message"].as_str().unwrap_or_default().contains("verification"), "{path}: {first}");
        assert_eq!(first["unconfirmed"]["status"], "failing", "{path}: {first}");
        assert_eq!(status(&mw, id).await, "ok", "{path}: unconfirmed");
        let second = mw.check_one(id).await;
        assert_eq!(second["status_change"][1], "failing", "{path}: {second}");
        let shown = mw.source(id).await;
        assert_eq!(
            (shown["status"].as_str(), shown["last_error_kind"].as_str()),
            (Some("failing"), Some("blocked")),
            "{path}: {shown}"
        );
        let text = mw.run_async(&["sources", "show", &id.to_string()]).await.ok().stdout;
        assert!(text.contains("anti-bot verification page"), "{path}: {text}");
        assert!(mw.current_text(id).await.contains("文心一言用户数已突破4.3亿"), "{path}: the article stays current");
        server.set(&path, Page::html(ARTICLE));
        let back = mw.check_one(id).await;
        assert!(matches!(back["outcome"].as_str(), Some("unchanged" | "not_modified")), "{path}: {back}");
        assert_eq!(back["status"], "ok", "{path}: {back}");
        let changes = mw.changes(Some(id)).await;
        assert_eq!(changes.len(), 2, "{path}: failing and recovered, nothing else: {changes:?}");
        assert!(changes.iter().all(|c| c["kind"] == "status"), "{path}: {changes:?}");
        assert!(changes[0]["summary"].as_str().unwrap_or_default().contains("blocked"), "{path}: {changes:?}");
    }
}

both_backends!(a_verification_page_is_never_content_on, a_verification_page_is_never_content);

/// A source whose very first answer was a challenge took the challenge for
/// its baseline; the article, once served, was then a "change". The first
/// check is a failure now, and the article is the baseline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_page_is_never_the_baseline() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    server.set("/news/first.html", Page::html(CF_CHALLENGE));
    let id = mw.add(&server.url("/news/first.html"), &[]).await;
    let first = mw.check_one(id).await;
    assert_eq!((first["outcome"].as_str(), first["error_kind"].as_str()), (Some("failed"), Some("blocked")), "{first}");
    server.set("/news/first.html", Page::html(ARTICLE));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "baseline", "{got}");
    assert!(mw.changes(Some(id)).await.iter().all(|c| c["kind"] != "content"));
}

/// The same interstitials answered 403 or 503 (how Cloudflare sends its
/// challenge and block pages) were a bare "HTTP 403": the reason is the
/// challenge now, of the same kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_page_answered_403_or_503_says_so() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let blocked = CF_CHALLENGE.replace("Just a moment...", "Attention Required! | Cloudflare");
    let cases = [
        (403, Page::html(blocked)),
        (503, Page::html(CF_CHALLENGE).with_header("cf-mitigated", "challenge")),
        (403, Page::html(BAIDU_CHECK)),
    ];
    for (n, (code, mut page)) in cases.into_iter().enumerate() {
        let path = format!("/news/coded{n}.html");
        server.set(&path, Page::html(ARTICLE));
        let id = mw.add(&server.url(&path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        page.status = code;
        page.etag = false;
        server.set(&path, page);
        let got = mw.check_one(id).await;
        assert_eq!(
            (got["outcome"].as_str(), got["error_kind"].as_str()),
            (Some("failed"), Some("blocked")),
            "{code}: {got}"
        );
        assert!(got["message"].as_str().unwrap_or_default().contains(&format!("HTTP {code}")), "{got}");
        // A plain 403 stays what it was.
        server.set(&path, Page::status(403));
        assert_eq!(mw.check_one(id).await["error_kind"], "http_status");
    }
}

/// A login wall answered 200, or a redirect to the site's login page: the
/// login page's text was the article's new text (same host) or the source
/// `redirected` (a passport host). Neither is content nor a move: a
/// failed check (`blocked`, the message naming the login wall), the article kept.
async fn a_login_wall_is_never_content(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    let passport = TestServer::start().await;
    mw.init().await;
    let login_page = r#"<html><head><title>用户登录 - 科技频道</title></head><body><form action="/login" method="post">
        <p>账号</p><input name="u"><p>密码</p><input name="p" type="password"><button>登录</button></form></body></html>"#;
    server.set("/user/login?redirect=%2Fnews%2F2024%2Fw2.html", Page::html(login_page));
    passport.set("/login?u=1", Page::html(login_page));
    let wall = r#"<html><head><title>百度发布文心大模型4.5 - 科技频道</title></head><body><article>
        <h1>百度发布文心大模型4.5</h1><p>请登录后查看全文。</p><a href="/user/login">登录</a></article></body></html>"#;
    let english = r#"<html><head><title>Members</title></head><body><main><p>Sign in to continue reading this article.</p>
        <a href="/signin">Sign in</a></main></body></html>"#;
    let cases: Vec<(&str, Page)> = vec![
        ("/news/2024/w1.html", Page::html(wall)),
        ("/news/2024/w2.html", Page::redirect(302, "/user/login?redirect=%2Fnews%2F2024%2Fw2.html")),
        ("/news/2024/w3.html", Page::redirect(302, &passport.url("/login?u=1").replace("127.0.0.1", "localhost"))),
        ("/news/2024/w4.html", Page::html(english)),
    ];
    for (path, answer) in cases {
        server.set(path, Page::html(ARTICLE));
        let id = mw.add(&server.url(path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        server.set(path, answer);
        let got = mw.check_one(id).await;
        assert_eq!(
            (got["outcome"].as_str(), got["error_kind"].as_str()),
            (Some("failed"), Some("blocked")),
            "{path}: {got}"
        );
        assert!(got["message"].as_str().unwrap_or_default().contains("login"), "{path}: {got}");
        mw.check_one(id).await;
        let shown = mw.source(id).await;
        assert_eq!(
            (shown["status"].as_str(), shown["last_error_kind"].as_str()),
            (Some("failing"), Some("blocked")),
            "{path}: {shown}"
        );
        assert!(mw.current_text(id).await.contains("文心一言用户数已突破4.3亿"), "{path}: the article stays current");
        assert!(mw.changes(Some(id)).await.iter().all(|c| c["kind"] == "status"), "{path}");
    }
}

both_backends!(a_login_wall_is_never_content_on, a_login_wall_is_never_content);

/// How portals "redirect" a deleted article to their home or section page:
/// a page whose only job is a `<meta http-equiv="refresh">` or a
/// `location.href=` script. Its (empty) text was the article's new text,
/// or the article "replaced by a page without a title". It is a redirect
/// elsewhere now, by the same rules as an HTTP redirect.
async fn a_client_side_redirect_to_the_home_page_is_a_redirect(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let home = r#"<html><head><title>科技频道</title></head><body><div class="content"><h2>今日要闻</h2>
        <p>阿里云发布通义千问2.5，性能比肩GPT-4 Turbo，开发者可免费试用一个月。</p></div></body></html>"#;
    server.set("/", Page::html(home));
    server.set("/news/", Page::html(home));
    let cases = [
        (
            "/news/2024/m1.html",
            r#"<html><head><meta http-equiv="refresh" content="0;url=/"></head><body></body></html>"#,
            "home page",
        ),
        (
            "/news/2024/m2.html",
            r#"<html><head><meta content="1; URL='/news/'" http-equiv="Refresh"></head><body><p>页面跳转中……</p></body></html>"#,
            "section page",
        ),
        (
            "/news/2024/m3.html",
            r#"<html><head><script type="text/javascript">window.location.href = "/";</script></head><body></body></html>"#,
            "home page",
        ),
        ("/news/2024/m4.html", r#"<script>location.replace('/news/')</script>"#, "section page"),
    ];
    for (path, stub, why) in cases {
        server.set(path, Page::html(ARTICLE));
        let id = mw.add(&server.url(path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        server.set(path, Page::html(stub));
        let got = mw.check_one(id).await;
        assert_eq!(got["outcome"], "redirected", "{path}: {got}");
        let message = got["message"].as_str().unwrap_or_default();
        assert!(message.contains("client-side") && message.contains(why), "{path}: {got}");
        mw.check_one(id).await;
        assert_eq!(status(&mw, id).await, "redirected", "{path}");
        assert!(mw.current_text(id).await.contains("文心一言用户数已突破4.3亿"), "{path}: the article stays current");
        assert!(mw.changes(Some(id)).await.iter().all(|c| c["kind"] == "status"), "{path}");
    }
}

both_backends!(
    a_client_side_redirect_to_the_home_page_is_a_redirect_on,
    a_client_side_redirect_to_the_home_page_is_a_redirect
);

/// A moved article whose old address is a stub pointing at the new one:
/// the stub's (empty) text was the article's new text. The stub is
/// followed once, like an HTTP redirect: the article is read at its new
/// address, `final_url` says where, and an edit there is a change.
async fn a_client_side_redirect_to_the_new_address_is_followed(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let stub = r#"<html><head><meta http-equiv="refresh" content="0; url=/a/20240316/wenxin.html"></head>
        <body><p>文章已迁移，正在跳转……</p></body></html>"#;
    server.set("/news/2024/moved.html", Page::html(ARTICLE));
    let id = mw.add(&server.url("/news/2024/moved.html"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    server.set("/news/2024/moved.html", Page::html(stub));
    server.set("/a/20240316/wenxin.html", Page::html(ARTICLE));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "unchanged", "{got}");
    assert_eq!(got["status"], "ok", "{got}");
    let shown = mw.source(id).await;
    assert!(shown["final_url"].as_str().unwrap_or_default().ends_with("/a/20240316/wenxin.html"), "{shown}");
    // Checked again: the stub is fetched whole and followed again (its
    // validators say nothing of the article's), so an edit is seen.
    server.set("/a/20240316/wenxin.html", Page::html(ARTICLE.replace("4.3亿", "5亿")));
    let edit = mw.check_one(id).await;
    assert_eq!(edit["outcome"], "changed", "{edit}");
    assert_eq!(edit["change"]["modified"], 1, "{edit}");
    // A chain of stubs is followed once only.
    server.set("/a/20240316/wenxin.html", Page::html(stub.replace("/a/20240316/wenxin.html", "/b/wenxin.html")));
    server.set("/b/wenxin.html", Page::html(ARTICLE));
    let chained = mw.check_one(id).await;
    assert_eq!(chained["outcome"], "failed", "{chained}");
    assert!(mw.current_text(id).await.contains("文心一言用户数已突破5亿"), "the edit stays current");
    let seen: Vec<String> = server.seen().into_iter().map(|s| s.path).filter(|p| p == "/b/wenxin.html").collect();
    assert!(seen.is_empty(), "a second stub is not followed: {seen:?}");

    // A source added at a stub's address: the article is its baseline.
    server.set("/news/2024/old.html", Page::html(stub));
    server.set("/a/20240316/wenxin.html", Page::html(ARTICLE));
    let id = mw.add(&server.url("/news/2024/old.html"), &[]).await;
    let first = mw.check_one(id).await;
    assert_eq!(first["outcome"], "baseline", "{first}");
    assert!(mw.current_text(id).await.contains("文心一言用户数已突破4.3亿"));
}

both_backends!(
    a_client_side_redirect_to_the_new_address_is_followed_on,
    a_client_side_redirect_to_the_new_address_is_followed
);

/// Gone notices the soft-404 rule did not know, each answered 200 in place
/// of the article: they were content ("5 paragraphs removed") or, with a
/// title, "another page". Each is `soft_gone` now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_gone_notices_are_soft_gone() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let notices = [
        "<html><body><div class=\"tip\"><p>该文章已下架</p></div></body></html>",
        "<html><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>",
        "<html><body><p>此微博已被作者删除。</p><a href=\"/\">返回首页</a></body></html>",
        "<html><body><p>根据相关法律法规和政策，该内容无法显示。</p></body></html>",
    ];
    for (n, notice) in notices.into_iter().enumerate() {
        let path = format!("/news/2024/gone{n}.html");
        server.set(&path, Page::html(ARTICLE));
        let id = mw.add(&server.url(&path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        server.set(&path, Page::html(notice));
        let got = mw.check_one(id).await;
        assert_eq!(got["outcome"], "soft_gone", "{notice}: {got}");
    }
}
