//! [`CidrList`]: a list of IPv4 and IPv6 networks that an address is checked against.
//!
//! Addresses are compared in canonical form: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
//! what a dual-stack socket reports for an IPv4 peer) matches IPv4 networks, and a mapped
//! network written in IPv6 form is stored as the IPv4 network it means. An empty list contains
//! nothing; allowing everyone must be written out (`0.0.0.0/0`, `::/0`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};

/// An ordered list of networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrList {
    nets: Vec<IpNet>,
}

/// Why an entry of a CIDR list did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry:?} is not an IP address or CIDR network")]
pub struct CidrParseError {
    /// The offending entry, as written.
    pub entry: String,
}

impl CidrList {
    /// Parses every entry; a bare address means a single host (`/32` or `/128`).
    /// Returns the index of the first bad entry with its error.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, (usize, CidrParseError)> {
        let nets = entries
            .iter()
            .enumerate()
            .map(|(i, e)| parse_net(e.as_ref()).map_err(|err| (i, err)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { nets })
    }

    /// True if `ip` (in canonical form) is inside any network of the list.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// True if the list has no networks (and so contains nothing).
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The networks, in canonical form.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }
}

impl FromStr for CidrList {
    type Err = CidrParseError;

    /// Parses a comma-separated list; entries are trimmed (unlike OBP's `dauth.host`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let entries: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        Self::parse(&entries).map_err(|(_, e)| e)
    }
}

impl fmt::Display for CidrList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

fn parse_net(entry: &str) -> Result<IpNet, CidrParseError> {
    let entry = entry.trim();
    let err = || CidrParseError {
        entry: entry.to_owned(),
    };
    let net = match entry.parse::<IpNet>() {
        Ok(net) => net,
        // Nothing to keep: the entry is named in the error, which says what it must be.
        Err(_) => IpNet::from(entry.parse::<IpAddr>().map_err(|_| err())?),
    };
    Ok(canonical_net(net.trunc()))
}

/// `::ffff:a.b.c.d/p` with `p >= 96` is the IPv4 network `a.b.c.d/(p-96)`.
fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && let Ok(v4net) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(v4net);
    }
    net
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> CidrList {
        CidrList::parse(entries).unwrap()
    }

    #[test]
    fn ipv4_mapped_v6_peer_matches_v4_cidr() {
        let l = list(&["127.0.0.1/32"]);
        assert!(l.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!l.contains("::ffff:127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn mapped_network_written_as_v6_matches_v4_peer() {
        let l = list(&["::ffff:10.0.0.0/104"]);
        assert!(l.contains("10.1.2.3".parse().unwrap()));
        assert!(!l.contains("11.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bare_addresses_are_single_hosts_and_v6_forms_normalise() {
        let l = list(&["10.0.0.2", "0:0:0:0:0:0:0:1"]);
        assert!(l.contains("10.0.0.2".parse().unwrap()));
        assert!(!l.contains("10.0.0.3".parse().unwrap()));
        assert!(l.contains("::1".parse().unwrap()));
    }

    #[test]
    fn empty_list_contains_nothing() {
        assert!(!CidrList::default().contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_entry_is_reported_with_its_index() {
        let (i, e) = CidrList::parse(&["10.0.0.0/8", "10.0.0.300/8"]).unwrap_err();
        assert_eq!(i, 1);
        assert_eq!(e.entry, "10.0.0.300/8");
    }

    #[test]
    fn comma_separated_entries_are_trimmed() {
        let l: CidrList = "127.0.0.1, 10.0.0.2".parse().unwrap();
        assert!(l.contains("10.0.0.2".parse().unwrap()));
    }
}
