//! Kubernetes' ip and cidr libraries: `ip()`, `isIP()`, `ip.isCanonical()`, `cidr()`,
//! `isCIDR()` and their methods, with Go's `net/netip` rules (no zones, no IPv4-mapped IPv6,
//! no leading zeros in IPv4 octets or prefix lengths). std's parsers refuse what netip
//! refuses here; `ipnet` does the prefix arithmetic.

use std::net::IpAddr;

use cel::common::types::{CelBool, CelInt, CelString};
use cel::{DeclarationError, Env, ExecutionError};
use ipnet::IpNet;

use super::env::{fail, opaque};

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Ip(IpAddr);

/// A prefix as written: `192.168.0.1/24` keeps its address (`.ip()`), `masked()` drops it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Cidr(IpNet);

opaque!(Ip, IP_TYPE, "net.IP");
opaque!(Cidr, CIDR_TYPE, "net.CIDR");

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn ip: (CelString) -> Result<Ip>)?;
    cel::add_overload!(env, fn is_ip: (CelString) -> CelBool, name = "isIP")?;
    cel::add_overload!(env, fn is_canonical: (CelString) -> CelBool, name = "ip.isCanonical")?;
    cel::add_overload!(env, fn ip_string: (Ip) -> CelString, name = "string", id = "ip_to_string")?;
    cel::add_member_overload!(env, fn family: (Ip) -> CelInt)?;
    cel::add_member_overload!(env, fn is_unspecified: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_loopback: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_link_local_multicast: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_link_local_unicast: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_global_unicast: (Ip) -> CelBool)?;

    cel::add_overload!(env, fn cidr: (CelString) -> Result<Cidr>)?;
    cel::add_overload!(env, fn is_cidr: (CelString) -> CelBool, name = "isCIDR")?;
    cel::add_overload!(env, fn cidr_string: (Cidr) -> CelString, name = "string", id = "cidr_to_string")?;
    cel::add_member_overload!(env, fn contains_ip: (Cidr, Ip) -> CelBool, name = "containsIP")?;
    cel::add_member_overload!(env, fn contains_ip_string: (Cidr, CelString) -> Result<CelBool>,
        name = "containsIP")?;
    cel::add_member_overload!(env, fn contains_cidr: (Cidr, Cidr) -> CelBool, name = "containsCIDR")?;
    cel::add_member_overload!(env, fn contains_cidr_string: (Cidr, CelString) -> Result<CelBool>,
        name = "containsCIDR")?;
    cel::add_member_overload!(env, fn cidr_ip: (Cidr) -> Ip, name = "ip")?;
    cel::add_member_overload!(env, fn masked: (Cidr) -> Cidr)?;
    cel::add_member_overload!(env, fn prefix_length: (Cidr) -> CelInt)?;
    Ok(())
}

pub(super) fn parse_ip(raw: &str) -> Result<IpAddr, String> {
    if raw.contains('%') {
        return Err(format!("IP address {raw:?} with zone value is not allowed"));
    }
    let addr: IpAddr = raw.parse().map_err(|_| {
        format!("IP Address {raw:?} parse error during conversion from string: ParseAddr({raw:?}): invalid IP address")
    })?;
    if let IpAddr::V6(v6) = addr {
        if v6.to_ipv4_mapped().is_some() {
            return Err(format!("IPv4-mapped IPv6 address {raw:?} is not allowed"));
        }
    }
    Ok(addr)
}

fn parse_cidr(raw: &str) -> Result<IpNet, String> {
    let bad = || {
        format!(
            "network address parse error during conversion from string: netip.ParsePrefix({raw:?}): invalid prefix"
        )
    };
    let (addr, bits) = raw.split_once('/').ok_or_else(bad)?;
    // netip: decimal bits, no sign, no leading zero.
    if bits.is_empty()
        || !bits.bytes().all(|c| c.is_ascii_digit())
        || (bits.len() > 1 && bits.starts_with('0'))
    {
        return Err(bad());
    }
    if addr.contains('%') {
        return Err(bad());
    }
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    if let IpAddr::V6(v6) = addr {
        if v6.to_ipv4_mapped().is_some() {
            return Err(format!("IPv4-mapped IPv6 address {raw:?} is not allowed"));
        }
    }
    let bits: u8 = bits.parse().map_err(|_| bad())?;
    IpNet::new(addr, bits).map_err(|_| bad())
}

