//! The login's failure budget over real TCP: guesses run in parallel are
//! still bounded, a spent budget answers 429 with `Retry-After` (even to
//! the right token), another client is unaffected, and the budget comes
//! back after its window.
#![allow(clippy::disallowed_methods, reason = "our own web view on 127.0.0.1; its pages are small")]

use std::time::{Duration, Instant};

use modelwatch::web::LoginLimits;

use super::seed::{Served, TOKEN, serve_within};
use crate::support::{Backend, Mw};

/// A login form's session: its cookie and CSRF token.
struct Form {
    cookie: String,
    csrf: String,
}

async fn login_form(c: &reqwest::Client, served: &Served) -> Form {
    let res = c.get(format!("{}/login", served.base)).send().await.unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = res.text().await.unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap().to_owned();
    Form { cookie, csrf }
}

/// POSTs `token` on `form`, as the proxy-relayed client `forwarded_for` when given.
async fn try_login(
    c: &reqwest::Client,
    served: &Served,
    form: &Form,
    token: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = c
        .post(format!("{}/login", served.base))
        .header("cookie", &form.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&next=%2Freview&token={token}", form.csrf));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_spend_a_budget_that_answers_429_and_recovers() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let window = Duration::from_secs(2);
    let served = serve_within(
        &mw,
        "[web]\nlisten = \"127.0.0.1:0\"\n",
        modelwatch::web::LIMITS,
        LoginLimits { failures: 3, window },
    )
    .await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = login_form(&c, &served).await;

    // Five guesses at once: three are compared (and fail), two are refused.
    let started = Instant::now();
    let guesses = (0..5).map(|_| try_login(&c, &served, &form, "not-the-token-0000", None));
    let mut statuses: Vec<u16> = futures::future::join_all(guesses).await.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [401, 401, 401, 429, 429]);

    // Spent, even the right token is not compared; the answer says how long.
    let res = try_login(&c, &served, &form, TOKEN, None).await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res.text().await.unwrap().contains("Too many failed logins"));

    // A client relayed by a proxy on loopback is another client.
    let relayed = try_login(&c, &served, &form, "not-the-token-0000", Some("198.51.100.7")).await;
    assert_eq!(relayed.status(), 401);

    // Once the window has passed, the right token logs in.
    let res = loop {
        let res = try_login(&c, &served, &form, TOKEN, None).await;
        if res.status() != 429 {
            break res;
        }
        assert!(started.elapsed() < window + Duration::from_secs(3), "still refused after the window");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(res.status(), 303);
    assert!(started.elapsed() >= window - Duration::from_millis(100), "let in before the window ended");
    assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("mw_session="));
}
