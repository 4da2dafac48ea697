//! A JSON body -> every embedded endpoint that reads one, through the gateway's pipeline in
//! this process, without a socket (routing, authentication, the body's read, the handler).
//!
//! Input layout: the first byte picks the endpoint (modulo the number of endpoints; see
//! `dauth_proxy_fuzz::gateway::ENDPOINTS`), the rest is the body; `$CALLER`, `$OTHER` and
//! `$REFRESH` in it become a real user id or refresh token. Each endpoint gets the credentials
//! it needs, so the body is read.
//! Properties: never a 5xx; a 2xx body is JSON; every other answer is `{"code": <status>,
//! "message": "<OBP-|DAUTH-><digits>: ..."}`; a body that is not JSON answers 400 `OBP-10001`;
//! a response body never fails (a panic in the gateway aborts).

#![no_main]

use dauth_proxy_fuzz::gateway::{check_reply, decode, fixture};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((endpoint, body)) = decode(data) else {
        return;
    };
    let gw = fixture();
    let (sent, reply) = gw.send(endpoint, body);
    check_reply(endpoint, &sent, &reply);
});
