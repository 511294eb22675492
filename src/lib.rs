//! modelwatch: keeps an AI-industry knowledge base current.
//!
//! The data flow (DESIGN.md): sources → fetch → extract → diff → store →
//! catalog → digest → mail. Pure stages take owned values and return owned
//! values; only `fetch`, `store` and `mail` touch the outside world.

pub mod app;
pub mod arenas;
mod ascii_classes;
pub mod bench_floor;
pub mod bidi;
mod blocking;
pub mod catalog;
pub mod change;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contain;
pub mod diff;
pub mod digest;
pub mod excerpt;
pub mod extract;
pub mod fetch;
pub mod import;
pub mod input;
pub mod jobs;
pub mod listener;
pub mod mail;
pub mod ops;
pub mod redact;
pub mod references;
pub mod runner;
pub mod schedule;
pub mod seed;
pub mod source;
pub mod sources;
pub mod store;
#[cfg(test)]
mod test_child;
#[cfg(test)]
mod test_rng;
pub mod trim;
pub mod types;
pub mod web;
pub mod worker;

/// An error and its causes on one line, each cause once (reqwest and sqlx
/// repeat their source in their own message).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
