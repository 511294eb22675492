//! `web.base_url` reaches the digest: with it, each change, dead link and
//! proposed fact links to its page in both parts; without it, no links.

use super::seed::seeded;
use crate::support::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_links_to_the_web_view_only_when_a_base_url_is_set() {
    let mut seed = seeded(Backend::Sqlite).await.unwrap();
    let change = seed.content_change().await["id"].as_i64().unwrap();
    let fact = seed.pending_facts().await[0]["id"].as_i64().unwrap();
    let links = [
        format!("https://watch.example.org/changes/{change}"),
        format!("https://watch.example.org/sources/{}", seed.gone),
        format!("https://watch.example.org/review#fact-{fact}"),
    ];
    for format in ["text", "html"] {
        let plain = seed.mw.run_async(&["digest", "preview", "--since", "1h", "--format", format]).await.ok().stdout;
        assert!(!plain.contains("watch.example.org") && !plain.contains("/review#fact-"), "{plain}");
    }
    seed.mw.env.push(("MODELWATCH_WEB__BASE_URL".to_owned(), "https://watch.example.org/".to_owned()));
    for format in ["text", "html"] {
        let linked = seed.mw.run_async(&["digest", "preview", "--since", "1h", "--format", format]).await.ok().stdout;
        for link in &links {
            assert!(linked.contains(link.as_str()), "{format}: no {link} in\n{linked}");
        }
    }
}
