//! Soak: mixed valid, invalid and forged traffic from a load generator (32 keep-alive
//! connections, as fast as they go) against the real binary for 24 seconds. Valid traffic gets
//! no 5xx (nothing does), every answer is the expected one, and the gateway's RSS is flat: the
//! mean of the last quarter stays within 25% + 8 MiB of the first quarter's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dauth_proxy::auth::mint::DauthTokenSpec;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use support::binary::Binary;
use support::{config_text, keys, sign_with, token};

const DURATION: Duration = Duration::from_secs(24);
const CONNECTIONS: usize = 32;

/// What a request is, and what it must get.
#[derive(Clone)]
struct Shot {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    expect: u16,
    valid: bool,
}

fn shots() -> Vec<Shot> {
    let users = "/obp/v5.1.0/users/current";
    let dauth = |t: String| vec![("dauth", t)];
    let mut shots = Vec::new();
    for i in 0..16 {
        let t = token(&format!("0x{:040x}", 0xbeef00 + i), "ETHEREUM");
        for _ in 0..4 {
            shots.push(Shot {
                path: users,
                headers: dauth(t.clone()),
                expect: 200,
                valid: true,
            });
        }
    }
    let forged = sign_with(
        &keys().stranger.private_pem,
        &DauthTokenSpec::new(support::CONTRACT, "ETHEREUM", "ck"),
    );
    let mut expired = DauthTokenSpec::new(support::CONTRACT, "ETHEREUM", "ck");
    expired.ttl_secs = 1;
    let expired_token = {
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(keys().trusted.private_pem.as_bytes()).unwrap();
        dauth_proxy::auth::mint::mint_dauth(
            &key,
            &expired,
            time::OffsetDateTime::now_utc() - time::Duration::minutes(3),
        )
        .unwrap()
    };
    for _ in 0..6 {
        shots.push(Shot {
            path: users,
            headers: dauth(forged.clone()),
            expect: 401,
            valid: false,
        });
        shots.push(Shot {
            path: users,
            headers: dauth("garbage.token.here".into()),
            expect: 401,
            valid: false,
        });
        shots.push(Shot {
            path: users,
            headers: dauth(expired_token.clone()),
            expect: 401,
            valid: false,
        });
        shots.push(Shot {
            path: "/health",
            headers: vec![],
            expect: 200,
            valid: true,
        });
    }
    for _ in 0..3 {
        shots.push(Shot {
            path: "/nowhere",
            headers: vec![],
            expect: 404,
            valid: false,
        });
        shots.push(Shot {
            path: users,
            headers: vec![("x-big", "x".repeat(20 * 1024))],
            expect: 431,
            valid: false,
        });
        shots.push(Shot {
            path: users,
            headers: vec![("x-dauth-user-id", "admin".into())],
            expect: 401,
            valid: false,
        });
    }
    shots
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_traffic_for_24_seconds_stays_correct_and_flat() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dauth.toml");
    let text = config_text(
        &dir.path().join("store"),
        "replay_protection = false\nmax_token_age_secs = 3600",
        "[limits]\nper_ip_rps = 0\nper_consumer_rps = 0\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let gw = Binary::spawn(&cfg);
    let (addr, pid) = (gw.addr, gw.pid());
    let shots = Arc::new(shots());
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, valid_ok, wrong) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|w| {
            let (shots, stop, sent, valid_ok, wrong) = (
                Arc::clone(&shots),
                Arc::clone(&stop),
                Arc::clone(&sent),
                Arc::clone(&valid_ok),
                Arc::clone(&wrong),
            );
            tokio::spawn(async move {
                let mut i = w * 7;
                let mut sender = None;
                while !stop.load(Ordering::Relaxed) {
                    if sender.is_none() {
                        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                        let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                            .await
                            .unwrap();
                        tokio::spawn(conn);
                        sender = Some(s);
                    }
                    let Some(s) = sender.as_mut() else { continue };
                    let shot = &shots[i % shots.len()];
                    i += 1;
                    let mut req = http::Request::get(shot.path).header("host", "soak");
                    for (k, v) in &shot.headers {
                        req = req.header(*k, v);
                    }
                    let Ok(resp) = s
                        .send_request(req.body(Full::new(Bytes::new())).unwrap())
                        .await
                    else {
                        sender = None;
                        continue;
                    };
                    let status = resp.status().as_u16();
                    let _ = resp.into_body().collect().await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    if status != shot.expect || status >= 500 {
                        wrong.fetch_add(1, Ordering::Relaxed);
                        eprintln!("{} answered {status}, expected {}", shot.path, shot.expect);
                    } else if shot.valid {
                        valid_ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < DURATION {
        // The sampling interval of the memory measurement over the soak's duration.
        tokio::time::sleep(Duration::from_millis(250)).await;
        samples.push(rss_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(gw.terminate().code(), Some(0));

    let (sent, valid_ok, wrong) = (
        sent.load(Ordering::Relaxed),
        valid_ok.load(Ordering::Relaxed),
        wrong.load(Ordering::Relaxed),
    );
    assert_eq!(
        wrong, 0,
        "{wrong} of {sent} answers were not the expected ones"
    );
    assert!(valid_ok > 1000, "only {valid_ok} valid requests succeeded");
    let q = samples.len() / 4;
    let mean = |s: &[u64]| s.iter().sum::<u64>() / s.len().max(1) as u64;
    let (first, last) = (mean(&samples[..q]), mean(&samples[samples.len() - q..]));
    eprintln!("soak: {sent} requests, RSS first quarter {first} KiB, last quarter {last} KiB");
    assert!(
        first > 0 && last <= first + first / 4 + 8 * 1024,
        "RSS grew from {first} KiB to {last} KiB"
    );
}
