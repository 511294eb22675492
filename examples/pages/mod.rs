//! What the digest examples share: the HTML files under the folders named
//! on the command line, each decoded and extracted as a check does.

use std::path::{Path, PathBuf};

use modelwatch::extract::{ExtractOptions, Extracted, extract_page};
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

/// Prints one line per HTML file under the folders given as arguments, in
/// path order: its path, then `line` of its extracted page (or the
/// extraction's error).
pub fn print_each(mut line: impl FnMut(&Extracted) -> anyhow::Result<String>) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for dir in std::env::args_os().skip(1) {
        html_files(Path::new(&dir), &mut files)?;
    }
    files.sort();
    let opts = ExtractOptions::default();
    for path in &files {
        let body = std::fs::read(path)?;
        let decoded = charset::decode(&body, Some("text/html"), None, Some("127.0.0.1"));
        let out = match extract_page(&decoded.text, &opts) {
            Ok(e) => line(&e)?,
            Err(e) => format!("error: {e}"),
        };
        println!("{} {out}", path.display());
    }
    Ok(())
}
