//! SIGKILL at a random moment while many first requests for many contracts are in flight, then a
//! restart: every user id a client ever received still maps to its contract, and no contract has
//! two users. Several rounds on the same store.
//!
//! The kill points come from a seed, printed at the start (`crash: seed N`); `CRASH_SEED=N`
//! replays the same kill points.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use dauth_proxy::store::model::UserKind;
use dauth_proxy::store::sled::SledStore as Store;
use support::binary::Binary;
use support::{config_text, token};
use tokio::sync::Notify;

const ROUNDS: usize = 4;
const CONTRACTS_PER_ROUND: usize = 300;
const WORKERS: usize = 16;

fn contract(round: usize, i: usize) -> String {
    format!("0x{:040x}", (round << 20) | i)
}

/// The kill points' seed: `CRASH_SEED` when set, else a fresh one from the OS random source.
fn seed() -> u64 {
    match std::env::var("CRASH_SEED") {
        Ok(s) => s.trim().parse().expect("CRASH_SEED is an unsigned integer"),
        Err(_) => uuid::Uuid::new_v4().as_u64_pair().0,
    }
}

/// splitmix64: the `n`th number of the sequence `seed` starts.
fn nth(seed: u64, n: u64) -> u64 {
    let mut x = seed.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_first_requests_loses_nothing_a_client_saw() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let cfg = dir.path().join("dauth.toml");
    std::fs::write(
        &cfg,
        config_text(
            &store_dir,
            "",
            "[limits]\nper_ip_rps = 0\nper_consumer_rps = 0\n",
        ),
    )
    .unwrap();
    let seed = seed();
    eprintln!("crash: seed {seed} (replay these kill points with CRASH_SEED={seed})");
    // Every (contract -> user id) a client was ever told, across rounds.
    let seen: Arc<Mutex<HashMap<String, String>>> = Arc::new(Mutex::new(HashMap::new()));

    for round in 0..ROUNDS {
        let gw = Binary::spawn(&cfg);
        let addr = gw.addr;
        // Kill after a random number of answers (between 10 and 2/3 of the round's contracts).
        let span = (CONTRACTS_PER_ROUND * 2 / 3) as u64;
        let kill_after = 10 + (nth(seed, round as u64) % span) as usize;
        eprintln!("crash: round {round} kills after {kill_after} answers");
        let answered = Arc::new(Mutex::new(0usize));
        let reached = Arc::new(Notify::new());
        let next = Arc::new(Mutex::new(0usize));
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (seen, answered, reached, next) = (
                    Arc::clone(&seen),
                    Arc::clone(&answered),
                    Arc::clone(&reached),
                    Arc::clone(&next),
                );
                tokio::spawn(async move {
                    loop {
                        let i = {
                            let mut n = next.lock().unwrap();
                            *n += 1;
                            *n - 1
                        };
                        if i >= CONTRACTS_PER_ROUND {
                            return;
                        }
                        let c = contract(round, i);
                        let Some(id) = first_request(addr, &c).await else {
                            return;
                        };
                        seen.lock().unwrap().insert(c, id);
                        let mut a = answered.lock().unwrap();
                        *a += 1;
                        if *a == kill_after {
                            reached.notify_one();
                        }
                    }
                })
            })
            .collect();
        reached.notified().await;
        gw.kill9();
        for w in workers {
            w.await.unwrap();
        }

        // After the restart every id a client saw is still that contract's.
        let gw = Binary::spawn(&cfg);
        let snapshot = seen.lock().unwrap().clone();
        for (c, id) in &snapshot {
            let again = first_request(gw.addr, c)
                .await
                .expect("restarted gateway answers");
            assert_eq!(&again, id, "round {round}: {c} changed user after SIGKILL");
        }
        assert_eq!(gw.terminate().code(), Some(0));
    }

    // No contract has two users, and no user lost its index entry.
    let store = Store::open(&store_dir, 1 << 22).unwrap();
    let users = store.all_users().unwrap();
    let mut identities = HashSet::new();
    for u in users.iter().filter(|u| u.kind == UserKind::Dauth) {
        assert!(
            identities.insert((u.provider.clone(), u.username.clone())),
            "two users for {}",
            u.username
        );
        assert_eq!(
            store
                .dauth_user_id(&u.provider, &u.username)
                .unwrap()
                .as_deref(),
            Some(u.user_id.as_str())
        );
    }
    assert!(identities.len() >= seen.lock().unwrap().len());
}

/// `GET /users/current` as `contract`; `None` once the gateway is gone.
async fn first_request(addr: std::net::SocketAddr, contract: &str) -> Option<String> {
    let t = token(contract, "ETHEREUM");
    let req = support::client::build("GET", "/obp/v5.1.0/users/current", &[("DAuth", &t)], "");
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.ok()?;
    let status = resp.status();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .ok()?
        .to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    v["user_id"].as_str().map(str::to_owned)
}
