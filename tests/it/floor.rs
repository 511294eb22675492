//! The floor of a cold check (`modelwatch::bench_floor`, which
//! `examples/floor.rs` and `scripts/bench --floor` run) against a real
//! local server: each stage prefix runs its stages on every page, no
//! further, and a page that stops short is reported with its stage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use modelwatch::bench_floor::{Floor, Stage, Tally};
use modelwatch::catalog::{Matcher, parse_seed};
use modelwatch::config::{Config, Overrides};
use modelwatch::fetch::Fetcher;
use url::Url;

use crate::support::{Page, TestServer, init_crypto};

const SEED: &str = include_str!("../../config/catalog.toml");

/// Three articles, each naming catalog models.
const ARTICLES: [&str; 3] = [
    "<html><head><title>通义千问开放邀测</title></head><body><nav><a href=\"/\">首页</a></nav><article>\
     <h1>阿里巴巴类ChatGPT产品通义千问开放邀测</h1><p>2023年4月7日，阿里巴巴类ChatGPT产品“通义千问”官宣正式对外开放企业邀测，\
     钉钉、天猫精灵等产品已率先接入通义千问测试。</p><p>业内人士认为，通义千问将与百度的文心一言正面竞争。</p></article></body></html>",
    "<html><head><title>文心一言发布会</title></head><body><article><h1>百度发布文心一言</h1>\
     <p>百度今天在北京发布了文心一言，这是百度基于文心大模型推出的生成式对话产品，首批企业用户已开始测试。</p>\
     <p>分析人士指出，文心一言的主要对手是OpenAI的ChatGPT与GPT-4。</p></article></body></html>",
    "<html><head><title>智谱发布新模型</title></head><body><article><h1>智谱AI推出GLM-4</h1>\
     <p>智谱AI今天推出GLM-4，称其综合能力接近GPT-4，并同步开放了API调用，价格较上一代下调。</p>\
     <p>与此同时，京东发布言犀大模型，面向零售与物流场景。</p></article></body></html>",
];

fn fetcher() -> Fetcher {
    init_crypto();
    let toml = "[fetch]\nallow_private_networks = true\ntimeout = \"5s\"\nretries = 0\nrespect_robots = false\n\
                per_host_interval = \"0s\"\n";
    let config = Config::from_toml(toml, "test", std::env::temp_dir(), &Overrides::default()).unwrap();
    Fetcher::new(&config.fetch).unwrap()
}

fn floor(through: Stage, matcher: Option<Arc<Matcher>>) -> Floor {
    // Two at once for three pages: the slots are waited for and given back.
    Floor { fetcher: fetcher(), through, concurrency: 2, matcher, compress_text: true }
}

fn matcher() -> Arc<Matcher> {
    Arc::new(Matcher::new(&parse_seed(SEED).unwrap().catalog).unwrap())
}

async fn server_with_articles() -> (TestServer, Vec<Url>) {
    let server = TestServer::start().await;
    let mut urls = Vec::new();
    for (i, html) in ARTICLES.iter().enumerate() {
        let path = format!("/a/{i}.html");
        server.set(&path, Page::html(*html));
        urls.push(Url::parse(&server.url(&path)).unwrap());
    }
    (server, urls)
}

fn passed(tally: &Tally) -> Vec<(Stage, usize)> {
    Stage::ALL.into_iter().map(|s| (s, tally.passed(s))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_prefix_runs_its_stages_on_every_page_and_no_further() {
    let (server, urls) = server_with_articles().await;
    let matcher = matcher();
    for through in Stage::ALL {
        let tally = floor(through, Some(matcher.clone())).run(urls.clone()).await;
        assert!(tally.errors.is_empty(), "{through}: {:?}", tally.errors);
        assert_eq!(tally.pages, 3);
        let expected: Vec<(Stage, usize)> =
            Stage::ALL.into_iter().map(|s| (s, if s <= through { 3 } else { 0 })).collect();
        assert_eq!(passed(&tally), expected, "{through}");
        let bodies: usize = ARTICLES.iter().map(|a| a.len()).sum();
        assert_eq!(tally.body_bytes, bodies as u64, "{through}: every body read whole");
        // What each stage made is there, and only where the stage ran.
        assert_eq!(tally.text_bytes > 0, through >= Stage::Decode, "{through}: {tally:?}");
        assert_eq!(tally.nodes > 0, through == Stage::Parse, "{through}: {tally:?}");
        assert_eq!(tally.mentions >= 3, through >= Stage::Analyse, "{through}: {tally:?}");
        assert_eq!(tally.stored_bytes > 0, through == Stage::HashCompress, "{through}: {tally:?}");
        if through >= Stage::Extract {
            // The extracted texts, not the pages: the navigation is gone.
            assert!(tally.text_bytes < bodies as u64, "{through}: {tally:?}");
        }
    }
    // One request per page per prefix: nothing fetched twice, none skipped.
    assert_eq!(server.seen().len(), 3 * Stage::ALL.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_stops_short_is_reported_with_its_stage() {
    let (server, mut urls) = server_with_articles().await;
    urls.truncate(1);
    let soft = "<html><head><title>404-页面不存在</title></head><body><p>抱歉，您访问的页面不存在</p></body></html>";
    server.set("/soft.html", Page::html(soft));
    server.set("/gzip.html", Page::bytes("text/html", b"\x1f\x8b\x08\x00 not a page at all".to_vec()));
    for path in ["/missing.html", "/soft.html", "/gzip.html"] {
        urls.push(Url::parse(&server.url(path)).unwrap());
    }

    let tally = floor(Stage::HashCompress, Some(matcher())).run(urls.clone()).await;
    let mut errors: Vec<(String, Stage, String)> =
        tally.errors.iter().map(|e| (e.url.path().to_owned(), e.stage, e.message.clone())).collect();
    errors.sort();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!((errors[0].0.as_str(), errors[0].1), ("/gzip.html", Stage::Extract), "{errors:?}");
    assert!(errors[0].2.contains("gzip"), "{errors:?}");
    assert_eq!((errors[1].0.as_str(), errors[1].1), ("/missing.html", Stage::Fetch), "{errors:?}");
    assert!(errors[1].2.contains("404"), "{errors:?}");
    assert_eq!((errors[2].0.as_str(), errors[2].1), ("/soft.html", Stage::Extract), "{errors:?}");
    assert!(errors[2].2.starts_with("soft gone"), "{errors:?}");
    assert_eq!(tally.passed(Stage::Fetch), 3);
    assert_eq!(tally.passed(Stage::HashCompress), 1);

    // Where the decoding runs alone, a binary body stops at it.
    let tally = floor(Stage::Decode, None).run(urls[3..].to_vec()).await;
    assert_eq!(tally.errors.len(), 1);
    assert_eq!(tally.errors[0].stage, Stage::Decode, "{:?}", tally.errors);
    assert_eq!(tally.passed(Stage::Decode), 0);

    // No matcher, no analysis: said for every page, not skipped.
    let tally = floor(Stage::Analyse, None).run(urls[..1].to_vec()).await;
    assert_eq!(tally.passed(Stage::Extract), 1);
    assert_eq!(tally.passed(Stage::Analyse), 0);
    assert_eq!(tally.errors.len(), 1);
    assert_eq!(tally.errors[0].stage, Stage::Analyse, "{:?}", tally.errors);
}
