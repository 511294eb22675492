//! The knowledge document round trip through the real binary: import its
//! references, watch them die, move and turn into soft 404s, give the list
//! back with each link's health, and read the archived copy of a dead one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::both_backends;
use crate::support::{Backend, Mw, Page, Run, TestServer};

fn html(title: &str, body: &str) -> Page {
    Page::html(format!("<html><head><title>{title}</title></head><body><article><p>{body}</p></article></body></html>"))
}

/// A long article whose paragraphs 3, 10, 17, … (eight of them) can be edited.
fn long_article(edited: bool) -> Page {
    let paragraphs: String = (0..56)
        .map(|i| {
            let mark = if edited && i % 7 == 3 { format!("修订{i}") } else { String::new() };
            format!(
                "<p>第{i}段：华为盘古大模型在行业应用中的进展{mark}，涵盖金融、政务与制造等多个领域的落地案例。</p>"
            )
        })
        .collect();
    Page::html(format!(
        "<html><head><title>盘古大模型发布</title></head><body><article>{paragraphs}</article></body></html>"
    ))
}

fn by_url(rows: &Value) -> HashMap<String, Value> {
    rows.as_array().unwrap().iter().map(|r| (r["url"].as_str().unwrap_or_default().to_owned(), r.clone())).collect()
}

