//! Arbitrary JSON claims, signed with the trusted key -> `DauthVerifier::verify`.
//!
//! Every token here has a good signature, so the fuzzer works on the claim rules: types,
//! required claims, times, network names, addresses, replay.
//! Properties: a refusal answers 400, 401 or 503; an accepted token's contract is the EIP-55
//! form of the claim (strict mode), or the claim verbatim (lenient mode).

#![no_main]

use dauth_proxy_fuzz::{NOW, assert_eip55, assert_refusal_status, fixture, json_claims};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(claims) = json_claims(data) else {
        return;
    };
    let fx = fixture();
    let token = fx.sign(&claims);
    let written = claims
        .get("smart_contract_address")
        .and_then(|v| v.as_str())
        .unwrap_or_default();

    match fx.state.policy().dauth.verify(&token, NOW) {
        Ok(accepted) => {
            assert_eip55(&accepted.contract);
            assert_eq!(accepted.contract.to_lowercase(), written.to_lowercase());
        }
        Err(e) => assert_refusal_status(&e),
    }
    match fx.lenient.verify(&token, NOW) {
        Ok(accepted) => assert_eq!(accepted.contract, written),
        Err(e) => assert_refusal_status(&e),
    }
});
