//! Where a board's webhooks may go: the hosts its settings list
//! (`notification.allowed_hosts`), over https, to public addresses unless the
//! board allows private ones (`notification.allow_private_addresses`).
//!
//! The same rules are applied when a board saves its settings (intake), when a
//! referral names its own webhook reply address (intake), and again when a
//! message is sent (notification), so a rule missed at one place is still
//! kept at the next.
//!
//! An empty allow-list allows no host at all: a board that wants webhooks
//! lists every host they go to, its own GP system and receiving services
//! included.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest host pattern accepted, in characters (a DNS name's limit).
const MAX_HOST_CHARS: usize = 253;

/// Why `pattern` cannot be an entry of `allowed_hosts`, if it cannot: a
/// lower-case host name (`gp.highland.example`), a wildcard over one or more
/// labels before a name of at least two labels (`*.nhs.scot`), or an IP
/// address (`10.0.0.7`, `::1`).
pub fn host_pattern_problem(pattern: &str) -> Option<&'static str> {
    if pattern.parse::<IpAddr>().is_ok() {
        return None;
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    if pattern.is_empty() || pattern.len() > MAX_HOST_CHARS {
        return Some("must be a host name of 1 to 253 characters");
    }
    if pattern != pattern.to_ascii_lowercase() {
        return Some("must be lower case");
    }
    let labels: Vec<&str> = name.split('.').collect();
    let valid_labels = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    });
    if !valid_labels {
        return Some(
            "must be a host name (labels of letters, digits, hyphens), `*.` and a host name, or an IP address",
        );
    }
    if name.len() != pattern.len() && labels.len() < 2 {
        return Some(
            "a wildcard must keep at least two labels (`*.nhs.scot`, not `*.scot`): it would allow a whole top-level domain",
        );
    }
    None
}

/// Whether `host` (as [`url_host`] gives it) is on `allowed`: equal to an
/// entry, or under a `*.` entry's name (`*.nhs.scot` allows `gp.nhs.scot`
/// and `a.b.nhs.scot`, not `nhs.scot`).
pub fn host_allowed(allowed: &[String], host: &str) -> bool {
    allowed
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(suffix) => host
                .strip_suffix(suffix)
                .and_then(|rest| rest.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty()),
            None => pattern == host,
        })
}

/// The host of `url` as allow-lists name it: lower case, an IPv6 address
/// without brackets, no trailing dot.
pub fn url_host(url: &url::Url) -> Option<String> {
    let host = match url.host()? {
        url::Host::Domain(name) => name.trim_end_matches('.').to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    Some(host)
}

/// Why a board may not send webhooks to `url`, if it may not: it is not an
/// https URL (plain http only to a loopback address, for a board that allows
/// private addresses), its host is a non-public address the board does not
/// allow, or its host is not on `allowed_hosts`.
pub fn webhook_url_problem(
    url: &str,
    allowed_hosts: &[String],
    allow_private_addresses: bool,
) -> Option<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("must be an https:// URL".into());
    };
    let Some(host) = url_host(&parsed) else {
        return Some("must be an https:// URL with a host".into());
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some(
            "must not carry credentials: receivers check Pathway's signature instead".into(),
        );
    }
    let address = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    let loopback = match address {
        Some(ip) => ip.is_loopback(),
        None => host == "localhost" || host.ends_with(".localhost"),
    };
    let kind = match address {
        Some(ip) => non_public(ip),
        None if loopback => Some("loopback"),
        None => None,
    };
    if let Some(kind) = kind
        && !allow_private_addresses
    {
        return Some(format!(
            "{host} is a {kind} address, and the board's settings do not allow private addresses (allow_private_addresses)"
        ));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if loopback && allow_private_addresses => {}
        "http" => {
            return Some(
                "must be https: plain http is only for a loopback address, with allow_private_addresses"
                    .into(),
            );
        }
        _ => return Some("must be an https:// URL".into()),
    }
    if !host_allowed(allowed_hosts, &host) {
        return Some(format!(
            "the host {host} is not on the board's allowed hosts (notification.allowed_hosts)"
        ));
    }
    None
}

/// What kind of non-public address `ip` is; `None` for a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => non_public_v4(ip),
        IpAddr::V6(ip) => non_public_v6(ip),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "\"this network\" (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private (RFC 1918)",
        (172, 16..=31, _) => "private (RFC 1918)",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (carrier-grade NAT, 100.64.0.0/10)",
        (192, 0, 0) => "IETF protocol assignment (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    Some(match s[0] {
        0xfc00..=0xfdff => "unique local (fc00::/7)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local (fec0::/10)",
        0xff00..=0xffff => "multicast",
        // 6to4: the IPv4 address in the next 32 bits.
        0x2002 => {
            let v4 = Ipv4Addr::new(
                (s[1] >> 8) as u8,
                (s[1] & 0xff) as u8,
                (s[2] >> 8) as u8,
                (s[2] & 0xff) as u8,
            );
            return non_public_v4(v4);
        }
        0x2001 if s[1] == 0x0db8 => "documentation",
        // Teredo, benchmarking, ORCHID and other protocol assignments.
        0x2001 if s[1] < 0x0200 => "IETF protocol assignment (2001::/23)",
        0x3fff if s[1] < 0x1000 => "documentation",
        // Global unicast.
        0x2000..=0x3fff => return None,
        // NAT64 (64:ff9b::/96, 64:ff9b:1::/48), IPv4-compatible,
        // discard-only and every range not yet given out.
        _ => "non-global (outside 2000::/3)",
    })
}
