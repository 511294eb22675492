//! The layer rules of DESIGN.md, checked on the source text so a new import
//! across a layer edge fails CI instead of waiting for a review:
//!
//! - the source kinds (`src/sources/`) never reach into the store;
//! - the CLI (`crate::cli`) is used only by `src/cli/` and `src/main.rs`;
//! - sea-orm is imported only by `src/store/`;
//! - the runner knows no source kind by name (it dispatches through
//!   `sources::observe`);
//! - the digest (`src/digest/`) is pure: it builds and renders; the job
//!   that reads the store, sends mail and reads the config is
//!   `src/jobs/digest.rs`, beside the runner.
//!
//! Comment lines are skipped: docs may name the layers they stay out of.

use std::path::{Path, PathBuf};

struct Rule {
    /// What the rule protects, for the failure message.
    why: &'static str,
    needle: &'static str,
    /// Whether a file (path relative to the crate, `/`-separated) must not
    /// contain the needle.
    applies: fn(&str) -> bool,
}

const RULES: &[Rule] = &[
    Rule {
        why: "source kinds are pure readers; the runner saves what they observe",
        needle: "crate::store",
        applies: |p| p.starts_with("src/sources/"),
    },
    Rule {
        why: "the CLI sits on top: only src/cli/ and src/main.rs use it",
        needle: "crate::cli",
        applies: |p| !p.starts_with("src/cli/") && p != "src/main.rs",
    },
    Rule {
        why: "the CLI sits on top: only src/cli/ and src/main.rs use it",
        needle: "modelwatch::cli",
        applies: |p| !p.starts_with("src/cli/") && p != "src/main.rs",
    },
    Rule {
        why: "src/store/ is the one module that imports sea-orm",
        needle: "sea_orm",
        applies: |p| !p.starts_with("src/store/"),
    },
    Rule {
        why: "the runner dispatches once through sources::observe and knows no kind by name",
        needle: "SourceKind::",
        applies: |p| p.starts_with("src/runner/"),
    },
    Rule {
        why: "src/digest/ is pure; the digest job in src/jobs/ reads the store",
        needle: "crate::store",
        applies: |p| p.starts_with("src/digest/"),
    },
    Rule {
        why: "src/digest/ is pure; the digest job in src/jobs/ sends the mail",
        needle: "crate::mail",
        applies: |p| p.starts_with("src/digest/"),
    },
    Rule {
        why: "src/digest/ is pure; the digest job in src/jobs/ reads the config",
        needle: "crate::config",
        applies: |p| p.starts_with("src/digest/"),
    },
    Rule {
        why: "src/digest/ is pure; it does not call back into the jobs that use it",
        needle: "crate::jobs",
        applies: |p| p.starts_with("src/digest/"),
    },
];

/// Every broken rule in `files` (path, text), one line each.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        for rule in RULES.iter().filter(|r| (r.applies)(path)) {
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if code.contains(rule.needle) {
                    out.push(format!("{path}:{}: `{}` ({})", n + 1, rule.needle, rule.why));
                }
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layer_rules_hold_in_src() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    assert!(files.len() > 50, "found only {} files under src/", files.len());
    assert!(files.iter().any(|(p, _)| p == "src/sources/page.rs"), "the walk must see the kinds");
    let broken = violations(&files);
    assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_catches_each_rule() {
    let file = |p: &str, t: &str| (p.to_owned(), t.to_owned());
    let files = vec![
        file("src/sources/feed.rs", "use crate::store::metrics::MetricPoint;\n"),
        file("src/app.rs", "use crate::cli::context::usage;\n"),
        file("src/digest/send.rs", "    let x = sea_orm::Set(1);\n"),
        file("src/runner/check.rs", "if kind == SourceKind::Github {}\n"),
        file("src/digest/send.rs", "use crate::store::Store;\n"),
        file("src/digest/daemon.rs", "    let m = crate::mail::SmtpMailer::new(s);\n"),
        file("src/digest/render.rs", "fn f(c: &crate::config::DigestConfig) {}\n"),
        file("src/digest/build.rs", "use crate::jobs::digest::RunReport;\n"),
        // Allowed: the owner of each layer, and comments.
        file("src/store/mod.rs", "use sea_orm::Database;\n"),
        file("src/cli/mod.rs", "use crate::cli::context;\n"),
        file("src/main.rs", "use modelwatch::cli::Cli;\n"),
        file("src/sources/mod.rs", "//! never `crate::store` here\n"),
        file("src/jobs/digest.rs", "use crate::store::Store;\nuse crate::mail::Mailer;\n"),
        file("src/digest/mod.rs", "//! the job is `crate::jobs::digest`\n"),
    ];
    let broken = violations(&files);
    assert_eq!(broken.len(), 8, "{broken:#?}");
    for path in [
        "src/sources/feed.rs:1",
        "src/app.rs:1",
        "src/digest/send.rs:1",
        "src/runner/check.rs:1",
        "src/digest/daemon.rs:1",
        "src/digest/render.rs:1",
        "src/digest/build.rs:1",
    ] {
        assert!(broken.iter().any(|b| b.starts_with(path)), "{path} not caught: {broken:#?}");
    }
}
