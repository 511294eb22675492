//! systemd credentials: secrets handed over in `$CREDENTIALS_DIRECTORY`.
//!
//! The unit's `LoadCredential=smtp-password:…` and `github-token:…` make
//! systemd copy the files into a private, in-memory folder only this
//! service can read, and name it in `CREDENTIALS_DIRECTORY`. No secret sits
//! in the unit, in the environment, or in the config file.

use std::collections::BTreeMap;
use std::path::Path;

use super::Secret;

/// The credential holding the SMTP password.
pub const SMTP_PASSWORD: &str = "smtp-password";
/// The credential holding the GitHub token.
pub const GITHUB_TOKEN: &str = "github-token";
/// The credential holding the web view's login token.
pub const WEB_TOKEN: &str = "web-token";

/// Reads credential `name`, if the service manager passed a credentials
/// folder and it holds that credential. An empty file means "none" (so a
/// unit can list a credential the operator does not use).
pub fn read(env: &BTreeMap<String, String>, name: &str) -> Result<Option<Secret>, String> {
    let Some(dir) = env.get("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) else { return Ok(None) };
    let path = Path::new(dir).join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let value = text.trim_end_matches(['\n', '\r']);
            Ok((!value.is_empty()).then(|| Secret::new(value.to_owned())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // The path is safe to print; the content never is.
        Err(e) => Err(format!("cannot read the credential {}: {e}", path.display())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(dir: &Path) -> BTreeMap<String, String> {
        [("CREDENTIALS_DIRECTORY".to_owned(), dir.display().to_string())].into_iter().collect()
    }

    #[test]
    fn a_credential_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SMTP_PASSWORD), "hunter2\n").unwrap();
        let s = read(&env(dir.path()), SMTP_PASSWORD).unwrap();
        assert_eq!(s.as_ref().map(Secret::expose), Some("hunter2"));
    }

    #[test]
    fn missing_or_empty_credentials_are_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(GITHUB_TOKEN), "").unwrap();
        assert!(read(&env(dir.path()), GITHUB_TOKEN).unwrap().is_none());
        assert!(read(&env(dir.path()), SMTP_PASSWORD).unwrap().is_none());
        assert!(read(&BTreeMap::new(), SMTP_PASSWORD).unwrap().is_none());
    }
}
