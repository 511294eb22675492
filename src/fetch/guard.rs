//! The SSRF guard: only public addresses, checked on the resolved IP at
//! connect time, so DNS rebinding and redirects to internal hosts are caught.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The resolver refused every address of a name.
#[derive(Debug, thiserror::Error)]
#[error("blocked: {host} resolves only to non-public addresses ({addrs})")]
pub struct BlockedAddress {
    pub host: String,
    pub addrs: String,
}

/// Whether an address is not a public destination: the IANA IPv4 and IPv6
/// special-purpose address registries (entries not "globally reachable"),
/// and every IPv6 form that carries an IPv4 address judged by that address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// `a.b.c.d/len` membership.
fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

/// The IANA IPv4 Special-Purpose Address Registry, not-globally-reachable
/// entries (and the deprecated 6to4 relay anycast).
fn forbidden_v4(ip: Ipv4Addr) -> bool {
    const NETS: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network"
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // shared address space (CGN)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link local
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation TEST-NET-1
        ([192, 31, 196, 0], 24), // AS112-v4 (local anycast)
        ([192, 52, 193, 0], 24), // AMT
        ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([192, 175, 48, 0], 24), // direct delegation AS112
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation TEST-NET-2
        ([203, 0, 113, 0], 24),  // documentation TEST-NET-3
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and broadcast
    ];
    NETS.iter().any(|&(net, len)| in_v4(ip, net, len))
}

/// `prefix/len` membership for IPv6.
fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

const fn v6(s: [u16; 8]) -> Ipv6Addr {
    Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
}

/// The IANA IPv6 Special-Purpose Address Registry. Only global unicast
/// (2000::/3) can be public at all, so everything outside it is refused:
/// that covers loopback, unspecified, IPv4-compatible (::/96),
/// IPv4-translated (::ffff:0:0:0/96), discard-only (100::/64), unique local,
/// site local (fec0::/10), link local and multicast. IPv4-mapped and NAT64
/// addresses are judged by the IPv4 address they carry.
fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let seg = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // 64:ff9b::/96, the well-known NAT64 prefix: reaches the IPv4 address in
    // its last 32 bits through a translator.
    if in_v6(ip, v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]), 96) {
        return forbidden_v4(embedded(seg[6], seg[7]));
    }
    if !in_v6(ip, v6([0x2000, 0, 0, 0, 0, 0, 0, 0]), 3) {
        return true;
    }
    // 2002::/16, 6to4: the IPv4 address of the relay-less tunnel end.
    if seg[0] == 0x2002 {
        return forbidden_v4(embedded(seg[1], seg[2]));
    }
    const NETS: &[([u16; 8], u32)] = &[
        // IETF protocol assignments, including Teredo (2001::/32: an
        // IPv4 server and an obfuscated IPv4 client inside), benchmarking
        // (2001:2::/48) and ORCHID; no public web server lives here.
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32),      // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),           // documentation (RFC 9637)
        ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),           // SRv6 SIDs
        ([0x2620, 0x004f, 0x8000, 0, 0, 0, 0, 0], 48), // AS112-v6 (local anycast)
    ];
    NETS.iter().any(|&(net, len)| in_v6(ip, v6(net), len))
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

/// Resolves a URL's host and refuses it when any address is not public
/// (used when a proxy, not our resolver, will connect). A name that does
/// not resolve here is left to the proxy, which reports it.
pub async fn forbidden_target(url: &Url) -> Option<String> {
    if let Some(reason) = forbidden_literal_host(url) {
        return Some(reason);
    }
    let host = url.host_str()?;
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await.ok()?.collect();
    let bad: Vec<String> = addrs.iter().filter(|a| is_forbidden_ip(a.ip())).map(|a| a.ip().to_string()).collect();
    (!bad.is_empty()).then(|| format!("blocked: {host} resolves to non-public addresses ({})", bad.join(", ")))
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
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "220.181.38.148",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
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

    /// Issue 14 finding 5: IPv6 forms that reach IPv4 loopback/private
    /// space or are reserved were given a connection attempt.
    #[test]
    fn issue14_ipv6_side_doors_are_forbidden() {
        for ip in [
            "::127.0.0.1",                          // IPv4-compatible (deprecated)
            "::ffff:0:127.0.0.1",                   // IPv4-translated (SIIT)
            "::ffff:0:a00:1",                       // IPv4-translated 10.0.0.1
            "2002:7f00:1::1",                       // 6to4 of 127.0.0.1
            "2002:a00:1::",                         // 6to4 of 10.0.0.1
            "2002:c0a8:101::1",                     // 6to4 of 192.168.1.1
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:2::1",                            // benchmarking
            "2001:db8::1",                          // documentation
            "3fff::1",                              // documentation (RFC 9637)
            "fec0::1",                              // site local
            "100::1",                               // discard-only
            "64:ff9b::7f00:1",                      // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe",                   // NAT64 of 169.254.169.254
            "64:ff9b:1::1",                         // local-use NAT64
            "5f00::1",                              // SRv6 SID
            "ff02::1",                              // multicast
            "::ffff:192.168.0.1",                   // IPv4-mapped private
            "::ffff:169.254.169.254",
            "4000::1", // outside global unicast
        ] {
            assert!(is_forbidden_ip(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))), "{ip}");
        }
        for ip in ["192.0.0.8", "192.88.99.1", "198.19.255.255", "203.0.113.9", "255.255.255.255", "240.0.0.1"] {
            assert!(is_forbidden_ip(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))), "{ip}");
        }
    }
}
