#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let overrides =
        Overrides { env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), database_url: None };
    Config::from_toml(text, "test.toml", PathBuf::from("/etc/mw"), &overrides)
}

#[test]
fn shipped_config_loads_with_documented_defaults() {
    let c = load(DEFAULT_CONFIG_TOML, &[]).unwrap();
    assert_eq!(c.database.url, "sqlite://data/modelwatch.db?mode=rwc");
    assert_eq!(c.schedule.default_every, Duration::from_secs(6 * 3600));
    assert_eq!(c.fetch.per_host_concurrency, 2);
    assert!(!c.fetch.allow_private_networks);
    assert!(!c.digest.enabled);
    assert_eq!(c.digest.cron.six_fields(), "0 0 8 * * Mon");
    assert_eq!(c.catalog_file, PathBuf::from("/etc/mw/catalog.toml"));
    assert!(c.fetch.user_agent.starts_with("modelwatch/"));
}

#[test]
fn an_empty_file_means_all_defaults() {
    assert!(load("", &[]).is_ok());
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    let e = load("colour = 1\n[fetch]\ntimout = \"3s\"\n[nosuch]\nx = 1\n", &[]).unwrap_err();
    assert_eq!(e.problems.len(), 3, "{e}");
    let text = e.to_string();
    for key in ["`colour`", "`fetch.timout`", "`nosuch`"] {
        assert!(text.contains(key), "{text}");
    }
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let e = load(
        "[fetch]\ntimeout = \"soon\"\nconcurrency = 0\n[schedule]\ntimezone = \"Mars/Base\"\n[digest]\ncron = \"61 * * * *\"\n[smtp]\ntls = \"ssl\"\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(e.problems.len(), 5, "{e}");
}

#[test]
fn a_wrong_type_is_an_error_not_a_panic() {
    let e = load("[fetch]\nmax_redirects = \"ten\"\n", &[]).unwrap_err();
    assert!(e.to_string().contains("max_redirects"), "{e}");
}

#[test]
fn environment_overrides_the_file_with_typed_values() {
    let c = load(
        "[fetch]\nallow_private_networks = false\n",
        &[
            ("MODELWATCH_FETCH__ALLOW_PRIVATE_NETWORKS", "true"),
            ("MODELWATCH_FETCH__MAX_REDIRECTS", "3"),
            ("MODELWATCH_DATABASE_URL", "postgres://postgres@127.0.0.1/test"),
            ("MODELWATCH_DIGEST__RECIPIENTS", "a@example.org, b@example.org"),
            ("MODELWATCH_SMTP_PASSWORD", "hunter2"),
            ("MODELWATCH_CONFIG", "/somewhere.toml"),
        ],
    )
    .unwrap();
    assert!(c.fetch.allow_private_networks);
    assert_eq!(c.fetch.max_redirects, 3);
    assert_eq!(c.database.url, "postgres://postgres@127.0.0.1/test");
    let recipients: Vec<&str> = c.digest.recipients.iter().map(|r| r.address()).collect();
    assert_eq!(recipients, vec!["a@example.org", "b@example.org"]);
    assert_eq!(c.smtp.password.as_ref().map(Secret::expose), Some("hunter2"));
}

#[test]
fn bad_environment_overrides_are_reported() {
    let e = load("", &[("MODELWATCH_FETCH__NOPE", "1"), ("MODELWATCH_FETCH__RETRIES", "many")]).unwrap_err();
    assert_eq!(e.problems.len(), 2, "{e}");
}

#[test]
fn secrets_never_print() {
    let c = load(
        "",
        &[
            ("MODELWATCH_SMTP_PASSWORD", "hunter2"),
            ("GITHUB_TOKEN", "ghp_secret"),
            ("MODELWATCH_DATABASE_URL", "postgres://mw:pgsecret@db/mw"),
        ],
    )
    .unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2") && !debug.contains("ghp_secret") && !debug.contains("pgsecret"), "{debug}");
}

/// Issue 14 finding 7: a type error hid every value error, and a range
/// error or a malformed recipient was one serde message without its key.
#[test]
fn issue14_type_range_and_value_errors_come_together_with_keys() {
    let e = load(
        "[fetch]\nmax_redirects = \"ten\"\ntimeout = \"soon\"\n[smtp]\nport = 70000\n[database]\nmax_connections = -3\n[digest]\nrecipients = [\"a@example.com\", 5, { address = \"b@example.com\", tags = \"x\" }]\n",
        &[],
    )
    .unwrap_err();
    let text = e.to_string();
    for key in [
        "`fetch.max_redirects`",
        "`fetch.timeout`",
        "`smtp.port` must be between 0 and 65535, got 70000",
        "`database.max_connections`",
        "`digest.recipients[1]`",
        "`digest.recipients[2].tags`",
    ] {
        assert!(text.contains(key), "{key} missing in:\n{text}");
    }
    assert_eq!(e.problems.len(), 6, "{text}");
}

/// Issue 14 finding 8: userinfo in `github.api_base` was printed by
/// `config check`; it is refused, and the error does not repeat it.
#[test]
fn issue14_credentials_in_api_urls_are_refused_without_echo() {
    let e = load("[github]\napi_base = \"https://bob:hunter22@api.example.com\"\n", &[]).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("`github.api_base` must not carry credentials"), "{text}");
    assert!(!text.contains("hunter22"), "{text}");
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    assert_eq!(super::redact_url("sqlite://data/modelwatch.db?mode=rwc"), "sqlite://data/modelwatch.db?mode=rwc");
}

/// Issue 14 item 8: `database.connect_timeout` replaces the 10 s constant;
/// a bad one is reported with the other problems, with its key.
#[test]
fn issue14_database_connect_timeout_is_a_validated_key() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.database.connect_timeout, Duration::from_secs(10));
    let c = load("[database]\nconnect_timeout = \"1500ms\"\n", &[]).unwrap();
    assert_eq!(c.database.connect_timeout, Duration::from_millis(1500));
    let e = load("[database]\nconnect_timeout = \"soon\"\n[fetch]\ntimeout = \"later\"\n", &[]).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("`database.connect_timeout`") && text.contains("`fetch.timeout`"), "{text}");
    let e = load("[database]\nconnect_timeout = \"1h\"\n", &[]).unwrap_err();
    assert!(e.to_string().contains("`database.connect_timeout` must be at most 10m"), "{e}");
    let e = load("[database]\nconnect_timeout = \"0s\"\n", &[]).unwrap_err();
    assert!(e.to_string().contains("`database.connect_timeout` must be longer than zero"), "{e}");
}
