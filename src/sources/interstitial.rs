//! Walls in front of the article (pure): an anti-bot or verification page
//! (Cloudflare's "Just a moment...", a WAF's slider, "安全验证"), or a login
//! wall ("请登录后查看", a redirect to the site's login page). Neither is
//! the article, nor news that it is gone: a failed check, `blocked` (the
//! site refuses us; DESIGN.md's closed list of error kinds) with a message
//! that says which wall, so the last snapshot stays, the source backs off,
//! and the status goes failing only when confirmed.
//!
//! Cheap by construction: only a short page can be a wall (its title and
//! its extracted text, already at hand), the patterns are compiled once,
//! and the raw body is scanned only for a page that short.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::fetch::challenge;

/// A page with more main text than this (non-space chars) is an article,
/// not an interstitial (a challenge page says a sentence or two).
const MAX_CHALLENGE_CHARS: usize = 600;

/// The same for a login wall: shorter, like a gone notice, so a teaser
/// article that ends on "登录后查看全文" after its first paragraphs is not
/// taken for a wall.
const MAX_LOGIN_CHARS: usize = 300;

static LOGIN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(请?先?登录后(?:才能|方可|即可|可以|可)?(?:继续)?(?:查看|阅读|浏览|访问|观看|下载)|请先登录|您(?:还)?(?:未|没有)登录|(?:sign|log)\s?in\s+to\s+(?:continue|view|read|see|access)|(?:you\s+must|you\s+need\s+to|please)\s+(?:be\s+)?(?:sign|log)(?:ged)?\s?in)",
    )
    .ok()
});

/// A login page's own title: "用户登录 - 某网", "Sign in | Example".
static LOGIN_TITLE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:用户|会员|账号)?登录|(?:sign|log)\s?in|login)\s*(?:$|[-|_–—:：·])").ok()
});

/// Non-space chars of `text`, counted no further than `limit + 1`.
fn short_len(text: &str, limit: usize) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).take(limit + 1).count()
}

/// A page read in place of the article that is a wall: why (the check
/// fails as [`crate::types::ErrorKind::Blocked`]).
/// `raw` is the body as received (scanned only when the text is short).
pub fn wall_reason(title: Option<&str>, text: &str, raw: &[u8]) -> Option<String> {
    let chars = short_len(text, MAX_CHALLENGE_CHARS);
    if chars > MAX_CHALLENGE_CHARS {
        return None;
    }
    if chars <= MAX_LOGIN_CHARS
        && let Some(found) = login_in(title, text)
    {
        return Some(format!("a login wall in place of the page: \"{found}\""));
    }
    challenge::found_in(title, text, raw).map(|found| challenge::message(&found))
}

fn login_in(title: Option<&str>, text: &str) -> Option<String> {
    let (re, title_re) = (LOGIN.as_ref()?, LOGIN_TITLE.as_ref()?);
    if let Some(t) = title
        && (title_re.is_match(t) || re.is_match(t))
    {
        return Some(t.trim().to_owned());
    }
    re.find(text).map(|m| m.as_str().to_owned())
}

/// A redirect that ended on a login or verification page instead of the
/// article (`passport.example.com/…`, `/user/login?redirect=…`,
/// `/static/captcha/…`): why (a `blocked` failure). Checked before the other
/// redirect rules: a login host is "another site", but not a move.
pub fn wall_url(original: &Url, fin: &Url) -> Option<String> {
    if original == fin {
        return None;
    }
    if is_login_url(fin) && !is_login_url(original) {
        return Some(format!("redirected to a login page: {fin}"));
    }
    if is_captcha_url(fin) && !is_captcha_url(original) {
        return Some(format!("redirected to an anti-bot verification page: {fin}"));
    }
    None
}

fn is_login_url(u: &Url) -> bool {
    const HOSTS: &[&str] = &["passport", "login", "signin", "sso", "account", "accounts", "auth"];
    const SEGMENTS: &[&str] = &["login", "signin", "sign-in", "sign_in", "logon", "passport", "sso"];
    let first_label = u.host_str().and_then(|h| h.split('.').next()).unwrap_or("");
    if u.host_str().is_some_and(|h| h.contains('.')) && HOSTS.iter().any(|h| first_label.eq_ignore_ascii_case(h)) {
        return true;
    }
    u.path_segments().into_iter().flatten().any(|s| {
        let s = s.to_ascii_lowercase();
        let stem = s.split('.').next().unwrap_or("");
        SEGMENTS.contains(&stem)
    }) || u.query().is_some_and(|q| q.contains("mod=logging"))
}

