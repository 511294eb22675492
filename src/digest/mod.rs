//! The weekly digest, pure: build → render (templates), and the outbox's rules.
//!
//! `build` turns a period's [`DigestInputs`] into a [`Digest`] in reading
//! order; `render` lays it out as subject, text and HTML; `outbox` decides
//! audiences, Message-IDs and what an attempt does to a row; `deliveries`
//! keeps each recipient's outcome, so one refused address costs nobody
//! else. The job that reads the store, sends and marks is
//! `crate::jobs::digest`, beside the runner: nothing here touches the
//! store, the config or the mail server.

pub mod build;
pub mod deliveries;
pub mod excerpt;
pub mod inputs;
pub mod labels;
pub mod model;
pub mod outbox;
pub mod period;
pub mod prepare;
pub mod render;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;

pub use build::{BuildOptions, build, filter_by_tags};
pub use inputs::DigestInputs;
pub use labels::Language;
pub use model::Digest;
pub use period::Period;
pub use prepare::{DigestSettings, Prepared, prepare};
pub use render::{RenderError, Rendered, Templates};
