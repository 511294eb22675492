//! `sources import`: links of a Markdown document, then URL rules.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for link in modelwatch::import::links_from_markdown(text) {
            let _ = modelwatch::source::normalize_url(&link.url);
        }
    }
});
