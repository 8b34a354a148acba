//! Outbound HTTP for every channel that speaks it: redirects are never
//! followed (a 307 would re-POST a patient's data to wherever it points), no
//! more than [`MAX_RESPONSE_BYTES`] of any answer is read, and, unless a
//! board allows it, no connection is made to a loopback, private,
//! link-local or otherwise non-public address.
//!
//! The address check is in the client's DNS resolver, so the addresses
//! checked are the very ones connected to (a name that resolves to a public
//! address when checked and a private one a moment later cannot slip
//! through); a URL whose host is an address is checked before the request.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The most of any answer read: enough for every gateway's JSON and a
/// receiver's error page; the rest is never read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Which addresses a client may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addresses {
    /// Public addresses only.
    Public,
    /// Any address: for a board whose settings allow private addresses
    /// (`allow_private_addresses`), and for the deployment's own gateways.
    Any,
}

/// A connection refused because of the address it would go to.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{target} is a {kind} address, and the board's settings do not allow private addresses (allow_private_addresses): not sent"
)]
pub struct RefusedAddress {
    /// `10.0.0.7`, or `gp.example (10.0.0.7)` for a name.
    pub target: String,
    pub kind: &'static str,
}

/// An HTTP client that follows no redirect, gives up after `timeout`, and
/// connects only to the `addresses` allowed.
pub fn client(timeout: Duration, addresses: Addresses) -> reqwest::Result<reqwest::Client> {
    pathway_common::tls::install_crypto_provider();
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    match addresses {
        Addresses::Any => builder.build(),
        Addresses::Public => builder.dns_resolver(Arc::new(PublicOnly)).build(),
    }
}

/// Refuse a URL whose host is a non-public address (names are checked by
/// the resolver, when they are resolved). A URL that does not parse passes:
/// the request itself says why it cannot be made.
pub fn check_url(url: &str, addresses: Addresses) -> Result<(), RefusedAddress> {
    if addresses == Addresses::Any {
        return Ok(());
    }
    let Ok(url) = reqwest::Url::parse(url) else {
        return Ok(());
    };
    let host = url.host_str().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let Ok(ip) = host.parse::<IpAddr>() else {
        return Ok(());
    };
    match non_public(ip) {
        Some(kind) => Err(RefusedAddress {
            target: ip.to_string(),
            kind,
        }),
        None => Ok(()),
    }
}

/// The refusal somewhere in `error`'s causes, if that is why it failed.
pub fn refused_address<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a RefusedAddress> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(refused) = error.downcast_ref::<RefusedAddress>() {
            return Some(refused);
        }
        cause = error.source();
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

/// A resolver that gives the system's addresses for a name only when every
/// one of them is public.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some((ip, kind)) = addrs
                .iter()
                .find_map(|addr| non_public(addr.ip()).map(|kind| (addr.ip(), kind)))
            {
                return Err(Box::new(RefusedAddress {
                    target: format!("{host} ({ip})"),
                    kind,
                }) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// At most [`MAX_RESPONSE_BYTES`] of an answer's body.
#[derive(Debug, Default)]
pub struct Capped {
    pub bytes: Vec<u8>,
    /// The answer had more, which was not read.
    pub truncated: bool,
}

impl Capped {
    /// The body as text, with what could not be decoded replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Read at most [`MAX_RESPONSE_BYTES`] of `response`'s body; the rest is
/// left unread (the connection is closed with the response).
pub async fn read_capped(mut response: reqwest::Response) -> reqwest::Result<Capped> {
    let mut capped = Capped::default();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_RESPONSE_BYTES - capped.bytes.len();
        if chunk.len() > room {
            capped.bytes.extend_from_slice(&chunk[..room]);
            capped.truncated = true;
            break;
        }
        capped.bytes.extend_from_slice(&chunk);
    }
    Ok(capped)
}

#[cfg(test)]
#[path = "tests/http.rs"]
mod tests;