fn assert_usage_error(r: &Run, needle: &str) {
    assert_eq!(r.code, 2, "expected exit 2, got {}\nstderr: {}", r.code, r.stderr);
    assert!(r.stderr.contains(needle), "stderr lacks {needle:?}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

async fn round_trip(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    mw.init().await;
    let server = TestServer::start().await;
    let pages = [
        ("/ok", "盘古大模型发布", "华为发布盘古大模型，参数规模达到千亿级别，面向行业应用。"),
        ("/dead", "文心一言开放", "百度宣布文心一言向公众开放，首日用户数突破百万。"),
        ("/moved", "商量体验", "商汤发布商量大模型，并开放API给企业客户试用。"),
        ("/soft", "通义千问邀测", "阿里云通义千问开启企业邀测，覆盖办公与电商场景。"),
        ("/home-bound", "星火认知", "科大讯飞发布星火认知大模型，强调教育场景落地。"),
        ("/fail", "混元发布", "腾讯混元大模型亮相，面向内部业务和云客户。"),
    ];
    for (path, title, body) in pages {
        server.set(path, html(title, body));
    }
    server.set("/ok", long_article(false));
    server.set("/", html("首页", "欢迎来到示例站点首页，这里汇集最新的大模型资讯与报道。"));
    let u = |p: &str| server.url(p);
    let doc = format!(
        "# 第一章 模型\n\n## 本章参考\n\n* 盘古发布 {}\n* [文心一言]({})\n* 商量 <{}>\n\n\
         # 第二章 厂商\n\n## 参考\n\n1. 通义千问：{}\n2. [星火][x]\n3. 混元 {}?utm_source=wechat#comments\n\n\
         ```\n{}\n```\n\n[x]: {}\n",
        u("/ok"),
        u("/dead"),
        u("/moved"),
        u("/soft"),
        u("/fail"),
        u("/in-code-never-imported"),
        u("/home-bound"),
    );
    let file = mw.path().join("notes.md");
    std::fs::write(&file, doc).unwrap();
    let file = file.to_str().unwrap();

    let imported = mw.run_async(&["sources", "import", file, "--format", "json"]).await.ok().json();
    let rows = imported.as_array().unwrap();
    assert_eq!(rows.len(), 6, "{imported:#}");
    assert!(rows.iter().all(|r| r["result"] == "added"), "{imported:#}");
    let imported = by_url(&imported);
    assert_eq!(imported[&u("/fail")]["original"], format!("{}?utm_source=wechat#comments", u("/fail")));
    assert_eq!(imported[&u("/home-bound")]["form"], "reference");
    assert_eq!(imported[&u("/soft")]["title"], "通义千问");
    let id = |p: &str| imported[&u(p)]["id"].as_i64().unwrap();
    let source = mw.source(id("/soft")).await;
    assert_eq!(source["section"], "第二章 厂商 / 参考");
    assert_eq!(source["tags"], serde_json::json!(["参考"]));

    mw.run_async(&["check"]).await.ok();
    let before = mw.run_async(&["export", "references", "--format", "json"]).await.ok().json();
    assert!(before.as_array().unwrap().iter().all(|r| r["health"] == "ok"), "{before:#}");

    server.set("/ok", long_article(true));
    server.set("/dead", Page::status(404));
    server.set("/moved", Page::redirect(301, &u("/moved-new")));
    server.set("/moved-new", html("商量体验", "商汤发布商量大模型，并开放API给企业客户试用。"));
    server.set("/soft", html("404-页面不存在", "抱歉，您访问的页面不存在"));
    server.set("/home-bound", Page::redirect(301, &u("/")));
    server.set("/fail", Page::status(500));
    // Every suspect outcome needs `liveness.confirm_after` (2) agreeing checks.
    mw.run_async(&["check"]).await.ok();
    mw.run_async(&["check"]).await.ok();

    let export = mw.run_async(&["export", "references", "--format", "json"]).await.ok().json();
    let order: Vec<&str> = export.as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap()).collect();
    let expected: Vec<String> =
        ["/ok", "/dead", "/moved", "/soft", "/home-bound", "/fail"].iter().map(|p| u(p)).collect();
    assert_eq!(order, expected, "document order");
    let health = by_url(&export);
    let h = |p: &str| health[&u(p)].clone();
    assert_eq!(h("/ok")["health"], "ok", "{:#}", h("/ok"));
    assert_eq!(h("/dead")["health"], "gone", "{:#}", h("/dead"));
    assert_eq!(h("/moved")["health"], "moved", "{:#}", h("/moved"));
    assert_eq!(h("/moved")["new_url"], u("/moved-new"));
    assert_eq!(h("/soft")["health"], "soft404", "{:#}", h("/soft"));
    assert_eq!(h("/home-bound")["health"], "redirected", "{:#}", h("/home-bound"));
    assert_eq!(h("/fail")["health"], "failing", "{:#}", h("/fail"));
    assert_eq!(h("/fail")["last_error_kind"], "http_status");
    for p in ["/dead", "/soft", "/home-bound", "/fail"] {
        assert!(h(p)["since"].is_string(), "{p} has a date: {:#}", h(p));
        assert!(h(p)["archive"].as_str().unwrap().starts_with("modelwatch snapshot show "), "{:#}", h(p));
        assert!(h(p)["last_snapshot_at"].is_string());
    }
    for p in ["/ok", "/moved"] {
        assert!(h(p)["archive"].is_null() && h(p)["since"].is_null(), "{:#}", h(p));
    }
    let since = |p: &str| h(p)["since"].as_str().unwrap()[..10].to_owned();

    let md = mw.run_async(&["export", "references"]).await.ok().stdout;
    assert!(md.starts_with("# 第一章 模型\n\n## 本章参考\n\n"), "{md}");
    assert!(md.contains("\n# 第二章 厂商\n\n## 参考\n\n"), "{md}");
    let line = |p: &str| md.lines().find(|l| l.contains(&format!("<{}>", u(p)))).unwrap_or_else(|| panic!("{p}: {md}"));
    assert!(line("/ok").contains("[盘古发布]") && line("/ok").contains("— ok"), "{md}");
    assert!(line("/dead").contains(&format!("**gone since {}**", since("/dead"))), "{md}");
    assert!(line("/moved").contains(&format!("moved → {}", u("/moved-new"))), "{md}");
    assert!(line("/soft").contains(&format!("**soft-404 since {}**", since("/soft"))), "{md}");
    assert!(line("/home-bound").contains(&format!("**redirected → {}**", u("/"))), "{md}");
    assert!(line("/fail").contains(&format!("**failing (http_status) since {}**", since("/fail"))), "{md}");
    assert!(line("/dead").contains("last good copy") && line("/dead").contains("`modelwatch snapshot show "), "{md}");
    assert_eq!(md.matches("**").count(), 8, "exactly the four dead links are marked: {md}");

    // The archive: the last good text of the dead link.
    let archive = h("/dead")["archive"].as_str().unwrap().to_owned();
    let snap_id = archive.rsplit(' ').next().unwrap().to_owned();
    let shown = mw.run_async(&["snapshot", "show", &snap_id]).await.ok();
    assert!(shown.stdout.contains("百度宣布文心一言向公众开放"), "{}", shown.stdout);
    let by_source = mw.run_async(&["snapshot", "show", &u("/dead")]).await.ok();
    assert_eq!(by_source.stdout, shown.stdout);
    let by_id = mw.run_async(&["snapshot", "show", "--source", &id("/dead").to_string()]).await.ok();
    assert_eq!(by_id.stdout, shown.stdout);
    let raw = mw.run_async(&["snapshot", "show", &snap_id, "--raw"]).await.ok();
    assert!(raw.stdout.starts_with("<html>") && raw.stdout.contains("文心一言"), "{}", raw.stdout);
    let early = mw.run_async(&["snapshot", "show", "--source", &id("/dead").to_string(), "--at", "2000-01-01"]).await;
    assert_usage_error(&early, "no snapshot taken before");
    assert_usage_error(&mw.run_async(&["snapshot", "show", "999999"]).await, "no snapshot #999999");

    // A content change: two snapshots, and the whole diff on demand.
    let listed = mw.run_async(&["snapshot", "list", &id("/ok").to_string(), "--format", "json"]).await.ok().json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[1]["current"], true);
    assert_eq!(listed[0]["raw_kept"], true);
    let changes = mw.changes(Some(id("/ok"))).await;
    let content: Vec<&Value> = changes.iter().filter(|c| c["kind"] == "content").collect();
    assert_eq!(content.len(), 1, "{changes:?}");
    let change_id = content[0]["id"].as_i64().unwrap().to_string();
    let show = mw.run_async(&["changes", "show", &change_id]).await.ok().stdout;
    assert!(show.contains(&format!("Change #{change_id} (content)")), "{show}");
    // The stored excerpt stops after a few hunks; `changes show` has all eight.
    assert!(content[0]["excerpt"].as_str().unwrap().matches("修订").count() < 8, "{:#}", content[0]);
    for i in (3..56).step_by(7) {
        assert!(show.contains(&format!("修订{i}")), "the whole diff lacks paragraph {i}: {show}");
    }
    let show = mw.run_async(&["changes", "show", &change_id, "--format", "json"]).await.ok().json();
    assert_eq!(show["diff"].as_str().unwrap().matches("修订").count(), 8, "{show:#}");
    assert_eq!(show["id"].as_i64().unwrap().to_string(), change_id);
    assert_usage_error(&mw.run_async(&["changes", "show", "424242"]).await, "no change #424242");
    // The list form still works beside the subcommand.
    mw.run_async(&["changes", "--since", "7d", "--format", "json"]).await.ok().json();

    let out = mw.path().join("archive-ok");
    mw.run_async(&["snapshot", "export", &id("/ok").to_string(), "--output", out.to_str().unwrap()]).await.ok();
    let index: Value = serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    let snaps = index["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 2);
    for s in snaps {
        let text = std::fs::read_to_string(out.join(s["text_file"].as_str().unwrap())).unwrap();
        assert!(text.contains("第55段"), "{text}");
        let raw = std::fs::read_to_string(out.join(s["raw_file"].as_str().unwrap())).unwrap();
        assert!(raw.contains("<html>"), "{raw}");
    }
    assert_eq!(index["url"], u("/ok"));

    // Re-importing the same document changes nothing.
    let again = mw.run_async(&["sources", "import", file, "--format", "json"]).await.ok().json();
    assert!(again.as_array().unwrap().iter().all(|r| r["result"] == "exists"), "{again:#}");
}

both_backends!(knowledge_document_round_trip, round_trip);

#[tokio::test]
async fn import_dedups_against_the_database_and_respects_removals() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let kept = mw.add("https://baike.baidu.com/item/ChatGPT/62446358?fr=aladdin", &[]).await;
    let removed = mw.add("https://www.jianshu.com/p/14eaedbbca17", &[]).await;
    mw.run_async(&["sources", "remove", &removed.to_string()]).await.ok();
    let doc = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aigc-industry-notes.md");
    let dry = mw.run_async(&["sources", "import", doc, "--dry-run", "--format", "json"]).await.ok();
    let rows = dry.json();
    let rows = rows.as_array().unwrap();
    let result = |r: &str| rows.iter().filter(|x| x["result"] == r).count();
    assert_eq!(result("would_add"), 42, "{}", dry.stdout);
    assert_eq!(result("exists"), 1, "the ?fr=aladdin source is the same page");
    assert_eq!(result("removed"), 1, "a removed source is not brought back");
    assert_eq!(result("duplicate"), 2);
    assert_eq!(result("skipped"), 3);
    let skipped: Vec<&str> =
        rows.iter().filter(|x| x["result"] == "skipped").map(|x| x["reason_code"].as_str().unwrap()).collect();
    assert_eq!(skipped, ["relative", "relative", "relative"]);
    let exists = rows.iter().find(|x| x["result"] == "exists").unwrap();
    assert_eq!(exists["id"], kept);
    assert_eq!(mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json().as_array().unwrap().len(), 1);

    // The table prints every URL whole, under its heading path.
    let table = mw.run_async(&["sources", "import", doc, "--dry-run"]).await.ok().stdout;
    assert!(
        table.contains(
            "https://mp.weixin.qq.com/s?__biz=MzI1MDU4OTA0Mg==&mid=2247698025&idx=2&sn=43f5b001ef0e6ddd0a3fefaa27bf7189"
        ),
        "{table}"
    );
    assert!(!table.contains("…/") && table.contains("## 附录 / Chatgpt资源清单"), "{table}");

    mw.run_async(&["sources", "import", doc]).await.ok();
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 43);
    assert_eq!(list.iter().filter(|s| s["kind"] == "github").count(), 5, "the five repositories are github sources");
    assert_eq!(list.iter().filter(|s| s["kind"] == "pdf").count(), 1);
    let baike = list.iter().find(|s| s["id"] == kept).unwrap();
    assert_eq!(baike["section"], "参考资料", "an existing source gets its place in the document");
    let alpaca = list.iter().find(|s| s["url"] == "https://github.com/tatsu-lab/stanford_alpaca").unwrap();
    assert_eq!(alpaca["section"], "附录 / Chatgpt资源清单");
    assert_eq!(alpaca["tags"], serde_json::json!(["Chatgpt资源清单"]));
    assert_eq!(alpaca["title"], "GPT 3.5 平替开源项目");
}

