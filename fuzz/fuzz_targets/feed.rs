//! RSS / Atom / JSON Feed bodies.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = modelwatch::sources::feed::parse(data, Some("application/rss+xml"), None);
});
