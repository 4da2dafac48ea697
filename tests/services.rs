//! The real services the test support starts (tests/support/{postgres,redis,evm,contracts}.rs)
//! do what later tests rely on: PostgreSQL with password authentication that keeps committed
//! rows through a crash-like stop, Redis `SET NX EX` through an outage, and a local EVM chain
//! on which AirnodeRrpV0 records a request and an EIP-1271 wallet accepts its owner's
//! signature made by an independent library (viem).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::str::FromStr;

use alloy_primitives::{Address, B256, U256, eip191_hash_message, hex, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
use serde_json::Value;
use support::contracts::{
    AirnodeSetup, EIP1271_MAGIC, Eip1271Wallet, IAirnodeRrpV0, MockRrpRequesterV0, artifact,
    deploy_wallet, fixtures_dir, is_valid_signature,
};
use support::evm::{CHAIN_ID, Evm};
use support::postgres::{Postgres, USER};
use support::redis::Redis;
use tokio_postgres::error::SqlState;

async fn pg_connect(conn: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

#[tokio::test]
async fn postgres_serves_password_connections_on_loopback_only() {
    let pg = Postgres::start();
    for conn in [pg.url(), pg.conninfo("postgres")] {
        let client = pg_connect(&conn).await.unwrap();
        let row = client
            .query_one("SELECT current_user::text, 1 + 1", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), USER);
        assert_eq!(row.get::<_, i32>(1), 2);
    }
    let wrong = pg.url().replace(pg.password(), "wrong-password");
    let Err(err) = pg_connect(&wrong).await else {
        panic!("a wrong password must be refused");
    };
    assert_eq!(err.code(), Some(&SqlState::INVALID_PASSWORD), "{err:?}");
    for (setting, want) in [
        ("listen_addresses", "127.0.0.1"),
        ("unix_socket_directories", ""),
        ("fsync", "on"),
        ("synchronous_commit", "on"),
    ] {
        assert_eq!(
            pg.sql("postgres", &format!("SHOW {setting}")),
            want,
            "{setting}"
        );
    }
}

#[tokio::test]
async fn postgres_keeps_committed_rows_through_an_immediate_stop_and_restart() {
    let mut pg = Postgres::start();
    let url = pg.create_database("durable");
    let client = pg_connect(&url).await.unwrap();
    client
        .batch_execute("CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL)")
        .await
        .unwrap();
    for id in 0..50 {
        client
            .execute(
                "INSERT INTO users VALUES ($1, $2)",
                &[&id, &format!("user {id}")],
            )
            .await
            .unwrap();
    }
    let port = pg.port();

    pg.stop_immediate();
    assert!(!pg.is_running());
    assert!(
        client.query_one("SELECT 1", &[]).await.is_err(),
        "the outage must be seen"
    );
    assert!(
        pg_connect(&url).await.is_err(),
        "nothing may answer while stopped"
    );

    pg.restart();
    assert_eq!(pg.port(), port);
    let client = pg_connect(&url).await.unwrap();
    let row = client
        .query_one("SELECT count(*), max(name) FROM users", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 50);
    assert_eq!(row.get::<_, String>(1), "user 9");
}

#[tokio::test]
async fn postgres_stop_shuts_the_server_and_removes_its_directory() {
    let pg = Postgres::start();
    let dir = pg.dir().to_owned();
    let url = pg.url();
    assert!(dir.join("data").join("PG_VERSION").exists());
    pg.stop();
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(pg_connect(&url).await.is_err());
}

#[tokio::test]
async fn postgres_shared_cluster_gives_each_test_a_database() {
    let pg = Postgres::shared();
    let a = pg.create_database("shared_a");
    let b = pg.create_database("shared_b");
    pg_connect(&a)
        .await
        .unwrap()
        .batch_execute("CREATE TABLE t (x int)")
        .await
        .unwrap();
    let in_b = pg.sql(
        "shared_b",
        "SELECT count(*) FROM pg_tables WHERE tablename = 't'",
    );
    assert_eq!(in_b, "0");
    assert!(pg_connect(&b).await.is_ok());
}

#[tokio::test]
async fn redis_set_nx_ex_refuses_a_second_set_and_sets_the_ttl() {
    let redis = Redis::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let set = |value: &'static str| {
        redis::cmd("SET")
            .arg("replay:req-1")
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(60)
            .to_owned()
    };
    let first: Option<String> = set("a").query_async(&mut conn).await.unwrap();
    assert_eq!(first.as_deref(), Some("OK"));
    let second: Option<String> = set("b").query_async(&mut conn).await.unwrap();
    assert_eq!(second, None, "NX must refuse an existing key");
    let ttl: i64 = redis::cmd("TTL")
        .arg("replay:req-1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
    assert_eq!(redis.cmd(&["GET", "replay:req-1"]), "$1 a");
    assert_eq!(redis.cmd(&["CONFIG", "GET", "bind"]).lines().count(), 1);
}

#[tokio::test]
async fn redis_outage_is_seen_and_a_restart_keeps_the_data() {
    let mut redis = Redis::start();
    let port = redis.port();
    assert_eq!(redis.cmd(&["SET", "kept", "1"]), "+OK");
    redis.restart();
    assert_eq!(redis.port(), port);
    assert_eq!(
        redis.cmd(&["GET", "kept"]),
        "$1 1",
        "a graceful restart keeps data"
    );

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis.kill();
    assert!(!redis.is_running());
    let during: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
    assert!(during.is_err(), "the outage must be seen");
    redis.restart();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
}

/// `name(type,...)` for each function and event of a JSON ABI.
fn abi_signatures(abi: &Value) -> Vec<String> {
    abi.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "function" || e["type"] == "event")
        .map(|e| {
            let types: Vec<&str> = e["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["type"].as_str().unwrap())
                .collect();
            format!("{}({})", e["name"].as_str().unwrap(), types.join(","))
        })
        .collect()
}

#[test]
fn contract_bindings_match_the_artifacts_abis() {
    let rrp = abi_signatures(&artifact("AirnodeRrpV0").abi);
    for sig in [
        IAirnodeRrpV0::setSponsorshipStatusCall::SIGNATURE,
        IAirnodeRrpV0::makeFullRequestCall::SIGNATURE,
        IAirnodeRrpV0::failCall::SIGNATURE,
        IAirnodeRrpV0::requestIsAwaitingFulfillmentCall::SIGNATURE,
        IAirnodeRrpV0::requesterToRequestCountPlusOneCall::SIGNATURE,
        IAirnodeRrpV0::sponsorToRequesterToSponsorshipStatusCall::SIGNATURE,
        IAirnodeRrpV0::SetSponsorshipStatus::SIGNATURE,
        IAirnodeRrpV0::MadeFullRequest::SIGNATURE,
        IAirnodeRrpV0::MadeTemplateRequest::SIGNATURE,
        IAirnodeRrpV0::FulfilledRequest::SIGNATURE,
        IAirnodeRrpV0::FailedRequest::SIGNATURE,
    ] {
        assert!(
            rrp.iter().any(|s| s == sig),
            "{sig} not in AirnodeRrpV0's ABI"
        );
    }
    let requester = abi_signatures(&artifact("MockRrpRequesterV0").abi);
    for sig in [
        MockRrpRequesterV0::makeFullRequestCall::SIGNATURE,
        MockRrpRequesterV0::fulfillCall::SIGNATURE,
        MockRrpRequesterV0::airnodeRrpCall::SIGNATURE,
    ] {
        assert!(
            requester.iter().any(|s| s == sig),
            "{sig} not in MockRrpRequesterV0's ABI"
        );
    }
    let wallet = abi_signatures(&artifact("Eip1271Wallet").abi);
    for sig in [
        Eip1271Wallet::isValidSignatureCall::SIGNATURE,
        Eip1271Wallet::ownerCall::SIGNATURE,
    ] {
        assert!(
            wallet.iter().any(|s| s == sig),
            "{sig} not in Eip1271Wallet's ABI"
        );
    }
    // The EIP-1271 magic value is the selector of isValidSignature(bytes32,bytes).
    assert_eq!(Eip1271Wallet::isValidSignatureCall::SELECTOR, EIP1271_MAGIC);
}

/// The request id AirnodeRrpV0 gives a full request: keccak256(abi.encodePacked(chain id, rrp,
/// requester, count, airnode, endpoint id, sponsor, sponsor wallet, fulfill address, fulfill
/// function id, parameters)), as in AirnodeRrpV0.sol.
fn full_request_id(airnode: &AirnodeSetup, count: U256, endpoint: B256, params: &[u8]) -> B256 {
    let packed = [
        U256::from(CHAIN_ID).to_be_bytes::<32>().as_slice(),
        airnode.rrp.as_slice(),
        airnode.requester.as_slice(),
        &count.to_be_bytes::<32>(),
        airnode.airnode.as_slice(),
        endpoint.as_slice(),
        airnode.sponsor.as_slice(),
        airnode.sponsor_wallet.as_slice(),
        airnode.requester.as_slice(),
        &airnode.fulfill_function_id(),
        params,
    ]
    .concat();
    keccak256(packed)
}

#[tokio::test]
async fn airnode_request_is_logged_under_its_request_id_and_awaits_fulfillment() {
    let evm = Evm::start().await;
    let chain_id = evm.rpc("eth_chainId", serde_json::json!([])).await;
    assert_eq!(support::evm::quantity(&chain_id), CHAIN_ID);
    let airnode = AirnodeSetup::deploy(&evm).await;
    // Deterministic CREATE addresses: the ones in Airnode's adapter fixtures.
    let addr = |s: &str| Address::from_str(s).unwrap();
    assert_eq!(
        airnode.rrp,
        addr("0x5FbDB2315678afecb367f032d93F642f64180aa3")
    );
    assert_eq!(
        airnode.requester,
        addr("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
    );

    let endpoint = keccak256("endpoint");
    let params = hex::decode("0x3173").unwrap();
    let count = airnode.next_request_count(&evm, airnode.requester).await;
    let request = airnode.make_full_request(&evm, endpoint, &params).await;
    let event = &request.event;
    assert_eq!(event.airnode, airnode.airnode);
    assert_eq!(event.requester, airnode.requester);
    assert_eq!(event.sponsor, airnode.sponsor);
    assert_eq!(event.sponsorWallet, airnode.sponsor_wallet);
    assert_eq!(event.chainId, U256::from(CHAIN_ID));
    assert_eq!(event.requesterRequestCount, count);
    assert_eq!(event.endpointId, endpoint);
    assert_eq!(
        request.request_id,
        full_request_id(&airnode, count, endpoint, &params)
    );

    let logs = airnode.request_logs(&evm, request.request_id).await;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].transaction_hash, request.receipt.transaction_hash);
    assert!(airnode.is_awaiting(&evm, request.request_id).await);
    let unknown = B256::repeat_byte(0x42);
    assert!(!airnode.is_awaiting(&evm, unknown).await);
    assert!(airnode.request_logs(&evm, unknown).await.is_empty());
}

