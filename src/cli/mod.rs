//! The admin CLI (DESIGN.md, "CLI contract"): clap definitions and dispatch.
//! JSON goes to stdout alone; logs and progress go to stderr.

mod catalog;
mod changes;
mod check;
pub mod context;
mod digest;
mod init;
mod output;
mod shipped;
mod sources;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use context::{Context, UsageError};

#[derive(Debug, Parser)]
#[command(name = "modelwatch", version, about = "Keeps an AI-industry knowledge base current")]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "MODELWATCH_CONFIG", default_value = "config/modelwatch.toml")]
    pub config: PathBuf,
    /// Database URL (overrides database.url).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
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
    /// List recorded changes.
    Changes(changes::ChangesArgs),
    /// The model/vendor database.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Preview, send and list the weekly digest.
    #[command(subcommand)]
    Digest(digest::DigestCommand),
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

/// Runs a command other than `run` (which `main` hands to the daemon).
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(ConfigCommand::Check) => context::config_check(&cli.config, cli.database_url.as_deref()),
        Command::Init(args) => {
            let ctx = Context::open(&cli.config, cli.database_url.as_deref(), true).await?;
            init::run(&ctx, &args).await
        }
        Command::Sources(cmd) => {
            let ctx = Context::open(&cli.config, cli.database_url.as_deref(), false).await?;
            sources::run(&ctx, cmd).await
        }
        Command::Check(args) => {
            let ctx = Context::open(&cli.config, cli.database_url.as_deref(), false).await?;
            check::run(&ctx, &args).await
        }
        Command::Changes(args) => {
            let ctx = Context::open(&cli.config, cli.database_url.as_deref(), false).await?;
            changes::run(&ctx, &args).await
        }
        Command::Catalog(cmd) => {
            let ctx = Context::open(&cli.config, cli.database_url.as_deref(), false).await?;
            catalog::run(&ctx, cmd).await
        }
        Command::Digest(cmd) => {
            let ctx = Context::open(&cli.config, cli.database_url.as_deref(), false).await?;
            digest::run(&ctx, cmd).await
        }
        Command::Run => Err(anyhow::anyhow!("`run` is handled by main")),
    }
}
