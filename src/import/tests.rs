#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const EVERY: &str = include_str!("../../tests/fixtures/import/every-construct.md");
const LIMIT: usize = 100_000;
const SEED: &str = include_str!("../../tests/fixtures/aigc-industry-notes.md");

fn by_url<'a>(x: &'a Extracted, url: &str) -> &'a Reference {
    x.references.iter().find(|r| r.url.as_str() == url).unwrap_or_else(|| {
        let all: Vec<_> = x.references.iter().map(|r| r.url.as_str()).collect();
        panic!("{url} not imported; got {all:#?}")
    })
}

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_construct_of_the_fixture_is_read() {
    let x = extract(EVERY, &UrlRules::default(), LIMIT);
    let urls: Vec<&str> = x.references.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://intro.example.cn/about",
            "https://baijiahao.baidu.com/s?id=1762619118352444565",
            "https://baijiahao.baidu.com/s?id=1759763595359185241",
            "https://tech.sina.com.cn/roll/2023-04-11/doc-imyqhhxa.shtml",
            "https://www.qbitai.com/2023/04/43615.html",
            "https://yiyan.baidu.com/",
            "https://xueqiu.com/4593161361/241581649",
            "https://www.huxiu.com/article/1234.html",
            "https://github.com/tatsu-lab/stanford_alpaca",
            "https://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84/%E6%96%87%E7%AB%A0.html",
            "https://www.qbitai.com/2023/04/43517.html",
            "https://www.qbitai.com/feed/",
            "https://file.example.cn/reports/AIGC%E6%8A%A5%E5%91%8A.PDF",
            "https://example.org/releases.atom",
            "https://huggingface.co/Qwen/Qwen2.5-72B",
            "https://html.example.cn/page",
            "https://www.infoq.cn/article/pangu-params",
            "https://baijiahao.baidu.com/s?id=1762603244500714429",
            "https://unused.example.cn/def",
            "https://table.example.cn/row",
            "https://numbered.example.cn/ref",
        ]
    );
    let refs = path(&["第三章 业界大模型", "本章参考"]);
    let cases: &[(&str, &str, LinkForm, usize)] = &[
        ("https://intro.example.cn/about", "前言里的链接", LinkForm::Bare, 1),
        ("https://baijiahao.baidu.com/s?id=1762619118352444565", "拆解华为盘古大模型", LinkForm::Inline, 7),
        (
            "https://baijiahao.baidu.com/s?id=1759763595359185241",
            "【德邦证券2023-03-08】AIGC行业专题报告：国内大模型概览",
            LinkForm::Bare,
            8,
        ),
        ("https://tech.sina.com.cn/roll/2023-04-11/doc-imyqhhxa.shtml", "新浪科技", LinkForm::Autolink, 9),
        ("https://www.qbitai.com/2023/04/43615.html", "通义千问发布会", LinkForm::Reference, 10),
        ("https://yiyan.baidu.com/", "文心一言", LinkForm::Reference, 10),
        ("https://xueqiu.com/4593161361/241581649", "AIGC是什么？", LinkForm::Bare, 11),
        ("https://www.huxiu.com/article/1234.html", "虎嗅", LinkForm::Bare, 12),
        ("https://github.com/tatsu-lab/stanford_alpaca", "GPT 3.5 平替开源项目", LinkForm::Bare, 14),
        ("https://html.example.cn/page", "HTML 链接", LinkForm::Html, 26),
        ("https://www.infoq.cn/article/pangu-params", "参数量报道", LinkForm::Footnote, 32),
        (
            "https://baijiahao.baidu.com/s?id=1762603244500714429",
            "华为公布AI大模型开发训练成本",
            LinkForm::Footnote,
            33,
        ),
        ("https://unused.example.cn/def", "只定义未引用的参考", LinkForm::Definition, 37),
        ("https://table.example.cn/row", "表格里的链接", LinkForm::Bare, 49),
    ];
    for (url, title, form, line) in cases {
        let r = by_url(&x, url);
        assert_eq!(r.title.as_deref(), Some(*title), "{url}");
        assert_eq!(r.form, *form, "{url}");
        assert_eq!(r.line, *line, "{url}");
    }
    assert_eq!(by_url(&x, "https://intro.example.cn/about").heading_path, Vec::<String>::new());
    assert_eq!(by_url(&x, "https://numbered.example.cn/ref").title, None, "a numeric label is no title");
    assert_eq!(by_url(&x, "https://xueqiu.com/4593161361/241581649").heading_path, refs);
    let notes = by_url(&x, "https://www.infoq.cn/article/pangu-params");
    assert_eq!(notes.heading_path, path(&["第三章 业界大模型", "本章参考", "脚注"]));
    assert_eq!(notes.section().as_deref(), Some("第三章 业界大模型 / 本章参考 / 脚注"));
    assert_eq!(notes.tag(), Some("脚注"));
    assert_eq!(by_url(&x, "https://table.example.cn/row").heading_path, path(&["第三章 业界大模型", "代码示例"]));
    assert!(!urls.iter().any(|u| u.contains("code.example") || u.contains("fenced") || u.contains("indented")));
}

