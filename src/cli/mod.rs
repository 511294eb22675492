//! The admin CLI (DESIGN.md, "CLI contract"): clap definitions and dispatch.
//! JSON goes to stdout alone; logs and progress go to stderr.

mod backup;
mod catalog;
mod changes;
mod check;
mod config_check;
pub mod context;
mod digest;
pub mod doctor;
mod export;
pub mod health;
mod import;
mod init;
mod output;
pub mod progress;
mod shipped;
mod snapshot;
mod sources;
#[cfg(test)]
mod test_store;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Config, ConfigOrigin};
pub use context::{Context, UsageError};

#[derive(Debug, Parser)]
#[command(name = "modelwatch", version, about = "Keeps an AI-industry knowledge base current")]
pub struct Cli {
    /// Configuration file. Without it: ./config/modelwatch.toml, then
    /// /etc/modelwatch/modelwatch.toml, then the embedded defaults.
    #[arg(long, global = true, env = "MODELWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL (overrides database.url).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// No progress bars (they are drawn on stderr only when it is a terminal).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or migrate the database and load the catalog and seed sources.
    Init(init::InitArgs),
    /// Run the daemon.
    Run,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage watched sources.
    #[command(subcommand)]
    Sources(sources::SourcesCommand),
    /// Check sources now and print what changed.
    Check(check::CheckArgs),
    /// List recorded changes; `changes show ID` prints one with its whole diff.
    Changes(changes::ChangesArgs),
    /// The archive: every snapshot of a page, the last good copy of a dead one.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Give the knowledge document's data back (`export references`).
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// The model/vendor database.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Preview, send and list the weekly digest.
    #[command(subcommand)]
    Digest(digest::DigestCommand),
    /// Ask the running daemon whether it is ready (GET /readyz); exit 0 or 1.
    Health(health::HealthArgs),
    /// Check the config, database, SMTP, fetching, GitHub token and disk space.
    Doctor(doctor::DoctorArgs),
    /// Write a consistent copy of the SQLite database, even while the daemon runs.
    Backup(backup::BackupArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets redacted) or every error.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs a command other than `run`, `health` and `doctor` (which `main`
/// handles) with its loaded configuration.
pub async fn dispatch(cli: Cli, config: Config, origin: ConfigOrigin) -> anyhow::Result<()> {
    progress::set_quiet(cli.quiet);
    match cli.command {
        Command::Config(ConfigCommand::Check) => config_check::config_check(&config, &origin),
        Command::Init(args) => init::run(config, &args).await,
        Command::Sources(cmd) => sources::run(&Context::open(config, false).await?, cmd).await,
        Command::Check(args) => check::run(&Context::open(config, false).await?, &args).await,
        Command::Changes(args) => changes::run(&Context::open(config, false).await?, &args).await,
        Command::Snapshot(cmd) => snapshot::run(&Context::open(config, false).await?, cmd).await,
        Command::Export(cmd) => export::run(&Context::open(config, false).await?, cmd).await,
        Command::Catalog(cmd) => catalog::run(&Context::open(config, false).await?, cmd).await,
        Command::Digest(cmd) => digest::run(&Context::open(config, false).await?, cmd).await,
        Command::Backup(args) => backup::run(&config, &args).await,
        Command::Health(args) => health::run(Some(&config), &args).await,
        Command::Doctor(args) => doctor::run(Ok((config, origin)), &args).await,
        Command::Run => Err(anyhow::anyhow!("`run` is handled by main")),
    }
}
