//! The shared replay window (`[replay] backend = "redis" | "postgres"`) across real gateway
//! processes, each with its own sled store, on a real Redis and a real PostgreSQL: a DAuth
//! token or a client assertion accepted by one replica is refused by the others; an expired id
//! can be used again; Redis down answers 503 `DAUTH-5070` at once (never a fallback to memory)
//! and the gateway recovers when it is back; an unreachable backend refuses to start; the
//! shared per-consumer rate counts across replicas.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dauth_proxy::auth::keys::{GeneratedPair, generate_rsa};
use dauth_proxy::auth::mint::DauthTokenSpec;
use dauth_proxy::config::{ReplayBackend, ReplayConfig};
use dauth_proxy::store::replay::{self, ServiceUrl};
use dauth_proxy::store::{Replay, ReplayScope};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use support::binary::{Binary, run};
use support::client::{Reply, build, get_with, send};
use support::postgres::Postgres;
use support::redis::Redis;
use support::{CONTRACT, config_text, install, keys, now, token_with};

const USERS_CURRENT: &str = "/obp/v5.1.0/users/current";
const ISSUER: &str = "http://gateway.test";

/// A gateway process with its own store, and the directory holding its files.
struct Replica {
    bin: Binary,
    _dir: tempfile::TempDir,
}

