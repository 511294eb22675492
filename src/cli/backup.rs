//! `backup --output FILE`: a consistent copy of the SQLite database, safe
//! while the daemon runs.
//!
//! The copy is written with `VACUUM INTO` to a temporary file beside the
//! output, checked with `PRAGMA integrity_check`, and only then renamed to
//! its name: a file at FILE is always a whole, verified backup. PostgreSQL
//! has its own tool for this; the command prints the `pg_dump` line to run.

use std::path::{Path, PathBuf};

use clap::Args;

use super::context::{open_store, usage};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file).
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(config: &Config, args: &BackupArgs) -> anyhow::Result<()> {
    let url = &config.database.url;
    let Some(db_path) = crate::store::sqlite_path(url) else {
        if url.starts_with("sqlite:") {
            return Err(usage("an in-memory SQLite database cannot be backed up"));
        }
        println!("{}", pg_dump_command(url, &args.output));
        return Err(usage(format!(
            "{} is PostgreSQL: modelwatch does not copy it itself; run the pg_dump command above \
             (restore with pg_restore, see deploy/README.md)",
            crate::config::redact_url(url)
        )));
    };
    // Opening a missing SQLite file would create an empty one: refuse instead.
    if !Path::new(&db_path).is_file() {
        return Err(usage(format!(
            "no database at {db_path} (the file does not exist); nothing to back up (`modelwatch init` creates one)"
        )));
    }
    if args.output.exists() && !args.force {
        return Err(usage(format!("{} exists; pass --force to replace it", args.output.display())));
    }
    let tmp = temporary_beside(&args.output)?;
    let _ = std::fs::remove_file(&tmp);
    let store = open_store(config, crate::store::OpenMode::Existing).await?;
    let copied = store.sqlite_vacuum_into(&tmp).await;
    let _ = store.close().await;
    let result = match copied {
        Ok(()) => verify_and_publish(&tmp, &args.output).await,
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot copy {db_path}"))),
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let bytes = result?;
    eprintln!("Backed up {db_path} to {} ({bytes} bytes, integrity_check ok).", args.output.display());
    Ok(())
}

/// Checks the copy and gives it its name; returns its size.
async fn verify_and_publish(tmp: &Path, output: &Path) -> anyhow::Result<u64> {
    let problems = crate::store::admin::check_sqlite_file(tmp).await?;
    if problems != ["ok"] {
        anyhow::bail!("the copy failed its integrity check: {}", problems.join("; "));
    }
    std::fs::rename(tmp, output).map_err(|e| anyhow::anyhow!("cannot rename the copy to {}: {e}", output.display()))?;
    Ok(std::fs::metadata(output).map(|m| m.len()).unwrap_or(0))
}

/// `.NAME.partial` in the output's folder (a rename across file systems
/// would not be atomic).
fn temporary_beside(output: &Path) -> anyhow::Result<PathBuf> {
    let name = output
        .file_name()
        .ok_or_else(|| usage(format!("--output {} names no file", output.display())))?
        .to_string_lossy();
    Ok(output.with_file_name(format!(".{name}.partial")))
}

/// The pg_dump line for a PostgreSQL URL, without its password (pg_dump
/// reads PGPASSWORD or ~/.pgpass).
pub fn pg_dump_command(url: &str, output: &Path) -> String {
    let safe = match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => crate::config::redact_url(url),
    };
    format!("pg_dump --format=custom --no-owner --file='{}' --dbname='{}'", output.display(), safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pg_dump_line_never_carries_the_password() {
        let line = pg_dump_command("postgres://mw:s3cret@db:5432/mw", Path::new("/backup/mw.dump"));
        assert_eq!(
            line,
            "pg_dump --format=custom --no-owner --file='/backup/mw.dump' --dbname='postgres://mw@db:5432/mw'"
        );
    }

    #[test]
    fn the_partial_copy_sits_beside_the_output() {
        let tmp = temporary_beside(Path::new("/backup/mw.db")).unwrap_or_default();
        assert_eq!(tmp, PathBuf::from("/backup/.mw.db.partial"));
    }
}
