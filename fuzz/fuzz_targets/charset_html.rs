//! Bytes → charset decision → bounded HTML extraction.
#![no_main]
use libfuzzer_sys::fuzz_target;
use modelwatch::extract::{ExtractOptions, extract_page};
use modelwatch::fetch::charset;

fuzz_target!(|data: &[u8]| {
    let decoded = charset::decode(data, Some("text/html; charset=utf-8"), None, Some("example.cn"));
    let _ = extract_page(&decoded.text, &ExtractOptions::default());
    let _ = charset::decode(data, None, None, None);
});
