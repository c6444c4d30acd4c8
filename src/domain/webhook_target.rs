//! Where a partner webhook may be sent: only to the public internet, so an
//! admin account (or whoever holds one) cannot make the server call the
//! database host, a cloud metadata service or anything else on the clinic's
//! private network (server-side request forgery).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which targets a deployment accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Only `https` URLs (production); development also takes `http`.
    pub https_only: bool,
    /// Loopback addresses are accepted (development, for local receivers
    /// and tests); private, link-local and metadata ranges never are.
    pub allow_loopback: bool,
}

/// Why `address` may not receive webhooks, or `None` when it is public (or
/// loopback and the policy allows it).
pub fn refusal(address: IpAddr, policy: TargetPolicy) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => refusal_v4(v4, policy),
        IpAddr::V6(v6) => refusal_v6(v6, policy),
    }
}

fn refusal_v4(address: Ipv4Addr, policy: TargetPolicy) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    if address.is_loopback() {
        return (!policy.allow_loopback).then_some("a loopback address");
    }
    if address.is_private() {
        return Some("a private-network address");
    }
    if address.is_link_local() {
        return Some("a link-local or cloud metadata address");
    }
    let reserved = address.is_unspecified()
        || address.is_broadcast()
        || address.is_multicast()
        || address.is_documentation()
        // "This network" 0/8, shared carrier-grade NAT 100.64/10, IETF
        // protocol assignments 192.0.0/24, benchmarking 198.18/15 and the
        // reserved 240/4.
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240;
    reserved.then_some("a reserved address")
}

fn refusal_v6(address: Ipv6Addr, policy: TargetPolicy) -> Option<&'static str> {
    if address.is_loopback() {
        return (!policy.allow_loopback).then_some("a loopback address");
    }
    // IPv4 written as IPv6 (::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d) is
    // judged as the IPv4 address it reaches.
    let segments = address.segments();
    if let Some(v4) = address.to_ipv4_mapped() {
        return refusal_v4(v4, policy);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., high, low] = segments;
        let v4 = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        return refusal_v4(v4, policy);
    }
    let first = segments[0];
    if (first & 0xfe00) == 0xfc00 {
        return Some("a private-network address");
    }
    if (first & 0xffc0) == 0xfe80 {
        return Some("a link-local address");
    }
    let reserved = address.is_unspecified()
        || address.is_multicast()
        // IPv4-compatible ::a.b.c.d (deprecated), documentation 2001:db8::/32
        // and 6to4 2002::/16 (it tunnels to an embedded IPv4 address).
        || segments[..6] == [0; 6]
        || (first == 0x2001 && segments[1] == 0x0db8)
        || first == 0x2002;
    reserved.then_some("a reserved address")
}

/// Why a webhook URL's scheme is refused, if it is.
pub fn scheme_refusal(scheme: &str, policy: TargetPolicy) -> Option<&'static str> {
    match scheme {
        "https" => None,
        "http" if !policy.https_only => None,
        "http" => Some("webhooks must use https"),
        _ => Some("an http(s) URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCTION: TargetPolicy = TargetPolicy {
        https_only: true,
        allow_loopback: false,
    };
    const DEVELOPMENT: TargetPolicy = TargetPolicy {
        https_only: false,
        allow_loopback: true,
    };

    fn refused(address: &str, policy: TargetPolicy) -> bool {
        refusal(address.parse().unwrap(), policy).is_some()
    }

    #[test]
    fn public_addresses_are_accepted() {
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::6810:85e5",
            "1.1.1.1",
        ] {
            assert!(!refused(address, PRODUCTION), "{address}");
        }
    }

    #[test]
    fn the_database_host_metadata_and_private_ranges_are_refused() {
        for address in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.5",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.10",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            assert!(refused(address, PRODUCTION), "{address}");
        }
    }

    #[test]
    fn development_may_reach_loopback_but_nothing_else_private() {
        assert!(!refused("127.0.0.1", DEVELOPMENT));
        assert!(!refused("::1", DEVELOPMENT));
        assert!(!refused("::ffff:127.0.0.1", DEVELOPMENT));
        assert!(refused("10.0.0.5", DEVELOPMENT));
        assert!(refused("169.254.169.254", DEVELOPMENT));
    }

    #[test]
    fn production_takes_only_https() {
        assert_eq!(scheme_refusal("https", PRODUCTION), None);
        assert!(scheme_refusal("http", PRODUCTION).is_some());
        assert_eq!(scheme_refusal("http", DEVELOPMENT), None);
        assert!(scheme_refusal("ftp", DEVELOPMENT).is_some());
        assert!(scheme_refusal("file", DEVELOPMENT).is_some());
    }
}
