//! GitHub and Hugging Face API bodies.
#![no_main]
use libfuzzer_sys::fuzz_target;
use modelwatch::sources::{github, huggingface};

fuzz_target!(|data: &[u8]| {
    let _ = github::parse_repo(data);
    let _ = github::parse_release(data);
    let _ = github::parse_releases_atom(data);
    let _ = huggingface::parse_model(data);
});