#[test]
fn what_is_not_imported_is_reported_with_the_reason() {
    let x = extract(EVERY, &UrlRules::default(), LIMIT);
    let skipped: Vec<(usize, &str, &str)> =
        x.skipped.iter().map(|s| (s.line, s.target.as_str(), s.reason.code())).collect();
    assert_eq!(
        skipped,
        [
            (13, "https://baijiahao.baidu.com/s?id=1762619118352444565#comments", "duplicate"),
            (21, "./AI算法.md", "relative"),
            (21, "/index.md", "relative"),
            (21, "#本章参考", "anchor"),
            (22, "mailto:editor@example.cn", "scheme"),
            (22, "mailto:editor@example.cn", "scheme"),
            (22, "ftp://files.example.cn/pub/", "scheme"),
            (23, "https://img.example.cn/arch.png", "image"),
            (24, "[nowhere]", "undefined_reference"),
        ]
    );
    assert_eq!(x.skipped[0].reason, SkipReason::Duplicate { first_line: 7 });
    assert_eq!(x.skipped[0].reason.to_string(), "same page as line 7");
    assert_eq!(x.skipped[6].reason.to_string(), "ftp: link, only http(s) pages can be watched");
}

#[test]
fn urls_are_normalised_and_tracking_parameters_are_configurable() {
    let rules = UrlRules::default();
    let n = |u: &str| normalize_reference(u, &rules).map(|u| u.to_string());
    assert_eq!(n("https://a.cn/s?id=1#comments").unwrap(), "https://a.cn/s?id=1");
    assert_eq!(n("https://a.cn/s?utm_source=x&id=1&UTM_Medium=y&spm=3&").unwrap(), "https://a.cn/s?id=1");
    assert_eq!(n("https://a.cn/s?fr=aladdin").unwrap(), "https://a.cn/s");
    // Parameters that stay keep their bytes: WeChat's `__biz=…==` must not become %3D%3D.
    assert_eq!(
        n("https://mp.weixin.qq.com/s?__biz=MzI1==&mid=2").unwrap(),
        "https://mp.weixin.qq.com/s?__biz=MzI1==&mid=2"
    );
    assert_eq!(n("HTTP://Example.COM:80/A").unwrap(), "http://example.com/A");
    assert_eq!(n("<https://a.cn/x>").unwrap(), "https://a.cn/x");
    assert_eq!(n("./a.md"), Err(SkipReason::Relative));
    assert_eq!(n("//cdn.example.cn/x"), Err(SkipReason::Relative));
    assert_eq!(n("#top"), Err(SkipReason::Anchor));
    assert_eq!(n(""), Err(SkipReason::Empty));
    assert_eq!(n("javascript:alert(1)"), Err(SkipReason::Scheme("javascript".into())));
    assert!(matches!(n("http://"), Err(SkipReason::Invalid(_))));

    let custom = UrlRules::new(&["ref".to_owned(), "from_*".to_owned()]).unwrap();
    let m = |u: &str| normalize_reference(u, &custom).unwrap().to_string();
    assert_eq!(m("https://a.cn/?ref=tw&from_app=1&utm_source=x"), "https://a.cn/?utm_source=x");
    let bad = UrlRules::new(&["".to_owned(), "a b".to_owned(), "ok*".to_owned()]).unwrap_err();
    assert_eq!(bad.len(), 2, "{bad:?}");
}

