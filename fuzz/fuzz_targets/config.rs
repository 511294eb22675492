//! The layered config loader: any TOML text gives a Config or a list of
//! problems, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use modelwatch::config::{Config, Overrides};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::from_toml(text, "fuzz.toml", std::path::PathBuf::from("/nonexistent"), &Overrides::default());
    }
});
