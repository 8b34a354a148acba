use axum::http::{HeaderMap, HeaderValue};

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

fn trusting(networks: &[&str]) -> TrustedProxies {
    TrustedProxies::new(
        networks
            .iter()
            .map(|n| n.parse().expect("a network"))
            .collect(),
    )
}

fn forwarded_for(values: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_str(value).expect("a header value"),
        );
    }
    headers
}

#[test]
fn without_trusted_proxies_the_header_is_ignored() {
    let headers = forwarded_for(&["203.0.113.9"]);
    assert_eq!(
        TrustedProxies::default().client(ip("10.0.0.5"), &headers),
        ip("10.0.0.5")
    );
}

#[test]
fn a_trusted_proxy_names_the_client() {
    let proxies = trusting(&["10.0.0.0/8"]);
    let headers = forwarded_for(&["203.0.113.9"]);
    assert_eq!(proxies.client(ip("10.0.0.5"), &headers), ip("203.0.113.9"));
}

#[test]
fn what_the_client_wrote_to_the_left_is_not_believed() {
    // The client sent "X-Forwarded-For: 198.51.100.1" itself; the proxy appended the real address.
    let proxies = trusting(&["10.0.0.0/8"]);
    let headers = forwarded_for(&["198.51.100.1, 203.0.113.9"]);
    assert_eq!(proxies.client(ip("10.0.0.5"), &headers), ip("203.0.113.9"));
}

#[test]
fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
    let proxies = trusting(&["10.0.0.0/8", "192.168.1.1/32"]);
    let headers = forwarded_for(&["203.0.113.9, 192.168.1.1", "10.1.2.3"]);
    assert_eq!(proxies.client(ip("10.0.0.5"), &headers), ip("203.0.113.9"));
}

#[test]
fn a_peer_not_trusted_is_the_client_whatever_it_says() {
    let proxies = trusting(&["10.0.0.0/8"]);
    let headers = forwarded_for(&["10.0.0.1"]);
    assert_eq!(
        proxies.client(ip("203.0.113.50"), &headers),
        ip("203.0.113.50")
    );
}

#[test]
fn garbage_stops_the_walk_at_the_last_trusted_hop() {
    let proxies = trusting(&["10.0.0.0/8"]);
    let headers = forwarded_for(&["not-an-address"]);
    assert_eq!(proxies.client(ip("10.0.0.5"), &headers), ip("10.0.0.5"));
    assert_eq!(
        proxies.client(ip("10.0.0.5"), &HeaderMap::new()),
        ip("10.0.0.5")
    );
}
