//! The web view's safety rules without a browser: response headers, bounded
//! requests, the session cookie's flags, login to read, and the refusal to
//! listen beyond loopback without a login.
#![allow(clippy::disallowed_methods, reason = "our own web view on 127.0.0.1; its pages are small")]

use super::seed::{TOKEN, serve};
use crate::support::{Backend, Mw, TEST_CONFIG};

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_limits_and_bad_input() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let served = serve(&mw, "[web]\nlisten = \"127.0.0.1:0\"\n").await;
    let c = client();
    let res = c.get(format!("{}/changes", served.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in ["default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("script-src") && !csp.contains("unsafe-inline"), "no script may run: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = res.text().await.unwrap();
    assert!(body.contains("No changes."), "{body}");

    // Bad input is a clear 4xx, escaped.
    for (path, status, says) in [
        ("/changes?page=0", 400, "page must be a number"),
        ("/changes?kind=%3Cb%3E", 400, "unknown ChangeKind &quot;&lt;b&gt;&quot;"),
        ("/changes?since=yesterday", 400, "since must be a date"),
        ("/changes/999", 404, "There is no change #999."),
        ("/sources/999", 404, "There is no source #999."),
        ("/snapshots/999", 404, "There is no snapshot #999."),
        ("/catalog/show?name=NoSuchModel", 404, "NoSuchModel"),
        ("/nowhere", 404, "no such page"),
    ] {
        let res = c.get(format!("{}{path}", served.base)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert!(res.headers().contains_key("content-security-policy"), "{path}: error pages carry the headers too");
        let body = res.text().await.unwrap();
        assert!(body.contains(says), "{path}: {body}");
    }

    // A body past 16 KiB is refused before it is read.
    let big = format!("token={}", "x".repeat(32 * 1024));
    let res = c.post(format!("{}/login", served.base)).body(big).send().await.unwrap();
    assert_eq!(res.status(), 413);
    // Reading a page is GET only.
    let res = c.post(format!("{}/changes", served.base)).send().await.unwrap();
    assert_eq!(res.status(), 405);

    // The login form starts an anonymous session: HttpOnly, SameSite=Strict,
    // not Secure over plain HTTP with web.secure_cookie = "auto".
    let res = c.get(format!("{}/login", served.base)).send().await.unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("mw_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Secure"), "{cookie}");
    // A login without the form's CSRF token is refused, right token or not.
    let res = c
        .post(format!("{}/login", served.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_and_login_to_read() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let served =
        serve(&mw, "[web]\nlisten = \"127.0.0.1:0\"\nlogin_to_read = true\nsecure_cookie = \"always\"\n").await;
    let c = client();
    let res = c.get(format!("{}/changes?tag=x", served.base)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Fchanges%3Ftag%3Dx");
    let res = c.post(format!("{}/review/merge", served.base)).body("from=a&into=b").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(c.get(format!("{}/static/style.css", served.base)).send().await.unwrap().status(), 200);
    let res = c.get(format!("{}/login", served.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "behind a TLS proxy the cookie is Secure: {cookie}");
}

fn non_loopback_config() -> String {
    TEST_CONFIG.replace("[web]\nlisten = \"\"", "[web]\nlisten = \"0.0.0.0:0\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_listener_without_a_login_refuses_to_start() {
    let config = non_loopback_config();
    assert!(config.contains("0.0.0.0:0"));
    let mut mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let run = mw.run_async(&["run"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`web.listen` is 0.0.0.0:0, which is not a loopback address, and no web login is configured"),
        "{}",
        run.stderr
    );
    let check = mw.run_async(&["config", "check"]).await;
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(check.stderr.contains("`web.listen` is 0.0.0.0:0"), "{}", check.stderr);

    // A token too short to be a login is refused with its key.
    mw.env.push(("MODELWATCH_WEB_TOKEN".to_owned(), "short".to_owned()));
    let check = mw.run_async(&["config", "check"]).await;
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(check.stderr.contains("must be at least 16 characters"), "{}", check.stderr);
    assert!(!check.stderr.contains("short"), "the token is never printed: {}", check.stderr);

    // With a token the same address is accepted, and reads need the login.
    mw.env.pop();
    mw.env.push(("MODELWATCH_WEB_TOKEN".to_owned(), TOKEN.to_owned()));
    let check = mw.run_async(&["config", "check"]).await.ok();
    assert!(
        check
            .stdout
            .contains("web view on http://0.0.0.0:0/ (review login: token configured; reads need the login: yes")
    );
    assert!(!check.stdout.contains(TOKEN), "the token is never printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_keys_are_validated_all_at_once() {
    let config = format!(
        "{}base_url = \"ftp://x\"\nsecure_cookie = \"sometimes\"\npage_size = 0\nsession_ttl = \"soon\"\n",
        TEST_CONFIG.replace("[web]\nlisten = \"\"", "[web]\nlisten = \"localhost\"")
    );
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let check = mw.run_async(&["config", "check"]).await;
    assert_eq!(check.code, 2, "{}", check.stderr);
    for key in ["`web.listen`", "`web.base_url`", "`web.secure_cookie`", "`web.page_size`", "`web.session_ttl`"] {
        assert!(check.stderr.contains(key), "{key} not reported:\n{}", check.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_come_in_pages() {
    let seed = super::seed::seeded(Backend::Sqlite).await.unwrap();
    let served = serve(&seed.mw, "[web]\nlisten = \"127.0.0.1:0\"\npage_size = 1\n").await;
    let c = client();
    let get = |path: &str| {
        let url = format!("{}{path}", served.base);
        let c = c.clone();
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let first = get("/changes").await;
    assert_eq!(first.matches("<li class=\"card\">").count(), 1, "{first}");
    assert!(first.contains("href=\"/changes?page=2\""), "{first}");
    let second = get("/changes?page=2").await;
    assert_eq!(second.matches("<li class=\"card\">").count(), 1, "{second}");
    assert!(second.contains("href=\"/changes?page=1\"") && !second.contains("page=3"), "{second}");
    assert_ne!(first, second);

    let review = get("/review").await;
    assert!(review.contains("Candidates and provisional entities (2)") && review.contains("/review?page=2"));
    let names = |html: &str| {
        ["GLM-4", "言犀大模型"].iter().filter(|n| html.contains(&format!("<div class=\"title\">{n}</div>"))).count()
    };
    let page2 = get("/review?page=2").await;
    assert_eq!((names(&review), names(&page2)), (1, 1), "one candidate a page");
    let sources = get("/sources?status=gone").await;
    assert!(sources.contains("/reports/landscape.html") && !sources.contains("/news/weekly.html"), "{sources}");
}
