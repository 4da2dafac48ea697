//! Peer address, trusted proxies and `X-Forwarded-For` values -> `net::client_ip`.
//!
//! Input layout: see `dauth_proxy_fuzz::inputs::ClientIpInput`.
//! Properties: an untrusted peer is the caller (canonical form) whatever the header says; behind
//! a trusted peer the caller is the peer or an address written in the header, and when the
//! right-most hop is readable and not trusted, it is that hop.

#![no_main]

use dauth_proxy::net::client_ip;
use dauth_proxy_fuzz::inputs::ClientIpInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = ClientIpInput::decode(data) else {
        return;
    };
    let peer = input.peer.to_canonical();
    let caller = client_ip(input.peer, &input.headers, &input.trusted);
    if !input.trusted.contains(peer) {
        assert_eq!(caller, peer, "untrusted peer's header was believed");
        return;
    }
    let hops = input.written_hops();
    assert!(
        caller == peer || hops.contains(&Some(caller)),
        "{caller} is neither the peer {peer} nor written in {hops:?}"
    );
    if let Some(Some(last)) = hops.last()
        && !input.trusted.contains(*last)
    {
        assert_eq!(caller, *last, "right-most untrusted hop was skipped");
    }
});
