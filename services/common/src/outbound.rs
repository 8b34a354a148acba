//! Outbound HTTP to addresses a board names (notification's channels,
//! intake's FHIR subscriptions): redirects are never
//! followed (a 307 would re-POST a patient's data to wherever it points), no
//! more than [`MAX_RESPONSE_BYTES`] of any answer is read, and, unless a
//! board allows it, no connection is made to a loopback, private,
//! link-local or otherwise non-public address.
//!
//! The address check is in the client's DNS resolver, so the addresses
//! checked are the very ones connected to (a name that resolves to a public
//! address when checked and a private one a moment later cannot slip
//! through); a URL whose host is an address is checked before the request.
//! No proxy is used, whatever `HTTPS_PROXY` or `HTTP_PROXY` say.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
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
    crate::tls::install_crypto_provider();
    // No proxy from HTTPS_PROXY or HTTP_PROXY: a proxy would resolve the
    // names itself, out of reach of the address check below, and would see
    // every message; a variable set for something else must not reroute
    // patients' data.
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
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

/// What kind of non-public address `ip` is; `None` for a public one (the
/// rule board settings are checked with too).
pub use pathway_proto::board::non_public;

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
