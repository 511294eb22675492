//! One line per HTML file: its path and [`Extracted::digest`] of what
//! extraction returns for it with the default options, the page decoded as
//! the runner decodes one (`Content-Type: text/html`, no charset).
//!
//! Extraction output must not change between releases (a changed text is a
//! spurious change on every user's next check), so a change to the
//! extractor is checked by running this before and after over the same
//! pages and comparing:
//!
//! ```text
//! python3 scripts/bench_pages.py --out /tmp/pages --pages 2000
//! cargo run --release --example extract_digest -- /tmp/pages tests/fixtures/pages > after.txt
//! diff before.txt after.txt
//! ```
//!
//! The fixture pages are pinned the same way by `extract::pinned` (a test).

use std::path::{Path, PathBuf};

use modelwatch::extract::{ExtractOptions, Extracted, extract_page, soft_gone_reason};
use modelwatch::fetch::charset;

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            html_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut files = Vec::new();
    for dir in std::env::args_os().skip(1) {
        html_files(Path::new(&dir), &mut files)?;
    }
    files.sort();
    let opts = ExtractOptions::default();
    for path in &files {
        let body = std::fs::read(path)?;
        let decoded = charset::decode(&body, Some("text/html"), None, Some("127.0.0.1"));
        let line = match extract_page(&decoded.text, &opts) {
            Ok(e) => {
                let gone = soft_gone_reason(&e).map(|r| format!(" soft_gone={r}")).unwrap_or_default();
                format!("{}{gone}", Extracted::digest(&e))
            }
            Err(e) => format!("error: {e}"),
        };
        println!("{} {line}", path.display());
    }
    Ok(())
}
