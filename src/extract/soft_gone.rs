//! Soft 404s: a 200 answer whose text says the page is gone.
//!
//! Only short pages qualify: an article that *mentions* "页面不存在" is not
//! a notice that it is gone.

use std::sync::LazyLock;

use regex::Regex;

use super::Extracted;

/// A page with more main text than this (chars) is an article, not a notice.
const MAX_NOTICE_CHARS: usize = 300;

static GONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(页面不存在|(?:文章|内容|帖子|主题|新闻|资讯|视频|资源)不存在|(?:页面|链接|文章|内容|分享)已(?:经)?(?:失效|过期)|(?:页面|网页)(?:走丢|丢失|迷路)了|页面已删除|页面找不到|找不到(?:该|此)?页面|(?:该|此)?(?:内容|文章|帖子|帖|主题|微博|问题|回答|视频|页面|新闻)(?:已|已经)?(?:被)?(?:作者|发布者|原作者|管理员|版主|楼主|博主)?(?:删除|下线|下架|屏蔽|撤回|移除)|(?:根据|依据)(?:相关)?法律法规[^。\n]{0,30}?(?:无法|不予|不能)(?:显示|展示|查看)|(?:该|此)?内容(?:因违规)?无法查看|此内容因违规无法查看|已被发布者删除|文章已被删除|抱歉，?您(?:访问|要找)的页面(?:不存在|已删除|找不到)|(?:该|此)?(?:账号|公众号)已(?:被)?(?:封禁|注销|迁移)|404\s*not\s*found|page\s+not\s+found|this\s+page\s+(?:could\s+not|cannot|can't)\s+be\s+found|page\s+(?:does\s+not|doesn't)\s+exist|(?:this\s+)?(?:post|article|question|content)\s+(?:has\s+been|was)\s+(?:removed|deleted)|no\s+longer\s+available|was\s+not\s+found\s+on\s+this\s+server|error\s*404|404\s*error|this\s+page\s+(?:isn['’]t|is\s+not)\s+available|domain\s+(?:name\s+)?(?:is|may\s+be)\s+for\s+sale|buy\s+this\s+domain|域名(?:正在)?(?:出售|转让))",
    )
    .ok()
});

/// Some(reason) when the extracted page is a "not found / deleted" notice.
pub fn soft_gone_reason(extracted: &Extracted) -> Option<String> {
    let re = GONE.as_ref()?;
    // Counted only as far as the limit: most texts are articles, far past it.
    let body_chars = extracted.text.chars().filter(|c| !c.is_whitespace()).take(MAX_NOTICE_CHARS + 1).count();
    if body_chars > MAX_NOTICE_CHARS {
        return None;
    }
    let in_title = extracted.title.as_deref().and_then(|t| re.find(t));
    let found = in_title.or_else(|| re.find(&extracted.text))?;
    Some(found.as_str().to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn page(title: Option<&str>, text: &str) -> Extracted {
        Extracted { title: title.map(str::to_owned), text: text.to_owned(), ..Extracted::default() }
    }

    #[test]
    fn pattern_compiles() {
        assert!(GONE.is_some());
    }

    #[test]
    fn chinese_notices() {
        let wechat = page(None, "该内容已被发布者删除");
        assert_eq!(soft_gone_reason(&wechat).as_deref(), Some("该内容已被发布者删除"));
        let portal = page(Some("404-页面不存在"), "抱歉，您访问的页面不存在\n返回首页");
        assert_eq!(soft_gone_reason(&portal).as_deref(), Some("页面不存在"));
        let violation = page(None, "此内容因违规无法查看");
        assert!(soft_gone_reason(&violation).is_some());
        let zhihu = page(Some("知乎"), "问题已被删除\n该问题已被删除，无法查看");
        assert!(soft_gone_reason(&zhihu).is_some());
        // A CMS's API answering the article's URL, and an expired share link.
        let api = page(None, r#"{"code": 404, "msg": "文章不存在"}"#);
        assert_eq!(soft_gone_reason(&api).as_deref(), Some("文章不存在"));
        assert!(soft_gone_reason(&page(Some("提示"), "该链接已失效")).is_some());
    }

    #[test]
    fn english_notices() {
        let p = page(Some("Page Not Found | Example Blog"), "Sorry, we couldn't find that.");
        assert_eq!(soft_gone_reason(&p).as_deref(), Some("Page Not Found"));
        let p = page(None, "This post has been removed by the author.");
        assert!(soft_gone_reason(&p).is_some());
    }

    /// Wordings the rule missed (each was read as the page's content).
    #[test]
    fn more_notices_seen_on_real_sites() {
        let notices = [
            (None, "内容已下架"),
            (Some("提示"), "抱歉，该文章已下架"),
            (None, "该视频已下架，去看看其他视频吧"),
            (Some("页面走丢了"), "返回首页"),
            (None, "哎呀，页面走丢了~"),
            (None, "根据相关法律法规和政策，该内容无法显示。"),
            (None, "根据相关法律法规，此搜索结果不予显示"),
            (None, "依据相关法律法规，该话题页面不予展示"),
            (None, "该帖已被删除"),
            (None, "此帖子已被管理员删除"),
            (None, "抱歉，指定的主题不存在或已被删除或正在被审核"),
            (None, "此微博已被作者删除。"),
            (Some("分享"), "链接已过期"),
            (None, "The requested URL /news/2024/123.html was not found on this server."),
            (Some("Error 404"), "Sorry, something went wrong."),
            (Some("Example"), "Error 404: the address is wrong."),
            (
                None,
                "This page isn't available. The link you followed may be broken, or the page may have been removed.",
            ),
            (None, "This page isn\u{2019}t available right now."),
            (Some("example-ai.com"), "This domain is for sale! Make an offer today."),
            (None, "The domain example-ai.com may be for sale. Buy this domain."),
            (Some("域名出售"), "该域名正在出售，欢迎联系。"),
        ];
        for (title, text) in notices {
            assert!(soft_gone_reason(&page(title, text)).is_some(), "{title:?} {text}");
        }
    }

    #[test]
    fn articles_mentioning_the_words_are_alive() {
        let long = "据报道，多款应用因违规内容已下架，页面走丢了的提示也更常见。".repeat(12);
        assert_eq!(soft_gone_reason(&page(Some("应用商店整治"), &long)), None);
        let short = page(Some("Nginx tips"), "Configure a custom page for the 404 status and test it with curl.");
        assert_eq!(soft_gone_reason(&short), None);
        let long = "文章已被删除的情况在平台上很常见。".repeat(30);
        assert_eq!(soft_gone_reason(&page(Some("内容治理观察"), &long)), None);
        let short = page(Some("GPT-4o 发布"), "OpenAI发布GPT-4o，支持文本、音频和图像输入。");
        assert_eq!(soft_gone_reason(&short), None);
    }
}