#[tokio::test]
async fn airnode_request_needs_a_sponsor_and_fail_ends_it() {
    let evm = Evm::start().await;
    let airnode = AirnodeSetup::deploy(&evm).await;
    let request = airnode.make_full_request(&evm, B256::ZERO, b"").await;
    let failed = airnode.fail(&evm, request.request_id).await;
    let failed_topic = IAirnodeRrpV0::FailedRequest::SIGNATURE_HASH;
    assert!(
        failed
            .logs
            .iter()
            .any(|l| l.topics.first() == Some(&failed_topic))
    );
    assert!(!airnode.is_awaiting(&evm, request.request_id).await);

    // Without setSponsorshipStatus the request is refused on chain.
    let call = IAirnodeRrpV0::makeFullRequestCall {
        airnode: airnode.airnode,
        endpointId: B256::ZERO,
        sponsor: airnode.sponsor,
        sponsorWallet: airnode.sponsor_wallet,
        fulfillAddress: airnode.requester,
        fulfillFunctionId: airnode.fulfill_function_id().into(),
        parameters: Default::default(),
    }
    .abi_encode();
    let stranger = evm.account(4);
    let refused = evm.try_call_from(stranger, airnode.rrp, &call).await;
    let err = refused.expect_err("an unsponsored requester must be refused");
    assert!(err.message.contains("Requester not sponsored"), "{err:?}");
    let mined = evm.try_send(stranger, airnode.rrp, &call).await.unwrap();
    assert!(!mined.status && mined.logs.is_empty(), "{:?}", mined.raw);
    // Once sponsored, an EOA may be the requester too.
    airnode.sponsor_requester(&evm, stranger).await;
    let receipt = evm.send(stranger, airnode.rrp, &call).await;
    let log = &receipt.logs[0];
    let topics = log.topics.iter().copied();
    let event = IAirnodeRrpV0::MadeFullRequest::decode_raw_log(topics, &log.data).unwrap();
    assert_eq!(event.requester, stranger);
}