/// Writes a configuration for a replica (its own sled store) plus `extra`, in a new directory.
fn write_config(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(&dir.path().join("store"), "", extra);
    let path = dir.path().join("dauth.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// `n` gateway processes on one configuration `extra`, each with its own store.
fn replicas(n: usize, extra: &str) -> Vec<Replica> {
    (0..n)
        .map(|_| {
            let (dir, path) = write_config(extra);
            Replica {
                bin: Binary::spawn(&path),
                _dir: dir,
            }
        })
        .collect()
}

fn redis_section(url: &str) -> String {
    format!("[replay]\nbackend = \"redis\"\nurl = {url:?}\nresponse_timeout_ms = 1000\n")
}

fn postgres_section(url: &str) -> String {
    format!("[replay]\nbackend = \"postgres\"\nurl = {url:?}\n")
}

/// A fresh token of `consumer` (a new request id).
fn dauth_token(consumer: &str) -> String {
    token_with(&DauthTokenSpec::new(CONTRACT, "ETHEREUM", consumer))
}

async fn as_contract(addr: SocketAddr, token: &str) -> Reply {
    get_with(addr, USERS_CURRENT, &[("DAuth", token)]).await
}

fn consumer() -> String {
    format!("ck-{}", uuid::Uuid::new_v4().simple())
}

/// One token, sent to each replica in turn: the first accepts it, every other refuses it as
/// a replay.
async fn accepted_once(replicas: &[Replica]) {
    let token = dauth_token(&consumer());
    let first = as_contract(replicas[0].bin.addr, &token).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    for r in &replicas[1..] {
        as_contract(r.bin.addr, &token)
            .await
            .assert_error(401, "DAUTH-2007");
    }
    // And a new token of the same consumer is accepted anywhere.
    let other = as_contract(replicas[2].bin.addr, &dauth_token(&consumer())).await;
    assert_eq!(other.status, 200, "{:?}", other.body);
}

#[tokio::test]
async fn a_dauth_token_accepted_by_one_replica_is_refused_by_the_others_on_redis() {
    let redis = Redis::shared();
    accepted_once(&replicas(3, &redis_section(&redis.url()))).await;
}

#[tokio::test]
async fn a_dauth_token_accepted_by_one_replica_is_refused_by_the_others_on_postgres() {
    let pg = Postgres::shared();
    let url = pg.create_database("replay_dauth");
    accepted_once(&replicas(3, &postgres_section(&url))).await;
}

/// Replicas racing for one token: exactly one of them accepts it.
#[tokio::test]
async fn replicas_racing_for_one_token_accept_it_once() {
    let redis = Redis::shared();
    let pg = Postgres::shared();
    let pg_url = pg.create_database("replay_race");
    for section in [redis_section(&redis.url()), postgres_section(&pg_url)] {
        let replicas = replicas(3, &section);
        for _ in 0..5 {
            let token = Arc::new(dauth_token(&consumer()));
            let tasks: Vec<_> = (0..12)
                .map(|i| {
                    let addr = replicas[i % 3].bin.addr;
                    let token = Arc::clone(&token);
                    tokio::spawn(async move { as_contract(addr, &token).await.status })
                })
                .collect();
            let mut statuses = Vec::new();
            for t in tasks {
                statuses.push(t.await.unwrap());
            }
            assert_eq!(
                statuses.iter().filter(|s| **s == 200).count(),
                1,
                "{statuses:?}"
            );
            assert!(
                statuses.iter().all(|s| *s == 200 || *s == 401),
                "{statuses:?}"
            );
        }
    }
}

fn window_config(backend: ReplayBackend, url: &str) -> ReplayConfig {
    ReplayConfig {
        backend,
        url: Some(ServiceUrl::new(url.to_owned())),
        connect_timeout: Duration::from_secs(2),
        response_timeout: Duration::from_secs(2),
        pool_size: 4,
        synchronous_commit: true,
        shared_per_consumer_per_minute: 0,
        shared_per_consumer_burst: 1,
    }
}

/// An id whose entry expired is fresh again; one that has not is still a replay; and the
/// scopes of DAuth consumers and assertion clients never collide.
#[tokio::test]
async fn an_expired_id_can_be_used_again_on_postgres() {
    let pg = Postgres::shared();
    let url = pg.create_database("replay_expiry");
    let shared = replay::open(&window_config(ReplayBackend::Postgres, &url))
        .await
        .unwrap()
        .unwrap();
    let w = shared.window;
    let t = 1_000_000;
    let ck = ReplayScope::Dauth {
        consumer_key: "a:b",
    };
    assert_eq!(w.record(ck, "r1", t + 10, t).await.unwrap(), Replay::Fresh);
    assert_eq!(
        w.record(ck, "r1", t + 20, t + 9).await.unwrap(),
        Replay::Seen
    );
    // Expired at t + 10: reusable, and the new expiry holds.
    assert_eq!(
        w.record(ck, "r1", t + 30, t + 10).await.unwrap(),
        Replay::Fresh
    );
    assert_eq!(
        w.record(ck, "r1", t + 40, t + 29).await.unwrap(),
        Replay::Seen
    );
    // ("a:b", "r1") is neither ("a", "b:r1") nor the client "a:b"'s jti "r1".
    let a = ReplayScope::Dauth { consumer_key: "a" };
    assert_eq!(w.record(a, "b:r1", t + 30, t).await.unwrap(), Replay::Fresh);
    let client = ReplayScope::Assertion { client_id: "a:b" };
    assert_eq!(
        w.record(client, "r1", t + 31, t).await.unwrap(),
        Replay::Fresh
    );
    // Pruning forgets exactly the expired rows.
    assert_eq!(w.prune(t + 30).await.unwrap(), 2);
    assert_eq!(
        pg.sql("replay_expiry", "SELECT count(*) FROM dauth_replay"),
        "1"
    );
    // Opening again (another replica starting) keeps the table and its rows.
    let again = replay::open(&window_config(ReplayBackend::Postgres, &url))
        .await
        .unwrap()
        .unwrap();
    let kept = again.window.record(client, "r1", t + 50, t + 30);
    assert_eq!(kept.await.unwrap(), Replay::Seen);
}

/// `replay.synchronous_commit = false`, beside options the URL already sets: the window still
/// connects and takes each id once.
#[tokio::test]
async fn the_postgres_window_works_without_synchronous_commit() {
    let pg = Postgres::shared();
    let url = pg.create_database("replay_async");
    let mut config = window_config(
        ReplayBackend::Postgres,
        &format!("{url}?options=-c%20statement_timeout%3D5000"),
    );
    config.synchronous_commit = false;
    let w = replay::open(&config).await.unwrap().unwrap().window;
    let ck = ReplayScope::Dauth { consumer_key: "ck" };
    assert_eq!(
        w.record(ck, "r", now() + 60, now()).await.unwrap(),
        Replay::Fresh
    );
    assert_eq!(
        w.record(ck, "r", now() + 60, now()).await.unwrap(),
        Replay::Seen
    );
}

#[tokio::test]
async fn an_expired_id_can_be_used_again_on_redis() {
    let redis = Redis::shared();
    let shared = replay::open(&window_config(ReplayBackend::Redis, &redis.url()))
        .await
        .unwrap()
        .unwrap();
    let w = shared.window;
    let id = uuid::Uuid::new_v4().to_string();
    let ck = ReplayScope::Dauth {
        consumer_key: "x:y",
    };
    let t = now();
    // A lifetime already over still holds the id for a second (Redis EX is at least 1).
    assert_eq!(w.record(ck, &id, t + 1, t).await.unwrap(), Replay::Fresh);
    assert_eq!(w.record(ck, &id, t + 1, t).await.unwrap(), Replay::Seen);
    let key = format!("dauth:replay:dauth:x%3Ay:{id}");
    let ttl: i64 = redis
        .cmd(&["TTL", &key])
        .trim_start_matches(':')
        .parse()
        .unwrap();
    assert!((0..=1).contains(&ttl), "TTL {ttl}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match w.record(ck, &id, now() + 60, now()).await.unwrap() {
            Replay::Fresh => break,
            _ if Instant::now() > deadline => panic!("the id never expired"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(
        w.record(ck, &id, now() + 60, now()).await.unwrap(),
        Replay::Seen
    );
}

/// Redis killed: DAuth requests answer 503 `DAUTH-5070` with `Retry-After` within the response
/// timeout, never 200 (no memory fallback), never 500; restarted: accepted again, without a
/// gateway restart.
#[tokio::test]
async fn redis_down_answers_503_and_the_gateway_recovers_when_it_is_back() {
    let mut redis = Redis::start();
    let replicas = replicas(1, &redis_section(&redis.url()));
    let addr = replicas[0].bin.addr;
    let ck = consumer();
    let before = dauth_token(&ck);
    assert_eq!(as_contract(addr, &before).await.status, 200);
    redis.kill();
    for _ in 0..5 {
        let reply = tokio::time::timeout(
            Duration::from_secs(10),
            as_contract(addr, &dauth_token(&ck)),
        )
        .await
        .expect("a request during the outage must not hang");
        reply.assert_error(503, "DAUTH-5070");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    redis.restart();
    until_recovered(addr, &ck).await;
}

/// Sends fresh DAuth tokens of `ck` until one is accepted (at most 30 s); every refusal before
/// that must be the window's 503, never another answer.
async fn until_recovered(addr: std::net::SocketAddr, ck: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = as_contract(addr, &dauth_token(ck)).await;
        if reply.status == 200 {
            return;
        }
        reply.assert_error(503, "DAUTH-5070");
        assert!(Instant::now() < deadline, "never recovered");
        // Polls a restarting service: there is no readiness signal to wait for instead.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// PostgreSQL stopped (as a crash would): DAuth requests and client assertions answer 503
/// `DAUTH-5070`, never 200 and never 500; restarted: both work again without a gateway
/// restart.
#[tokio::test]
async fn postgres_down_answers_503_for_both_windows_and_recovers() {
    let mut pg = Postgres::start();
    let url = pg.create_database("replay_outage");
    let (pair, clients, _keys) = client_setup();
    let replicas = replicas(1, &format!("{clients}{}", postgres_section(&url)));
    let addr = replicas[0].bin.addr;
    let ck = consumer();
    assert_eq!(as_contract(addr, &dauth_token(&ck)).await.status, 200);
    pg.stop_immediate();
    for _ in 0..3 {
        let reply = tokio::time::timeout(
            Duration::from_secs(10),
            as_contract(addr, &dauth_token(&ck)),
        )
        .await
        .expect("a request during the outage must not hang");
        reply.assert_error(503, "DAUTH-5070");
        let reply = token_request(addr, &assertion(&pair.private_pem)).await;
        reply.assert_error(503, "DAUTH-5070");
    }
    pg.restart();
    until_recovered(addr, &ck).await;
    let reply = token_request(addr, &assertion(&pair.private_pem)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// An unreachable backend refuses the start (exit 1), naming the URL without its password;
/// `check-config` probes it the same way.
#[tokio::test]
async fn an_unreachable_replay_backend_refuses_to_start() {
    let port = install::free_port();
    for url in [
        format!("redis://:hunter2@127.0.0.1:{port}/0"),
        format!("postgres://dauth:hunter2@127.0.0.1:{port}/x"),
    ] {
        let backend = if url.starts_with("redis") {
            "redis"
        } else {
            "postgres"
        };
        let section =
            format!("[replay]\nbackend = \"{backend}\"\nurl = {url:?}\nconnect_timeout_ms = 500\n");
        let (_dir, path) = write_config(&section);
        let path = path.to_str().unwrap();
        let (code, _, err) = run(&["serve", "--config", path]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        assert!(err.contains(backend), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let (code, _, err) = run(&["check-config", "--config", path]);
        assert_ne!(code, 0, "{err}");
        assert!(err.contains("replay.url"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let redis = Redis::shared();
    let (_dir, path) = write_config(&redis_section(&redis.url()));
    let (code, out, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

/// The shared per-consumer rate counts requests at every replica together.
#[tokio::test]
async fn the_shared_rate_counts_across_replicas() {
    let redis = Redis::shared();
    let extra = format!(
        "[limits]\nshared_per_consumer_per_minute = 6\n{}",
        redis_section(&redis.url())
    );
    let replicas = replicas(3, &extra);
    let ck = consumer();
    for i in 0..6 {
        let reply = as_contract(replicas[i % 3].bin.addr, &dauth_token(&ck)).await;
        assert_eq!(reply.status, 200, "request {i}: {:?}", reply.body);
    }
    for r in &replicas {
        let reply = as_contract(r.bin.addr, &dauth_token(&ck)).await;
        reply.assert_error(429, "OBP-10018");
        let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=10).contains(&wait), "Retry-After {wait}");
    }
    // Another consumer has its own allowance.
    let other = as_contract(replicas[0].bin.addr, &dauth_token(&consumer())).await;
    assert_eq!(other.status, 200, "{:?}", other.body);
}

/// A client key pair, and the `[issuer]` and `[[clients]]` tables trusting it (client `svc:a`).
fn client_setup() -> (GeneratedPair, String, tempfile::TempDir) {
    let pair = generate_rsa(2048).unwrap();
    let keydir = tempfile::tempdir().unwrap();
    let client_key = keydir.path().join("client.pem");
    std::fs::write(&client_key, &pair.public_pem).unwrap();
    let issuer_key = keys().dir.join("trusted_private.pem");
    let clients = format!(
        "[issuer]\nurl = \"{ISSUER}\"\nprivate_key = {:?}\nkid = \"test-1\"\n\
         [[clients]]\nclient_id = \"svc:a\"\nname = \"A\"\npublic_keys = [{:?}]\nscopes = [\"user:read\"]\n",
        issuer_key.display().to_string(),
        client_key.display().to_string(),
    );
    (pair, clients, keydir)
}

/// A fresh client assertion of `svc:a` (a new `jti`).
fn assertion(private_pem: &str) -> String {
    let claims = json!({"iss": "svc:a", "sub": "svc:a", "aud": format!("{ISSUER}/oidc/token"),
        "iat": now(), "exp": now() + 60, "jti": uuid::Uuid::new_v4().to_string()});
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A client assertion's `jti` used at one replica is refused at the others.
#[tokio::test]
async fn a_client_assertion_replayed_to_another_replica_is_refused() {
    let redis = Redis::shared();
    let pg = Postgres::shared();
    let pg_url = pg.create_database("replay_assertions");
    let (pair, clients, _keys) = client_setup();
    for section in [redis_section(&redis.url()), postgres_section(&pg_url)] {
        let replicas = replicas(3, &format!("{clients}{section}"));
        let assertion = assertion(&pair.private_pem);
        let first = token_request(replicas[1].bin.addr, &assertion).await;
        assert_eq!(first.status, 200, "{:?}", first.body);
        for r in [&replicas[0], &replicas[2], &replicas[1]] {
            let again = token_request(r.bin.addr, &assertion).await;
            assert_eq!(again.status, 400, "{:?}", again.body);
            assert_eq!(again.json()["error"], "invalid_grant", "{:?}", again.body);
        }
    }
}

async fn token_request(addr: SocketAddr, assertion: &str) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .finish();
    send(
        addr,
        build(
            "POST",
            "/oidc/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        ),
    )
    .await
}
