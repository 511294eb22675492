//! The systemd unit: valid, and hardened to an exposure of at most 2.0 by
//! `systemd-analyze security --offline=true`. Skips with a message where
//! systemd-analyze is not installed.

use std::process::Command;

use super::repo;

fn analyze_available() -> bool {
    let ok = Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: systemd-analyze is not installed (Debian: apt-get install systemd)");
    }
    ok
}

/// The unit with ExecStart pointing at the binary under test (verify
/// checks that the executable exists).
fn unit_for_test(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("deploy/modelwatch.service")).unwrap();
    let text = text.replace("/usr/local/bin/modelwatch", env!("CARGO_BIN_EXE_modelwatch"));
    let path = dir.join("modelwatch.service");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_unit_verifies_and_its_exposure_is_at_most_2() {
    if !analyze_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_test(dir.path());
    let verify = Command::new("systemd-analyze").arg("verify").arg(&unit).output().unwrap();
    assert!(verify.status.success(), "systemd-analyze verify:\n{}", String::from_utf8_lossy(&verify.stderr));

    let out =
        Command::new("systemd-analyze").args(["security", "--offline=true", "--no-pager"]).arg(&unit).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find(|l| l.contains("Overall exposure level")).unwrap_or_else(|| panic!("{text}"));
    let figure: f64 = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {line:?}"));
    eprintln!("{}", line.trim());
    assert!(figure <= 2.0, "exposure {figure} > 2.0:\n{text}");
}

#[test]
fn the_unit_keeps_what_the_daemon_needs_and_holds_no_secret() {
    let text = std::fs::read_to_string(repo().join("deploy/modelwatch.service")).unwrap();
    for needed in [
        "Type=notify",
        "WatchdogSec=",
        "StateDirectory=modelwatch",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "LoadCredential=smtp-password:",
        "LoadCredential=github-token:",
    ] {
        assert!(text.contains(needed), "{needed} missing from the unit");
    }
    assert!(!text.contains("PrivateNetwork=yes") && !text.contains("IPAddressDeny=any"), "it needs the network");
    assert!(!text.contains("EnvironmentFile") && !text.contains("PASSWORD="), "no secrets in or beside the unit");
}
