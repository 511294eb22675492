//! Which configuration file is used.
//!
//! `--config` / `MODELWATCH_CONFIG` name a file that must exist. Without
//! them, operators put the file where the project layout or the packaging
//! put it: `./config/modelwatch.toml` (a checkout, a container's workdir),
//! then `/etc/modelwatch/modelwatch.toml` (systemd), and without either the
//! daemon runs on the embedded defaults — every key has one — so the binary
//! works from any folder. The origin is logged and shown by `config check`
//! and `doctor`, so nobody has to guess which file won.

use std::fmt;
use std::path::{Path, PathBuf};

/// Looked at first, relative to the working folder.
pub const LOCAL_CONFIG: &str = "config/modelwatch.toml";
/// Looked at second: where packages and the systemd unit put it.
pub const SYSTEM_CONFIG: &str = "/etc/modelwatch/modelwatch.toml";

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// Named by `--config` or `MODELWATCH_CONFIG`: it must exist.
    Given(PathBuf),
    /// Found at one of the default locations.
    Found(PathBuf),
    /// No file anywhere: the embedded defaults (plus the environment).
    Embedded { looked_at: Vec<PathBuf> },
}

impl ConfigOrigin {
    /// The file, unless the embedded defaults are used.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigOrigin::Given(p) | ConfigOrigin::Found(p) => Some(p),
            ConfigOrigin::Embedded { .. } => None,
        }
    }
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigOrigin::Given(p) => write!(f, "{} (--config / MODELWATCH_CONFIG)", p.display()),
            ConfigOrigin::Found(p) => write!(f, "{} (found at a default location)", p.display()),
            ConfigOrigin::Embedded { looked_at } => {
                let places: Vec<String> = looked_at.iter().map(|p| p.display().to_string()).collect();
                write!(f, "the embedded defaults (no file at {})", places.join(" or "))
            }
        }
    }
}

/// Picks the configuration: the given file, else the first default location
/// holding a file, else the embedded defaults.
pub fn locate(given: Option<&Path>) -> ConfigOrigin {
    locate_among(given, &[PathBuf::from(LOCAL_CONFIG), PathBuf::from(SYSTEM_CONFIG)])
}

/// [`locate`] over explicit candidates (tests use their own folders).
pub fn locate_among(given: Option<&Path>, candidates: &[PathBuf]) -> ConfigOrigin {
    if let Some(path) = given {
        return ConfigOrigin::Given(path.to_path_buf());
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => ConfigOrigin::Found(p.clone()),
        None => ConfigOrigin::Embedded { looked_at: candidates.to_vec() },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_given_file_wins_even_when_missing() {
        // A typo in --config must be an error, not a silent fallback.
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("local.toml");
        std::fs::write(&local, "").unwrap();
        let given = dir.path().join("nosuch.toml");
        assert_eq!(locate_among(Some(&given), &[local]), ConfigOrigin::Given(given));
    }

    #[test]
    fn the_first_existing_default_location_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let (local, system) = (dir.path().join("local.toml"), dir.path().join("system.toml"));
        std::fs::write(&system, "").unwrap();
        assert_eq!(locate_among(None, &[local.clone(), system.clone()]), ConfigOrigin::Found(system.clone()));
        std::fs::write(&local, "").unwrap();
        assert_eq!(locate_among(None, &[local.clone(), system]), ConfigOrigin::Found(local));
    }

    #[test]
    fn without_any_file_the_embedded_defaults_are_used_and_say_where_we_looked() {
        let dir = tempfile::tempdir().unwrap();
        let (local, system) = (dir.path().join("local.toml"), dir.path().join("system.toml"));
        // A folder of that name is not a config file.
        std::fs::create_dir(&local).unwrap();
        let origin = locate_among(None, &[local.clone(), system.clone()]);
        assert_eq!(origin, ConfigOrigin::Embedded { looked_at: vec![local.clone(), system.clone()] });
        let text = origin.to_string();
        assert!(text.contains("embedded defaults") && text.contains("local.toml") && text.contains("system.toml"));
    }
}
