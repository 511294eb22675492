//! `catalog …`: the model/vendor database — lists, review, additions,
//! merges, candidates and export. Also the `init` step that loads
//! `catalog.toml`.

use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};

use super::FormatArg;
use super::changes::parse_since;
use super::context::{Context, usage};
use super::output::{clip, print_list, time};
use crate::catalog::seed::parse_seed_over;
use crate::catalog::{ExportFormat, FactStatus, ModelKind, Seed, StopList, export, parse_seed};
use crate::config::Config;
use crate::store::catalog::{CatalogStoreError, NewModel};

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Vendors with their aliases and models.
    Vendors(FormatArg),
    /// Models with kind, family, version and aliases.
    Models(FormatArg),
    /// Which sources mention which entities (one row per entity and source).
    Mentions(MentionsArgs),
    /// Facts with their evidence.
    Facts(FactsArgs),
    /// One vendor or model (by name or alias) with facts and evidence.
    Show(ShowArgs),
    /// Accept a proposed fact.
    Accept(FactIdArg),
    /// Reject a fact (by id), or a candidate or provisional entity by name:
    /// a rejected name is kept out for good.
    Reject(RejectArgs),
    /// Add a model.
    AddModel(AddModelArgs),
    /// Add a vendor.
    AddVendor(AddVendorArgs),
    /// Add an alias to a vendor or model.
    AddAlias(AddAliasArgs),
    /// Merge entity A into entity B (B keeps its name; A becomes an alias).
    Merge(MergeArgs),
    /// Unknown-model candidates seen in sources, for review.
    Candidates(FormatArg),
    /// Regenerate the document's tables (md) or dump the catalog (json, csv).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct MentionsArgs {
    /// RFC 3339 instant, a date (midnight UTC) or a duration back (7d, 12h).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Only proposed facts (awaiting review).
    #[arg(long)]
    pub pending: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub name: String,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct FactIdArg {
    pub fact_id: i64,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// A fact id, or a candidate / provisional entity name.
    pub target: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Product,
    Model,
    Platform,
}

#[derive(Debug, Args)]
pub struct AddModelArgs {
    pub name: String,
    #[arg(long)]
    pub vendor: Option<String>,
    #[arg(long, value_enum, default_value = "model")]
    pub kind: KindArg,
    #[arg(long)]
    pub family: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddVendorArgs {
    pub name: String,
    /// ISO country code (CN puts it in the 国内 table).
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddAliasArgs {
    /// The vendor or model (name or alias).
    pub name: String,
    pub alias: String,
    /// Match the alias with its exact case only.
    #[arg(long)]
    pub case_sensitive: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    pub from: String,
    pub into: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Md,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "md")]
    pub format: ExportFormatArg,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
}

/// Store errors that are the user's input exit with 2.
fn catalog_error(e: CatalogStoreError) -> anyhow::Error {
    if e.is_user_error() { usage(e.to_string()) } else { anyhow::Error::new(e) }
}

/// The shipped catalog files, read and validated: the seed, the landscape
/// over it, and the stop list. A missing file is noted and skipped; a broken
/// one is a usage error listing every problem.
pub struct CatalogFiles {
    pub seed: Option<Seed>,
    pub landscape: Option<Seed>,
    pub stoplist: Option<StopList>,
}

fn read_optional(path: &std::path::Path, what: &str) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("No {what} at {}; skipped", path.display());
            Ok(None)
        }
        Err(e) => Err(usage(format!("cannot read {}: {e}", path.display()))),
    }
}

pub fn read_catalog_files(config: &Config) -> anyhow::Result<CatalogFiles> {
    let mut problems = Vec::new();
    let path = &config.catalog_file;
    let seed = match read_optional(path, "catalog file")? {
        Some(text) => match parse_seed(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("{}: {e}", path.display()));
                None
            }
        },
        None => None,
    };
    let path = &config.catalog.landscape_file;
    let base = seed.as_ref().map(|s| s.catalog.clone()).unwrap_or_default();
    let landscape = match read_optional(path, "landscape file")? {
        Some(text) => match parse_seed_over(&text, &base) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("{}: {e}", path.display()));
                None
            }
        },
        None => None,
    };
    let path = &config.catalog.stoplist_file;
    let stoplist = match read_optional(path, "stop list")? {
        Some(text) => match StopList::parse(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("{}: {e}", path.display()));
                None
            }
        },
        None => None,
    };
    if !problems.is_empty() {
        return Err(usage(problems.join("\n")));
    }
    Ok(CatalogFiles { seed, landscape, stoplist })
}

