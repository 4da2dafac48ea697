//! Which address a request comes from.
//!
//! The caller is the TCP peer, unless the peer is a trusted proxy: then it is the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy. Walking right to left matters:
//! the left of the chain is whatever the client wrote, and only entries appended by proxies we
//! trust can be believed (oauth2-proxy#1778). With no trusted proxies configured the header is
//! never read.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

use super::allow::CidrList;

/// `X-Forwarded-For`, parsed once (the `http` crate names no such constant).
pub const X_FORWARDED_FOR: http::HeaderName = http::HeaderName::from_static("x-forwarded-for");

/// The caller's address for `peer` and `headers`, given the trusted proxies.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &CidrList) -> IpAddr {
    let mut current = peer.to_canonical();
    if !trusted.contains(current) {
        return current;
    }
    let chain = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for entry in chain.iter().rev() {
        match parse_hop(entry) {
            Some(hop) => {
                current = hop;
                if !trusted.contains(hop) {
                    return hop;
                }
            }
            // An unreadable hop ends what can be believed: the last trusted hop is the caller.
            None => return current,
        }
    }
    current
}

/// Reads one hop: an address, optionally with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<SocketAddr>()
        .ok()
        .map(|sa| sa.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted() -> CidrList {
        CidrList::parse(&["10.0.0.0/8"]).unwrap()
    }

    #[test]
    fn untrusted_peer_header_is_ignored() {
        let h = headers(&["1.2.3.4"]);
        assert_eq!(client_ip(ip("5.6.7.8"), &h, &trusted()), ip("5.6.7.8"));
    }

    #[test]
    fn trusted_peer_gives_rightmost_untrusted_hop() {
        let h = headers(&["6.6.6.6, 1.2.3.4, 10.0.0.9"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted()), ip("1.2.3.4"));
    }

    #[test]
    fn forged_leftmost_entry_is_not_believed() {
        // The client wrote 127.0.0.1; the trusted proxy appended the real address.
        let h = headers(&["127.0.0.1", "203.0.113.7"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted()), ip("203.0.113.7"));
    }

    #[test]
    fn all_trusted_chain_gives_leftmost_hop() {
        let h = headers(&["10.1.1.1, 10.2.2.2"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted()), ip("10.1.1.1"));
    }

    #[test]
    fn garbage_hop_stops_at_last_trusted() {
        let h = headers(&["1.1.1.1, garbage, 10.2.2.2"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted()), ip("10.2.2.2"));
    }

    #[test]
    fn trusted_peer_without_header_is_itself() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn mapped_peer_and_ports_are_canonicalised() {
        let h = headers(&["[2001:db8::1]:443, 1.2.3.4:5678"]);
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &h, &trusted()),
            ip("1.2.3.4")
        );
    }
}