fn is_captcha_url(u: &Url) -> bool {
    let host = u.host_str().unwrap_or("").to_ascii_lowercase();
    let path = u.path().to_ascii_lowercase();
    host.starts_with("captcha.") || path.contains("captcha") || path.contains("_____tmd_____")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        assert!(LOGIN.is_some() && LOGIN_TITLE.is_some());
    }

    /// Which wall a page is, by its message (both are `blocked`).
    fn kind(title: Option<&str>, text: &str, raw: &str) -> Option<&'static str> {
        wall_reason(title, text, raw.as_bytes())
            .map(|why| if why.starts_with("a login wall") { "login" } else { "challenge" })
    }

    #[test]
    fn verification_pages_are_challenges() {
        let cases = [
            (Some("Just a moment..."), "tech.example.cn\nVerifying you are human. This may take a few seconds.", ""),
            (Some("Attention Required! | Cloudflare"), "Sorry, you have been blocked", ""),
            (None, "Checking your browser before accessing example.com.", ""),
            (Some("百度安全验证"), "网络不给力，请稍后重试\n返回首页", ""),
            (Some("验证"), "请按住滑块，拖动到最右边", ""),
            (None, "您的访问过于频繁，请输入验证码后继续访问。", ""),
            (Some("访问验证"), "", ""),
            (Some("DDoS-Guard"), "", ""),
            (None, "", "<script>window._cf_chl_opt={cvId:'3'};</script>"),
            (Some("提示"), "", "<script>var arg1='x';document.cookie='acw_sc__v2='+x;</script>"),
        ];
        for (title, text, raw) in cases {
            assert_eq!(kind(title, text, raw), Some("challenge"), "{title:?} {text} {raw}");
        }
        let why = wall_reason(Some("Just a moment..."), "", b"").unwrap();
        assert_eq!(why, "an anti-bot verification page in place of the page: \"Just a moment...\"");
    }

    #[test]
    fn login_walls_are_named_as_such() {
        for (title, text) in [
            (Some("百度发布文心大模型4.5"), "请登录后查看全文"),
            (None, "登录后查看全文\n立即登录"),
            (Some("用户登录 - 科技频道"), "账号\n密码\n登录"),
            (Some("Sign in | Example"), "Email\nPassword"),
            (None, "Sign in to continue reading this article."),
            (None, "You must be logged in to view this page."),
        ] {
            assert_eq!(kind(title, text, ""), Some("login"), "{title:?} {text}");
        }
    }

    #[test]
    fn articles_are_not_walls() {
        // Long: an article that discusses challenges and logins.
        let long = "很多网站在访问过于频繁时会弹出安全验证，请登录后查看全文的提示也越来越常见。".repeat(20);
        assert_eq!(kind(Some("反爬虫观察"), &long, "_cf_chl_opt"), None);
        // A teaser longer than a wall, ending on a login prompt: content.
        let teaser = format!(
            "{}\n登录后查看全文",
            "百度今日正式发布文心大模型4.5，这是百度自主研发的新一代原生多模态基础大模型。".repeat(9)
        );
        assert_eq!(kind(Some("百度发布文心大模型4.5"), &teaser, ""), None);
        // Short, about the same subjects, without the wall's words.
        assert_eq!(kind(Some("Cloudflare 发布新防护"), "Cloudflare 今日发布了新的机器人管理功能。", ""), None);
        assert_eq!(kind(Some("登录月球的新计划"), "嫦娥七号计划于2026年发射。", ""), None);
        // The script a protected site injects into every page is no challenge.
        let injected = "<script src=\"/cdn-cgi/challenge-platform/scripts/jsd/main.js\"></script>";
        assert_eq!(kind(Some("快讯"), "智谱发布GLM-4.5。", injected), None);
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn login_and_captcha_urls() {
        let article = u("https://tech.example.cn/news/2024/123.html");
        for login in [
            "https://passport.example.cn/?u=https%3A%2F%2Ftech.example.cn%2Fnews%2F2024%2F123.html",
            "https://tech.example.cn/user/login?redirect=%2Fnews%2F2024%2F123.html",
            "https://tech.example.cn/login.php?ref=123",
            "https://bbs.example.cn/member.php?mod=logging&action=login",
            "https://www.example.com/signin",
        ] {
            let why = wall_url(&article, &u(login)).unwrap_or_else(|| panic!("{login}"));
            assert!(why.starts_with("redirected to a login page"), "{login}: {why}");
        }
        let captcha = u("https://wappass.example.cn/static/captcha/tuxing.html?ak=1");
        let why = wall_url(&article, &captcha).unwrap();
        assert!(why.starts_with("redirected to an anti-bot"), "{why}");
        for fine in [
            "https://tech.example.cn/a/20240316/123.html",
            "https://tech.example.cn/",
            "https://blog.example.com/posts/login-flows-explained",
            "https://authors.example.cn/x",
        ] {
            assert_eq!(wall_url(&article, &u(fine)), None, "{fine}");
        }
    }
}
