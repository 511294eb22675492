//! How many login attempts a client may fail before it must wait.
//!
//! A failed login answers 750 ms late, but a client can run hundreds in
//! parallel; a budget of failures per client and window bounds the guesses
//! whatever the parallelism. Each attempt is counted when it starts (so
//! parallel attempts cannot all pass the check before any of them fails)
//! and a successful login gives the client's budget back.
//!
//! A client is its IP address — an IPv6 client its /64, the block one
//! subscriber gets — or, for a request relayed by a reverse proxy on
//! loopback, the address that proxy appended to `X-Forwarded-For`. Memory
//! is bounded: past [`MAX_CLIENTS`] clients with a live window, every new
//! one shares a single overflow budget, so rotating addresses buys no more
//! guesses than one address does.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// Clients tracked at once (about 50 bytes each).
pub const MAX_CLIENTS: usize = 4096;

/// Failed logins a client may make per window.
pub const LOGIN_FAILURES: u32 = 10;

/// The window those failures are counted in; a client that used up its
/// budget waits until its window ends.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The budget's size: failures per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub failures: u32,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { failures: LOGIN_FAILURES, window: LOGIN_WINDOW }
    }
}

/// Who is asking, for the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    Ip(IpAddr),
    /// Every client that came once the map was full.
    Overflow,
}

struct Window {
    started: Instant,
    attempts: u32,
}

pub struct LoginBudget {
    limits: LoginLimits,
    clients: Mutex<HashMap<Client, Window>>,
}

/// The client of a request from `peer` with `headers`. A request that
/// did not come through [`crate::listener::serve`] has no peer: all such
/// requests share the unspecified address's budget.
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
    let peer = peer.map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |p| p.ip());
    if !peer.is_loopback() {
        return peer;
    }
    // A proxy on this host appends the address it saw last; anything
    // before it came from the client and may be forged.
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|a| a.trim().parse::<IpAddr>().ok());
    forwarded.unwrap_or(peer)
}

/// The client a request came from, by [`client_ip`].
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(crate::listener::peer(parts), &parts.headers)))
    }
}

/// An IPv6 address stands for its /64; an IPv4 one (also mapped into
/// IPv6) for itself.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

impl LoginBudget {
    pub fn new(limits: LoginLimits) -> LoginBudget {
        LoginBudget { limits, clients: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Client, Window>> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an attempt by `ip` at `now`: `Err(wait)` when its budget is
    /// spent (the attempt is not counted and must not be tried).
    pub fn attempt(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let window = self.limits.window;
        let mut clients = self.lock();
        let mut client = Client::Ip(key(ip));
        if !clients.contains_key(&client) && clients.len() >= MAX_CLIENTS {
            clients.retain(|_, w| now.saturating_duration_since(w.started) < window);
            if clients.len() >= MAX_CLIENTS {
                client = Client::Overflow;
            }
        }
        let entry = clients.entry(client).or_insert(Window { started: now, attempts: 0 });
        let elapsed = now.saturating_duration_since(entry.started);
        if elapsed >= window {
            *entry = Window { started: now, attempts: 0 };
        } else if entry.attempts >= self.limits.failures {
            return Err(window - elapsed);
        }
        entry.attempts += 1;
        Ok(())
    }

    /// `ip` logged in: its failures are forgiven.
    pub fn succeeded(&self, ip: IpAddr) {
        self.lock().remove(&Client::Ip(key(ip)));
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_spent_budget_waits_out_its_window_then_recovers() {
        let b = LoginBudget::new(LoginLimits { failures: 3, window: Duration::from_secs(60) });
        let t0 = Instant::now();
        for _ in 0..3 {
            b.attempt(ip("192.0.2.1"), t0).unwrap();
        }
        assert_eq!(b.attempt(ip("192.0.2.1"), t0 + Duration::from_secs(20)), Err(Duration::from_secs(40)));
        // Refused attempts do not extend the wait.
        assert_eq!(b.attempt(ip("192.0.2.1"), t0 + Duration::from_secs(59)), Err(Duration::from_secs(1)));
        assert_eq!(b.attempt(ip("192.0.2.2"), t0), Ok(()), "another client has its own budget");
        assert_eq!(b.attempt(ip("192.0.2.1"), t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn a_login_gives_the_budget_back() {
        let b = LoginBudget::new(LoginLimits { failures: 2, window: Duration::from_secs(60) });
        let t0 = Instant::now();
        b.attempt(ip("192.0.2.1"), t0).unwrap();
        b.attempt(ip("192.0.2.1"), t0).unwrap();
        b.succeeded(ip("192.0.2.1"));
        assert_eq!(b.attempt(ip("192.0.2.1"), t0), Ok(()));
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let b = LoginBudget::new(LoginLimits { failures: 1, window: Duration::from_secs(60) });
        let t0 = Instant::now();
        b.attempt(ip("2001:db8:1:2::1"), t0).unwrap();
        assert!(b.attempt(ip("2001:db8:1:2:ffff::9"), t0).is_err(), "same /64");
        assert_eq!(b.attempt(ip("2001:db8:1:3::1"), t0), Ok(()), "another /64");
        b.attempt(ip("::ffff:192.0.2.7"), t0).unwrap();
        assert!(b.attempt(ip("192.0.2.7"), t0).is_err(), "a mapped IPv4 address is that address");
    }

    #[test]
    fn memory_is_bounded_and_new_clients_share_the_overflow() {
        let b = LoginBudget::new(LoginLimits { failures: 2, window: Duration::from_secs(60) });
        let t0 = Instant::now();
        for i in 0..MAX_CLIENTS as u32 {
            b.attempt(IpAddr::V4((0x0a00_0000 + i).into()), t0).unwrap();
        }
        assert_eq!(b.tracked(), MAX_CLIENTS);
        // Past the cap, fresh addresses share one budget.
        b.attempt(ip("198.51.100.1"), t0).unwrap();
        b.attempt(ip("198.51.100.2"), t0).unwrap();
        assert!(b.attempt(ip("198.51.100.3"), t0).is_err());
        assert_eq!(b.tracked(), MAX_CLIENTS + 1);
        // Once the windows have passed, the expired entries make room.
        assert_eq!(b.attempt(ip("198.51.100.3"), t0 + Duration::from_secs(60)), Ok(()));
        assert_eq!(b.tracked(), 1);
    }

    #[test]
    fn only_a_proxy_on_loopback_names_the_client() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.4"));
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        assert_eq!(client_ip(Some(local), &h), ip("198.51.100.4"), "the address the proxy appended");
        assert_eq!(client_ip(Some(remote), &h), ip("192.0.2.1"), "a remote client cannot choose its key");
        assert_eq!(client_ip(Some(local), &HeaderMap::new()), ip("127.0.0.1"));
        assert_eq!(client_ip(None, &h), ip("0.0.0.0"));
    }
}
