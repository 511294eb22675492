//! What every command needs: the validated config and an open store.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{Config, ConfigOrigin, Overrides};
use crate::source::{Source, SourceRef};
use crate::store::{OpenMode, Store, StoreError};

/// An error in what the user asked for (exit code 2), as opposed to a
/// failure while doing it (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

pub struct Context {
    pub config: Arc<Config>,
    pub store: Store,
}

/// Finds the configuration (`--config` / `MODELWATCH_CONFIG`, then the
/// default locations, then the embedded defaults) and loads it.
pub fn load_config(given: Option<&Path>, database_url: Option<&str>) -> anyhow::Result<(Config, ConfigOrigin)> {
    let origin = crate::config::locate::locate(given);
    let mut overrides = Overrides::from_env();
    overrides.database_url = database_url.map(str::to_owned);
    let config = Config::load_origin(&origin, &overrides).map_err(|e| usage(e.to_string()))?;
    Ok((config, origin))
}

impl Context {
    /// Opens the store for a loaded config. `create` migrates an empty or
    /// old database (init); other commands require an up-to-date schema.
    pub async fn open(config: Config, create: bool) -> anyhow::Result<Context> {
        let mode = if create { OpenMode::Create } else { OpenMode::Existing };
        let store = open_store(&config, mode).await?;
        if create {
            store.migrate().await.context("cannot migrate the database")?;
        } else {
            let pending = store.pending_migrations().await.context("cannot read the database schema")?;
            if !pending.is_empty() {
                return Err(usage(format!(
                    "the database at {} is not initialised or is out of date ({} pending migration(s)); run `modelwatch init`",
                    crate::config::redact_url(&config.database.url),
                    pending.len()
                )));
            }
        }
        Ok(Context { config: Arc::new(config), store })
    }
}

impl Context {
    /// The active source an argument names: an id, or a URL with or
    /// without its tracking parameters ([`SourceRef::parse`] with the
    /// config's `import.tracking_params`). Every command that takes a
    /// source finds it here.
    pub async fn source(&self, arg: &str) -> anyhow::Result<Source> {
        let r = SourceRef::parse(arg, &self.config.import.url_rules).map_err(|e| usage(e.to_string()))?;
        self.store.get_source(&r).await.map_err(store_error)
    }
}

/// Duplicates and unknown sources are the user's input, not failures.
pub fn store_error(e: StoreError) -> anyhow::Error {
    if e.is_user_error() { usage(e.to_string()) } else { e.into() }
}

/// Opens the store; an unreachable or malformed database URL is bad input.
pub async fn open_store(config: &Config, mode: OpenMode) -> anyhow::Result<Store> {
    crate::app::open_store(config, mode)
        .await
        .map_err(|e| if e.is_usage() { usage(crate::error_chain(&e)) } else { e.into() })
}
