//! Which receivers a webhook may reach: the URL rules and the address ranges refused against
//! server-side request forgery (checked on a literal and on every DNS answer).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::domain::validate::url_length;

/// Which receivers a process may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPolicy {
    /// Deployed: `https` only, and only public addresses (never private, loopback,
    /// link-local or otherwise internal ones, checked again after DNS resolution).
    PublicHttps,
    /// The local server: `http` or `https`, loopback receivers allowed (other internal
    /// addresses are still refused).
    AllowLoopback,
}

impl UrlPolicy {
    /// Whether a receiver may be reached at `ip` under this policy.
    pub fn allows(self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || (self == Self::AllowLoopback && ip.is_loopback())
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as the IPv4 address they reach (a dual-stack
/// socket connects to that IPv4 address).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The IPv4 address an IPv6 address of a translation or tunnelling range carries, with the
/// range's name: a gateway on the path may deliver it to that IPv4 address, so such an address
/// is never a receiver (whatever the IPv4 address is: the range itself is refused).
fn embedded_ipv4(v6: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let seg = v6.segments();
    let last = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
    match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(("IPv4-mapped ::ffff:0:0/96", last)),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(("IPv4-translated ::ffff:0:0:0/96", last)),
        [0, 0, 0, 0, 0, 0, _, _] => Some(("IPv4-compatible ::/96", last)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(("NAT64 64:ff9b::/96", last)),
        // Local-use NAT64 (RFC 8215): the prefix length, hence the IPv4 position, is the
        // operator's; the usual /96 position is reported.
        [0x64, 0xff9b, 1, ..] => Some(("local NAT64 64:ff9b:1::/48", last)),
        [0x2002, a, b, ..] => Some((
            "6to4 2002::/16",
            Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8),
        )),
        // Teredo: the client's IPv4 address, obfuscated (every bit inverted).
        [0x2001, 0, ..] => Some(("Teredo 2001::/32", Ipv4Addr::from(!u32::from(last)))),
        _ => None,
    }
}

/// A globally routable unicast address: not private, loopback, link-local (where cloud
/// metadata services live), shared (carrier-grade NAT), unspecified, broadcast, multicast,
/// documentation, benchmarking or reserved, nor an IPv6 unique-local, link-local,
/// site-local, discard-only (`100::/64`) one, nor one of a range that embeds an IPv4 address
/// (NAT64, 6to4, Teredo, IPv4-translated or -compatible; IPv4-mapped ones are judged as the
/// IPv4 address they are).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] & 0xffc0) == 0xfec0
                || seg[0] == 0x2001 && seg[1] == 0x0db8
                || seg[..4] == [0x100, 0, 0, 0]
                || embedded_ipv4(v6).is_some())
        }
    }
}

/// A receiver URL under `policy`: scheme, host, no credentials, and when the host is an IP
/// literal, an allowed one. (Host names are checked when resolved, at creation and at every
/// delivery.)
pub fn check_url(input: &str, policy: UrlPolicy) -> Result<url::Url, String> {
    url_length(input)?;
    let url = url::Url::parse(input.trim()).map_err(|_| "must be an absolute URL".to_owned())?;
    match (url.scheme(), policy) {
        ("https", _) | ("http", UrlPolicy::AllowLoopback) => {}
        ("http", UrlPolicy::PublicHttps) => return Err("must use https".into()),
        _ => return Err("must be an http or https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let ip = match url.host() {
        None => return Err("must have a host".into()),
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
    };
    if ip.is_some_and(|ip| !policy.allows(ip)) {
        return Err("must not point to a private, loopback or link-local address".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn internal_addresses_are_refused_and_public_ones_allowed() {
        let internal = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
        ];
        for ip in internal {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip}");
            assert!(!UrlPolicy::PublicHttps.allows(ip), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(UrlPolicy::AllowLoopback.allows(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(UrlPolicy::AllowLoopback.allows(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(!UrlPolicy::AllowLoopback.allows("169.254.169.254".parse().unwrap()));
        assert!(!UrlPolicy::AllowLoopback.allows("10.0.0.1".parse().unwrap()));
    }

    /// Every IPv6 range that carries an IPv4 address, and the discard range, is refused under
    /// both policies, whichever IPv4 address it carries (the metadata service's, loopback or a
    /// public one), and the address it carries is read where the range puts it.

    #[test]
    fn ipv6_translation_tunnel_and_discard_ranges_are_refused() {
        let metadata = Ipv4Addr::new(169, 254, 169, 254);
        let cases = [
            ("64:ff9b::a9fe:a9fe", Some(metadata)),
            ("64:ff9b::808:808", Some(Ipv4Addr::new(8, 8, 8, 8))),
            ("64:ff9b:1::a9fe:a9fe", Some(metadata)),
            ("2002:a9fe:a9fe::1", Some(metadata)),
            ("2002:0808:0808::1", Some(Ipv4Addr::new(8, 8, 8, 8))),
            ("::ffff:0:a9fe:a9fe", Some(metadata)),
            ("::ffff:0:7f00:1", Some(Ipv4Addr::LOCALHOST)),
            // Teredo: server 65.54.227.120, client 169.254.169.254 (inverted: 5601:5601).
            ("2001:0:4136:e378:8000:63bf:5601:5601", Some(metadata)),
            ("::a9fe:a9fe", Some(metadata)),
            ("100::1", None),
            ("100::a9fe:a9fe", None),
        ];
        for (text, carried) in cases {
            let v6: Ipv6Addr = text.parse().unwrap();
            assert_eq!(embedded_ipv4(v6).map(|(_, v4)| v4), carried, "{text}");
            let ip = IpAddr::V6(v6);
            assert!(!is_public(ip), "{text}");
            assert!(!UrlPolicy::PublicHttps.allows(ip), "{text}");
            assert!(!UrlPolicy::AllowLoopback.allows(ip), "{text}");
            let url = format!("https://[{text}]/hook");
            assert!(check_url(&url, UrlPolicy::PublicHttps).is_err(), "{url}");
            assert!(check_url(&url, UrlPolicy::AllowLoopback).is_err(), "{url}");
        }
        // Neighbours of those ranges stay public.
        for text in ["64:ff9c::a9fe:a9fe", "2003::1", "2001:4860:4860::8888", "101::1"] {
            assert!(is_public(text.parse().unwrap()), "{text}");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_literal_addresses() {
        let strict = UrlPolicy::PublicHttps;
        assert!(check_url("https://hooks.example.com/shop", strict).is_ok());
        assert_eq!(check_url("http://hooks.example.com/", strict).unwrap_err(), "must use https");
        assert!(check_url("ftp://example.com/", strict).is_err());
        assert!(check_url("https://user:pw@example.com/", strict).is_err());
        assert!(check_url("https://127.0.0.1/", strict).is_err());
        assert!(check_url("https://[::ffff:10.0.0.1]/", strict).is_err());
        assert!(check_url("https://169.254.169.254/latest/meta-data", strict).is_err());
        assert!(check_url("https://2130706433/", strict).is_err(), "decimal 127.0.0.1");
        assert!(check_url("not a url", strict).is_err());
        let local = UrlPolicy::AllowLoopback;
        assert!(check_url("http://127.0.0.1:9000/hook", local).is_ok());
        assert!(check_url("http://10.0.0.1/hook", local).is_err());
    }
}
