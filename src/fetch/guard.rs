//! The SSRF guard: only public addresses, checked on the resolved IP at
//! connect time, so DNS rebinding and redirects to internal hosts are caught.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The resolver refused every address of a name.
#[derive(Debug, thiserror::Error)]
#[error("blocked: {host} resolves only to non-public addresses ({addrs})")]
pub struct BlockedAddress {
    pub host: String,
    pub addrs: String,
}

/// Whether an address is loopback, private, link-local, unique-local,
/// multicast, unspecified or otherwise not a public destination.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg0 = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg0 & 0xffc0) == 0xfe80 // link local fe80::/10
                || (seg0 == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (seg0 == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64 can reach v4 privates
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
}

/// A URL whose host is an IP literal is never resolved, so it is checked here.
pub fn forbidden_literal_host(url: &Url) -> Option<String> {
    let ip = match url.host()? {
        Host::Ipv4(v4) => IpAddr::V4(v4),
        Host::Ipv6(v6) => IpAddr::V6(v6),
        // A trailing dot (`localhost.`) is the same name, fully qualified.
        Host::Domain(d)
            if d.trim_end_matches('.').eq_ignore_ascii_case("localhost")
                || d.trim_end_matches('.').to_ascii_lowercase().ends_with(".localhost") =>
        {
            return Some(format!("blocked: {d} is a local name"));
        }
        Host::Domain(_) => return None,
    };
    is_forbidden_ip(ip).then(|| format!("blocked: {ip} is not a public address"))
}

/// Resolves with the system resolver, then drops non-public addresses.
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved.iter().copied().filter(|a| !is_forbidden_ip(a.ip())).collect();
            if allowed.is_empty() {
                let addrs = resolved.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
                return Err(Box::new(BlockedAddress { host, addrs }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn internal_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            "::",
        ] {
            assert!(is_forbidden_ip(ip.parse().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "220.181.38.148"] {
            assert!(!is_forbidden_ip(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))), "{ip}");
        }
    }

    #[test]
    fn literal_hosts_are_checked() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(forbidden_literal_host(&u("http://127.0.0.1:8080/")).is_some());
        assert!(forbidden_literal_host(&u("http://[::1]/")).is_some());
        assert!(forbidden_literal_host(&u("http://localhost/")).is_some());
        assert!(forbidden_literal_host(&u("http://LOCALHOST./")).is_some());
        assert!(forbidden_literal_host(&u("http://api.localhost/")).is_some());
        assert!(forbidden_literal_host(&u("https://www.example.com/")).is_none());
    }
}
