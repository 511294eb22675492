//! The weekly digest: build (pure) → render (templates) → outbox → send.
//!
//! `build` turns a period's [`DigestInputs`] into a [`Digest`] in reading
//! order; `render` lays it out as subject, text and HTML; the outbox stores the
//! rendered digest before any SMTP traffic and the sender marks it sent only
//! after the server accepted it.

pub mod build;
pub mod daemon;
pub mod excerpt;
pub mod inputs;
pub mod labels;
pub mod model;
pub mod outbox;
pub mod period;
pub mod render;
pub mod send;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;

pub use build::{BuildOptions, build, filter_by_tags};
pub use inputs::DigestInputs;
pub use labels::Language;
pub use model::Digest;
pub use period::Period;
pub use render::{RenderError, Rendered, Templates};
