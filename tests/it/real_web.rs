//! The real web as a demanding user meets it, through the binary: answers
//! an article's URL gives that are not the article must never become its
//! content, and text must decode as a reader sees it.

use crate::both_backends;
use crate::liveness::ARTICLE;
use crate::support::{Backend, Mw, Page, TestServer};

/// A JSON error, an empty 200 or a JSON "not found" in place of the article
/// were recorded as content changes ("5 paragraphs removed") and became the
/// source's text. Each is now a liveness outcome; the article stays current.
async fn answers_that_are_not_the_article_are_never_content(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let json = |body: &str| Page::bytes("application/json; charset=utf-8", body.as_bytes().to_vec());
    let cases: Vec<(&str, Page, &str, Option<&str>)> = vec![
        ("/a/json.html", json(r#"{"code": 500, "msg": "服务器繁忙，请稍后再试"}"#), "redirected", None),
        ("/a/empty.html", Page::bytes("text/html", Vec::new()), "failed", Some("invalid_content")),
        ("/a/api404.html", json(r#"{"code": 404, "msg": "文章不存在"}"#), "soft_gone", None),
    ];
    for (path, answer, outcome, error_kind) in cases {
        server.set(path, Page::html(ARTICLE));
        let id = mw.add(&server.url(path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        server.set(path, answer);
        let got = mw.check_one(id).await;
        assert_eq!(got["outcome"], outcome, "{path}: {got}");
        assert_eq!(got["error_kind"].as_str(), error_kind, "{path}: {got}");
        assert!(mw.changes(Some(id)).await.is_empty(), "{path}: no change before confirmation");
        assert!(mw.current_text(id).await.contains("文心一言用户数已突破4.3亿"), "{path}: the article stays current");
    }
}

both_backends!(
    answers_that_are_not_the_article_are_never_content_on,
    answers_that_are_not_the_article_are_never_content
);

/// `Content-Type: text/html; charset=ISO-8859-1` is a server default (Tomcat,
/// old Apache configs) that many Chinese sites send in front of UTF-8 or GBK
/// pages. It decoded without an error, so the article was stored as
/// mojibake: no catalog mention, and an unreadable excerpt on every edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latin1_header_in_front_of_a_chinese_article_decodes_as_chinese() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let latin1 = "text/html; charset=ISO-8859-1";
    let gbk =
        |html: &str| encoding_rs::GBK.encode(&html.replace("<head>", "<head><meta charset=\"gbk\">")).0.into_owned();
    let edited = ARTICLE.replace("4.3亿", "5亿");
    for (path, before, after) in [
        ("/utf8.html", ARTICLE.as_bytes().to_vec(), edited.as_bytes().to_vec()),
        ("/gbk.html", gbk(ARTICLE), gbk(&edited)),
    ] {
        server.set(path, Page::bytes(latin1, before));
        let id = mw.add(&server.url(path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        let stored = mw.current_text(id).await;
        assert!(stored.contains("文心一言用户数已突破4.3亿"), "{path}: {stored}");
        server.set(path, Page::bytes(latin1, after));
        assert_eq!(mw.check_one(id).await["outcome"], "changed");
        let change = &mw.changes(Some(id)).await[0];
        let excerpt = change["excerpt"].as_str().unwrap_or_default();
        assert!(excerpt.contains("文心一言用户数已突破"), "{path}: {excerpt}");
    }
}

/// A server that answers every request with `bodies[n]` (the last one
/// again once they run out), delimited by closing the connection: no
/// Content-Length, no chunked encoding, as an old server or one that
/// died mid-answer sends it.
async fn close_delimited(bodies: Vec<Vec<u8>>) -> String {
    raw_server(bodies.into_iter().map(|b| (None, b)).collect()).await
}

/// A server that answers every request with `answers[n]` (the last one
/// again once they run out): its body after a `Content-Length` header
/// when one is given (whatever the body's real length), then closes the
/// connection.
async fn raw_server(answers: Vec<(Option<usize>, Vec<u8>)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for n in 0.. {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let (length, body) = &answers[n.min(answers.len() - 1)];
            let length = length.map(|l| format!("content-length: {l}\r\n")).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n{length}connection: close\r\n\r\n"
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body).await;
            let _ = sock.shutdown().await;
        }
    });
    format!("http://{addr}/news/a.html")
}

/// A body cut off mid-article by a closed connection was recorded as an
/// edit ("1 paragraph modified, 2 removed") and became the source's text,
/// and the whole article coming back was a second change. It is a failed
/// check now (`decode`); the article stays current and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_off_mid_article_is_never_an_edit() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    mw.init().await;
    let whole = ARTICLE.as_bytes().to_vec();
    let cut = ARTICLE.as_bytes()[..ARTICLE.find("日均调用量").unwrap()].to_vec();
    // An edit that drops the last paragraph sends a whole document.
    let shortened = ARTICLE.replace("<p>文心大模型4.5的API价格为GPT-4.5的1%，输入每百万tokens仅需4元。</p>\n", "");
    let url = close_delimited(vec![whole.clone(), cut, whole, shortened.into_bytes()]).await;
    let id = mw.add(&url, &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let got = mw.check_one(id).await;
    assert_eq!((got["outcome"].as_str(), got["error_kind"].as_str()), (Some("failed"), Some("decode")), "{got}");
    assert!(mw.current_text(id).await.contains("输入每百万tokens仅需4元"), "the article stays current");
    assert_eq!(mw.check_one(id).await["outcome"], "unchanged");
    assert!(mw.changes(Some(id)).await.is_empty());
    let edit = mw.check_one(id).await;
    assert_eq!(edit["outcome"], "changed", "{edit}");
    assert_eq!(edit["change"]["removed"], 1, "{edit}");
}

/// A page that never closes its document (a hand-written template that
/// ends on an unclosed `<div>` and a script, no `</body>`, no `</html>`):
/// an editor deleting its last paragraph made its text a prefix of the
/// last one, which was read as a cut-off answer: a failed check
/// (`decode`) on every check from then on, and the edit never reported.
/// A body is judged cut off only when the page's previous answer closed
/// its document.
async fn an_edit_of_a_page_that_never_closes_its_document_is_a_change(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let last = "<p>文心大模型4.5的API价格为GPT-4.5的1%，输入每百万tokens仅需4元。</p>\n";
    let unclosed =
        ARTICLE.replace("</article></body></html>", "</article>\n<div class=\"foot\"><script>var pv = 1;</script>");
    server.set("/open.html", Page::html(unclosed.clone()));
    let id = mw.add(&server.url("/open.html"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    server.set("/open.html", Page::html(unclosed.replace(last, "")));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
    assert_eq!(got["change"]["removed"], 1, "{got}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    let excerpt = changes[0]["excerpt"].as_str().unwrap_or_default();
    assert!(excerpt.contains("输入每百万tokens仅需4元"), "the removed paragraph is shown: {excerpt}");
    let again = mw.check_one(id).await;
    assert!(
        matches!(again["outcome"].as_str(), Some("unchanged" | "not_modified")),
        "the edit is the page now: {again}"
    );
}

both_backends!(
    an_edit_of_a_page_that_never_closes_its_document_is_a_change_on,
    an_edit_of_a_page_that_never_closes_its_document_is_a_change
);

/// Servers whose `Content-Length` is not the body's length. Shorter: the
/// client reads that many bytes (a cut page) and nothing tells it more was
/// sent. Longer: the connection closes before the promised end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_that_is_not_the_body_length_is_never_an_edit() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    mw.init().await;
    let whole = ARTICLE.as_bytes().to_vec();
    let cut_at = ARTICLE.find("日均调用量").unwrap();
    // Whole article, then a Content-Length that stops mid-article, then one
    // that promises more than is sent, then the whole article again.
    let url = raw_server(vec![
        (Some(whole.len()), whole.clone()),
        (Some(cut_at), whole.clone()),
        (Some(whole.len() + 500), whole.clone()),
        (Some(whole.len()), whole.clone()),
    ])
    .await;
    let id = mw.add(&url, &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let short = mw.check_one(id).await;
    assert_eq!((short["outcome"].as_str(), short["error_kind"].as_str()), (Some("failed"), Some("decode")), "{short}");
    let long = mw.check_one(id).await;
    assert_eq!(long["outcome"], "failed", "{long}");
    eprintln!("content-length longer than the body: {long}");
    assert_eq!(mw.check_one(id).await["outcome"], "unchanged");
    // Two failed checks in a row are a status (failing, then recovered),
    // never content.
    let changes = mw.changes(Some(id)).await;
    assert!(changes.iter().all(|c| c["kind"] == "status"), "{changes:?}");
    assert!(mw.current_text(id).await.contains("输入每百万tokens仅需4元"), "the article stays current");

    // A server that always sends a short Content-Length: its first answer
    // is all a client ever sees of the page; the baseline is that.
    let url = raw_server(vec![(Some(cut_at), whole.clone())]).await;
    let id = mw.add(&url, &[]).await;
    let first = mw.check_one(id).await;
    eprintln!("a short Content-Length from the first answer on: {first}");
    assert_eq!(mw.check_one(id).await["outcome"], "unchanged");
}

/// A comment widget that renders inside the article's container: the
/// comments are `<p class="comment">` beside the article's paragraphs, or
/// `<div class="reply">` items. A new comment is not an edit of the
/// article; an edit of the article still is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_inside_the_article_container_are_never_a_change() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let page = |comments: &[&str], article: &str| {
        let p: String = comments.iter().map(|c| format!("<p class=\"comment\">{c}</p>")).collect();
        let replies: String =
            comments.iter().map(|c| format!("<div class=\"reply\"><span>网友：</span>{c}</div>")).collect();
        Page::html(article.replace("</article>", &format!("{p}{replies}</article>")))
    };
    server.set("/c.html", page(&["这个模型的价格确实很有竞争力，期待开源版本。"], ARTICLE));
    let id = mw.add(&server.url("/c.html"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let text = mw.current_text(id).await;
    assert!(!text.contains("期待开源版本"), "comments are not the article: {text}");
    let more = ["这个模型的价格确实很有竞争力，期待开源版本。", "用了一周，长文本理解比上一代强了不少，推荐试试。"];
    server.set("/c.html", page(&more, ARTICLE));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "unchanged", "a new comment: {got}");
    server.set("/c.html", page(&more, &ARTICLE.replace("4.3亿", "5亿")));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
}

/// A byline inside the article, "更新时间：… HH:MM 阅读量：N": every check
/// with a new view count was a change ("[-11-]{+12+}:量：[-1,234-]{+2,468+}"),
/// the noise rules having taken the stamp's minutes for the counter's
/// number. Only the article's own edit is a change now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byline_with_a_stamp_and_a_view_counter_is_never_a_change() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let page = |n: u32, article: &str| {
        let byline = format!("<div class=\"info\">更新时间：2024-05-0{n} 1{n}:3{n}　阅读量：{}</div>", 1234 * n);
        Page::html(article.replace(
            "<article><h1>百度发布文心大模型4.5</h1>",
            &format!("<article><h1>百度发布文心大模型4.5</h1>{byline}"),
        ))
    };
    server.set("/a.html", page(1, ARTICLE));
    let id = mw.add(&server.url("/a.html"), &[]).await;
    mw.check_one(id).await;
    for n in 2..=3 {
        server.set("/a.html", page(n, ARTICLE));
        let got = mw.check_one(id).await;
        assert_eq!(got["outcome"], "unchanged", "views {n}: {got}");
    }
    server.set("/a.html", page(4, &ARTICLE.replace("4.3亿", "5亿")));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
    assert_eq!(got["change"]["modified"], 1, "{got}");
}

/// A redirect to a URL with credentials (`user:password@`, `?token=`): the
/// source's `final_url` printed them in `sources list` and `sources show`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_a_redirect_target_are_never_listed() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    server.set("/a.html", Page::html(ARTICLE));
    server.set("/2024/a.html?token=s3cr3t-token", Page::html(ARTICLE));
    let id = mw.add(&server.url("/a.html"), &[]).await;
    mw.check_one(id).await;
    let target = format!("http://admin:hunter2@{}/2024/a.html?token=s3cr3t-token", server.addr);
    server.set("/a.html", Page::redirect(301, &target));
    let got = mw.check_one(id).await;
    assert!(matches!(got["outcome"].as_str(), Some("unchanged" | "not_modified")), "{got}");
    assert_eq!(got["status"], "ok", "{got}");
    let shown = mw.source(id).await;
    assert!(shown["final_url"].as_str().unwrap().contains("/2024/a.html"), "{shown}");
    for args in
        [&["sources", "list", "--format", "json"][..], &["sources", "show", &id.to_string()], &["sources", "list"]]
    {
        let out = mw.run_async(args).await.ok().stdout;
        assert!(!out.contains("hunter2") && !out.contains("s3cr3t-token"), "{args:?}: {out}");
    }
}