#[tokio::test]
async fn eip1271_wallet_accepts_its_owners_viem_signature_only() {
    let path = fixtures_dir().join("signatures").join("eip1271.json");
    let vector: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let field = |k: &str| vector[k].as_str().unwrap().to_owned();
    let owner = Address::from_str(vector["owner"]["address"].as_str().unwrap()).unwrap();
    let hash = B256::from_str(&field("hash")).unwrap();
    // viem's EIP-191 hash is alloy's.
    assert_eq!(eip191_hash_message(field("message")), hash);
    let sig = |k: &str| hex::decode(field(k)).unwrap();

    let evm = Evm::shared().await;
    let wallet = deploy_wallet(evm, owner).await;
    let call = Eip1271Wallet::ownerCall {}.abi_encode();
    let answer = Eip1271Wallet::ownerCall::abi_decode_returns(&evm.call(wallet, &call).await);
    assert_eq!(answer.unwrap(), owner);

    let invalid = [0xff; 4];
    assert_eq!(
        is_valid_signature(evm, wallet, hash, &sig("owner_signature")).await,
        EIP1271_MAGIC
    );
    assert_eq!(
        is_valid_signature(evm, wallet, hash, &sig("stranger_signature")).await,
        invalid
    );
    assert_eq!(
        is_valid_signature(evm, wallet, hash, &sig("owner_signature_high_s")).await,
        invalid
    );
    let other = eip191_hash_message("another message");
    assert_eq!(
        is_valid_signature(evm, wallet, other, &sig("owner_signature")).await,
        invalid
    );
    let short = &sig("owner_signature")[..64];
    assert_eq!(is_valid_signature(evm, wallet, hash, short).await, invalid);
    // A wallet owned by someone else refuses the owner's signature.
    let stranger = Address::from_str(vector["stranger"]["address"].as_str().unwrap()).unwrap();
    let theirs = deploy_wallet(evm, stranger).await;
    assert_eq!(
        is_valid_signature(evm, theirs, hash, &sig("owner_signature")).await,
        invalid
    );
    assert_eq!(
        is_valid_signature(evm, theirs, hash, &sig("stranger_signature")).await,
        EIP1271_MAGIC
    );
}