/// `config check`'s catalog lines.
pub fn check_files(config: &Config) -> anyhow::Result<()> {
    let files = read_catalog_files(config)?;
    let count = |s: &Option<Seed>| s.as_ref().map_or((0, 0), |s| (s.catalog.vendors.len(), s.catalog.models.len()));
    let (sv, sm) = count(&files.seed);
    let (lv, lm) = count(&files.landscape);
    println!("# catalog: {sv} vendor(s), {sm} model(s); landscape: {lv} vendor(s), {lm} model(s)");
    println!("# stop list: {} entr(ies)", files.stoplist.map_or(0, |s| s.len()));
    Ok(())
}

/// `init`'s catalog step, second half: loads the files read (and validated)
/// by [`read_catalog_files`] before anything was written: `catalog.toml`,
/// then the landscape over it (both idempotent).
pub async fn apply_seed(ctx: &Context, files: CatalogFiles) -> anyhow::Result<()> {
    if files.seed.is_none() {
        eprintln!("No catalog file at {}; the catalog starts empty", ctx.config.catalog_file.display());
    }
    let steps = [(&ctx.config.catalog_file, files.seed), (&ctx.config.catalog.landscape_file, files.landscape)];
    for (path, seed) in steps {
        let Some(seed) = seed else { continue };
        let r = ctx.store.load_catalog_seed(&seed, Utc::now()).await.map_err(catalog_error)?;
        eprintln!(
            "Catalog loaded from {}: {} new vendor(s), {} new model(s), {} new alias(es), {} new term(s), {} new fact(s)",
            path.display(),
            r.vendors,
            r.models,
            r.aliases,
            r.terms,
            r.facts
        );
    }
    Ok(())
}

