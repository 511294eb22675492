//! `health [--url URL]`: asks the running daemon whether it is ready.
//!
//! The container's HEALTHCHECK runs it in exec form: no shell, no curl in
//! the image. It GETs `/readyz` on the configured ops listener (which
//! answers 200 only while the database does) and exits 0 when ready, 1
//! otherwise, with one line saying why.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

use super::context::usage;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The readiness URL (default: /readyz on `ops.listen`).
    #[arg(long)]
    pub url: Option<String>,
    /// Give up after this long (a health check must answer quickly).
    #[arg(long, default_value = "5s", value_parser = crate::schedule::parse_duration)]
    pub timeout: Duration,
}

/// The URL to probe for a listener: a wildcard address (`0.0.0.0`, `::`)
/// is reached on the loopback of the same host.
pub fn readyz_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/readyz", SocketAddr::new(ip, listen.port()))
}

pub async fn run(config: Option<&Config>, args: &HealthArgs) -> anyhow::Result<()> {
    let url = match (&args.url, config) {
        (Some(u), _) => u.clone(),
        (None, Some(c)) => match c.ops.listen {
            Some(listen) => readyz_url(listen),
            None => return Err(usage("`ops.listen` is empty, so the daemon serves no /readyz; set it or pass --url")),
        },
        (None, None) => return Err(usage("give --url or a configuration with `ops.listen`")),
    };
    let parsed = url::Url::parse(&url).map_err(|e| usage(format!("--url {url:?} is not a URL: {e}")))?;
    // A proxy from the environment must not answer for the local daemon.
    let client = reqwest::Client::builder().no_proxy().timeout(args.timeout).build()?;
    let response = client
        .get(parsed)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("not healthy: {url} did not answer: {}", crate::error_chain(&e)))?;
    let status = response.status();
    let body = crate::fetch::read_capped(response, 4096).await.unwrap_or_default();
    let body = String::from_utf8_lossy(&body);
    if status.is_success() {
        println!("ready: {url} answered {status}");
        Ok(())
    } else {
        Err(anyhow::anyhow!("not ready: {url} answered {status}: {}", body.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listeners_are_probed_on_loopback() {
        let url = |s: &str| readyz_url(s.parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(url("0.0.0.0:9464"), "http://127.0.0.1:9464/readyz");
        assert_eq!(url("[::]:9464"), "http://[::1]:9464/readyz");
        assert_eq!(url("10.0.0.5:80"), "http://10.0.0.5:80/readyz");
    }
}
