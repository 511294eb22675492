//! A database seeded the way a deployment fills it: `init` with the shipped
//! catalog, two sources on a local HTTP server, and checks that record a
//! content change (with a proposed fact and candidates) and a dead link.
//! The web view is then served in-process on 127.0.0.1:0.

use std::collections::BTreeMap;

use modelwatch::config::{Config, Overrides};
use modelwatch::listener::Limits;
use modelwatch::store::Store;
use modelwatch::web::LoginLimits;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::{Backend, Mw, Page, TEST_CONFIG, TestServer};

/// The login token of the test server (never a real one).
pub const TOKEN: &str = "test-token-for-the-web-view-0123";

/// A reader's note quoted on the page: hostile markup and text that looks
/// like a diff mark, in one paragraph that changes between the versions.
const HOSTILE_V1: &str = "读者留言：&lt;script&gt;document.title='pwned'&lt;/script&gt; 以及 [-旧版-] 标记。";
const HOSTILE_V2: &str = "读者留言：&lt;script&gt;document.title='pwned'&lt;/script&gt; 以及 [-新版-] 标记。";
/// What a reader sees of the second version.
/// What a reader sees of the second version (normalisation drops the
/// spaces between CJK and other text).
pub const HOSTILE_TEXT: &str = "<script>document.title='pwned'</script>以及[-新版-]标记";

fn article(note: &str, extra: &str) -> String {
    format!(
        r#"<html><head><title>大模型周报：开源与闭源之争</title></head><body>
<nav><a href="/">首页</a></nav>
<article><h1>大模型周报：开源与闭源之争</h1>
<p>本周多家厂商更新了产品路线图，通义千问继续扩大企业邀测范围，文心一言也公布了新的插件计划。</p>
<p>{note}</p>
<p>分析人士指出，开源模型的追赶速度超出预期，闭源厂商正在调整定价策略。</p>
{extra}</article></body></html>"#
    )
}

pub struct Seeded {
    pub mw: Mw,
    /// Kept serving for the test's length.
    pub _server: TestServer,
    pub article: i64,
    pub gone: i64,
}

impl Seeded {
    /// `catalog facts --pending --format json`.
    pub async fn pending_facts(&self) -> Vec<Value> {
        let r = self.mw.run_async(&["catalog", "facts", "--pending", "--format", "json"]).await.ok();
        r.json().as_array().cloned().unwrap_or_default()
    }

    pub async fn fact_status(&self, id: i64) -> String {
        let r = self.mw.run_async(&["catalog", "facts", "--format", "json"]).await.ok();
        let facts = r.json();
        let fact = facts.as_array().unwrap().iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("no fact {id}"));
        fact["status"].as_str().unwrap().to_owned()
    }

    /// The content change of the article (`changes --kind content`).
    pub async fn content_change(&self) -> Value {
        let id = self.article.to_string();
        let r = self.mw.run_async(&["changes", "--source", &id, "--kind", "content", "--format", "json"]).await.ok();
        let rows = r.json();
        assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
        rows[0].clone()
    }
}

pub async fn seeded(backend: Backend) -> Option<Seeded> {
    let config = format!("{TEST_CONFIG}[liveness]\nconfirm_after = 1\n");
    let mw = Mw::with_config(backend, &config).await?;
    std::fs::write(mw.path().join("catalog.toml"), include_str!("../../../config/catalog.toml")).unwrap();
    mw.init().await;
    let server = TestServer::start().await;
    server.set("/news/weekly.html", Page::html(article(HOSTILE_V1, "")));
    server.set(
        "/reports/landscape.html",
        Page::html("<html><head><title>行业全景图（存档）</title></head><body><article><h1>行业全景图</h1><p>这份报告梳理了国内大模型厂商的融资与产品发布节奏，供内部参考。</p></article></body></html>"),
    );
    let article_id = mw.add(&server.url("/news/weekly.html"), &["--tag", "大模型"]).await;
    let gone = mw.add(&server.url("/reports/landscape.html"), &["--tag", "行业分析"]).await;
    mw.run_async(&["check", "--all"]).await.ok();

    let extra =
        "<p>据一篇第三方评测估计，GPT-4的参数量约为1.8万亿。另有消息称，智谱AI推出GLM-4，京东发布言犀大模型。</p>\n";
    server.set("/news/weekly.html", Page::html(article(HOSTILE_V2, extra)));
    server.set("/reports/landscape.html", Page::status(404));
    mw.run_async(&["check", "--all"]).await.ok();
    Some(Seeded { mw, _server: server, article: article_id, gone })
}

/// The web view on 127.0.0.1:0 over `seeded`'s database, in-process, with
/// `web_toml` (a `[web]` table) and the test token in the environment.
pub struct Served {
    pub base: String,
    pub addr: std::net::SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Stops serving and waits until every connection has ended.
    pub async fn stop(mut self) {
        self.stop.cancel();
        (&mut self.task).await.unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn serve(mw: &Mw, web_toml: &str) -> Served {
    serve_within(mw, web_toml, modelwatch::web::LIMITS, LoginLimits::default()).await
}

/// [`serve`] with the listener's `limits` and the `login` budget a test chooses.
pub async fn serve_within(mw: &Mw, web_toml: &str, limits: Limits, login: LoginLimits) -> Served {
    let env: BTreeMap<String, String> = [("MODELWATCH_WEB_TOKEN".to_owned(), TOKEN.to_owned())].into_iter().collect();
    let overrides = Overrides { env, database_url: Some(mw.db.url.clone()) };
    let config = Config::from_toml(web_toml, "web test", mw.path().to_path_buf(), &overrides).unwrap();
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let state = modelwatch::web::WebState::new(store, config.web.clone(), login).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(modelwatch::web::serve(listener, state, limits, stop.clone()));
    Served { base: format!("http://{addr}"), addr, stop, task }
}