/// Bad and extreme documents: each a clear result in bounded time.
#[tokio::test]
async fn odd_documents_get_a_clear_answer() {
    let mw = Mw::with_config(
        Backend::Sqlite,
        &format!("{}\n[import]\nmax_file_bytes = 60000000\nmax_new_sources = 20000\n", crate::support::TEST_CONFIG),
    )
    .await
    .unwrap();
    mw.init().await;
    let dir = mw.path();

    let png = dir.join("figure.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0").unwrap();
    assert_usage_error(&mw.run_async(&["sources", "import", png.to_str().unwrap()]).await, "not a text file");
    assert_usage_error(&mw.run_async(&["sources", "import", dir.to_str().unwrap()]).await, "not a regular file");
    let missing = dir.join("missing.md");
    assert_usage_error(&mw.run_async(&["sources", "import", missing.to_str().unwrap()]).await, "cannot read");

    let empty = dir.join("empty.md");
    std::fs::write(&empty, "").unwrap();
    let r = mw.run_async(&["sources", "import", empty.to_str().unwrap(), "--format", "json"]).await.ok();
    assert_eq!(r.json(), serde_json::json!([]));
    assert!(r.stderr.contains("0 reference(s)"), "{}", r.stderr);

    // 10,000 links in 100 sections, added in one transaction.
    let mut many = String::new();
    for section in 0..100 {
        many.push_str(&format!("## 第{section}节\n\n"));
        for i in 0..100 {
            many.push_str(&format!("* 报道 {section}-{i} https://news{section}.example.cn/a/{i}.html\n"));
        }
        many.push('\n');
    }
    let many_file = dir.join("many.md");
    std::fs::write(&many_file, &many).unwrap();
    let started = Instant::now();
    let r = mw.run_async(&["sources", "import", many_file.to_str().unwrap(), "--format", "json"]).await.ok();
    let took = started.elapsed();
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 10_000);
    assert!(rows.as_array().unwrap().iter().all(|x| x["result"] == "added"));
    assert_eq!(rows[9_999]["section"], "第99节");
    eprintln!("10,000 links imported in {took:?}");
    assert!(took < Duration::from_secs(120), "{took:?}");
    let started = Instant::now();
    let again =
        mw.run_async(&["sources", "import", many_file.to_str().unwrap(), "--dry-run", "--format", "json"]).await.ok();
    assert!(again.json().as_array().unwrap().iter().all(|x| x["result"] == "exists"));
    eprintln!("10,000 links re-read (dry run) in {:?}", started.elapsed());

    // 50 MB of prose with 1,000 links: parsed whole, in bounded time.
    let big_file = dir.join("big.md");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big_file).unwrap());
        let para =
            "大模型的训练成本、推理成本与应用落地是行业关注的焦点，各家厂商纷纷发布自己的模型与平台。".repeat(20);
        let mut written = 0usize;
        let mut n = 0;
        while written < 50 * 1024 * 1024 {
            let chunk = if n % 17 == 0 && n / 17 < 1000 {
                format!("## 章节 {n}\n\n{para} 参见 https://big.example.cn/r/{}\n\n", n / 17)
            } else {
                format!("{para}\n\n")
            };
            f.write_all(chunk.as_bytes()).unwrap();
            written += chunk.len();
            n += 1;
        }
    }
    let started = Instant::now();
    let r =
        mw.run_async(&["sources", "import", big_file.to_str().unwrap(), "--dry-run", "--format", "json"]).await.ok();
    let took = started.elapsed();
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1000);
    assert!(rows.iter().all(|x| x["result"] == "would_add"));
    eprintln!("50 MB document read in {took:?}");
    assert!(took < Duration::from_secs(180), "{took:?}");

    // Caps: a larger file and a document with more new links than allowed.
    let small = Mw::with_config(
        Backend::Sqlite,
        &format!(
            "{}\n[import]\nmax_file_bytes = 600000\nmax_links = 200\nmax_new_sources = 50\n",
            crate::support::TEST_CONFIG
        ),
    )
    .await
    .unwrap();
    small.init().await;
    let r = small.run_async(&["sources", "import", big_file.to_str().unwrap()]).await;
    assert_usage_error(&r, "import.max_file_bytes = 600000");
    let r = small.run_async(&["sources", "import", many_file.to_str().unwrap()]).await;
    assert_usage_error(&r, "more than import.max_links = 200 links");
    let hundred = dir.join("hundred.md");
    std::fs::write(&hundred, many.lines().take(102).collect::<Vec<_>>().join("\n")).unwrap();
    let r = small.run_async(&["sources", "import", hundred.to_str().unwrap()]).await;
    assert_usage_error(&r, "import.max_new_sources = 50");
    let list = small.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing added");
}
