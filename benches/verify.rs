//! DAuth token verification, cold and cached.
//!
//! - `verify/cold`: `DauthVerifier::verify` of one valid RS256 token (development key pair),
//!   replay protection off, so the same token can be verified again and again. Every call does
//!   the whole work: base64, JSON, RSA signature, time claims, EIP-55 address normalisation.
//! - `verify/cached`: the pipeline's `authenticate` for a request carrying that token once it
//!   has been verified: the header checks, the allowlist, the SHA-256 cache key and the cache
//!   hit that returns the principal (no RSA, no store). What a reused token costs per request.
//! - `address/checksummed` and `address/lowercase`: the EIP-55 normalisation of a contract
//!   claim, part of every cold verification.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use dauth_proxy::Config;
use dauth_proxy::State;
use dauth_proxy::auth::DauthVerifier;
use dauth_proxy::auth::address::normalize_address;
use dauth_proxy::auth::keys::load_signing_key;
use dauth_proxy::auth::mint::{DauthTokenSpec, mint_dauth};
use dauth_proxy::clock::now as unix_now;
use dauth_proxy::error::AddressClaim;
use dauth_proxy::pipeline::authenticate::authenticate;
use dauth_proxy::store::sled::SledStore;
use http::{HeaderMap, HeaderValue};

const CONTRACT: &str = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";

fn dev_key(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keys/dev")
        .join(name)
}

/// A verifier trusting the development key, replay protection off, tokens valid for a day.
/// DAuth with the development key, freshness of a day, no replay protection; no rate limits,
/// verified tokens cached (the shipped `[cache] tokens`).
fn config() -> Config {
    let toml = format!(
        "[dauth]\npublic_keys = [{:?}]\nreplay_protection = false\nmax_token_age_secs = 86400\n\
         [limits]\nper_ip_rps = 0\nper_consumer_rps = 0\n[cache]\ntokens = 100000\n",
        dev_key("dauth_public.pem").display().to_string()
    );
    Config::from_toml(&toml, Path::new("bench.toml")).unwrap()
}

fn verifier() -> DauthVerifier {
    DauthVerifier::new(config().dauth)
}

fn token() -> String {
    let key = load_signing_key(&dev_key("dauth_private.pem")).unwrap();
    let mut spec = DauthTokenSpec::new(CONTRACT, "ETHEREUM", "bench-consumer");
    spec.ttl_secs = 86_400;
    mint_dauth(&key, &spec, time::OffsetDateTime::now_utc()).unwrap()
}

fn bench_verify(c: &mut Criterion) {
    let verifier = verifier();
    let token = token();
    let now = unix_now();
    // Fail loudly rather than time an error path.
    let claims = verifier.verify(&token, now).unwrap();
    assert_eq!(claims.contract, CONTRACT);
    let mut group = c.benchmark_group("verify");
    group.bench_function("cold", |b| {
        b.iter(|| verifier.verify(black_box(&token), now).unwrap())
    });

    drop(verifier);
    let mut headers = HeaderMap::new();
    headers.insert("dauth", HeaderValue::from_str(&token).unwrap());
    let ip = std::net::Ipv4Addr::LOCALHOST.into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let stores = SledStore::temporary().unwrap().stores(100_000);
    let state = runtime.block_on(State::new(config(), stores)).unwrap();
    let (shared, policy) = (state.shared(), state.policy());
    let first = runtime.block_on(authenticate(shared, &policy, &headers, ip, now));
    assert_eq!(first.unwrap().unwrap().user.username, CONTRACT);
    group.bench_function("cached", |b| {
        b.iter(|| {
            runtime
                .block_on(authenticate(shared, &policy, black_box(&headers), ip, now))
                .unwrap()
        })
    });
    group.finish();
}

fn bench_address(c: &mut Criterion) {
    let lower = CONTRACT.to_ascii_lowercase();
    let mut group = c.benchmark_group("address");
    for (name, form) in [("checksummed", CONTRACT), ("lowercase", lower.as_str())] {
        assert_eq!(
            normalize_address(form, true, AddressClaim::Contract).unwrap(),
            CONTRACT
        );
        group.bench_function(name, |b| {
            b.iter(|| normalize_address(black_box(form), true, AddressClaim::Contract).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify, bench_address);
criterion_main!(benches);
