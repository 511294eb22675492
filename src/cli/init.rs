//! `init`: create or migrate the database, load the catalog and the seed sources.

use clap::Args;

use super::context::{Context, usage};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Do not load the shipped sources (config/sources.toml).
    #[arg(long)]
    pub no_seed_sources: bool,
}

pub async fn run(ctx: &Context, args: &InitArgs) -> anyhow::Result<()> {
    eprintln!("Database ready at {}", crate::config::redact_url(&ctx.config.database.url));
    super::catalog::load_seed(ctx).await?;
    if !args.no_seed_sources {
        let added = crate::seed::load(&ctx.store, &ctx.config).await.map_err(|e| match e {
            crate::seed::SeedError::Store(s) => anyhow::Error::new(s),
            other => usage(other.to_string()),
        })?;
        eprintln!("Loaded {added} new source(s) from {}", ctx.config.sources_seed_file.display());
    }
    Ok(())
}
