//! One line per text: its name, its length in bytes and the sha256 of
//! `analyse`'s output for it as JSON, with the shipped catalog
//! (`config/catalog.toml` with `config/landscape.toml` over it, as `init`
//! loads them) built into a matcher once.
//!
//! The texts are found under the paths given: a `.txt` file is one text as
//! it is; an `.html` page is decoded and extracted as a check does (as
//! `examples/extract_digest` does); a `.toml` file of the evaluation set
//! (`tests/fixtures/catalog-eval`) holds one text per case.
//!
//! `analyse` must not change when its code is made faster: run this before
//! and after over the same texts and compare. To profile `analyse` alone,
//! write the pages' texts out once (`--write-texts DIR`: extraction then
//! stays out of the profile) and run over that folder under callgrind:
//!
//! ```text
//! python3 scripts/bench_pages.py --out /tmp/pages --pages 2000
//! cargo run --profile profiling --example analysis_digest -- --write-texts /tmp/texts /tmp/pages > before.txt
//! cargo run --profile profiling --example analysis_digest -- /tmp/texts tests/fixtures/catalog-eval > before.txt
//! valgrind --tool=callgrind target/profiling/examples/analysis_digest /tmp/texts > /dev/null
//! ```

mod shipped;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use modelwatch::catalog::eval::parse_cases;
use modelwatch::catalog::{Matcher, analyse};
use modelwatch::extract::{ExtractOptions, extract_page};
use modelwatch::fetch::charset;

fn files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        files(&entry?.path(), out)?;
    }
    Ok(())
}

/// The texts of one file, each with its name (the path, and the case's id
/// for an evaluation file).
fn texts(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let name = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    Ok(match ext {
        "txt" => vec![(name, std::fs::read_to_string(path)?)],
        "html" | "htm" => {
            let body = std::fs::read(path)?;
            let decoded = charset::decode(&body, Some("text/html"), None, Some("127.0.0.1"));
            match extract_page(&decoded.text, &ExtractOptions::default()) {
                Ok(e) => vec![(name, e.text)],
                Err(_) => Vec::new(),
            }
        }
        "toml" => parse_cases(&std::fs::read_to_string(path)?)?
            .into_iter()
            .map(|case| (format!("{name}#{}", case.id), case.text))
            .collect(),
        _ => Vec::new(),
    })
}

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let write_to = match args.iter().position(|a| a == "--write-texts") {
        Some(i) if i + 1 < args.len() => {
            let dir = PathBuf::from(args.remove(i + 1));
            args.remove(i);
            std::fs::create_dir_all(&dir)?;
            Some(dir)
        }
        Some(_) => anyhow::bail!("--write-texts needs a folder"),
        None => None,
    };
    let mut paths = Vec::new();
    for a in &args {
        files(Path::new(a), &mut paths)?;
    }
    paths.sort();
    let matcher = Matcher::new(&shipped::catalog()?)?;
    let (mut count, mut bytes) = (0usize, 0usize);
    for path in &paths {
        for (name, text) in texts(path)? {
            if let Some(dir) = &write_to {
                let file = format!("{:05}.txt", count);
                std::fs::write(dir.join(file), &text)?;
            }
            let json = serde_json::to_string(&analyse(&matcher, &text))?;
            let hash = Sha256::digest(json.as_bytes());
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            println!("{name} {} {hex}", text.len());
            count += 1;
            bytes += text.len();
        }
    }
    eprintln!("{count} texts, {bytes} bytes");
    Ok(())
}