pub async fn run(ctx: &Context, cmd: CatalogCommand) -> anyhow::Result<()> {
    let store = &ctx.store;
    let now = Utc::now();
    match cmd {
        CatalogCommand::Vendors(f) => {
            let rows = store.catalog_vendors().await.map_err(catalog_error)?;
            print_list(f.format, &rows, &["ID", "NAME", "COUNTRY", "ALIASES", "MODELS"], |v| {
                vec![
                    v.id.to_string(),
                    v.name.clone(),
                    v.country.clone().unwrap_or_default(),
                    clip(&v.aliases.join(", "), 40),
                    clip(&v.models.join(", "), 50),
                ]
            })
        }
        CatalogCommand::Models(f) => {
            let rows = store.catalog_models().await.map_err(catalog_error)?;
            let head = ["ID", "NAME", "VENDOR", "KIND", "FAMILY", "VERSION", "ORIGIN", "VERSIONS", "ALIASES"];
            print_list(f.format, &rows, &head, |m| {
                let origin = if m.provisional { format!("{} (provisional)", m.origin) } else { m.origin.clone() };
                vec![
                    m.id.to_string(),
                    m.name.clone(),
                    m.vendor.clone().unwrap_or_default(),
                    m.kind.clone(),
                    m.family.clone().unwrap_or_default(),
                    m.version.clone().unwrap_or_default(),
                    origin,
                    clip(&m.versions.join(", "), 40),
                    clip(&m.aliases.join(", "), 40),
                ]
            })
        }
        CatalogCommand::Mentions(a) => {
            let since = a.since.as_deref().map(|s| parse_since(s, now)).transpose().map_err(usage)?;
            let mut rows = store.catalog_mentions(since, None).await.map_err(catalog_error)?;
            if let Some(n) = a.limit {
                rows.truncate(n);
            }
            print_list(a.format.format, &rows, &["KIND", "NAME", "SOURCE", "FIRST SEEN", "SNAPSHOTS", "URL"], |m| {
                vec![
                    m.entity_kind.to_string(),
                    m.name.clone(),
                    m.source_id.to_string(),
                    time(Some(m.first_seen_at)),
                    m.snapshot_count.to_string(),
                    clip(&m.url, 60),
                ]
            })
        }
        CatalogCommand::Facts(a) => {
            let rows = store.catalog_facts(a.pending, None).await.map_err(catalog_error)?;
            print_list(a.format.format, &rows, &["ID", "STATUS", "ENTITY", "ATTRIBUTE", "VALUE", "EVIDENCE"], |f| {
                let ev = f.evidence.first().map(|e| {
                    let from = e.url.clone().or(e.source_name.clone()).unwrap_or_default();
                    format!("{} «{}»", from, e.quote)
                });
                vec![
                    f.id.to_string(),
                    f.status.clone(),
                    f.entity.clone(),
                    f.attribute.clone(),
                    clip(&f.value, 30),
                    clip(&ev.unwrap_or_default(), 70),
                ]
            })
        }
        CatalogCommand::Show(a) => {
            let d = store.catalog_show(&a.name).await.map_err(catalog_error)?;
            match a.format.format {
                super::Format::Json => println!("{}", serde_json::to_string_pretty(&d)?),
                super::Format::Table => {
                    println!("{} {}", d.entity_kind, d.name);
                    if let Some(v) = &d.vendor {
                        println!("vendor: {v}");
                    }
                    if let Some(k) = &d.model_kind {
                        println!("kind: {k}");
                    }
                    println!("aliases: {}", d.aliases.join(", "));
                    for f in &d.facts {
                        println!("#{} [{}] {} = {}", f.id, f.status, f.attribute, f.value.replace('\n', " / "));
                        for e in &f.evidence {
                            let from = e.url.clone().or(e.source_name.clone()).unwrap_or_default();
                            println!("    {} ({}, {}) «{}»", from, e.extractor, time(Some(e.observed_at)), e.quote);
                        }
                    }
                    println!("mentioned by {} source(s)", d.mentions.len());
                }
            }
            Ok(())
        }
        CatalogCommand::Accept(a) => {
            store.catalog_decide(a.fact_id, FactStatus::Accepted, now).await.map_err(catalog_error)?;
            eprintln!("Fact #{} accepted", a.fact_id);
            Ok(())
        }
        CatalogCommand::Reject(a) => match a.target.trim().parse::<i64>() {
            Ok(fact_id) => {
                store.catalog_decide(fact_id, FactStatus::Rejected, now).await.map_err(catalog_error)?;
                eprintln!("Fact #{fact_id} rejected");
                Ok(())
            }
            Err(_) => {
                let what = store.catalog_reject_name(&a.target, now).await.map_err(catalog_error)?;
                eprintln!("{what}");
                Ok(())
            }
        },
        CatalogCommand::AddModel(a) => {
            let kind = match a.kind {
                KindArg::Product => ModelKind::Product,
                KindArg::Model => ModelKind::Model,
                KindArg::Platform => ModelKind::Platform,
            };
            let m = NewModel {
                name: a.name,
                vendor: a.vendor,
                kind,
                family: a.family,
                version: a.version,
                aliases: a.aliases,
            };
            let id = store.catalog_add_model(&m, now).await.map_err(catalog_error)?;
            println!("{id}");
            Ok(())
        }
        CatalogCommand::AddVendor(a) => {
            let id = store
                .catalog_add_vendor(&a.name, a.country.as_deref(), &a.aliases, now)
                .await
                .map_err(catalog_error)?;
            println!("{id}");
            Ok(())
        }
        CatalogCommand::AddAlias(a) => {
            let e = store.catalog_add_alias(&a.name, &a.alias, a.case_sensitive).await.map_err(catalog_error)?;
            eprintln!("Alias {:?} added to {e}", a.alias);
            Ok(())
        }
        CatalogCommand::Merge(a) => {
            let e = store.catalog_merge(&a.from, &a.into).await.map_err(catalog_error)?;
            eprintln!("Merged {:?} into {e}", a.from);
            Ok(())
        }
        CatalogCommand::Candidates(f) => {
            let rows = store.catalog_candidates().await.map_err(catalog_error)?;
            print_list(f.format, &rows, &["ID", "NAME", "STATUS", "COUNT", "FIRST SEEN", "SOURCE", "SENTENCE"], |c| {
                let first = c.sources.first();
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    c.status.clone(),
                    c.count.to_string(),
                    time(Some(c.first_seen_at)),
                    clip(first.map(|s| s.url.as_str()).unwrap_or(""), 40),
                    clip(first.map(|s| s.sentence.as_str()).unwrap_or(""), 60),
                ]
            })
        }
        CatalogCommand::Export(a) => {
            let catalog = store.load_catalog(&[FactStatus::Accepted]).await.map_err(catalog_error)?;
            let format = match a.format {
                ExportFormatArg::Md => ExportFormat::Markdown,
                ExportFormatArg::Json => ExportFormat::Json,
                ExportFormatArg::Csv => ExportFormat::Csv,
            };
            let text = export(&catalog, format)?;
            match a.output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}
