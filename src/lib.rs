//! modelwatch: keeps an AI-industry knowledge base current.
//!
//! The data flow (DESIGN.md): sources → fetch → extract → diff → store →
//! catalog → digest → mail. Pure stages take owned values and return owned
//! values; only `fetch`, `store` and `mail` touch the outside world.

pub mod digest;
pub mod mail;
pub mod store;
pub mod types;
