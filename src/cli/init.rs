//! `init`: create or migrate the database, load the catalog and the seed sources.
//!
//! Every file `init` needs is read and validated first; only then is the
//! database created or migrated. A missing or broken seed file leaves the
//! database exactly as it was and names the file.

use clap::Args;

use super::context::{Context, usage};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Do not load the shipped sources (config/sources.toml), now or ever:
    /// the choice is kept in the database, so `run` and a later `init` do
    /// not load them either.
    #[arg(long, conflicts_with = "seed_sources")]
    pub no_seed_sources: bool,
    /// Load the shipped sources again after an earlier `--no-seed-sources`.
    #[arg(long)]
    pub seed_sources: bool,
}

/// What `init` will load, read and validated up front.
struct Plan {
    catalog: Option<super::catalog::CatalogFiles>,
    sources: Option<Vec<crate::store::sources::NewSource>>,
}

/// Reads every input file; reports all the broken ones at once.
fn prepare(config: &Config, args: &InitArgs) -> anyhow::Result<Plan> {
    let mut problems = Vec::new();
    let catalog = super::catalog::read_catalog_files(config).map(Some).unwrap_or_else(|e| {
        problems.push(format!("{e:#}"));
        None
    });
    let sources = if args.no_seed_sources {
        None
    } else {
        match crate::seed::read(config) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("sources.seed_file: {}", crate::error_chain(&e)));
                None
            }
        }
    };
    if !problems.is_empty() {
        return Err(usage(format!(
            "nothing was changed; fix these file(s) first (or pass --no-seed-sources to skip the sources):\n{}",
            problems.join("\n")
        )));
    }
    Ok(Plan { catalog, sources })
}

pub async fn run(config: Config, args: &InitArgs) -> anyhow::Result<()> {
    let plan = prepare(&config, args)?;
    let ctx = Context::open(config, true).await?;
    eprintln!("Database ready at {}", crate::config::redact_url(&ctx.config.database.url));
    if let Some(files) = plan.catalog {
        super::catalog::apply_seed(&ctx, files).await?;
    }
    let store = &ctx.store;
    if args.no_seed_sources {
        store.set_seed_sources(false).await?;
        eprintln!("Shipped sources not loaded, now or by later `run`/`init` (pass --seed-sources to change that)");
        return Ok(());
    }
    if args.seed_sources {
        store.set_seed_sources(true).await?;
    } else if !store.seed_sources_enabled().await? {
        eprintln!(
            "Shipped sources not loaded: this database was initialised with --no-seed-sources \
             (pass --seed-sources to load them)"
        );
        return Ok(());
    }
    if let Some(sources) = &plan.sources {
        let added = crate::seed::add(&ctx.store, sources, chrono::Utc::now()).await.map_err(|e| match e {
            crate::seed::SeedError::Store(s) => anyhow::Error::new(s),
            other => usage(other.to_string()),
        })?;
        eprintln!("Loaded {added} new source(s) from {}", ctx.config.sources_seed_file.display());
    }
    Ok(())
}
