//! Headless Chromium reads every page of a seeded database, logs in and
//! accepts a proposed fact through the form; the same POST without the
//! login or without the CSRF token is refused and changes nothing. Hostile
//! page text renders as text.
#![allow(clippy::disallowed_methods, reason = "our own web view on 127.0.0.1; its pages are small")]

use super::seed::{HOSTILE_TEXT, Seeded, TOKEN, seeded, serve};
use crate::both_backends;
use crate::support::Backend;
use crate::support::webdriver::{self, Browser, Driver};

/// Asserts the page at `path` loaded, is not an error page and runs no script.
async fn open(b: &Browser, base: &str, path: &str, title: &str) -> String {
    b.goto(&format!("{base}{path}")).await;
    assert_eq!(b.title().await, format!("{title} · modelwatch"), "{path}");
    assert!(b.find_all("script").await.is_empty(), "{path} carries a script element");
    let viewport = b.find("meta[name=viewport]").await;
    assert!(viewport.is_some(), "{path} has no viewport meta");
    b.text().await
}

async fn web_view_in_a_real_browser(backend: Backend) {
    if !webdriver::available() {
        // scripts/test-deps installs them; CI runs it first.
        eprintln!("skipped: {} or {} is missing (run scripts/test-deps)", webdriver::CHROMIUM, webdriver::CHROMEDRIVER);
        return;
    }
    let Some(seed) = seeded(backend).await else { return };
    let served = serve(&seed.mw, "[web]\nlisten = \"127.0.0.1:0\"\n").await;
    let base = served.base.as_str();
    let change = seed.content_change().await;
    let change_id = change["id"].as_i64().unwrap();
    let pending = seed.pending_facts().await;
    let fact = pending.iter().find(|f| f["entity"] == "GPT-4").unwrap_or_else(|| panic!("no GPT-4 fact: {pending:?}"));
    let fact_id = fact["id"].as_i64().unwrap();

    let driver = Driver::start().await;
    let b = driver.browser(1280, 900).await;

    // Changes: newest first, with filters.
    let text = open(&b, base, "/changes", "Changes").await;
    assert!(text.contains("大模型周报：开源与闭源之争"), "{text}");
    assert!(text.contains("content") && text.contains("status"), "{text}");
    let ids: Vec<i64> =
        b.texts(".card .meta a:first-child").await.iter().map(|t| t.trim_start_matches('#').parse().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{text}");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let text = open(&b, base, "/changes?kind=status", "Changes").await;
    assert!(!text.contains("大模型周报"), "{text}");
    assert!(text.contains("/reports/landscape.html"), "{text}");
    let text = open(&b, base, "/changes?tag=%E5%A4%A7%E6%A8%A1%E5%9E%8B", "Changes").await;
    assert!(text.contains("大模型周报") && !text.contains("/reports/landscape.html"), "{text}");
    let text = open(&b, base, "/changes?since=2999-01-01", "Changes").await;
    assert!(text.contains("No changes match these filters"), "{text}");

    // One change: the whole diff with its snapshot dates; hostile text is text.
    let text = open(&b, base, &format!("/changes/{change_id}"), &format!("Change #{change_id}")).await;
    assert!(text.contains("Whole diff") && text.contains("Before: snapshot #") && text.contains("After: snapshot #"));
    assert!(text.contains("GPT-4的参数量约为1.8万亿"), "{text}");
    assert!(text.contains("<script>document.title='pwned'</script>"), "{text}");
    assert!(!b.find_all(".diff ins").await.is_empty() && !b.find_all(".diff del").await.is_empty());
    let source = b.source().await;
    assert!(source.contains("&lt;script&gt;document.title="), "markup is escaped in the HTML");
    // The CJK-aware inline marks: 旧 → 新 inside the reader's note, the
    // literal "[-" of the page kept as text.
    assert!(b.texts(".diff del").await.iter().any(|t| t == "旧"), "{:?}", b.texts(".diff del").await);
    assert!(b.texts(".diff ins").await.iter().any(|t| t == "新"), "{:?}", b.texts(".diff ins").await);
    assert!(text.contains("以及[-旧新版-]标记"), "{text}");

    // Sources: status, checks, errors; a source page with its history and archive.
    let text = open(&b, base, "/sources", "Sources").await;
    assert!(text.contains("gone") && text.contains("ok"), "{text}");
    assert!(text.contains("大模型") && text.contains("行业分析"), "{text}");
    let text = open(&b, base, &format!("/sources/{}", seed.gone), "行业全景图（存档）").await;
    assert!(text.contains("Status history") && text.contains("Archived snapshots"), "{text}");
    assert!(text.contains("gone"), "{text}");
    b.click("a[href^='/snapshots/']").await;
    b.wait_text("这份报告梳理了国内大模型厂商的融资与产品发布节奏").await;
    b.click("a[href$='/raw']").await;
    b.wait_text("<article><h1>行业全景图</h1>").await;
    let text = open(&b, base, &format!("/sources/{}", seed.article), "大模型周报：开源与闭源之争").await;
    assert!(text.contains("content"), "{text}");
    b.click(&format!("a[href='/changes/{change_id}']")).await;
    b.wait_url(&format!("/changes/{change_id}")).await;
    // The archived text shows the hostile note as text too.
    let snapshot = change["to_snapshot_id"].as_i64().unwrap();
    let text = open(&b, base, &format!("/snapshots/{snapshot}"), &format!("Snapshot #{snapshot}")).await;
    assert!(text.contains(HOSTILE_TEXT), "{text}");
    assert_ne!(b.title().await, "pwned");

    // Catalog: families, vendors, one entity's facts with their evidence.
    let text = open(&b, base, "/catalog", "Catalog").await;
    assert!(text.contains("Model families and versions") && text.contains("GPT-4") && text.contains("阿里巴巴"));
    assert!(text.contains("proposed fact(s) await review"), "{text}");
    let text = open(&b, base, "/catalog/show?name=GPT-4", "GPT-4").await;
    assert!(text.contains("1.8万亿") && text.contains("proposed"), "{text}");
    assert!(text.contains("GPT-4的参数量约为1.8万亿"), "the quoted sentence:\n{text}");
    assert!(text.contains("/news/weekly.html"), "the evidence's source:\n{text}");
    assert!(b.find_all("form[action^='/review/']").await.is_empty(), "no review form before login");

    // The review queue, read-only before login.
    let text = open(&b, base, "/review", "Review").await;
    assert!(text.contains("GLM-4") && text.contains("1.8万亿") && text.contains("Log in"), "{text}");
    assert!(b.find_all("form[action^='/review/']").await.is_empty());

    // References: the same rows as `export references`.
    let text = open(&b, base, "/references", "References").await;
    assert!(text.contains("gone since") && text.contains("archived copy"), "{text}");
    let exported = seed.mw.run_async(&["export", "references", "--format", "json"]).await.ok().json();
    for r in exported.as_array().unwrap() {
        assert!(text.contains(r["health_text"].as_str().unwrap()), "{r} not on the page:\n{text}");
    }

    shots(&seed, base).await;

    // The review action without a login is refused and changes nothing.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let accept = format!("{base}/review/facts/{fact_id}/accept");
    let form = "application/x-www-form-urlencoded";
    let res = client.post(&accept).header("content-type", form).body("csrf=guess").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(seed.fact_status(fact_id).await, "proposed");

    // Log in through the form.
    open(&b, base, "/login", "Log in").await;
    b.type_into("#token", "not-the-token").await;
    b.click("#login").await;
    b.wait_text("That token is not right").await;
    b.type_into("#token", TOKEN).await;
    b.click("#login").await;
    b.wait_url("/review").await;
    let cookies = b.cookies().await;
    let session = cookies.as_array().unwrap().iter().find(|c| c["name"] == "mw_session").expect("session cookie");
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Strict", "{session}");
    let cookie = format!("mw_session={}", session["value"].as_str().unwrap());

    // Logged in, the same POST without the CSRF token (or with a wrong one) is refused.
    for body in ["", "csrf=0000"] {
        let res = client
            .post(&accept)
            .header("content-type", form)
            .header("cookie", &cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "body {body:?}");
    }
    assert_eq!(seed.fact_status(fact_id).await, "proposed");

    // Accept through the form: the same store operation as `catalog accept`.
    b.click(&format!("#accept-{fact_id}")).await;
    b.wait_text(&format!("Fact #{fact_id} accepted.")).await;
    assert_eq!(seed.fact_status(fact_id).await, "accepted");
    assert!(b.find(&format!("#accept-{fact_id}")).await.is_none(), "an accepted fact leaves the queue");

    // Reject a candidate for good: `catalog reject NAME`'s store operation.
    let candidates = || async {
        let r = seed.mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
        r.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(candidates().await.contains(&"GLM-4".to_owned()));
    b.click("#candidate-1 form[action='/review/reject'] button").await;
    b.wait_text("\"GLM-4\" rejected").await;
    assert!(!candidates().await.contains(&"GLM-4".to_owned()));

    b.close().await;
    drop(served);
}

/// With `MODELWATCH_WEB_SHOTS=DIR`, screenshots of the changes and catalog
/// pages at 1280 and 390 px (chromium --headless --screenshot).
async fn shots(seed: &Seeded, base: &str) {
    let Ok(dir) = std::env::var("MODELWATCH_WEB_SHOTS") else { return };
    std::fs::create_dir_all(&dir).unwrap();
    let change = seed.content_change().await["id"].as_i64().unwrap();
    let pages = [
        ("changes", "/changes".to_owned()),
        ("change", format!("/changes/{change}")),
        ("catalog", "/catalog".to_owned()),
        ("review", "/review".to_owned()),
    ];
    for (name, path) in pages {
        for (width, height) in [(1280, 1000), (390, 844)] {
            let out = format!("{dir}/{name}-{width}.png");
            let mut cmd = std::process::Command::new(webdriver::CHROMIUM);
            cmd.args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                &format!("--screenshot={out}"),
                &format!("--window-size={width},{height}"),
                &format!("{base}{path}"),
            ]);
            let status = tokio::task::spawn_blocking(move || cmd.output().unwrap().status).await.unwrap();
            assert!(status.success(), "screenshot {out}");
        }
    }
}

both_backends!(pages_review_and_escaping, web_view_in_a_real_browser);
