//! `config check`'s look at the files the config points to: the shipped
//! sources (`sources.toml`) and the catalog (`catalog.toml`) are validated
//! the way `init` and `run` would read them, so a bad entry shows up before
//! it fails a deploy. Every problem of both files is reported at once.

use std::io::ErrorKind;
use std::path::Path;

use super::context::usage;
use crate::catalog::parse_seed;
use crate::config::Config;

/// Checks both files; returns the `#` lines to print, or a usage error
/// with every problem found.
pub fn check(config: &Config) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let sources = &config.sources_seed_file;
    match read(sources) {
        Ok(Some(text)) => match crate::seed::parse(&text, sources, config) {
            Ok(s) => lines.push(format!("# {}: {} source(s), all valid", sources.display(), s.len())),
            Err(e) => problems.push(e.to_string()),
        },
        Ok(None) => lines.push(format!(
            "# no sources file at {}: `init` needs --no-seed-sources, `run` starts with no sources",
            sources.display()
        )),
        Err(e) => problems.push(e),
    }
    let catalog = &config.catalog_file;
    match read(catalog) {
        Ok(Some(text)) => match parse_seed(&text) {
            Ok(seed) => lines.push(format!(
                "# {}: {} vendor(s), {} model(s), {} term(s), {} fact(s), all valid",
                catalog.display(),
                seed.catalog.vendors.len(),
                seed.catalog.models.len(),
                seed.catalog.terms.len(),
                seed.catalog.facts.len()
            )),
            Err(e) => problems.push(format!("{}: {}", catalog.display(), chain(&e))),
        },
        Ok(None) => lines.push(format!("# no catalog file at {}: the catalog starts empty", catalog.display())),
        Err(e) => problems.push(e),
    }
    if problems.is_empty() { Ok(lines) } else { Err(usage(problems.join("\n"))) }
}

/// The file's text; `None` when it does not exist (both files are optional).
fn read(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// An error with its causes, for one message (a TOML error's line and
/// column are in its source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(c.to_string().trim_end());
        cause = c.source();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONFIG_TOML, Overrides};

    /// The files in `config/` pass the check `config check` makes.
    #[test]
    fn the_shipped_files_are_valid() {
        let config = Config::from_toml(DEFAULT_CONFIG_TOML, "t", "config".into(), &Overrides::default()).unwrap();
        let lines = check(&config).unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.ends_with("all valid")), "{lines:?}");
    }
}
