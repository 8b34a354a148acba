//! Where a request came from, for the audit trail: the peer's address, or,
//! when the peer is one of the reverse proxies the deployment trusts
//! (`http.trusted_proxies`), the address that proxy says it forwarded for.
//!
//! `X-Forwarded-For` is read from the right: each proxy appends the address
//! it received the request from, so the right-most entry not itself a
//! trusted proxy is the client. Entries to its left were written by the
//! client and are never believed; with no trusted proxy configured the
//! header is ignored altogether.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(Arc::new(networks))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            if !self.trusts(client) {
                break;
            }
            match entry.parse::<IpAddr>() {
                Ok(address) => client = address,
                // Garbage from further left: keep the last address we trust to be true.
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
#[path = "tests/forwarded.rs"]
mod tests;
