//! The modelwatch binary: parse the CLI, set up logging, dispatch, and map
//! errors to exit codes (0 success, 1 runtime failure, 2 bad usage, config
//! or input).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use modelwatch::cli::{self, Cli, Command, UsageError};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
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
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run => {
                let config = cli::context::load_config(&cli.config, cli.database_url.as_deref())?;
                init_tracing(&config.log.filter, config.log.format == modelwatch::config::LogFormat::Json);
                modelwatch::app::run_until_signal(config).await.map_err(|e| {
                    if e.is_usage() {
                        anyhow::Error::new(UsageError(modelwatch::error_chain(&e)))
                    } else {
                        anyhow::Error::new(e)
                    }
                })
            }
            _ => {
                init_tracing("warn", false);
                cli::dispatch(cli).await
            }
        }
    });
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
            eprintln!("error: {}", msg.replace('\n', "\n  "));
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the configured filter.
fn init_tracing(default_filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let ansi = std::io::stderr().is_terminal();
    // Every line is scrubbed of credentials, whatever a dependency prints.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(modelwatch::redact::ScrubbedStderr)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