#[test]
fn a_page_key_matches_the_stored_url_in_either_form() {
    let rules = UrlRules::default();
    let key = PageKey::new("HTTPS://a.cn/s?id=1&utm_source=x#top", &rules).unwrap();
    assert_eq!(key.given(), "https://a.cn/s?id=1&utm_source=x");
    assert_eq!(key.clean().as_str(), "https://a.cn/s?id=1");
    assert_eq!(key.tracked_prefix(), "https://a.cn/s?");
    assert_eq!(key.rank("https://a.cn/s?id=1&utm_source=x"), Some(0), "as given");
    assert_eq!(key.rank("https://a.cn/s?id=1"), Some(1), "clean");
    assert_eq!(key.rank("https://a.cn/s?spm=3&id=1&fr=aladdin"), Some(2), "stored with other tracking");
    for other in ["https://a.cn/s", "https://a.cn/s?id=2", "https://a.cn/s/x?id=1", "https://a.cn/S?id=1"] {
        assert_eq!(key.rank(other), None, "{other}");
    }
    let bare = PageKey::new("https://a.cn/s", &rules).unwrap();
    assert_eq!(bare.rank("https://a.cn/s?fr=aladdin"), Some(2));
    assert_eq!(bare.rank("https://a.cn/s?p=2"), None);
    assert!(PageKey::new("not a url", &rules).is_err());
}

#[test]
fn the_shipped_config_lists_the_default_tracking_parameters() {
    let toml = crate::config::DEFAULT_CONFIG_TOML;
    let parsed: toml::Table = toml.parse().unwrap();
    let listed: Vec<String> = parsed["import"]["tracking_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, DEFAULT_TRACKING_PARAMS);
}

#[test]
fn titles_lose_numbering_bullets_brackets_and_separators() {
    assert_eq!(clean_title("3. 新浪科技 <").as_deref(), Some("新浪科技"));
    assert_eq!(clean_title("9. 虎嗅：").as_deref(), Some("虎嗅"));
    assert_eq!(clean_title("* 1、技术原理论文 - ").as_deref(), Some("技术原理论文"));
    assert_eq!(clean_title("（2）报告全文（").as_deref(), Some("报告全文"));
    assert_eq!(clean_title("[3] Attention Is All You Need |").as_deref(), Some("Attention Is All You Need"));
    assert_eq!(clean_title("- 这是官方博客。").as_deref(), Some("这是官方博客。"));
    assert_eq!(clean_title("【德邦证券】报告").as_deref(), Some("【德邦证券】报告"), "matched brackets stay");
    assert_eq!(clean_title("报告 (PDF)").as_deref(), Some("报告 (PDF)"));
    assert_eq!(clean_title("2023.4.8 文章").as_deref(), Some("2023.4.8 文章"), "a date is not numbering");
    assert_eq!(clean_title(" * - ："), None);
    let long = "长".repeat(500);
    assert_eq!(clean_title(&long).unwrap().chars().count(), title::MAX_TITLE_CHARS);
    // One line of plain text, as every source title: what `sources add`
    // refuses, import drops (the document's text is not the user's to fix).
    assert_eq!(clean_title("报告\u{7}全文\u{202E}gnp.exe\u{2069}").as_deref(), Some("报告 全文gnp.exe"));
    assert_eq!(clean_title("a\u{85}b").as_deref(), Some("a b"));
    assert!(crate::source::title_problem(&clean_title(&format!("x\u{1b}[31m{long}")).unwrap()).is_none());
}

/// The shipped knowledge document: every http(s) reference exactly once,
/// with its heading path; what is skipped is the relative links only.
#[test]
fn the_seed_document_yields_each_reference_once_with_its_heading_path() {
    let x = extract(SEED, &UrlRules::default(), LIMIT);
    let mut raw_http: Vec<String> = Vec::new();
    // Independent count: every http(s) URL written in the file, normalised.
    let finder = {
        let mut f = linkify::LinkFinder::new();
        f.kinds(&[linkify::LinkKind::Url]);
        f
    };
    for line in SEED.lines() {
        for l in finder.links(line) {
            let s = l.as_str().split(&[')', '）', '，'][..]).next().unwrap();
            if let Ok(u) = normalize_reference(s, &UrlRules::default())
                && !raw_http.contains(&u.to_string())
            {
                raw_http.push(u.to_string());
            }
        }
    }
    let got: Vec<String> = x.references.iter().map(|r| r.url.to_string()).collect();
    let mut a = got.clone();
    let mut b = raw_http.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "every http(s) URL of the document, once");
    assert_eq!(got.len(), 44);
    let alpaca = by_url(&x, "https://github.com/tatsu-lab/stanford_alpaca");
    assert_eq!(alpaca.heading_path, path(&["附录", "Chatgpt资源清单"]));
    assert_eq!(alpaca.title.as_deref(), Some("GPT 3.5 平替开源项目"));
    let xq = by_url(&x, "https://xueqiu.com/4593161361/241581649");
    assert_eq!(xq.heading_path, path(&["1 AIGC简介", "本章参考"]));
    assert_eq!(xq.title.as_deref(), Some("AIGC是什么？"));
    let baike = by_url(&x, "https://baike.baidu.com/item/ChatGPT/62446358");
    assert_eq!(baike.title.as_deref(), Some("百度百科-ChatGPT"));
    assert_eq!(baike.heading_path, path(&["参考资料"]));
    let pdf = by_url(&x, "https://file.digitaling.com/eImg/uimages/20230315/1678850891384221.pdf");
    assert_eq!(pdf.title.as_deref(), Some("AIGC & ChatGPT 发展报告.pdf"));
    assert_eq!(pdf.heading_path, path(&["附录", "大模型相关文章"]));
    // The CSDN report is cited twice: kept at its first place.
    let csdn = by_url(&x, "https://blog.csdn.net/weixin_55366265/article/details/129458091");
    assert_eq!(csdn.line, 285);
    assert!(x.references.iter().all(|r| !r.heading_path.is_empty()), "every reference is under a heading");
    let skipped: Vec<(usize, &str, &str)> =
        x.skipped.iter().map(|s| (s.line, s.target.as_str(), s.reason.code())).collect();
    assert_eq!(
        skipped,
        [
            (60, "./AI算法.md", "relative"),
            (60, "./AI算力.md", "relative"),
            (60, "../开放数据集说明.md", "relative"),
            (300, "http://chat.openai.com/", "duplicate"),
            (324, "https://blog.csdn.net/weixin_55366265/article/details/129458091", "duplicate"),
        ]
    );
}

