//! Bad input gets one clear line and exit code 2, never a panic.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use modelwatch::source::{NewSource, SourceOptions, normalize_url};
use modelwatch::store::Store;
use modelwatch::types::SourceKind;

use crate::both_backends;
use crate::support::{Backend, Mw, TestServer};

fn assert_usage_error(r: &crate::support::Run, needle: &str) {
    assert_eq!(r.code, 2, "expected exit 2, got {}\nstderr: {}", r.code, r.stderr);
    assert!(r.stderr.contains(needle), "stderr lacks {needle:?}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"), "{}", r.stderr);
    assert!(r.stderr.trim().starts_with("error:"), "{}", r.stderr);
}

#[tokio::test]
async fn bad_sources_are_refused_with_exit_code_2() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    mw.init().await;
    assert_usage_error(&mw.run_async(&["sources", "add", "ftp://x"]).await, "only http and https");
    assert_usage_error(&mw.run_async(&["sources", "add", "not-a-url"]).await, "not a valid URL");
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/", "--cron", "61 * * * *"]).await, "cron");
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/", "--every", "10s"]).await, "too short");
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/", "--kind", "blog"]).await, "blog");
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/", "--select", "div[["]).await, "selector");
    // Headers the fetcher would drop or that fight its own are refused, and
    // every problem comes in the one message.
    let r = mw
        .run_async(&[
            "sources",
            "add",
            "http://x.cn/",
            "--header",
            "Host: evil",
            "--header",
            "nocolon",
            "--ignore",
            "(",
        ])
        .await;
    assert_usage_error(&r, "\"Host\" is set by the fetcher");
    assert!(r.stderr.contains("must look like \"Name: value\"") && r.stderr.contains("ignore: "), "{}", r.stderr);
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/", "--kind", "github"]).await, "OWNER/NAME");
    let url = server.url("/a");
    mw.add(&url, &[]).await;
    // The same page after normalisation: host case, default port, fragment.
    let same = url.replace("http://", "HTTP://") + "#top";
    assert_usage_error(&mw.run_async(&["sources", "add", &same]).await, "already watched as source #1");
    let upper = "HTTP://X.CN:80/a";
    mw.add(upper, &[]).await;
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/a"]).await, "already watched");
    // Tracking parameters are dropped as `sources import` drops them, so the
    // page a campaign link points at is the page already watched; the other
    // parameters stay as given.
    let tracked = format!("{url}?utm_source=wechat&spm=a.b&id=7");
    let r = mw.run_async(&["sources", "add", &tracked]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{url}?id=7")) && r.stderr.contains("utm_source, spm"), "{}", r.stderr);
    assert_usage_error(
        &mw.run_async(&["sources", "add", &format!("{url}?utm_medium=x")]).await,
        "already watched as source #1",
    );
    assert_usage_error(&mw.run_async(&["sources", "show", "999"]).await, "no source #999");
    // clap's own usage errors are exit 2 as well.
    assert_eq!(mw.run_async(&["sources", "frobnicate"]).await.code, 2);
}

#[tokio::test]
async fn broken_configs_report_every_problem() {
    let mw = Mw::with_config(
        Backend::Sqlite,
        "[fetch]\ntimout = \"3s\"\nmax_redirects = \"ten\"\n[digest]\ncron = \"61 * * * *\"\n",
    )
    .await
    .unwrap();
    let r = mw.run_async(&["config", "check"]).await;
    assert_usage_error(&r, "unknown key `fetch.timout`");
    assert!(r.stderr.contains("`fetch.max_redirects` must be an integer"), "{}", r.stderr);
    let r = mw.run_async(&["sources", "list"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[tokio::test]
async fn config_check_prints_the_effective_config_without_secrets() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.env.push(("MODELWATCH_SMTP_PASSWORD".into(), "hunter2-secret".into()));
    let r = mw.run_async(&["config", "check"]).await.ok();
    assert!(r.stdout.contains("allow_private_networks: true"), "{}", r.stdout);
    assert!(r.stdout.contains("<redacted>"), "{}", r.stdout);
    assert!(!r.stdout.contains("hunter2-secret") && !r.stderr.contains("hunter2-secret"));
}

/// `config check` reads the sources and catalog files the config names, as
/// `init` would, and reports every problem of both before it says "valid".
#[tokio::test]
async fn config_check_validates_the_sources_and_catalog_files() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let r = mw.run_async(&["config", "check"]).await.ok();
    assert!(r.stdout.contains("sources.toml: 0 source(s), all valid"), "{}", r.stdout);
    assert!(r.stdout.contains("no catalog file at"), "{}", r.stdout);
    std::fs::write(
        mw.path().join("sources.toml"),
        "[[source]]\nurl = \"https://a.cn/\"\n[source.options]\nignore = [\"(unclosed\"]\n\
         [[source]]\nurl = \"https://b.cn/\"\nkind = \"github\"\n",
    )
    .unwrap();
    std::fs::write(mw.path().join("catalog.toml"), "[[vendor]]\nname = \"X\"\ncountry = 1\n").unwrap();
    let r = mw.run_async(&["config", "check"]).await;
    assert_usage_error(&r, "source 1 (https://a.cn/): ignore: ");
    assert!(r.stderr.contains("source 2 (https://b.cn/): kind: a github source needs"), "{}", r.stderr);
    assert!(r.stderr.contains("catalog.toml: catalog file is not valid TOML: "), "{}", r.stderr);
    assert!(!r.stdout.contains("is valid"), "{}", r.stdout);
}

/// `init` refuses a seed file whose options would fail every check, and
/// adds none of its sources.
#[tokio::test]
async fn init_refuses_a_seed_source_with_a_bad_regex() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    std::fs::write(
        mw.path().join("sources.toml"),
        "[[source]]\nurl = \"https://ok.cn/\"\n[[source]]\nurl = \"https://a.cn/\"\n[source.options]\nignore = [\"(unclosed\"]\n",
    )
    .unwrap();
    let r = mw.run_async(&["init"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("error: ") && r.stderr.contains("source 2 (https://a.cn/): ignore: "), "{}", r.stderr);
    // `init` validates its files before it changes anything: no database,
    // so nothing of the bad seed file can have been added.
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await;
    assert_eq!(list.code, 2, "{}", list.stderr);
    // …and a read-only command does not create one either (issue 14).
    assert!(list.stderr.contains("does not exist") && list.stderr.contains("run `modelwatch init`"), "{}", list.stderr);
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.db.url = "postgres://postgres@127.0.0.1:1/nothing".into();
    let r = mw.run_async(&["sources", "list"]).await;
    assert_usage_error(&r, "cannot open the database");
    mw.db.url = "mysql://x".into();
    assert_usage_error(&mw.run_async(&["sources", "list"]).await, "database.url");
}

#[tokio::test]
async fn commands_on_an_uninitialised_database_say_run_init() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    assert_usage_error(&mw.run_async(&["sources", "list"]).await, "modelwatch init");
}

#[tokio::test]
async fn pause_and_resume() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    mw.init().await;
    let id = mw.add(&server.url("/x"), &[]).await;
    mw.run_async(&["sources", "pause", &id.to_string()]).await.ok();
    assert_eq!(mw.source(id).await["status"], "paused");
    let r = mw.run_async(&["check", "--format", "json"]).await.ok().json();
    assert_eq!(r.as_array().unwrap().len(), 0, "check skips paused sources");
    mw.run_async(&["sources", "resume", &id.to_string()]).await.ok();
    assert_eq!(mw.source(id).await["status"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_a_dead_source_does_not_record_its_death_twice() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    server.set("/a", crate::support::Page::html("<html><body><p>盘古大模型发布</p></body></html>"));
    mw.init().await;
    let id = mw.add(&server.url("/a"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/a", crate::support::Page::status(404));
    mw.run_async(&["check"]).await.ok();
    mw.run_async(&["check"]).await.ok();
    assert_eq!(mw.source(id).await["status"], "gone");
    assert_eq!(mw.changes(Some(id)).await.len(), 1, "ok → gone once");
    mw.run_async(&["sources", "pause", &id.to_string()]).await.ok();
    mw.run_async(&["sources", "resume", &id.to_string()]).await.ok();
    assert_eq!(mw.source(id).await["status"], "gone", "resume restores the status from before the pause");
    mw.run_async(&["check"]).await.ok();
    mw.run_async(&["check"]).await.ok();
    assert_eq!(mw.changes(Some(id)).await.len(), 1, "no second death");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_success_after_failures_is_a_baseline_not_a_recovery() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    server.set("/late", crate::support::Page::status(500));
    mw.init().await;
    let id = mw.add(&server.url("/late"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    assert_eq!(mw.source(id).await["status"], "failing");
    server.set("/late", crate::support::Page::html("<html><body><p>通义千问开放邀测</p></body></html>"));
    let r = mw.run_async(&["check", "--format", "json"]).await.ok().json();
    assert_eq!(r[0]["outcome"], "baseline", "{r}");
    assert_eq!(mw.source(id).await["status"], "ok");
    assert!(mw.changes(Some(id)).await.is_empty(), "nothing recovered: there was never a good copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_values_are_not_printed_and_absurd_inputs_do_not_panic() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    mw.init().await;
    let id = mw.add(&server.url("/private"), &["--header", "Cookie: session=s3cr3t"]).await;
    let shown = mw.run_async(&["sources", "show", &id.to_string()]).await.ok();
    let listed = mw.run_async(&["sources", "list", "--format", "json"]).await.ok();
    assert!(!shown.stdout.contains("s3cr3t") && !listed.stdout.contains("s3cr3t"), "{}", listed.stdout);
    assert!(listed.stdout.contains("Cookie"), "the header's name is shown: {}", listed.stdout);
    assert_usage_error(&mw.run_async(&["sources", "add", "http://x.cn/", "--every", "300000y"]).await, "too long");
    assert_usage_error(&mw.run_async(&["changes", "--since", "100000000d"]).await, "too far back");
}

/// A link the import cannot watch is listed as skipped, with why, and the
/// good links beside it still land, tagged with their section.
#[tokio::test]
async fn import_says_why_a_link_is_invalid() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let doc = mw.path().join("doc.md");
    std::fs::write(&doc, "# 模型\n- 坏链接 https://256.256.256.256/x\n- [好](https://ok.cn/a)\n").unwrap();
    let rows = mw.run_async(&["sources", "import", doc.to_str().unwrap(), "--format", "json"]).await.ok().json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0]["result"].as_str(), rows[0]["reason_code"].as_str()), (Some("skipped"), Some("invalid")));
    assert!(!rows[0]["reason"].as_str().unwrap().is_empty(), "{rows:?}");
    assert_eq!((rows[1]["result"].as_str(), rows[1]["kind"].as_str()), (Some("added"), Some("page")));
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["tags"], serde_json::json!(["模型"]), "the section is the tag");
}

/// A title is shown on one line (the digest's subject and body, the web
/// view, `sources list`), but `sources add --title` and the seed file kept
/// line breaks, tabs, escape sequences, bidi overrides and 10,000 chars as
/// given. Each entrance refuses them, naming the title; import, whose
/// titles are the document's text, drops them instead.
#[tokio::test]
async fn a_title_is_one_line_of_plain_text_at_every_entrance() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let long = "长".repeat(10_000);
    for (title, said) in [
        ("第一行\n第二行", "title: contains a line break (U+000A)"),
        ("a\tb", "title: contains a tab (U+0009)"),
        ("red \u{1b}[31m", "title: contains a control character (U+001B)"),
        ("\u{202E}gnp.exe", "title: contains a bidirectional override (U+202E)"),
        (long.as_str(), "title: is 10000 characters long (at most 200)"),
    ] {
        let r = mw.run_async(&["sources", "add", "https://t.example.cn/a", "--title", title]).await;
        assert_usage_error(&r, said);
    }
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list, serde_json::json!([]), "nothing was added");
    let ok = "长".repeat(200);
    mw.run_async(&["sources", "add", "https://t.example.cn/a", "--title", &ok]).await.ok();
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list[0]["title"].as_str(), Some(ok.as_str()));

    // Import: the document's control characters and overrides are dropped.
    let doc = mw.path().join("doc.md");
    std::fs::write(&doc, "- [报告\u{7}全文\u{202E}fdp.exe](https://t.example.cn/b)\n").unwrap();
    mw.run_async(&["sources", "import", doc.to_str().unwrap()]).await.ok();
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list[1]["title"].as_str(), Some("报告 全文fdp.exe"), "{list}");

    // The seed file: refused by `init`, naming the source and the title.
    let seeded = Mw::new(Backend::Sqlite).await.unwrap();
    std::fs::write(
        seeded.path().join("sources.toml"),
        "[[source]]\nurl = \"https://ok.cn/\"\ntitle = \"两行\\n标题\"\n",
    )
    .unwrap();
    let r = seeded.run_async(&["init"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("source 1 (https://ok.cn/): title: contains a line break"), "{}", r.stderr);
}

