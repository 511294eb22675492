//! Jobs beside the runner: work the daemon (and the CLI) run on a schedule
//! that reads the store, calls the outside world and records the result,
//! around a pure core elsewhere (`digest` builds and renders; the job here
//! stores, sends and marks).

pub mod digest;
pub mod digest_daemon;
