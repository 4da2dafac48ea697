//! Several gateway processes on one PostgreSQL database (issue 13): one user per contract
//! whatever replica the first requests reach, refresh-token reuse seen across replicas, a
//! client added with the admin command accepted by every replica without a restart, no user
//! lost when a replica is SIGKILLed, and 503s (never a 500 or a hang) while the database is
//! down, recovering when it is back. Plus the migrations and `admin copy-store`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::binary::{Binary, run};
use support::client::{Reply, build, send};
use support::postgres::Postgres;
use support::{get_with, keys, token};

/// A config file for a replica on `url`, with the issuer, password accounts and `extra`.
fn replica_config(dir: &Path, name: &str, url: &str, extra: &str) -> PathBuf {
    let key = keys().dir.join("trusted_public.pem").display().to_string();
    let issuer = keys().dir.join("trusted_private.pem").display().to_string();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace_secs = 5\n\
         [store]\npath = {store:?}\nbackend = \"postgres\"\nurl = {url:?}\npool_size = 8\n\
         connect_timeout_secs = 2\nstatement_timeout_ms = 2000\n\
         [dauth]\npublic_keys = [{key:?}]\n\
         [limits]\nper_ip_rps = 0\nper_consumer_rps = 0\n\
         [issuer]\nurl = \"http://gateway.test\"\nprivate_key = {issuer:?}\nkid = \"test-1\"\n\
         [accounts]\nauto_confirm = true\n{extra}\n",
        store = dir
            .join(format!("{name}-unused-sled"))
            .display()
            .to_string(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Three replicas on a new database of the shared cluster.
fn three(dir: &Path, db: &str) -> (Vec<Binary>, PathBuf) {
    let url = Postgres::shared().create_database(db);
    let cfgs: Vec<PathBuf> = (0..3)
        .map(|i| replica_config(dir, &format!("r{i}"), &url, ""))
        .collect();
    let replicas = cfgs.iter().map(|c| Binary::spawn(c)).collect();
    (replicas, cfgs[0].clone())
}

async fn current(addr: SocketAddr, contract: &str) -> Reply {
    get_with(
        addr,
        "/obp/v5.1.0/users/current",
        &[("DAuth", &token(contract, "ETHEREUM"))],
    )
    .await
}

async fn post(addr: SocketAddr, path: &str, body: Value) -> Reply {
    send(
        addr,
        build(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.to_string(),
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_requests_for_one_contract_over_three_replicas_make_one_user() {
    let dir = tempfile::tempdir().unwrap();
    let (replicas, _) = three(dir.path(), "one_user");
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let contract = "0x00000000000000000000000000000000000c0ffe";
    let tasks: Vec<_> = (0..150)
        .map(|i| tokio::spawn(current(addrs[i % 3], contract)))
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{:?}", r.body);
        ids.insert(r.json()["user_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        Postgres::shared().sql("one_user", "SELECT count(*) FROM users"),
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_rotated_on_one_replica_is_reuse_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let (replicas, _) = three(dir.path(), "refresh");
    let (a, b, c) = (replicas[0].addr, replicas[1].addr, replicas[2].addr);
    let creds = json!({"email": "r@example.com", "password": "a long password 1"});
    assert_eq!(
        post(a, "/api/auth/register", creds.clone()).await.status,
        201
    );
    let login = post(b, "/api/auth/login", creds).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let first = login.json()["refreshToken"].as_str().unwrap().to_owned();
    let rotated = post(c, "/api/auth/refresh", json!({"refreshToken": first})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let second = rotated.json()["refreshToken"].as_str().unwrap().to_owned();
    // The old token again, on another replica: reuse, and the family ends...
    post(a, "/api/auth/refresh", json!({"refreshToken": first}))
        .await
        .assert_error(401, "DAUTH-4008");
    // ... so its newest token is refused too, on every replica.
    post(b, "/api/auth/refresh", json!({"refreshToken": second}))
        .await
        .assert_error(401, "DAUTH-4008");
}

/// A client-credentials request for `client` with a fresh assertion signed by `pem`.
async fn client_token(addr: SocketAddr, client: &str, pem: &str) -> u16 {
    let now = support::now();
    let claims = json!({"iss": client, "sub": client, "aud": "http://gateway.test/oidc/token",
        "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string()});
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
            ("scope", "user:create"),
        ])
        .finish();
    let req = build(
        "POST",
        "/oidc/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
    );
    send(addr, req).await.status
}

/// Polls until every replica answers `want` for `client`, for at most 20 seconds.
async fn until_all(addrs: &[SocketAddr], client: &str, pem: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for addr in addrs {
        loop {
            let got = client_token(*addr, client, pem).await;
            if got == want {
                break;
            }
            assert!(Instant::now() < deadline, "{addr} still answers {got}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_added_or_removed_with_the_admin_command_reaches_every_replica() {
    let dir = tempfile::tempdir().unwrap();
    let (replicas, cfg) = three(dir.path(), "clients");
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let pem = keys().dir.join("stranger_public.pem").display().to_string();
    let private = keys().stranger.private_pem.clone();
    assert_eq!(client_token(addrs[0], "svc", &private).await, 401);
    let c = cfg.to_str().unwrap();
    let (code, out, err) = run(&[
        "admin",
        "--config",
        c,
        "client",
        "add",
        "--client-id",
        "svc",
        "--name",
        "Svc",
        "--scope",
        "user:create",
        "--public-key",
        &pem,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    until_all(&addrs, "svc", &private, 200).await;
    let (code, out, err) = run(&[
        "admin",
        "--config",
        c,
        "client",
        "remove",
        "--client-id",
        "svc",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    until_all(&addrs, "svc", &private, 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_of_one_replica_mid_traffic_loses_no_user_a_client_saw() {
    let dir = tempfile::tempdir().unwrap();
    let (mut replicas, _) = three(dir.path(), "sigkill");
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..12)
        .map(|w| {
            let (seen, addrs) = (seen.clone(), addrs.clone());
            tokio::spawn(async move {
                for i in 0..60 {
                    let contract = format!("0x{:040x}", (w << 16) | i);
                    let r = current(addrs[(w + i) % 3], &contract).await;
                    if r.status == 200 {
                        let id = r.json()["user_id"].as_str().unwrap().to_owned();
                        seen.lock().unwrap().push(id);
                    } else {
                        assert!(
                            r.status == 0 || r.status == 503,
                            "{} {:?}",
                            r.status,
                            r.body
                        );
                    }
                }
            })
        })
        .collect();
    while seen.lock().unwrap().len() < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    replicas.remove(0).kill9();
    for w in workers {
        // A request to the killed replica fails to connect: the client saw nothing from it.
        let _ = w.await;
    }
    let ids = seen.lock().unwrap().clone();
    assert!(ids.len() > 100);
    let list = ids
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(",");
    let stored = Postgres::shared().sql(
        "sigkill",
        &format!("SELECT count(*) FROM users WHERE user_id IN ({list})"),
    );
    assert_eq!(stored, ids.len().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_down_mid_traffic_answers_503_and_recovers_without_a_restart() {
    let mut pg = Postgres::start();
    let url = pg.create_database("outage");
    let dir = tempfile::tempdir().unwrap();
    let up = support::upstream::Upstream::start().await;
    let route = support::route("/backend/", &format!("http://{}", up.addr), "required", "");
    let gw = Binary::spawn(&replica_config(dir.path(), "r", &url, &route));
    // A second gateway without replay protection: its forwarded requests need only the user,
    // which the hot cache holds once seen. With replay protection (the first), the request id
    // is recorded in the store's shared window, so those fail closed instead.
    let unreplayed = replica_config(dir.path(), "s", &url, &route);
    let text = std::fs::read_to_string(&unreplayed).unwrap();
    std::fs::write(
        &unreplayed,
        text.replace("[dauth]\n", "[dauth]\nreplay_protection = false\n"),
    )
    .unwrap();
    let gw2 = Binary::spawn(&unreplayed);
    let hot = "0x0000000000000000000000000000000000000a11";
    let forwarded = |addr, contract: &'static str| {
        let t = token(contract, "ETHEREUM");
        async move { get_with(addr, "/backend/x", &[("DAuth", &t)]).await }
    };
    assert_eq!(forwarded(gw.addr, hot).await.status, 200);
    assert_eq!(forwarded(gw2.addr, hot).await.status, 200);
    pg.stop_immediate();
    for i in 0..20 {
        // Bounded: the pool waits connect_timeout_secs at most (2 s here), never forever.
        let r = tokio::time::timeout(
            Duration::from_secs(30),
            current(gw2.addr, &format!("0x{:040x}", 0xdead_0000u64 + i)),
        )
        .await
        .expect("a request hung while the database was down");
        r.assert_error(503, "DAUTH-5030");
        // A user in the hot cache is still served, where no replay check needs the database...
        assert_eq!(forwarded(gw2.addr, hot).await.status, 200);
        // ...and refused at once where one does: the shared window fails closed.
        forwarded(gw.addr, hot)
            .await
            .assert_error(503, "DAUTH-5070");
    }
    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = current(gw.addr, "0x0000000000000000000000000000000000000b0b").await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 503, "{:?}", r.body);
        assert!(Instant::now() < deadline, "no recovery after the restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(forwarded(gw.addr, hot).await.status, 200);
    assert_eq!(gw.terminate().code(), Some(0));
    assert_eq!(gw2.terminate().code(), Some(0));
}

#[test]
fn an_unreachable_database_refuses_the_start_naming_the_url_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://dauth:very-secret-pw@127.0.0.1:{port}/nowhere");
    let cfg = replica_config(dir.path(), "r", &url, "");
    let (code, out, err) = run(&["serve", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("postgres://dauth@127.0.0.1:{port}/nowhere")),
        "{err}"
    );
    assert!(
        !err.contains("very-secret-pw") && !out.contains("very-secret-pw"),
        "{err}"
    );
}

#[test]
fn a_changed_applied_migration_refuses_the_start_and_replicas_starting_together_both_start() {
    let pg = Postgres::shared();
    let url = pg.create_database("migrations");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        replica_config(dir.path(), "a", &url, ""),
        replica_config(dir.path(), "b", &url, ""),
    );
    // Both start at once on an empty database: one migrates, the other waits for its lock.
    let (ra, rb) = std::thread::scope(|s| {
        let ja = s.spawn(|| Binary::spawn(&a));
        let jb = s.spawn(|| Binary::spawn(&b));
        (ja.join().unwrap(), jb.join().unwrap())
    });
    assert_eq!(
        pg.sql("migrations", "SELECT count(*) FROM schema_migrations"),
        dauth_proxy::store::postgres::migrate::MIGRATIONS
            .len()
            .to_string()
    );
    ra.terminate();
    rb.terminate();
    let (code, out, err) = run(&["admin", "--config", a.to_str().unwrap(), "migrate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"applied\":[]"), "{out}");
    pg.sql(
        "migrations",
        "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
    );
    let (code, out, err) = run(&["serve", "--config", a.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("0001_initial was changed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_store_moves_every_record_of_a_sled_store() {
    use dauth_proxy::store::model::{Profile, StoredClient};
    use dauth_proxy::store::sled::SledStore;
    use dauth_proxy::store::{
        AccessStore, ClientStore, PasswordStore, ReplayScope, ReplayWindow, UserStore,
    };
    let dir = tempfile::tempdir().unwrap();
    let sled_dir = dir.path().join("sled");
    let (user, local) = {
        let s = SledStore::open(&sled_dir, 1 << 24).unwrap();
        let u = s
            .get_or_create_dauth_user("ETHEREUM", "0xabc", 5)
            .await
            .unwrap();
        s.create_account("bank", "acc", "L", &u.user_id, 6)
            .await
            .unwrap();
        let p = Profile {
            email: "c@example.com".into(),
            ..Profile::default()
        };
        let (l, _) = s.create_local_user(p, None, 7).await.unwrap();
        s.start_refresh_family(&l.user_id, "jti-1", i64::MAX)
            .await
            .unwrap();
        s.add_client(StoredClient {
            client_id: "svc".into(),
            name: "S".into(),
            scopes: vec![],
            public_keys_pem: vec!["x".into()],
            jwks: None,
            created_at: 1,
        })
        .await
        .unwrap();
        s.record(
            ReplayScope::Assertion { client_id: "svc" },
            "j1",
            i64::MAX,
            0,
        )
        .await
        .unwrap();
        s.flush().await.unwrap();
        (u, l)
    };
    let pg = Postgres::shared();
    let url = pg.create_database("copied");
    let cfg = replica_config(dir.path(), "r", &url, "");
    let copy = || {
        run(&[
            "admin",
            "--config",
            cfg.to_str().unwrap(),
            "copy-store",
            "--from",
            sled_dir.to_str().unwrap(),
            "--to",
            &url,
        ])
    };
    let (code, out, err) = copy();
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains(pg.password()), "{out}");
    let q = |sql: &str| pg.sql("copied", sql);
    assert_eq!(q("SELECT count(*) FROM users"), "2");
    assert_eq!(
        q("SELECT user_id FROM users WHERE kind = 'dauth' AND username = '0xabc'"),
        user.user_id
    );
    assert_eq!(
        q("SELECT count(*) FROM access WHERE view_id = 'owner'"),
        "1"
    );
    assert_eq!(
        q("SELECT user_id FROM login_names WHERE name = 'c@example.com'"),
        local.user_id
    );
    assert_eq!(q("SELECT count(*) FROM refresh_families"), "1");
    assert_eq!(q("SELECT count(*) FROM clients"), "1");
    assert_eq!(
        q("SELECT scope || '/' || id FROM dauth_replay"),
        "assertion:svc/j1"
    );
    // Run twice: every record once.
    let (code, _, err) = copy();
    assert_eq!(code, 0, "{err}");
    assert_eq!(q("SELECT count(*) FROM users"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_table_takes_an_id_once_across_stores_until_it_expires() {
    use dauth_proxy::config::PostgresConfig;
    use dauth_proxy::store::postgres::PgStore;
    use dauth_proxy::store::replay::postgres::PgReplay;
    use dauth_proxy::store::{Replay, ReplayScope, ReplayWindow};
    let url = Postgres::shared().create_database("replay_table");
    let pg = PostgresConfig::from_url(&url).unwrap();
    // Two stores over one database, as two replicas would have.
    let (one, two) = (
        PgStore::connect(&pg).await.unwrap(),
        PgStore::connect(&pg).await.unwrap(),
    );
    let (a, b) = (
        std::sync::Arc::new(PgReplay::over_pool(
            one.pool().clone(),
            Duration::from_secs(10),
        )),
        std::sync::Arc::new(PgReplay::over_pool(
            two.pool().clone(),
            Duration::from_secs(10),
        )),
    );
    let scope = ReplayScope::Dauth { consumer_key: "c" };
    let other = ReplayScope::Assertion { client_id: "c" };
    assert_eq!(a.record(scope, "r1", 100, 50).await.unwrap(), Replay::Fresh);
    assert_eq!(b.record(scope, "r1", 100, 60).await.unwrap(), Replay::Seen);
    assert_eq!(b.record(other, "r1", 100, 60).await.unwrap(), Replay::Fresh);
    // Expired: the id may be taken again (its token could not be valid any more).
    assert_eq!(
        b.record(scope, "r1", 300, 100).await.unwrap(),
        Replay::Fresh
    );
    assert_eq!(a.record(scope, "r1", 300, 150).await.unwrap(), Replay::Seen);
    // Concurrent first uses of one id: exactly one is fresh.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let w = std::sync::Arc::clone(if i % 2 == 0 { &a } else { &b });
            tokio::spawn(async move {
                w.record(ReplayScope::Dauth { consumer_key: "c" }, "race", 500, 1)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        fresh += usize::from(t.await.unwrap() == Replay::Fresh);
    }
    assert_eq!(fresh, 1);
    assert_eq!(
        a.prune(200).await.unwrap(),
        1,
        "only the assertion id expired by 200"
    );
    assert_eq!(a.record(scope, "r1", 300, 200).await.unwrap(), Replay::Seen);
}

/// A database migrated by the gateway before 0003 kept the store's used ids in `replay`, as
/// `j:<client_id>` and `d:<consumer_key>`. Upgrading moves every id into `dauth_replay` in the
/// window's spelling, so an id recorded before the upgrade is still a replay after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_keeps_every_used_id_of_the_old_replay_table() {
    use dauth_proxy::config::PostgresConfig;
    use dauth_proxy::store::postgres::PgStore;
    use dauth_proxy::store::postgres::migrate::{MIGRATIONS, checksum};
    use dauth_proxy::store::{Replay, ReplayScope};
    let pg = Postgres::shared();
    let url = pg.create_database("upgrade_0003");
    let mut old = String::from(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, \
         checksum text NOT NULL, applied_at bigint NOT NULL);",
    );
    for m in MIGRATIONS.iter().filter(|m| m.version < 3) {
        old.push_str(m.sql);
        old.push_str(&format!(
            "\nINSERT INTO schema_migrations VALUES ({}, '{}', '{}', 1);\n",
            m.version,
            m.name,
            checksum(m.sql)
        ));
    }
    old.push_str(
        "INSERT INTO replay VALUES ('j:svc', 'j1', 4000000000), ('d:a:b%c', 'r1', 4000000000);",
    );
    pg.sql("upgrade_0003", &old);
    let store = PgStore::connect(&PostgresConfig::from_url(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        pg.sql(
            "upgrade_0003",
            "SELECT string_agg(scope || '/' || id, ' ' ORDER BY scope) FROM dauth_replay"
        ),
        "assertion:svc/j1 dauth:a%3Ab%25c/r1"
    );
    assert_eq!(
        pg.sql("upgrade_0003", "SELECT to_regclass('replay') IS NULL"),
        "t"
    );
    let window = store.stores(0).assertions;
    let dauth = ReplayScope::Dauth {
        consumer_key: "a:b%c",
    };
    let client = ReplayScope::Assertion { client_id: "svc" };
    assert_eq!(
        window.record(dauth, "r1", 4000000000, 10).await.unwrap(),
        Replay::Seen
    );
    assert_eq!(
        window.record(client, "j1", 4000000000, 10).await.unwrap(),
        Replay::Seen
    );
    assert_eq!(
        window.record(client, "j2", 4000000000, 10).await.unwrap(),
        Replay::Fresh
    );
}

/// Get-or-creates that arrive together run as one group per store: racing on two stores over
/// one database, with each contract wanted ten times (so a group holds copies of one contract),
/// every contract still has exactly one user, and every call answers that user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_get_or_creates_racing_on_two_stores_make_one_user_per_contract() {
    use dauth_proxy::config::PostgresConfig;
    use dauth_proxy::store::postgres::PgStore;
    let pg = Postgres::shared();
    let url = pg.create_database("grouped_users");
    let config = PostgresConfig::from_url(&url).unwrap();
    let stores = [
        PgStore::connect(&config).await.unwrap().stores(0).users,
        PgStore::connect(&config).await.unwrap().stores(0).users,
    ];
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let users = std::sync::Arc::clone(&stores[i % 2]);
            tokio::spawn(async move {
                let contract = format!("0x{:040x}", i % 20);
                let user = users
                    .get_or_create_dauth_user("net", &contract, 1_700_000_000)
                    .await
                    .unwrap();
                assert_eq!(
                    (user.provider.as_str(), user.username.as_str()),
                    ("net", contract.as_str())
                );
                (contract, user.user_id)
            })
        })
        .collect();
    let mut seen = std::collections::HashMap::new();
    for t in tasks {
        let (contract, id) = t.await.unwrap();
        assert_eq!(
            seen.entry(contract.clone()).or_insert_with(|| id.clone()),
            &id,
            "{contract}"
        );
    }
    assert_eq!(seen.len(), 20);
    assert_eq!(pg.sql("grouped_users", "SELECT count(*) FROM users"), "20");
}