#[test]
fn reading_stops_at_the_link_limit() {
    let doc: String = (0..50).map(|i| format!("* 报道 https://a.cn/{i}\n")).collect();
    let x = extract(&doc, &UrlRules::default(), 10);
    assert!(x.truncated);
    assert!(x.references.len() <= 11, "{}", x.references.len());
    let x = extract(&doc, &UrlRules::default(), 50);
    assert!(!x.truncated);
    assert_eq!(x.references.len(), 50);
}

#[test]
fn empty_and_link_free_documents_yield_nothing() {
    assert_eq!(extract("", &UrlRules::default(), LIMIT), Extracted::default());
    let x = extract("# 标题\n\n只有文字，没有链接。\n\n```\nhttps://in.code/\n```\n", &UrlRules::default(), LIMIT);
    assert!(x.references.is_empty() && x.skipped.is_empty(), "{x:?}");
}

#[test]
fn bare_urls_end_at_cjk_punctuation_and_prose_punctuation() {
    let x = extract(
        "* 见 https://a.cn/x，以及 https://b.cn/y。还有（https://c.cn/z）和 https://d.cn/w.\n",
        &UrlRules::default(),
        LIMIT,
    );
    let urls: Vec<&str> = x.references.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls, ["https://a.cn/x", "https://b.cn/y", "https://c.cn/z", "https://d.cn/w"]);
}

#[test]
fn reading_refuses_binary_and_oversized_files_and_decodes_gbk() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("x.png");
    std::fs::write(&bin, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let e = read_document(&bin, 1 << 20).unwrap_err().to_string();
    assert!(e.contains("not a text file") && e.contains("NUL"), "{e}");
    let big = dir.path().join("big.md");
    std::fs::write(&big, "a".repeat(2000)).unwrap();
    let e = read_document(&big, 1000).unwrap_err().to_string();
    assert!(e.contains("2000 bytes") && e.contains("import.max_file_bytes = 1000"), "{e}");
    let e = read_document(dir.path(), 1000).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let gbk = dir.path().join("gbk.md");
    let (bytes, _, _) = encoding_rs::GBK.encode("# 参考\n\n* 华为盘古大模型研究报告全文 https://a.cn/x\n");
    std::fs::write(&gbk, &bytes).unwrap();
    let text = read_document(&gbk, 1 << 20).unwrap();
    assert!(text.contains("华为盘古大模型研究报告全文"), "{text}");
    let bom = dir.path().join("bom.md");
    std::fs::write(&bom, "\u{feff}# 参考\n").unwrap();
    assert_eq!(read_document(&bom, 1 << 20).unwrap(), "# 参考\n");
}
