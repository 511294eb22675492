//! The one integration test binary: real local HTTP servers, real SQLite and
//! PostgreSQL (when `MODELWATCH_TEST_POSTGRES_URL` is set), the real binary.
// A panic in a test is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod architecture;
mod catalog;
mod catalog_writes;
mod cli;
mod daemon;
mod digest;
mod feeds;
mod fetch;
mod floor;
mod hostile;
mod import_circles;
mod kinds;
mod layout;
mod liveness;
mod opening;
mod ops;
mod parsers;
mod pipeline;
mod real_web;
mod references;
mod reread;
mod round_trips;
mod schema;
mod stored_shapes;
mod walls;
mod web;
