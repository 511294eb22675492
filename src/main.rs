//! The modelwatch binary: parse the CLI, find and load the configuration,
//! set up logging (the configured format for every command), dispatch, and
//! map errors to exit codes (0 success, 1 runtime failure, 2 bad usage,
//! config or input).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use modelwatch::cli::{self, Cli, Command, UsageError};
use modelwatch::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// CLI commands log warnings only unless `RUST_LOG` says otherwise: their
/// output is the answer, not a log.
const CLI_FILTER: &str = "warn";

fn main() -> ExitCode {
    // Before any thread allocates: threads keep the arenas they took.
    modelwatch::arenas::bound();
    // A parser worker (see `contain`) does nothing else: no runtime, no logs.
    let args: Vec<String> = std::env::args_os().skip(1).take(5).map(|a| a.to_string_lossy().into_owned()).collect();
    if let Some(code) = modelwatch::contain::worker_main(&args) {
        return code;
    }
    // Parsers that can abort run in children of this very binary.
    if let Ok(exe) = std::env::current_exe() {
        modelwatch::contain::set_worker_exe(exe);
    }
    // reqwest is built without a default crypto provider (ring only, no aws-lc).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut json = false;
    let result = runtime.block_on(run(cli, &mut json));
    // A blocking worker that never returns (a PDF parser stuck on a hostile
    // file) must not keep the process alive after the command is done.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let usage = e.chain().any(|c| c.downcast_ref::<UsageError>().is_some());
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            let mut msg = chain.first().cloned().unwrap_or_default();
            for cause in chain.iter().skip(1) {
                if !msg.contains(cause.as_str()) {
                    msg.push_str(": ");
                    msg.push_str(cause);
                }
            }
            let code: u8 = if usage { 2 } else { 1 };
            if json {
                // A log shipper reading JSON lines gets the failure as one too.
                tracing::error!(error = %msg, exit_code = code, "Command failed");
            } else {
                eprintln!("error: {}", msg.replace('\n', "\n  "));
            }
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli, json: &mut bool) -> anyhow::Result<()> {
    // `health --url` needs no configuration (a container probe with only the
    // URL), and `doctor` reports a broken configuration instead of stopping at it.
    match &cli.command {
        Command::Health(args) if args.url.is_some() => {
            init_tracing(CLI_FILTER, false);
            return cli::health::run(None, args).await;
        }
        Command::Doctor(args) => {
            let loaded = cli::context::load_config(cli.config.as_deref(), cli.database_url.as_deref());
            if let Ok((config, _)) = &loaded {
                *json = config.log.format == LogFormat::Json;
            }
            init_tracing(CLI_FILTER, *json);
            return cli::doctor::run(loaded, args).await;
        }
        _ => {}
    }
    let (config, origin) = cli::context::load_config(cli.config.as_deref(), cli.database_url.as_deref())?;
    *json = config.log.format == LogFormat::Json;
    let filter = if matches!(cli.command, Command::Run) { config.log.filter.clone() } else { CLI_FILTER.to_owned() };
    init_tracing(&filter, *json);
    // A sweep frees memory on many threads; a trim every half second gives
    // it back (see `trim`; started after the logs, which say if it cannot
    // be). Other commands are short and small.
    if matches!(cli.command, Command::Run | Command::Check(_)) {
        modelwatch::trim::start();
    }
    if matches!(cli.command, Command::Run) {
        tracing::info!(config = %origin, "Configuration loaded");
    } else {
        // A command's stderr stays its one clear line (or nothing) even under
        // RUST_LOG=info; `config check` and `doctor` print the origin.
        tracing::debug!(config = %origin, "Configuration loaded");
    }
    match cli.command {
        Command::Run => run_daemon(config).await.map_err(|e| {
            if e.is_usage() {
                anyhow::Error::new(UsageError(modelwatch::error_chain(&e)))
            } else {
                anyhow::Error::new(e)
            }
        }),
        _ => cli::dispatch(cli, config, origin).await,
    }
}

/// The daemon with the parts its configuration names.
async fn run_daemon(config: modelwatch::config::Config) -> Result<(), modelwatch::app::AppError> {
    let parts = modelwatch::app::Parts::from_config(&config).await?;
    modelwatch::app::run_until_signal(config, parts).await
}

/// Logs go to stderr; `RUST_LOG` overrides the filter.
fn init_tracing(default_filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let ansi = std::io::stderr().is_terminal();
    // Every line is scrubbed of credentials, whatever a dependency prints.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(modelwatch::redact::ScrubbedStderr)
        .with_ansi(ansi && !json);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
