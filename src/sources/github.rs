//! GitHub repositories, from the REST API's repository and latest-release
//! objects. The snapshot holds what identifies and describes the repository
//! (canonical name, description, licence, archived, topics, default branch,
//! latest release); stars, forks and open issues are metrics. A rename or
//! transfer, archive, licence change or new release is a change.

use serde::{Deserialize, Serialize};

use super::{KindChange, Structured, StructuredFact, clip};
use crate::change::{ChangeDetails, ChangeStats, MetadataChange, ReleaseDetails};
use crate::types::ChangeKind;
use crate::types::MetricPoint;

/// Release notes kept in the snapshot, in chars.
const BODY_CHARS: usize = 600;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    pub full_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
    /// SPDX id (`MIT`, `Apache-2.0`), or the name when GitHub has no id.
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

// A release change stores the release; the type lives with the change details.
pub use crate::change::Release;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("the GitHub API answered with something that is not a repository: {0}")]
    Repo(#[source] serde_json::Error),
    #[error("the repository object has no full_name")]
    NoName,
}

fn str_field(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn num_field(v: &serde_json::Value, k: &str) -> Option<f64> {
    v.get(k).and_then(serde_json::Value::as_f64)
}

/// The repository object of `GET /repos/OWNER/REPO`, and its metrics.
pub fn parse_repo(body: &[u8]) -> Result<(Repo, Vec<MetricPoint>), GithubError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(GithubError::Repo)?;
    let full_name = str_field(&v, "full_name").ok_or(GithubError::NoName)?;
    let license = v
        .get("license")
        .and_then(|l| str_field(l, "spdx_id").filter(|id| id != "NOASSERTION").or_else(|| str_field(l, "name")));
    let mut topics: Vec<String> = v
        .get("topics")
        .and_then(|t| t.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    topics.sort();
    let repo = Repo {
        full_name,
        description: str_field(&v, "description"),
        default_branch: str_field(&v, "default_branch"),
        archived: v.get("archived").and_then(serde_json::Value::as_bool).unwrap_or(false),
        license,
        topics,
        html_url: str_field(&v, "html_url"),
    };
    let metrics = [("stars", "stargazers_count"), ("forks", "forks_count"), ("open_issues", "open_issues_count")]
        .into_iter()
        .filter_map(|(name, key)| num_field(&v, key).map(|value| MetricPoint { metric: name.to_owned(), value }))
        .collect();
    Ok((repo, metrics))
}

/// The release object of `GET /repos/OWNER/REPO/releases/latest`.
pub fn parse_release(body: &[u8]) -> Option<Release> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(Release {
        tag: str_field(&v, "tag_name")?,
        name: str_field(&v, "name"),
        published_at: str_field(&v, "published_at"),
        body: str_field(&v, "body").map(|b| clip(&b.split_whitespace().collect::<Vec<_>>().join(" "), BODY_CHARS)),
        url: str_field(&v, "html_url"),
    })
}

/// The newest entry of `WEB/OWNER/REPO/releases.atom`: the fallback when the
/// API budget is spent and there is no token.
pub fn parse_releases_atom(body: &[u8]) -> Option<Release> {
    let feed = feed_rs::parser::parse(body).ok()?;
    // Repositories without releases list their tags here; a tag is not a
    // release (the API's `releases/latest` would not report it).
    let newest = feed
        .entries
        .into_iter()
        .filter(|e| e.links.iter().any(|l| l.href.contains("/releases/tag/")))
        .max_by_key(|e| e.updated.or(e.published))?;
    let url = newest.links.first().map(|l| l.href.clone());
    // GitHub's entry ids end in `/TAG`; the link ends in `/tag/TAG`.
    let tag = url
        .as_deref()
        .and_then(|u| u.rsplit_once("/tag/").map(|(_, t)| t.to_owned()))
        .or_else(|| newest.id.rsplit('/').next().map(str::to_owned))?;
    Some(Release {
        tag,
        name: newest.title.map(|t| t.content),
        // The API's format, so switching sources does not look like an edit.
        published_at: newest.updated.or(newest.published).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        body: None,
        url,
    })
}