/// `sources add URL?utm_source=x` stores the page without its tracking
/// parameters, but every command taking a source by URL looked the URL up
/// as given: `sources show|pause|resume|remove`, `check` and `changes
/// --source` said "no source" for the link the user had just added. And a
/// row stored with tracking parameters before they were dropped was not
/// found by `sources add` of its clean URL (a second source of the same
/// page), nor by any command naming the page. Every lookup by URL now
/// matches both forms; the exact URL wins.
async fn a_source_is_found_by_its_url_with_or_without_tracking_parameters(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    let page = server.url("/a.html");
    server.set("/a.html", crate::support::Page::html("<html><body><p>文心一言</p></body></html>"));
    let id = mw.add(&format!("{page}?utm_source=wechat&id=7"), &[]).await;
    let show = |arg: String| {
        let mw = &mw;
        async move { mw.run_async(&["sources", "show", &arg, "--format", "json"]).await }
    };
    for arg in [format!("{page}?id=7"), format!("{page}?id=7&utm_medium=x"), format!("{page}?spm=a.b&id=7")] {
        let r = show(arg.clone()).await;
        assert_eq!(r.code, 0, "{arg}: {}", r.stderr);
        assert_eq!(r.json()["id"], id, "{arg}");
    }
    let tracked = format!("{page}?id=7&utm_campaign=launch");
    for args in [
        &["sources", "pause", &tracked][..],
        &["sources", "resume", &tracked],
        &["check", &tracked, "--format", "json"],
        &["changes", "--source", &tracked, "--format", "json"],
    ] {
        let r = mw.run_async(args).await;
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    assert_usage_error(&show(format!("{page}?id=8&utm_source=x")).await, "no source");

    // A row stored with its tracking parameters, as sources were before.
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let legacy = format!("{}?fr=aladdin&utm_source=baidu", server.url("/b.html"));
    let new = NewSource {
        url: normalize_url(&legacy).unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    };
    let old = store.add_source(&new, Utc::now()).await.unwrap().id.0;
    for given in [server.url("/b.html"), format!("{}?utm_medium=cpc", server.url("/b.html"))] {
        assert_usage_error(
            &mw.run_async(&["sources", "add", &given]).await,
            &format!("already watched as source #{old}"),
        );
        assert_eq!(show(given.clone()).await.ok().json()["id"], old, "{given}");
    }
    assert_eq!(show(legacy.clone()).await.ok().json()["id"], old, "the stored form itself");
    // The exact URL wins over a row that only maps to it.
    let clean = mw.run_async(&["sources", "add", &server.url("/c.html")]).await.ok();
    let clean: i64 = clean.stdout.trim().parse().unwrap();
    let tracked_c = format!("{}?utm_source=x", server.url("/c.html"));
    let other = store.add_source(&NewSource { url: normalize_url(&tracked_c).unwrap(), ..new }, Utc::now()).await;
    let other = other.unwrap().id.0;
    assert_eq!(show(server.url("/c.html")).await.ok().json()["id"], clean);
    assert_eq!(show(tracked_c).await.ok().json()["id"], other);

    let r = mw.run_async(&["sources", "remove", &format!("{}?spm=1", server.url("/b.html"))]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("source #{old}")), "{}", r.stderr);
}