fn ip(s: &CelString<'_>) -> Result<Ip, ExecutionError> {
    parse_ip(s.inner()).map(Ip).map_err(|e| fail("ip", e))
}

fn is_ip(s: &CelString<'_>) -> CelBool {
    parse_ip(s.inner()).is_ok().into()
}

fn is_canonical(s: &CelString<'_>) -> CelBool {
    parse_ip(s.inner())
        .is_ok_and(|a| a.to_string() == s.inner())
        .into()
}

fn ip_string(ip: &Ip) -> CelString<'static> {
    ip.0.to_string().into()
}

fn family(ip: &Ip) -> CelInt {
    if ip.0.is_ipv4() { 4 } else { 6 }.into()
}

fn is_unspecified(ip: &Ip) -> CelBool {
    ip.0.is_unspecified().into()
}

fn is_loopback(ip: &Ip) -> CelBool {
    ip.0.is_loopback().into()
}

/// Go: 224.0.0.0/24, and IPv6 multicast of link-local scope (ffx2::/16).
fn is_link_local_multicast(ip: &Ip) -> CelBool {
    match ip.0 {
        IpAddr::V4(a) => a.octets()[..3] == [224, 0, 0],
        IpAddr::V6(a) => a.segments()[0] & 0xff0f == 0xff02,
    }
    .into()
}

fn link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn is_link_local_unicast(ip: &Ip) -> CelBool {
    link_local_unicast(ip.0).into()
}

/// Go's IsGlobalUnicast: private ranges and ULAs count as global.
fn is_global_unicast(ip: &Ip) -> CelBool {
    let a = ip.0;
    let v4_special = matches!(a, IpAddr::V4(v) if v.is_broadcast());
    (!v4_special
        && !a.is_unspecified()
        && !a.is_loopback()
        && !a.is_multicast()
        && !link_local_unicast(a))
    .into()
}

fn cidr(s: &CelString<'_>) -> Result<Cidr, ExecutionError> {
    parse_cidr(s.inner()).map(Cidr).map_err(|e| fail("cidr", e))
}

fn is_cidr(s: &CelString<'_>) -> CelBool {
    parse_cidr(s.inner()).is_ok().into()
}

fn cidr_string(c: &Cidr) -> CelString<'static> {
    c.0.to_string().into()
}

fn contains(net: &IpNet, ip: IpAddr) -> bool {
    // netip: an IPv4 prefix never contains an IPv6 address and the reverse.
    net.contains(&ip)
}

fn contains_ip(c: &Cidr, ip: &Ip) -> CelBool {
    contains(&c.0, ip.0).into()
}

fn contains_ip_string(c: &Cidr, s: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let ip = parse_ip(s.inner()).map_err(|e| fail("containsIP", e))?;
    Ok(contains(&c.0, ip).into())
}

fn contains_cidr_net(c: &IpNet, other: &IpNet) -> bool {
    other.prefix_len() >= c.prefix_len() && contains(&c.trunc(), other.network())
}

fn contains_cidr(c: &Cidr, other: &Cidr) -> CelBool {
    contains_cidr_net(&c.0, &other.0).into()
}

fn contains_cidr_string(c: &Cidr, s: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let other = parse_cidr(s.inner()).map_err(|e| fail("containsCIDR", e))?;
    Ok(contains_cidr_net(&c.0, &other).into())
}

fn cidr_ip(c: &Cidr) -> Ip {
    Ip(c.0.addr())
}

fn masked(c: &Cidr) -> Cidr {
    Cidr(c.0.trunc())
}

fn prefix_length(c: &Cidr) -> CelInt {
    i64::from(c.0.prefix_len()).into()
}
