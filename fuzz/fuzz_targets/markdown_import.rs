//! `sources import`: links of a Markdown document, then URL rules, through
//! the bounded thread the CLI uses.
#![no_main]
use libfuzzer_sys::fuzz_target;
use modelwatch::import::{DEFAULT_TRACKING_PARAMS, UrlRules, extract_contained};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let params: Vec<String> = DEFAULT_TRACKING_PARAMS.iter().map(|s| (*s).to_owned()).collect();
        if let Ok(rules) = UrlRules::new(&params) {
            let _ = extract_contained(text.to_owned(), rules, 50_000);
        }
    }
});
