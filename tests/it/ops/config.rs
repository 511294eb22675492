//! Which configuration is used, `init` validating its files before it
//! changes anything, and the log format applying to every command.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw};

/// The binary in `dir` with no configuration variables at all.
fn bare(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modelwatch"));
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).current_dir(dir);
    cmd
}

fn output(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_local_config_folder_is_found_without_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(dir.path().join("config/modelwatch.toml"), "[fetch]\nmax_redirects = 4\n").unwrap();
    let (code, stdout, stderr) = output(bare(dir.path(), &["config", "check"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("config/modelwatch.toml (found at a default location)"), "{stdout}");
    assert!(stdout.contains("max_redirects: 4"), "the file's value is used:\n{stdout}");
}

#[test]
fn without_any_file_the_embedded_defaults_are_used() {
    // The binary run from a folder without config/ (and, on this machine,
    // without /etc/modelwatch) must not fail.
    if std::path::Path::new(modelwatch::config::locate::SYSTEM_CONFIG).exists() {
        eprintln!("skipped: {} exists on this machine", modelwatch::config::locate::SYSTEM_CONFIG);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = output(bare(dir.path(), &["config", "check"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("the embedded defaults (no file at config/modelwatch.toml or /etc/modelwatch/modelwatch.toml)"),
        "{stdout}"
    );
}

#[test]
fn a_given_config_that_does_not_exist_is_an_error_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = output(bare(dir.path(), &["--config", "nosuch.toml", "config", "check"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nosuch.toml") && stderr.contains("cannot read"), "{stderr}");
    let mut cmd = bare(dir.path(), &["config", "check"]);
    cmd.env("MODELWATCH_CONFIG", "also-missing.toml");
    let (code, _, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("also-missing.toml"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_logs_which_config_it_uses_in_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/modelwatch.toml"),
        "[ops]\nlisten = \"\"\n[web]\nlisten = \"\"\n[log]\nformat = \"json\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("config/sources.toml"), "").unwrap();
    let mut child = bare(dir.path(), &["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let started = wait_for(&rx, &["modelwatch started"], &mut seen, Duration::from_secs(30));
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert!(started, "{}", seen.join("\n"));
    assert_eq!(code, Some(0));
    let first: serde_json::Value = serde_json::from_str(&seen[0]).unwrap_or_else(|e| panic!("{e}: {}", seen[0]));
    assert_eq!(first["fields"]["message"], "Configuration loaded", "{first}");
    assert!(first["fields"]["config"].as_str().unwrap().contains("config/modelwatch.toml (found"), "{first}");
    assert!(dir.path().join("data/modelwatch.db").exists(), "the default database, relative to the working folder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_apply_to_every_command_including_its_failure() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    mw.env.push(("MODELWATCH_LOG__FORMAT".into(), "json".into()));
    mw.env.push(("RUST_LOG".into(), "debug".into()));
    let r = mw.run_async(&["sources", "list", "--format", "json"]).await.ok();
    assert_eq!(r.json(), serde_json::json!([]), "stdout stays the answer");
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.iter().any(|l| l.contains("Configuration loaded")), "RUST_LOG=debug shows the config line");
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{v}");
    }
    let r = mw.run_async(&["sources", "show", "999"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"));
    assert_eq!(v["fields"]["message"], "Command failed", "{v}");
    assert_eq!(v["fields"]["exit_code"], 2, "{v}");
}

async fn init_with_a_missing_seed_file_changes_nothing(backend: Backend) {
    let config = format!("{}\n[sources]\nseed_file = \"nosuch-sources.toml\"\n", crate::support::TEST_CONFIG);
    let Some(mw) = Mw::with_config(backend, &config).await else { return };
    let r = mw.run_async(&["init"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nosuch-sources.toml") && r.stderr.contains("nothing was changed"), "{}", r.stderr);
    if backend == Backend::Sqlite {
        assert!(!mw.path().join("modelwatch.db").exists(), "no database file was created");
    }
    // The database was not migrated either: commands still ask for `init`.
    let r = mw.run_async(&["sources", "list"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("modelwatch init"), "{}", r.stderr);
    // With the file in place, init does everything.
    std::fs::write(mw.path().join("nosuch-sources.toml"), "[[source]]\nurl = \"https://example.org/a\"\n").unwrap();
    let r = mw.run_async(&["init"]).await.ok();
    assert!(r.stderr.contains("Loaded 1 new source"), "{}", r.stderr);
}
crate::both_backends!(init_validates_its_files_first, init_with_a_missing_seed_file_changes_nothing);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_catalog_and_a_broken_seed_are_reported_together() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    std::fs::write(mw.path().join("catalog.toml"), "[[vendor]\n").unwrap();
    std::fs::write(mw.path().join("sources.toml"), "[[source]]\nurl = \"ftp://x\"\n").unwrap();
    let r = mw.run_async(&["init"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("catalog.toml") && r.stderr.contains("sources.toml"), "{}", r.stderr);
    assert!(!mw.path().join("modelwatch.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_systemd_credentials_and_are_never_printed() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    let creds = mw.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("smtp-password"), "cred-smtp-secret\n").unwrap();
    std::fs::write(creds.join("github-token"), "").unwrap();
    mw.env.push(("CREDENTIALS_DIRECTORY".into(), creds.display().to_string()));
    let r = mw.run_async(&["config", "check"]).await.ok();
    assert!(r.stdout.contains("password: Some("), "{}", r.stdout);
    assert!(r.stdout.contains("token: None"), "an empty credential is no token:\n{}", r.stdout);
    assert!(!r.stdout.contains("cred-smtp-secret") && !r.stderr.contains("cred-smtp-secret"));
}

/// A digest recipient (or sender) that no mail server would take passed the
/// config's only test, an `@`, so the daemon started and the week's digest
/// failed at its first send, days later. `config check` names each one, and
/// an internationalised address stays valid.
#[test]
fn malformed_digest_addresses_are_config_errors_named_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[digest]\nfrom = \"modelwatch <digest@@example.com>\"\n\
                recipients = [\"a@b@c.example\", \"team @example.com\", \"<lead@example.com\", \
                \"研究组 <lead@例子.中国>\", { address = \"张三@example.com\", tags = [\"开源\"] }]\n";
    std::fs::write(dir.path().join("modelwatch.toml"), toml).unwrap();
    let (code, _, stderr) = output(bare(dir.path(), &["--config", "modelwatch.toml", "config", "check"]));
    assert_eq!(code, 2, "{stderr}");
    for bad in ["a@b@c.example", "team @example.com", "<lead@example.com", "digest@@example.com"] {
        assert!(stderr.contains(bad), "{bad} is not named:\n{stderr}");
    }
    assert!(!stderr.contains("例子") && !stderr.contains("张三"), "valid addresses are not errors:\n{stderr}");
}

/// `smtp.port = 0` passed `config check`; the daemon started and the week's
/// digest failed at its first connect. The listeners keep port 0 (any free
/// port, logged at start: the tests use it).
#[test]
fn smtp_port_zero_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("modelwatch.toml"), "[smtp]\nport = 0\n").unwrap();
    let (code, _, stderr) = output(bare(dir.path(), &["--config", "modelwatch.toml", "config", "check"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`smtp.port`"), "{stderr}");
    std::fs::write(
        dir.path().join("modelwatch.toml"),
        "[smtp]\nport = 2525\n[ops]\nlisten = \"127.0.0.1:0\"\n[web]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let (code, _, stderr) = output(bare(dir.path(), &["--config", "modelwatch.toml", "config", "check"]));
    assert_eq!(code, 0, "{stderr}");
}
