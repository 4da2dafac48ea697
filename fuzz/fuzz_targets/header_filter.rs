//! A client's header list -> `proxy::headers::prepare_request_headers`, anonymous and as a
//! principal.
//!
//! Input layout: see `dauth_proxy_fuzz::inputs::FilterInput`.
//! Properties: no identity-like header, hop-by-hop header or header named in `Connection`
//! survives (except the forwarding headers the gateway itself sets); exactly one
//! `X-Forwarded-For` ending in the peer; with a principal, each identity header appears exactly
//! once with the principal's value.

#![no_main]

use dauth_proxy_fuzz::filter::{check_anonymous, check_principal, filter};
use dauth_proxy_fuzz::inputs::{FilterInput, principal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: FilterInput| {
    let anonymous = filter(&input, None);
    check_anonymous(&input, &anonymous);
    let who = principal();
    let authenticated = filter(&input, Some(&who));
    check_principal(&input, &authenticated, &who);
});
