//! DAuth token verification, cold and cached.
//!
//! - `verify/cold`: `DauthVerifier::verify` of one valid RS256 token (development key pair),
//!   replay protection off, so the same token can be verified again and again. Every call does
//!   the whole work: base64, JSON, RSA signature, time claims, EIP-55 address normalisation.
//! - `verify/rsa`: the RS256 signature check alone, aws-lc with the key parsed once (what
//!   `verify/cold` spends beyond it is base64, JSON and the claims' checks), to set beside
//!   `openssl speed rsa2048`'s verify.
//! - `verify/cached`: the pipeline's `authenticate` for a request carrying that token once it
//!   has been verified: the header checks, the allowlist, the SHA-256 cache key and the cache
//!   hit that returns the principal (no RSA, no store). What a reused token costs per request.
//! - `verify/fresh`: the pipeline's `authenticate` for a request carrying a token it has not
//!   seen, replay protection on (bench/run's D without HTTP): the cold verification, the replay
//!   window's record and the user's lookup (the hot-user cache). Tokens are signed before the
//!   measurement; each is used once per replay window, a new window (a new `State`) when they
//!   run out, made outside the timed calls.
//! - `address/checksummed` and `address/lowercase`: the EIP-55 normalisation of a contract
//!   claim, hashed (Keccak-256); `address/memoised` the checksummed claim through a memo that
//!   holds its address, as a verifier normalises a contract it has seen before.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use dauth_proxy::Config;
use dauth_proxy::State;
use dauth_proxy::auth::DauthVerifier;
use dauth_proxy::auth::address::{ChecksumMemo, normalize_address, normalize_address_memo};
use dauth_proxy::auth::keys::load_signing_key;
use dauth_proxy::auth::mint::{DauthTokenSpec, mint_dauth};
use dauth_proxy::clock::now as unix_now;
use dauth_proxy::error::AddressClaim;
use dauth_proxy::pipeline::authenticate::authenticate;
use dauth_proxy::store::sled::SledStore;
use http::{HeaderMap, HeaderValue};

/// How many unique tokens `verify/fresh` signs (each has its own random `request_id`).
const FRESH_TOKENS: usize = 5_000;

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
    config_with_replay(false)
}

/// [`config`], with replay protection as `replay` says.
fn config_with_replay(replay: bool) -> Config {
    let toml = format!(
        "[dauth]\npublic_keys = [{:?}]\nreplay_protection = {replay}\nmax_token_age_secs = 86400\n\
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
    let key = load_signing_key(&dev_key("dauth_private.pem")).unwrap();
    let fresh_tokens: Vec<HeaderMap> = (0..FRESH_TOKENS)
        .map(|_| {
            let mut spec = DauthTokenSpec::new(CONTRACT, "ETHEREUM", "bench-consumer");
            spec.ttl_secs = 86_400;
            let token = mint_dauth(&key, &spec, time::OffsetDateTime::now_utc()).unwrap();
            let mut headers = HeaderMap::new();
            headers.insert("dauth", HeaderValue::from_str(&token).unwrap());
            headers
        })
        .collect();
    assert_eq!(claims.contract, CONTRACT);
    let mut group = c.benchmark_group("verify");
    group.bench_function("cold", |b| {
        b.iter(|| verifier.verify(black_box(&token), now).unwrap())
    });
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let public = std::fs::read_to_string(dev_key("dauth_public.pem")).unwrap();
    let spki = pem::parse(public).unwrap();
    let rsa = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.contents()).unwrap();
    rsa.verify_sig(input.as_bytes(), &signature).unwrap();
    group.bench_function("rsa", |b| {
        b.iter(|| {
            rsa.verify_sig(black_box(input.as_bytes()), &signature)
                .unwrap()
        })
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
    group.bench_function("fresh", |b| {
        b.iter_custom(|iters| fresh(&runtime, &fresh_tokens, iters))
    });
    group.finish();
}

/// `iters` authentications of tokens not seen before (see the module docs), timed alone.
fn fresh(runtime: &tokio::runtime::Runtime, tokens: &[HeaderMap], iters: u64) -> Duration {
    let ip = std::net::Ipv4Addr::LOCALHOST.into();
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let stores = SledStore::temporary().unwrap().stores(100_000);
        let state = runtime
            .block_on(State::new(config_with_replay(true), stores))
            .unwrap();
        let (shared, policy) = (state.shared(), state.policy());
        for headers in tokens
            .iter()
            .take(usize::try_from(left).unwrap_or(usize::MAX))
        {
            let started = Instant::now();
            let who = runtime.block_on(authenticate(
                shared,
                &policy,
                black_box(headers),
                ip,
                unix_now(),
            ));
            total += started.elapsed();
            assert_eq!(who.unwrap().unwrap().user.username, CONTRACT);
            left -= 1;
        }
    }
    total
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
    let memo = ChecksumMemo::default();
    let memoised = |raw| normalize_address_memo(raw, true, AddressClaim::Contract, &memo);
    assert_eq!(memoised(CONTRACT).unwrap(), CONTRACT);
    group.bench_function("memoised", |b| {
        b.iter(|| memoised(black_box(CONTRACT)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_verify, bench_address);
criterion_main!(benches);
