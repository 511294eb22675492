//! The one integration test binary: real local HTTP servers, real SQLite and
//! PostgreSQL (when `MODELWATCH_TEST_POSTGRES_URL` is set), the real binary.

mod support;

mod cli;
mod daemon;
mod fetch;
mod pipeline;
mod schema;