/// The snapshot of a repository and its latest release.
pub fn structured(repo: &Repo, release: Option<&Release>, metrics: Vec<MetricPoint>) -> Structured {
    let mut text = format!("{}\n", repo.full_name);
    let mut line = |k: &str, v: &str| text.push_str(&format!("{k}: {v}\n"));
    line("description", repo.description.as_deref().unwrap_or(""));
    line("license", repo.license.as_deref().unwrap_or("none"));
    line("archived", if repo.archived { "yes" } else { "no" });
    line("default branch", repo.default_branch.as_deref().unwrap_or(""));
    line("topics", &repo.topics.join(", "));
    match release {
        Some(r) => {
            line("latest release", &r.tag);
            line("release name", r.name.as_deref().unwrap_or(""));
            line("published", r.published_at.as_deref().unwrap_or(""));
            if let Some(b) = &r.body {
                line("notes", b);
            }
        }
        None => line("latest release", "none"),
    }
    Structured {
        text,
        meta: serde_json::json!({ "repo": repo, "release": release }),
        title: Some(repo.full_name.clone()),
        metrics,
    }
}

/// `OWNER/REPO` of a repository's `full_name`, when it is one a request
/// path can carry as is (GitHub's names are ASCII letters, digits, `-`,
/// `_` and `.`): the name later requests use once the API has named it,
/// so a renamed repository is asked under its new name. Anything else
/// (a hostile answer's `../x`) is not a name to request.
pub fn api_name(full_name: &str) -> Option<(&str, &str)> {
    let (owner, repo) = full_name.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(repo)).then_some((owner, repo))
}

/// The source's title after the repository's name became `now`: a title
/// that was the repository's name (`OWNER/REPO` of the user's URL, or of
/// the address the last check found it at) follows it; one the user gave
/// stays. `None`: keep the title.
pub fn followed_title(title: Option<&str>, names: &[Option<(String, String)>], now: &str) -> Option<String> {
    let title = title?;
    let was_name = names.iter().flatten().any(|(o, r)| title.eq_ignore_ascii_case(&format!("{o}/{r}")));
    (was_name && title != now).then(|| now.to_owned())
}

pub fn repo_of(meta: &serde_json::Value) -> Option<Repo> {
    meta.get("repo").and_then(|r| serde_json::from_value(r.clone()).ok())
}

pub fn release_of(meta: &serde_json::Value) -> Option<Release> {
    meta.get("release").and_then(|r| serde_json::from_value(r.clone()).ok())
}

/// Whether `new` was published before `old`: the API and the atom fallback
/// can disagree on "latest" (pre-releases), and an older one is not news.
fn published_before(new: &Release, old: &Release) -> bool {
    let at = |r: &Release| r.published_at.as_deref().and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok());
    matches!((at(new), at(old)), (Some(n), Some(o)) if n < o)
}

/// Rename/transfer, archive, licence, description and release changes.
pub fn changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<KindChange> {
    let (Some(o), Some(n)) = (repo_of(old), repo_of(new)) else { return Vec::new() };
    let mut out = Vec::new();
    if !o.full_name.eq_ignore_ascii_case(&n.full_name) {
        out.push(KindChange::metadata(
            format!("Repository renamed: {} → {}", o.full_name, n.full_name),
            MetadataChange::FullName { from: o.full_name.clone(), to: n.full_name.clone() },
        ));
    }
    if o.archived != n.archived {
        let s = if n.archived { "Repository archived" } else { "Repository unarchived" };
        out.push(KindChange::metadata(
            format!("{s}: {}", n.full_name),
            MetadataChange::Archived { from: o.archived, to: n.archived },
        ));
    }
    if o.license != n.license {
        out.push(KindChange::metadata(
            format!(
                "Licence changed: {} → {}",
                o.license.as_deref().unwrap_or("none"),
                n.license.as_deref().unwrap_or("none")
            ),
            MetadataChange::License { from: o.license.clone(), to: n.license.clone() },
        ));
    }
    if o.description != n.description {
        out.push(KindChange::metadata(
            format!("Description changed: {}", n.description.as_deref().unwrap_or("(none)")),
            MetadataChange::Description { from: o.description.clone(), to: n.description.clone() },
        ));
    }
    let (or, nr) = (release_of(old), release_of(new));
    if let Some(r) = &nr
        && or.as_ref().is_none_or(|o| o.tag != r.tag && !published_before(r, o))
    {
        let title = r.name.as_deref().filter(|n| *n != r.tag);
        let summary = match title {
            Some(t) => format!("New release {} ({t})", r.tag),
            None => format!("New release {}", r.tag),
        };
        let mut excerpt = summary.clone();
        if let Some(b) = &r.body {
            excerpt.push('\n');
            excerpt.push_str(b);
        }
        out.push(KindChange {
            kind: ChangeKind::Release,
            summary,
            excerpt,
            stats: ChangeStats { added: 1, ..ChangeStats::default() },
            details: ChangeDetails::Release(ReleaseDetails { from: or.map(|o| o.tag), release: r.clone() }).to_json(),
        });
    }
    out
}

