//! The outbound guard: every call the marketplace makes to an address a
//! seller (or anyone outside) chose goes through a client built here.
//!
//! Host names are resolved by [`GuardedResolver`], which drops every address
//! that is not publicly routable, so the connection goes to an address that
//! was checked (a second DNS answer cannot swap it: DNS rebinding). IP
//! literals never reach a resolver, so [`AddressPolicy::check_url`] refuses
//! them before sending; redirects, when a caller follows them, are checked
//! the same way. An address is allowed anyway when the allow-list setting
//! names it (tests, the demo, a marketplace calling its own network on
//! purpose).
//!
//! A refusal reads [`REFUSED`] and nothing else, so a caller cannot tell a
//! closed port from an open one on the marketplace's own network.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// What a refused call reports, whatever the address and the reason.
pub const REFUSED: &str = "endpoint refused: address not allowed";

/// The error of a refused address (shown as [`REFUSED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRefused;

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REFUSED)
    }
}

impl std::error::Error for AddressRefused {}

/// Whether `error` or any of its causes is an [`AddressRefused`].
pub fn is_refusal(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<AddressRefused>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// What a failed outbound request tells its caller: exactly [`REFUSED`] for
/// a refused address (nothing about the host, nor whether it answers), else
/// the error with its causes ("error sending request" alone says little).
pub fn describe(e: &reqwest::Error) -> String {
    if is_refusal(e) {
        return REFUSED.to_owned();
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Why an address is not publicly routable, or None when it is.
pub fn non_public_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        // 169.254.169.254, the cloud metadata service, lives here.
        _ if ip.is_link_local() => "link-local",
        (100, 64..=127, _) => "shared address space (CGNAT)",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() => "broadcast",
        (0, _, _) => "this network",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        // ::ffff:a.b.c.d would reach the IPv4 address behind any check made
        // on the IPv6 form; NAT64 and 6to4 embed one too.
        [0, 0, 0, 0, 0, 0xffff, _, _] => "IPv4-mapped",
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible",
        [0x64, 0xff9b, ..] => "NAT64",
        [0x2002, ..] => "6to4",
        [0x2001, 0xdb8, ..] => "documentation",
        [0x2001, 0..=0x1ff, ..] => "IETF protocol assignments",
        [first, ..] if first & 0xfe00 == 0xfc00 => "unique local (private)",
        [first, ..] if first & 0xffc0 == 0xfe80 => "link-local",
        [first, ..] if first & 0xffc0 == 0xfec0 => "site-local",
        _ if ip.is_multicast() => "multicast",
        _ => return None,
    })
}

/// An address block of the allow-list: `10.1.0.0/16`, `::1`, `127.0.0.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBlock {
    network: IpAddr,
    prefix: u8,
}

impl AddressBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(u32::from(n).into(), u32::from(a).into(), 32, self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(u128::from(n), u128::from(a), 128, self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(network: u128, addr: u128, bits: u8, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    network >> shift == addr >> shift
}

impl FromStr for AddressBlock {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let network: IpAddr =
            addr.parse().map_err(|_| format!("{s:?} is not an IP address or block such as 10.0.0.0/8"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(AddressBlock { network, prefix })
    }
}

impl fmt::Display for AddressBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Which addresses outbound calls may reach: public ones, plus the blocks
/// of the allow-list. Written as a comma-separated list of blocks in
/// settings (`MERCATO_OUTBOUND_ALLOW=127.0.0.0/8,::1`); empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<AddressBlock>,
    unrestricted: bool,
}

impl AddressPolicy {
    /// Public addresses only.
    pub fn public_only() -> Self {
        AddressPolicy::default()
    }

    /// Every address: for tools a seller runs against its own server
    /// (`mercato isv check`), never for the marketplace's calls.
    pub fn unrestricted() -> Self {
        AddressPolicy { allowed: Vec::new(), unrestricted: true }
    }

    /// Public addresses and `blocks`.
    pub fn allowing(blocks: impl IntoIterator<Item = AddressBlock>) -> Self {
        AddressPolicy { allowed: blocks.into_iter().collect(), unrestricted: false }
    }

    /// Loopback (IPv4 and IPv6) allowed besides public addresses: tests and the demo.
    pub fn allowing_loopback() -> Self {
        AddressPolicy::allowing(["127.0.0.0/8", "::1"].map(|b| b.parse().expect("valid block")))
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.unrestricted || non_public_class(ip).is_none() || self.allowed.iter().any(|b| b.contains(ip))
    }

    /// Refuses a URL whose host is an IP literal this policy does not permit
    /// (names are checked when resolved). Not a URL, no host: refused too.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), AddressRefused> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(ip.into()),
            Some(url::Host::Ipv6(ip)) => self.check_ip(ip.into()),
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(AddressRefused),
        }
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), AddressRefused> {
        if self.permits(ip) { Ok(()) } else { Err(AddressRefused) }
    }

    /// A reqwest client builder whose connections obey this policy: the
    /// guarded resolver, no proxy from the environment (it would connect on
    /// our behalf to an address nobody checked), redirects not followed.
    /// Callers still call [`AddressPolicy::check_url`] on each URL they send to.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(self.clone())))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
    }

    /// As [`AddressPolicy::client_builder`], following up to `max` redirects,
    /// each target checked like the first URL (for calls that carry no
    /// signature, such as webhooks).
    pub fn client_builder_following(&self, max: usize) -> reqwest::ClientBuilder {
        let policy = self.clone();
        self.client_builder().redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                attempt.error("too many redirects")
            } else if policy.check_url(attempt.url()).is_err() {
                attempt.error(AddressRefused)
            } else {
                attempt.follow()
            }
        }))
    }
}

