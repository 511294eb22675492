//! The weekly digest end to end: the real binary's `digest send` against a
//! real SMTP server (aiosmtpd), on SQLite and PostgreSQL.

mod cursor;
mod daemon;
mod mail;
mod recipients;
mod send;
pub mod smtp;