/// Authoritative facts: the latest release's tag and date, the licence.
pub fn facts(meta: &serde_json::Value) -> Vec<StructuredFact> {
    let Some(repo) = repo_of(meta) else { return Vec::new() };
    let fact =
        |field: &str, value: String| StructuredFact { subject: repo.full_name.clone(), field: field.to_owned(), value };
    let mut out = Vec::new();
    if let Some(l) = &repo.license {
        out.push(fact("license", l.clone()));
    }
    if let Some(r) = release_of(meta) {
        out.push(fact("release_tag", r.tag.clone()));
        if let Some(d) = r.published_at.as_deref().and_then(|d| d.get(..10)) {
            out.push(fact("release_date", d.to_owned()));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    pub const AUTOGPT: &str = r#"{"id":614765452,"name":"Auto-GPT","full_name":"Significant-Gravitas/Auto-GPT",
"html_url":"https://github.com/Significant-Gravitas/Auto-GPT","description":"An experimental open-source attempt to make GPT-4 fully autonomous.",
"stargazers_count":120000,"forks_count":24000,"open_issues_count":410,"default_branch":"master","archived":false,
"license":{"key":"mit","name":"MIT License","spdx_id":"MIT"},"topics":["gpt-4","autonomous-agents","ai"],"pushed_at":"2023-04-20T10:00:00Z"}"#;

    const RELEASE: &str = r###"{"tag_name":"v0.2.2","name":"Auto-GPT v0.2.2","published_at":"2023-04-20T12:00:00Z",
"html_url":"https://github.com/Significant-Gravitas/Auto-GPT/releases/tag/v0.2.2","body":"## Fixes\n* memory backend"}"###;

    fn snap(repo_json: &str, release: Option<&str>) -> Structured {
        let (repo, metrics) = parse_repo(repo_json.as_bytes()).unwrap();
        let rel = release.and_then(|r| parse_release(r.as_bytes()));
        structured(&repo, rel.as_ref(), metrics)
    }

    #[test]
    fn stars_are_metrics_not_text() {
        let a = snap(AUTOGPT, Some(RELEASE));
        let b = snap(&AUTOGPT.replace("120000", "120500"), Some(RELEASE));
        assert_eq!(a.text, b.text);
        assert!(changes(&a.meta, &b.meta).is_empty());
        assert_eq!(b.metrics[0], MetricPoint { metric: "stars".into(), value: 120500.0 });
        assert_eq!(b.metrics.len(), 3);
    }

    #[test]
    fn rename_and_release_are_changes() {
        let a = snap(AUTOGPT, None);
        let renamed = AUTOGPT.replace("Significant-Gravitas/Auto-GPT\"", "Significant-Gravitas/AutoGPT\"");
        let b = snap(&renamed, Some(RELEASE));
        let ch = changes(&a.meta, &b.meta);
        let summaries: Vec<&str> = ch.iter().map(|c| c.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Repository renamed: Significant-Gravitas/Auto-GPT → Significant-Gravitas/AutoGPT",
                "New release v0.2.2 (Auto-GPT v0.2.2)"
            ]
        );
        assert_eq!(ch[0].kind, ChangeKind::Metadata);
        assert_eq!(ch[1].kind, ChangeKind::Release);
        assert!(ch[1].excerpt.contains("## Fixes * memory backend"), "{}", ch[1].excerpt);
    }

    #[test]
    fn archive_and_licence_are_changes() {
        let a = snap(AUTOGPT, Some(RELEASE));
        let b = snap(
            &AUTOGPT
                .replace("\"archived\":false", "\"archived\":true")
                .replace("\"spdx_id\":\"MIT\"", "\"spdx_id\":\"Apache-2.0\""),
            Some(RELEASE),
        );
        let summaries: Vec<String> = changes(&a.meta, &b.meta).into_iter().map(|c| c.summary).collect();
        assert_eq!(
            summaries,
            ["Repository archived: Significant-Gravitas/Auto-GPT", "Licence changed: MIT → Apache-2.0"]
        );
    }

    #[test]
    fn releases_atom_fallback() {
        let atom = r#"<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<id>tag:github.com,2008:https://github.com/tatsu-lab/stanford_alpaca/releases</id><title>Release notes</title><updated>2023-04-01T00:00:00Z</updated>
<entry><id>tag:github.com,2008:Repository/1/v1.1</id><updated>2023-04-01T00:00:00Z</updated>
<link rel="alternate" type="text/html" href="https://github.com/tatsu-lab/stanford_alpaca/releases/tag/v1.1"/><title>v1.1 weight diff</title></entry>
<entry><id>tag:github.com,2008:Repository/1/v1.0</id><updated>2023-03-13T00:00:00Z</updated>
<link rel="alternate" type="text/html" href="https://github.com/tatsu-lab/stanford_alpaca/releases/tag/v1.0"/><title>v1.0</title></entry></feed>"#;
        let r = parse_releases_atom(atom.as_bytes()).unwrap();
        assert_eq!(r.tag, "v1.1");
        assert_eq!(r.name.as_deref(), Some("v1.1 weight diff"));
        assert!(parse_releases_atom(b"not xml").is_none());
    }

    #[test]
    fn requests_follow_a_plain_name_and_titles_follow_the_repository() {
        assert_eq!(api_name("Significant-Gravitas/AutoGPT"), Some(("Significant-Gravitas", "AutoGPT")));
        assert_eq!(api_name("THUDM/chatglm.cpp"), Some(("THUDM", "chatglm.cpp")));
        for bad in ["a/b/c", "../x", "a/..", "a", "/b", "a b/c", "a/b?x=1", "a/%2e%2e"] {
            assert_eq!(api_name(bad), None, "{bad}");
        }
        let names = [Some(("Significant-Gravitas".to_owned(), "Auto-GPT".to_owned())), None];
        let now = "Significant-Gravitas/AutoGPT";
        assert_eq!(followed_title(Some("Significant-Gravitas/Auto-GPT"), &names, now).as_deref(), Some(now));
        assert_eq!(followed_title(Some("significant-gravitas/auto-gpt"), &names, now).as_deref(), Some(now));
        assert_eq!(followed_title(Some("AutoGPT (agent)"), &names, now), None, "the user's title stays");
        assert_eq!(followed_title(None, &names, now), None);
        let renamed = [Some(("Significant-Gravitas".to_owned(), "AutoGPT".to_owned()))];
        assert_eq!(followed_title(Some(now), &renamed, now), None, "already the name");
    }

    #[test]
    fn hostile_bodies_are_errors() {
        assert!(parse_repo(b"<html>rate limited</html>").is_err());
        assert!(matches!(parse_repo(b"{\"message\":\"Not Found\"}"), Err(GithubError::NoName)));
        assert!(parse_release(b"{}").is_none());
    }

    #[test]
    fn snapshot_text_shape() {
        insta::assert_snapshot!(snap(AUTOGPT, Some(RELEASE)).text);
    }

    #[test]
    fn facts_for_the_catalog() {
        let s = snap(AUTOGPT, Some(RELEASE));
        let f: Vec<(String, String)> = facts(&s.meta).into_iter().map(|f| (f.field, f.value)).collect();
        assert_eq!(
            f,
            [
                ("license".into(), "MIT".into()),
                ("release_tag".into(), "v0.2.2".into()),
                ("release_date".into(), "2023-04-20".into())
            ]
        );
    }

    #[test]
    fn the_atom_fallback_ignores_tags_and_older_releases_are_not_news() {
        let tags_only = r#"<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title><updated>2023-05-01T00:00:00Z</updated>
<entry><id>tag:github.com,2008:Repository/1/v9</id><updated>2023-05-01T00:00:00Z</updated><link rel="alternate" type="text/html" href="https://github.com/o/r/tree/v9"/><title>v9</title></entry></feed>"#;
        assert!(parse_releases_atom(tags_only.as_bytes()).is_none(), "a tag is not a release");
        let rel = |tag: &str, at: &str| Release {
            tag: tag.into(),
            name: None,
            published_at: Some(at.into()),
            body: None,
            url: None,
        };
        assert!(published_before(&rel("v1.9", "2023-04-01T00:00:00Z"), &rel("v2.0-rc1", "2023-05-01T00:00:00Z")));
        assert!(!published_before(&rel("v2.0", "2023-06-01T00:00:00+00:00"), &rel("v1.9", "2023-04-01T00:00:00Z")));
    }
}