both_backends!(
    a_source_is_found_by_its_url_with_or_without_tracking_parameters_on,
    a_source_is_found_by_its_url_with_or_without_tracking_parameters
);

/// A database a newer release migrated (the binary rolled back, or an older
/// instance started beside a newer one) is refused with what happened and
/// what to do, by the daemon and by every command: sea-orm's own words were
/// that an applied migration's "file is missing", sending the operator to
/// look for a lost file. Nothing is written: the newer release still finds
/// its database as it left it.
async fn a_database_migrated_by_a_newer_release_is_refused_clearly(backend: Backend) {
    let mw = Mw::new(backend).await.unwrap();
    mw.run_async(&["init"]).await.ok();
    let raw = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &raw,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000000_from_a_newer_release', 0)",
    )
    .await
    .unwrap();
    raw.close().await.unwrap();
    for args in [&["sources", "list"][..], &["run"][..]] {
        let out = mw.run_async(args).await;
        assert_ne!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("migrated by a newer modelwatch"), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("m29990101_000000_from_a_newer_release"), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("missing"), "{args:?}: {}", out.stderr);
    }
}

both_backends!(a_newer_database_on, a_database_migrated_by_a_newer_release_is_refused_clearly);

/// `sources list` reads the table a page at a time: past a page (512), every
/// active source once, in id order, in both formats, and the JSON is the
/// one pretty array it always was.
async fn sources_list_covers_every_page(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    mw.init().await;
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..700 {
        let new = NewSource {
            url: normalize_url(&format!("https://news.example.cn/{n}.html")).unwrap(),
            kind: SourceKind::Page,
            title: Some(format!("第{n}篇")),
            tags: vec![],
            schedule: None,
            options: SourceOptions::default(),
        };
        ids.push(store.add_source(&new, Utc::now()).await.unwrap().id.0);
    }
    store.remove_source(modelwatch::types::SourceId(ids[600]), false, Utc::now()).await.unwrap();
    ids.remove(600);
    let json = mw.run_async(&["sources", "list", "--format", "json"]).await.ok();
    let rows = json.json();
    let listed: Vec<i64> = rows.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(listed, ids, "each active source once, in id order");
    assert!(json.stdout.starts_with("[\n  {\n    \"id\": ") && json.stdout.ends_with("\n  }\n]\n"), "one pretty array");
    let table = mw.run_async(&["sources", "list"]).await.ok();
    assert_eq!(table.stdout.lines().count(), 1 + ids.len(), "a header and a line a source");
    assert!(table.stdout.contains("第699篇") && !table.stdout.contains("第600篇"));
}

both_backends!(sources_list_covers_every_page_on, sources_list_covers_every_page);
