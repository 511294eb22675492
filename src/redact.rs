//! Credentials never reach a log line, whoever writes it.
//!
//! Our own code prints URLs through [`redact_url`], but dependencies log
//! what they were given: at `RUST_LOG=trace` sea-orm's connect span prints
//! its options, database URL included. So the log writer itself scrubs each
//! line: every secret value registered here (database password, SMTP
//! password, API tokens) and, generically, URL userinfo passwords and
//! `password=`/`token=` parameters.

use std::io::Write;
use std::sync::{LazyLock, RwLock};

use regex::Regex;

/// What replaces a secret.
pub const MASK: &str = "***";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// `scheme://user:password@` → the password part.
static USERINFO: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)([a-z][a-z0-9+.-]*://[^:/?#@\s]*:)([^@/?#\s]+)(@)").ok());
/// `password=…`, `passwd=…`, `pwd=…`, `token=…`, `secret=…`, `api_key=…`
/// in a query string, a DSN or a debug print.
static PARAMS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(password|passwd|pwd|token|access_token|secret|api_key|apikey)(\s*[=:]\s*"?)([^&\s",;)}]+)"#)
        .ok()
});

/// Secrets shorter than this are not scrubbed by value (a one-letter
/// password would mask every such letter); the patterns still apply.
const MIN_SECRET_LEN: usize = 4;

/// Remembers a secret value so no log line shows it.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    if let Ok(mut list) = SECRETS.write()
        && !list.iter().any(|s| s == secret)
    {
        list.push(secret.to_owned());
        // Longest first, so a secret containing another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the password of a URL (userinfo or `password=` parameter).
pub fn register_url(url: &str) {
    if let Ok(u) = url::Url::parse(url) {
        if let Some(p) = u.password() {
            register(p);
            register(&percent_decode(p));
        }
        for (k, v) in u.query_pairs() {
            if is_secret_param(&k) {
                register(&v);
            }
        }
    }
}

/// A userinfo password as the server sees it (`p%40ss` → `p@ss`).
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map_or_else(|| s.to_owned(), |(_, v)| v.into_owned())
}

fn is_secret_param(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "password" | "passwd" | "pwd" | "token" | "access_token" | "secret" | "api_key" | "apikey" | "sslpassword"
    )
}

/// `text` with every registered secret and every credential pattern masked.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_owned();
    if let Ok(list) = SECRETS.read() {
        for s in list.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
    }
    if let Some(re) = USERINFO.as_ref() {
        out = re.replace_all(&out, format!("${{1}}{MASK}${{3}}")).into_owned();
    }
    if let Some(re) = PARAMS.as_ref() {
        out = re.replace_all(&out, format!("${{1}}${{2}}{MASK}")).into_owned();
    }
    out
}

/// A database or API URL fit for a message: password and secret
/// parameters masked.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some(MASK));
            }
            if u.query_pairs().any(|(k, _)| is_secret_param(&k)) {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if is_secret_param(&k) { MASK.to_owned() } else { v.into_owned() };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => scrub(url),
    }
}

/// The log writer: stderr, each write scrubbed. tracing-subscriber's fmt
/// layer formats a whole event and writes it at once, so a secret is never
/// split across two writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScrubbedStderr;

impl Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbedStderr {
    type Writer = ScrubbedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedStderr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_credential_patterns_are_masked() {
        register("s3cr3t-smtp-pass");
        let line = "connect url=postgres://mw:hunter22@db/x?sslmode=require&password=qwerty9 smtp=s3cr3t-smtp-pass token: ghp_abcdef";
        let out = scrub(line);
        for leaked in ["hunter22", "qwerty9", "s3cr3t-smtp-pass", "ghp_abcdef"] {
            assert!(!out.contains(leaked), "{leaked} in {out}");
        }
        assert!(out.contains("postgres://mw:***@db/x"), "{out}");
    }

    #[test]
    fn urls_lose_passwords_and_password_parameters() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        let r = redact_url("postgres://u@h/db?password=secret&sslmode=disable");
        assert!(!r.contains("secret") && r.contains("sslmode=disable"), "{r}");
    }
}
