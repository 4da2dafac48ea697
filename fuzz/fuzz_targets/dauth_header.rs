//! Raw `DAuth` header bytes -> the full DAuth decision (`Authenticator::authenticate`).
//!
//! Each line of the input is one `DAuth` header value (so two lines test the "more than one
//! header" rule). Random bytes rarely get past the signature check, so the input is also read
//! as JSON claims: when it is a JSON object, it is signed with the trusted key and that token
//! goes through `authenticate` (and so `DauthVerifier::verify` and the store) as well.
//! Property: nothing panics; a refusal answers 400, 401 or 503, never 500; an accepted caller
//! has an EIP-55 username and is the user the store holds.

#![no_main]

use dauth_proxy_fuzz::{check_decision, fixture, json_claims};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append("dauth", value);
        }
    }
    check_decision(fx, fx.authenticate(&headers));

    if let Some(claims) = json_claims(data) {
        let mut headers = HeaderMap::new();
        let token = fx.sign(&claims);
        headers.insert(
            "dauth",
            HeaderValue::from_str(&token).expect("JWS is ASCII"),
        );
        check_decision(fx, fx.authenticate(&headers));
    }
});