impl fmt::Display for AddressPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unrestricted {
            return f.write_str("*");
        }
        let blocks: Vec<String> = self.allowed.iter().map(ToString::to_string).collect();
        f.write_str(&blocks.join(","))
    }
}

impl FromStr for AddressPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let blocks = s.split(',').filter(|b| !b.trim().is_empty()).map(str::parse).collect::<Result<Vec<_>, _>>()?;
        Ok(AddressPolicy::allowing(blocks))
    }
}

impl Serialize for AddressPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AddressPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim() == "*" {
            return Err(serde::de::Error::custom("an allow-list of every address is not accepted; name the blocks"));
        }
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Resolves names with the system resolver and keeps only the addresses
/// the policy permits; none left is a refusal.
#[derive(Debug)]
struct GuardedResolver(AddressPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| policy.permits(a.ip())).collect();
            if kept.is_empty() {
                return Err(Box::new(AddressRefused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_non_public_class_is_refused_and_public_addresses_pass() {
        let refused = [
            ("127.0.0.1", "loopback"),
            ("127.9.9.9", "loopback"),
            ("::1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("100.64.0.1", "shared address space (CGNAT)"),
            ("100.127.255.254", "shared address space (CGNAT)"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "IPv4-mapped"),
            ("::ffff:8.8.8.8", "IPv4-mapped"),
            ("fd00:ec2::254", "unique local (private)"),
            ("255.255.255.255", "broadcast"),
            ("64:ff9b::a00:1", "NAT64"),
            ("2002:a00:1::", "6to4"),
        ];
        let policy = AddressPolicy::public_only();
        for (addr, class) in refused {
            assert_eq!(non_public_class(ip(addr)), Some(class), "{addr}");
            assert!(!policy.permits(ip(addr)), "{addr}");
        }
        for public in ["8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111"] {
            assert_eq!(non_public_class(ip(public)), None, "{public}");
            assert!(policy.permits(ip(public)), "{public}");
        }
    }

    #[test]
    fn the_allow_list_admits_exactly_its_blocks() {
        let policy: AddressPolicy = "127.0.0.0/8, ::1 ,10.1.0.0/16".parse().unwrap();
        for ok in ["127.0.0.1", "127.255.0.3", "::1", "10.1.200.3", "8.8.8.8"] {
            assert!(policy.permits(ip(ok)), "{ok}");
        }
        for no in ["10.2.0.1", "169.254.169.254", "::2", "192.168.0.1", "::ffff:127.0.0.1"] {
            assert!(!policy.permits(ip(no)), "{no}");
        }
        assert_eq!(policy.to_string(), "127.0.0.0/8,::1/128,10.1.0.0/16");
        assert_eq!(policy.to_string().parse::<AddressPolicy>().unwrap(), policy);
        assert_eq!("".parse::<AddressPolicy>().unwrap(), AddressPolicy::public_only());
        for bad in ["10.0.0.0/33", "::/129", "localhost", "10.0.0.0/x"] {
            assert!(bad.parse::<AddressPolicy>().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<AddressPolicy>("\"*\"").is_err());
    }

    #[test]
    fn ip_literal_urls_are_checked_and_names_wait_for_resolution() {
        let policy = AddressPolicy::public_only();
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        for bad in [
            "https://127.0.0.1/x",
            "https://[::1]/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://[::ffff:7f00:1]/",
            "https://0x7f000001/",
            "https://2130706433/",
        ] {
            assert_eq!(policy.check_url(&url(bad)), Err(AddressRefused), "{bad}");
        }
        assert!(policy.check_url(&url("https://93.184.216.34/")).is_ok());
        assert!(policy.check_url(&url("https://127.evil.example/")).is_ok());
        assert!(AddressPolicy::allowing_loopback().check_url(&url("https://127.0.0.1/")).is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_at_resolution() {
        use reqwest::dns::Resolve;
        let guarded = GuardedResolver(AddressPolicy::public_only());
        let err = match guarded.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost resolved through the guard"),
            Err(e) => e,
        };
        assert!(is_refusal(err.as_ref()));
        assert_eq!(err.to_string(), REFUSED);
        let open = GuardedResolver(AddressPolicy::allowing_loopback());
        let addrs: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
