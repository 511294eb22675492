//! The container's HEALTHCHECK, run exactly as the Containerfile writes it
//! against a running daemon.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{free_port, repo, sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw};

const BINARY_IN_IMAGE: &str = "/usr/local/bin/modelwatch";

/// The HEALTHCHECK's command line, as the container runtime would run it:
/// exec form (a JSON array) as is; shell form under `/bin/sh -c`, which is
/// what Docker does (and Debian's sh is dash: no /dev/tcp).
fn healthcheck_argv(containerfile: &str) -> Vec<String> {
    // Join continuation lines as the Containerfile parser does.
    let joined = containerfile.replace("\\\n", " ");
    let line =
        joined.lines().find(|l| l.trim_start().starts_with("HEALTHCHECK")).expect("a HEALTHCHECK in the Containerfile");
    let cmd = line.split_once(" CMD ").map(|(_, c)| c.trim().to_owned()).expect("HEALTHCHECK … CMD …");
    if cmd.starts_with('[') {
        serde_json::from_str(&cmd).expect("exec-form HEALTHCHECK is a JSON array")
    } else {
        vec!["/bin/sh".into(), "-c".into(), cmd]
    }
}

/// Runs the health check with the image's binary replaced by the one under test.
fn run_healthcheck(argv: &[String], mw: &Mw) -> (i32, String) {
    let bin = env!("CARGO_BIN_EXE_modelwatch");
    let argv: Vec<String> = argv.iter().map(|a| a.replace(BINARY_IN_IMAGE, bin)).collect();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env_clear().current_dir(mw.path());
    for (k, v) in &mw.env {
        cmd.env(k, v);
    }
    cmd.env("MODELWATCH_CONFIG", &mw.config).env("MODELWATCH_DATABASE_URL", &mw.db.url);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn the_healthcheck_is_exec_form_and_parses() {
    let text = std::fs::read_to_string(repo().join("deploy/Containerfile")).unwrap();
    let argv = healthcheck_argv(&text);
    assert_eq!(argv, [BINARY_IN_IMAGE, "health"], "no shell, no curl: the binary itself");
    // The runtime image has no shell to fall back on.
    assert!(text.contains("distroless"), "the runtime image is distroless");
    assert!(text.lines().any(|l| l.starts_with("USER ") && !l.contains("root")), "non-root");
    assert!(text.contains("VOLUME [\"/var/lib/modelwatch\"]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_containerfile_healthcheck_passes_against_a_running_daemon_and_fails_without_it() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    let port = free_port();
    // As in the image: the listener on every address, probed on loopback.
    mw.env.push(("MODELWATCH_OPS__LISTEN".into(), format!("0.0.0.0:{port}")));
    let argv = healthcheck_argv(&std::fs::read_to_string(repo().join("deploy/Containerfile")).unwrap());

    // Nothing runs yet: unhealthy.
    let (code, out) = run_healthcheck(&argv, &mw);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("did not answer"), "{out}");

    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, &["Ops endpoints ready"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));
    // The probe is a short child process; blocking this test's thread is fine.
    let (code, out) = run_healthcheck(&argv, &mw);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("http://127.0.0.1:{port}/readyz")), "{out}");

    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert_eq!(code, Some(0));
    let (code, _) = run_healthcheck(&argv, &mw);
    assert_eq!(code, 1, "a stopped daemon is unhealthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_what_is_wrong_with_its_input() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    // The test config disables the listener: nothing to probe.
    let r = mw.run_async(&["health"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ops.listen"), "{}", r.stderr);
    let r = mw.run_async(&["health", "--url", "not a url"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
}
