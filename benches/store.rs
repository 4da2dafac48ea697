//! User get-or-create on a store of one million users, `Store::get_or_create_dauth_user`.
//!
//! - `store/existing_random_1m`: an existing user picked at random among the million (target:
//!   under 20 µs median), with the store's hot-user cache off, so every lookup reads sled. The
//!   store is opened with the gateway's default page cache (256 MiB; `BENCH_STORE_CACHE_MB` to
//!   change it), which holds a part of the store (about 730 MB on disk), as in production.
//! - `store/existing_random_1m_hot`: the same draw with the hot-user cache as shipped
//!   (100,000 users), cycling through every one of the million in a random order: a uniform
//!   load over far more users than the cache holds, so most lookups still go to sled.
//! - `store/existing_same_user`: the same existing user every time, from the hot-user cache:
//!   the floor.
//!
//! The store is populated once, through the store API (so every user is created, and flushed,
//! as the gateway would), in `target/bench-data/users-1m` (override with `BENCH_STORE_DIR`), and
//! reused by later runs; population takes a while and reports how long. An interrupted
//! population resumes where it stopped. Addresses are pseudo-random (not sequential), EIP-55.
//!
//! `BENCH_STORE_TASKS` creations (default 4) are kept in flight; they share the store's group
//! commits. A watchdog stops the population with a message if it makes no progress (it was
//! written when the store awaited sled's `flush_async`, which deadlocks under concurrency,
//! sled issue 1308; `src/store/sled/flush.rs` no longer uses it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use alloy_primitives::Address;
use criterion::{Criterion, criterion_group, criterion_main};
use dauth_proxy::store::UserStore;
use dauth_proxy::store::sled::SledStore;

/// Users in the store.
const USERS: u64 = 1_000_000;
/// sled's page cache: the gateway's default `store.cache_mb` (256), or `BENCH_STORE_CACHE_MB`.
fn cache_bytes() -> u64 {
    let mb: u64 = std::env::var("BENCH_STORE_CACHE_MB")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(256);
    mb * 1024 * 1024
}
const NETWORK: &str = "ETHEREUM";

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The contract address of user `i`: 20 pseudo-random bytes, EIP-55 form.
fn address(i: u64) -> String {
    let mut bytes = [0u8; 20];
    for (k, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = splitmix64(i.wrapping_mul(3).wrapping_add(k as u64)).to_be_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    Address::from(bytes).to_checksum(None)
}

fn store_dir() -> PathBuf {
    std::env::var_os("BENCH_STORE_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/users-1m"),
        PathBuf::from,
    )
}

/// Opens the million-user store, creating the missing users first; returns it with its users
/// as the gateway sees them, `hot_users` kept in memory.
fn populated_store(
    rt: &tokio::runtime::Runtime,
    hot_users: usize,
) -> (SledStore, Arc<dyn UserStore>) {
    let dir = store_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("POPULATED");
    let store = SledStore::open(&dir.join("db"), cache_bytes()).unwrap();
    let users = store.stores(hot_users).users;
    if let Ok(note) = std::fs::read_to_string(&marker) {
        eprintln!("store: reusing {} ({})", dir.display(), note.trim());
        return (store, users);
    }
    // Creation flushes to disk before returning; a few creations in flight share flushes.
    let tasks: u64 = std::env::var("BENCH_STORE_TASKS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(4);
    let had = store.user_count();
    eprintln!(
        "store: populating {} with {USERS} users ({had} already there), {tasks} creations in flight",
        dir.display()
    );
    let started = Instant::now();
    let progress = Arc::new(AtomicU64::new(0));
    watchdog(Arc::clone(&progress));
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let (users, progress) = (Arc::clone(&users), Arc::clone(&progress));
                tokio::spawn(async move {
                    let mut i = t;
                    while i < USERS {
                        users
                            .get_or_create_dauth_user(NETWORK, &address(i), 0)
                            .await
                            .unwrap();
                        let done = progress.fetch_add(1, Ordering::Relaxed) + 1;
                        if done % 100_000 == 0 {
                            eprintln!(
                                "store: {done} users after {:.0} s",
                                started.elapsed().as_secs_f64()
                            );
                        }
                        i += tasks;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        store.flush().await.unwrap();
    });
    let secs = started.elapsed().as_secs_f64();
    let count = store.user_count();
    assert!(
        count >= USERS as usize,
        "store holds {count} users, expected {USERS}"
    );
    let note = format!(
        "{count} users; populated in {secs:.0} s ({:.0} creations/s, {tasks} in flight, {had} existed before)",
        (USERS as f64 - had as f64) / secs
    );
    eprintln!("store: {note}");
    std::fs::write(&marker, format!("{note}\n")).unwrap();
    (store, users)
}

/// Exits with a message when population stalls for a minute (see the module docs).
fn watchdog(progress: Arc<AtomicU64>) {
    std::thread::spawn(move || {
        let mut last = u64::MAX;
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
            let now = progress.load(Ordering::Relaxed);
            if now == last {
                eprintln!(
                    "store: no user created in 60 s (stuck at {now}): the store's flusher \
                     is stuck? Lower BENCH_STORE_TASKS and run again; population resumes."
                );
                std::process::exit(2);
            }
            last = now;
        }
    });
}

fn bench_store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Opened twice, one after the other (sled allows one handle per directory).
    let (store, users) = populated_store(&rt, 0);
    // Users to look up: a fixed pseudo-random sample of the million, addresses made up front.
    let sample: Vec<String> = (0..65_536u64)
        .map(|k| address(splitmix64(k ^ 0xDEAD_BEEF) % USERS))
        .collect();
    // Each must already exist: a lookup that creates would time the wrong path.
    let before = store.user_count();
    for a in sample.iter().take(1000) {
        rt.block_on(users.get_or_create_dauth_user(NETWORK, a, 0))
            .unwrap();
    }
    assert_eq!(
        store.user_count(),
        before,
        "sampled users must already exist"
    );

    let mut group = c.benchmark_group("store");
    let mut next = 0usize;
    group.bench_function("existing_random_1m", |b| {
        b.iter(|| {
            let a = &sample[next % sample.len()];
            next += 1;
            rt.block_on(users.get_or_create_dauth_user(NETWORK, black_box(a), 0))
                .unwrap()
        })
    });
    drop((store, users));

    // The gateway's users: the hot-user cache over the store.
    let (_store, users) = populated_store(&rt, 100_000);
    // Every user once, in a pseudo-random order (a permutation of 0..USERS: the multiplier is
    // odd, so it is a bijection modulo 2^20, and indices beyond the million are skipped).
    let everyone: Vec<String> = (0..1u64 << 20)
        .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15 | 1) & ((1 << 20) - 1))
        .filter(|&i| i < USERS)
        .map(address)
        .collect();
    let mut next = 0usize;
    group.bench_function("existing_random_1m_hot", |b| {
        b.iter(|| {
            let a = &everyone[next % everyone.len()];
            next += 1;
            rt.block_on(users.get_or_create_dauth_user(NETWORK, black_box(a), 0))
                .unwrap()
        })
    });
    let same = &sample[0];
    group.bench_function("existing_same_user", |b| {
        b.iter(|| {
            rt.block_on(users.get_or_create_dauth_user(NETWORK, black_box(same), 0))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_store);
criterion_main!(benches);
