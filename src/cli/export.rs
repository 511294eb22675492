//! `export references [--format md|json]`: the document's reference list
//! given back, grouped by its heading path in document order, each link with
//! its health — Markdown to paste into the document, JSON for tools.

use clap::{Subcommand, ValueEnum};

use super::context::Context;
pub use crate::references::{Health, ReferenceJson, reference_json};

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The document's references with their health (ok, moved, redirected,
    /// gone, soft-404, failing), grouped by heading path in document order.
    References {
        #[arg(long, value_enum, default_value_t = RefFormat::Md)]
        format: RefFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RefFormat {
    Md,
    Json,
}

pub async fn run(ctx: &Context, cmd: ExportCommand) -> anyhow::Result<()> {
    match cmd {
        ExportCommand::References { format } => {
            let rows: Vec<ReferenceJson> = ctx.store.reference_health().await?.iter().map(reference_json).collect();
            match format {
                RefFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                RefFormat::Md => print!("{}", render_markdown(&rows)),
            }
            let dead =
                rows.iter().filter(|r| !matches!(r.health, Health::Ok | Health::Pending | Health::Paused)).count();
            eprintln!("{} reference(s), {dead} needing attention", rows.len());
            Ok(())
        }
    }
}

/// Markdown: the heading path as headings (only where it changes), one
/// bullet per link with its health; dead links in bold with their archive.
pub fn render_markdown(rows: &[ReferenceJson]) -> String {
    let mut out = String::new();
    let mut previous: Option<Vec<String>> = None;
    for r in rows {
        let path = if r.section.is_some() {
            r.heading_path.clone()
        } else {
            vec!["Other sources (not from the document)".to_owned()]
        };
        if previous.as_ref() != Some(&path) {
            let prev = previous.unwrap_or_default();
            let common = prev.iter().zip(&path).take_while(|(a, b)| a == b).count();
            // A group whose path is a prefix of the last one still needs its heading.
            let from = if common == path.len() { path.len().saturating_sub(1) } else { common };
            for (depth, heading) in path.iter().enumerate().skip(from) {
                // One blank line before a heading.
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                out.push_str(&format!("{} {heading}\n\n", "#".repeat((depth + 1).min(6))));
            }
            previous = Some(path);
        }
        out.push_str(&bullet(r));
        out.push('\n');
    }
    out
}

fn bullet(r: &ReferenceJson) -> String {
    let link = match &r.title {
        Some(t) => format!("[{}](<{}>)", escape(t), r.url),
        None => format!("<{}>", r.url),
    };
    let dead = r.archive.is_some()
        || matches!(r.health, Health::Redirected | Health::Gone | Health::Soft404 | Health::Failing);
    let health = if dead { format!("**{}**", r.health_text) } else { r.health_text.clone() };
    let mut line = format!("* {link} — {health}");
    if let Some(at) = r.last_snapshot_at {
        line.push_str(&format!(" · last good copy {}", at.format("%Y-%m-%d")));
    }
    if let Some(cmd) = &r.archive {
        line.push_str(&format!(" · archived: `{cmd}`"));
    }
    line
}

/// Brackets in a title would end the link text early.
fn escape(title: &str) -> String {
    title.replace('\\', "\\\\").replace('[', "\\[").replace(']', "\\]")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::source::{Source, SourceOptions};
    use crate::store::references::ReferenceHealth;
    use crate::types::{ErrorKind, SourceId, SourceKind, SourceStatus};

    fn health(id: i64, url: &str, section: Option<&str>, status: SourceStatus) -> ReferenceHealth {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        ReferenceHealth {
            source: Source {
                id: SourceId(id),
                url: url::Url::parse(url).unwrap(),
                final_url: None,
                kind: SourceKind::Page,
                title: Some(format!("标题[{id}]")),
                tags: Vec::new(),
                section: section.map(str::to_owned),
                status,
                last_error_kind: (status == SourceStatus::Failing).then_some(ErrorKind::Timeout),
                schedule: None,
                options: SourceOptions::default(),
                etag: None,
                last_modified: None,
                last_snapshot_id: Some(id * 10),
                pending_status: None,
                pending_count: 0,
                consecutive_failures: 0,
                last_error: None,
                last_checked_at: Some(t),
                next_check_at: t,
                created_at: t,
                crash_count: 0,
                quarantined_at: None,
            },
            position: section.map(|_| id),
            since: Some(Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()),
            last_ok_at: Some(t),
            last_snapshot_at: Some(t),
        }
    }

    #[test]
    fn markdown_nests_headings_marks_dead_links_and_escapes_titles() {
        let rows: Vec<ReferenceJson> = [
            health(1, "https://a.cn/1", Some("第一章 / 本章参考"), SourceStatus::Ok),
            health(2, "https://a.cn/2", Some("第一章 / 本章参考"), SourceStatus::Failing),
            health(3, "https://a.cn/3", Some("第一章 / 延伸阅读"), SourceStatus::SoftGone),
            health(4, "https://a.cn/4", Some("第二章"), SourceStatus::Pending),
            health(5, "https://a.cn/5", None, SourceStatus::Gone),
        ]
        .iter()
        .map(reference_json)
        .collect();
        let md = render_markdown(&rows);
        assert_eq!(
            md,
            "# 第一章\n\n## 本章参考\n\n\
             * [标题\\[1\\]](<https://a.cn/1>) — ok · last good copy 2026-12-01\n\
             * [标题\\[2\\]](<https://a.cn/2>) — **failing (timeout) since 2026-12-03** · last good copy 2026-12-01 · archived: `modelwatch snapshot show 20`\n\
             \n## 延伸阅读\n\n\
             * [标题\\[3\\]](<https://a.cn/3>) — **soft-404 since 2026-12-03** · last good copy 2026-12-01 · archived: `modelwatch snapshot show 30`\n\
             \n# 第二章\n\n\
             * [标题\\[4\\]](<https://a.cn/4>) — not checked yet · last good copy 2026-12-01\n\
             \n# Other sources (not from the document)\n\n\
             * [标题\\[5\\]](<https://a.cn/5>) — **gone since 2026-12-03** · last good copy 2026-12-01 · archived: `modelwatch snapshot show 50`\n"
        );
        assert_eq!(rows[0].heading_path, ["第一章", "本章参考"]);
        assert_eq!(rows[1].health, Health::Failing);
        assert!(rows[0].since.is_none(), "a live link has no 'since'");
    }

    #[test]
    fn a_moved_link_names_its_new_address() {
        let mut h = health(1, "http://a.cn/old", Some("参考"), SourceStatus::Ok);
        h.source.final_url = Some(url::Url::parse("https://a.cn/new").unwrap());
        let r = reference_json(&h);
        assert_eq!(r.health, Health::Moved);
        assert_eq!(r.new_url.as_deref(), Some("https://a.cn/new"));
        assert!(r.archive.is_none());
        h.source.status = SourceStatus::Redirected;
        h.source.final_url = Some(url::Url::parse("https://a.cn/").unwrap());
        assert_eq!(reference_json(&h).health_text, "redirected → https://a.cn/");
    }
}
