//! No TLS to a PostgreSQL server on this machine unless the URL asks.
//!
//! Without `sslmode` the driver (sqlx, like libpq) uses `prefer`: TLS when
//! the server offers it, without checking the server's certificate. To
//! 127.0.0.1 that protects nothing — loopback traffic never leaves the
//! kernel, and an unchecked certificate stops no one who could intercept
//! it — and costs a handshake per connection (a key exchange on both
//! sides: here 8 ms a connection with TLS, 4 ms without, `pgbench -C`) and
//! the encryption of every message. The daemon opens three to five
//! connections at each start and sends ~200 statements in an unchanged
//! sweep of 2,000 pages (issue 12). So a URL whose host is a loopback
//! address or `localhost`, and that names no `sslmode`, connects in plain
//! text; any `sslmode` in the URL (or `PGSSLMODE`) is honoured as written,
//! and every other host keeps the driver's default.

use std::net::IpAddr;

/// Whether `url` (a PostgreSQL URL) reaches a server on this machine over
/// TCP and leaves TLS to the driver's default: `pgsslmode` is the
/// environment's `PGSSLMODE`, which the driver would read.
pub(super) fn plain_text_by_default(url: &str, pgsslmode: Option<&str>) -> bool {
    if pgsslmode.is_some_and(|m| !m.is_empty()) {
        return false;
    }
    let Ok(u) = url::Url::parse(url) else { return false };
    let mut host = u.host_str().map(str::to_owned);
    for (key, value) in u.query_pairs() {
        match &*key {
            "sslmode" | "ssl-mode" | "hostaddr" => return false,
            // The driver lets `host=` in the query override the URL's.
            "host" => host = Some(value.into_owned()),
            _ => {}
        }
    }
    let Some(host) = host.filter(|h| !h.is_empty()) else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_without_sslmode_are_plain() {
        for url in [
            "postgres://mw@127.0.0.1:5432/modelwatch",
            "postgres://mw@127.0.0.2/modelwatch",
            "postgres://mw@localhost/modelwatch",
            "postgres://mw@LOCALHOST:5433/modelwatch?application_name=mw",
            "postgres://mw@[::1]:5432/modelwatch",
            "postgres://mw@db.example.org/modelwatch?host=127.0.0.1",
        ] {
            assert!(plain_text_by_default(url, None), "{url}");
        }
    }

    #[test]
    fn a_named_sslmode_or_another_host_keeps_the_driver_default() {
        for url in [
            "postgres://mw@127.0.0.1/modelwatch?sslmode=require",
            "postgres://mw@127.0.0.1/modelwatch?sslmode=prefer",
            "postgres://mw@localhost/modelwatch?ssl-mode=verify-full",
            "postgres://mw@127.0.0.1/modelwatch?hostaddr=10.0.0.5",
            "postgres://mw@db.example.org/modelwatch",
            "postgres://mw@10.0.0.5/modelwatch",
            "postgres://mw@localhost.example.org/modelwatch",
            "postgres://mw@127.0.0.1/modelwatch?host=db.example.org",
            // A Unix socket: no TLS there in any case.
            "postgres://mw@localhost/modelwatch?host=/var/run/postgresql",
            "postgres:///modelwatch",
            "not a url",
        ] {
            assert!(!plain_text_by_default(url, None), "{url}");
        }
        assert!(!plain_text_by_default("postgres://mw@127.0.0.1/modelwatch", Some("require")));
        assert!(plain_text_by_default("postgres://mw@127.0.0.1/modelwatch", Some("")));
    }
}
