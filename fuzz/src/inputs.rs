//! Inputs of the `header_filter` and `client_ip` targets: decoding, and encoding for seeds.
//!
//! Both inputs are a short fixed-size prefix followed by text, so seed files stay readable and
//! libFuzzer's mutations of the text part look like header edits:
//! - `header_filter`: a [`FilterContext`] decoded with `arbitrary` (22 bytes: 16 address bytes
//!   and 6 flags), then `name: value` lines;
//! - `client_ip`: 16 address bytes (the peer), then a first line with the trusted CIDR list
//!   (comma-separated; empty means [`DEFAULT_TRUSTED`]), then one `X-Forwarded-For` value per
//!   line.

use std::net::{IpAddr, Ipv6Addr};

use arbitrary::{Arbitrary, Unstructured};
use dauth_proxy::auth::{AuthMethod, Principal};
use dauth_proxy::net::CidrList;
use dauth_proxy::store::model::{User, UserKind};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The trusted proxies of a `client_ip` input whose first line is empty.
pub const DEFAULT_TRUSTED: &str = "10.0.0.0/8, 192.168.0.0/16, fd00::/8, ::1";

/// The request-level facts `prepare_request_headers` is given.
#[derive(Debug, Clone, Arbitrary)]
pub struct FilterContext {
    /// The TCP peer, as 16 bytes (an IPv4-mapped value is an IPv4 peer).
    pub peer: [u8; 16],
    /// Pass the peer as `IpAddr::V4` when it is IPv4-mapped.
    pub peer_as_v4: bool,
    /// `ForwardContext::peer_trusted`.
    pub peer_trusted: bool,
    /// `ForwardContext::tls`.
    pub tls: bool,
    /// `ForwardContext::forward_token`.
    pub forward_token: bool,
    /// `ForwardContext::preserve_host`.
    pub preserve_host: bool,
    /// Take `ForwardContext::host` from the first `Host` header.
    pub host_from_header: bool,
}

/// One `header_filter` input: the context and the client's header list, in order.
#[derive(Debug, Clone)]
pub struct FilterInput {
    /// The context.
    pub ctx: FilterContext,
    /// The client's headers (lines that are not a valid name and value are skipped).
    pub headers: HeaderMap,
}

impl<'a> Arbitrary<'a> for FilterInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let ctx = FilterContext::arbitrary(u)?;
        let rest = u.bytes(u.len())?;
        Ok(Self {
            ctx,
            headers: header_lines(rest),
        })
    }
}

impl FilterContext {
    /// The peer address as the server would report it.
    pub fn peer(&self) -> IpAddr {
        let v6 = Ipv6Addr::from(self.peer);
        match v6.to_ipv4_mapped() {
            Some(v4) if self.peer_as_v4 => IpAddr::V4(v4),
            _ => IpAddr::V6(v6),
        }
    }

    /// Encodes the context as the 22-byte prefix `arbitrary` decodes (for seed files).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.peer.to_vec();
        out.extend(
            [
                self.peer_as_v4,
                self.peer_trusted,
                self.tls,
                self.forward_token,
                self.preserve_host,
                self.host_from_header,
            ]
            .map(u8::from),
        );
        out
    }
}

/// Parses `name: value` lines; a line without `:` is a name with an empty value.
pub fn header_lines(text: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in text.split(|&b| b == b'\n') {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => (&line[..i], trim_start(&line[i + 1..])),
            None => (line, &[][..]),
        };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}

fn trim_start(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    &b[start..]
}

/// The principal the filter target authenticates as.
pub fn principal() -> Principal {
    Principal {
        user: User {
            user_id: "6f0c0a52-2d8e-4b52-9a1c-6a4c3c1f2b7e".into(),
            kind: UserKind::Dauth,
            provider: "ETHEREUM".into(),
            username: "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045".into(),
            created_at: 0,
        },
        method: AuthMethod::Dauth,
        consumer_key: Some("fuzz-consumer".into()),
        msg_sender: Some("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".into()),
        bearer: None,
        relay: None,
    }
}

/// One `client_ip` input.
#[derive(Debug, Clone)]
pub struct ClientIpInput {
    /// The TCP peer.
    pub peer: IpAddr,
    /// `server.trusted_proxies`.
    pub trusted: CidrList,
    /// The request headers: zero or more `X-Forwarded-For` values.
    pub headers: HeaderMap,
}

impl ClientIpInput {
    /// Decodes the layout in the module docs; `None` when too short or the CIDR list is bad.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let (peer, rest) = data.split_first_chunk::<16>()?;
        let mut lines = rest.split(|&b| b == b'\n');
        let first = std::str::from_utf8(lines.next().unwrap_or_default()).ok()?;
        let trusted = if first.trim().is_empty() {
            DEFAULT_TRUSTED
        } else {
            first
        };
        let trusted = trusted.parse::<CidrList>().ok()?;
        let mut headers = HeaderMap::new();
        for line in lines {
            if let Ok(v) = HeaderValue::from_bytes(line) {
                headers.append("x-forwarded-for", v);
            }
        }
        Some(Self {
            peer: IpAddr::V6(Ipv6Addr::from(*peer)),
            trusted,
            headers,
        })
    }

    /// Encodes a seed: `peer`, the trusted list line (may be empty), one line per value.
    pub fn encode(peer: IpAddr, trusted: &str, xff: &[&str]) -> Vec<u8> {
        let v6 = match peer {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        let mut out = v6.octets().to_vec();
        out.extend_from_slice(trusted.as_bytes());
        for v in xff {
            out.push(b'\n');
            out.extend_from_slice(v.as_bytes());
        }
        out
    }

    /// Every address written in the readable `X-Forwarded-For` values (ports dropped).
    pub fn written_hops(&self) -> Vec<Option<IpAddr>> {
        self.headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| {
                let hop = hop.trim();
                hop.parse::<IpAddr>()
                    .ok()
                    .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
                    .map(|ip| ip.to_canonical())
            })
            .collect()
    }
}
