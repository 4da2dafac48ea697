//! Writes the seed corpus: `fuzz/corpus/<target>/seed-*`.
//!
//! Run from anywhere: `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`.
//! Output is deterministic (tokens are RS256/RS512 signed with the checked-in development key
//! and dated `NOW`), so re-running it changes nothing unless the seeds below change. Old
//! `seed-*` files are removed first; files libFuzzer adds (hash names) are left alone.
//! Each seed is also checked here against the library, so a seed that no longer means what
//! its name says fails the generator.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dauth_proxy::Config;
use dauth_proxy::auth::mint::{DauthTokenSpec, mint_dauth};
use dauth_proxy_fuzz::filter::{check_anonymous, check_principal, filter};
use dauth_proxy_fuzz::gateway::{self, ENDPOINTS, check_reply, endpoint_index};
use dauth_proxy_fuzz::inputs::{ClientIpInput, FilterContext, FilterInput, principal};
use dauth_proxy_fuzz::{DEV_KID, NOW, NOW_RFC3339, fixture, repo_root};
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

const CONTRACT: &str = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";
const SENDER: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

fn main() {
    let corpus = repo_root().join("fuzz").join("corpus");
    dauth_header(&target_dir(&corpus, "dauth_header"));
    claims(&target_dir(&corpus, "claims"));
    config(&target_dir(&corpus, "config"));
    client_ip(&target_dir(&corpus, "client_ip"));
    header_filter(&target_dir(&corpus, "header_filter"));
    json_bodies(&target_dir(&corpus, "json_bodies"));
    println!("seed corpus written to {}", corpus.display());
}

/// Creates `corpus/<target>` and removes its old seeds.
fn target_dir(corpus: &Path, target: &str) -> PathBuf {
    let dir = corpus.join(target);
    fs::create_dir_all(&dir).unwrap();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
        {
            fs::remove_file(path).unwrap();
        }
    }
    dir
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

// === dauth_header ===

fn dev_token(request_id: &str, kid: Option<&str>, alg: Algorithm) -> String {
    let spec = DauthTokenSpec {
        contract: CONTRACT.to_lowercase(),
        network: "ETHEREUM".into(),
        consumer_key: "seed-consumer".into(),
        msg_sender: Some(SENDER.into()),
        request_id: Some(request_id.into()),
        ttl_secs: 300,
        kid: kid.map(str::to_owned),
        alg,
    };
    let now = time::OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    mint_dauth(&dauth_proxy_fuzz::dev_signer(), &spec, now).unwrap()
}

/// `token` with its JOSE header replaced by `header` (signature kept, so now wrong).
fn with_header(token: &str, header: &Value) -> String {
    let rest = token.split_once('.').unwrap().1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

fn decide(value: &str) -> Result<bool, String> {
    let mut headers = HeaderMap::new();
    for line in value.split('\n') {
        headers.append("dauth", HeaderValue::from_str(line).unwrap());
    }
    let fx = fixture();
    fx.authenticate(&headers)
        .map(|who| who.is_some())
        .map_err(|e| e.code().to_owned())
}

fn dauth_header(dir: &Path) {
    let plain = dev_token("seed-header-1", None, Algorithm::RS256);
    let kid = dev_token("seed-header-2", Some(DEV_KID), Algorithm::RS512);
    assert_eq!(decide(&plain), Ok(true), "dev-key token must be accepted");
    assert_eq!(
        decide(&kid),
        Ok(true),
        "dev-key token with kid must be accepted"
    );
    let unknown_kid = dev_token("seed-header-3", Some("nobody"), Algorithm::RS256);
    let none = with_header(&plain, &json!({"alg": "none", "typ": "JWT"}));
    let hs256 = with_header(&plain, &json!({"alg": "HS256", "typ": "JWT"}));
    let two = format!("{plain}\n{kid}");
    let comma = format!("{plain},{kid}");
    let mut tampered = plain.clone().into_bytes();
    let mid = plain.find('.').unwrap() + 5;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (name, value, code) in [
        ("unknown-kid", &unknown_kid, "OBP-20071"),
        ("alg-none", &none, "OBP-20071"),
        ("alg-hs256", &hs256, "OBP-20071"),
        ("two-headers", &two, "OBP-20072"),
        ("comma-joined", &comma, "OBP-20072"),
        ("tampered-payload", &tampered, "OBP-20071"),
    ] {
        assert_eq!(decide(value), Err(code.to_owned()), "{name}");
        write(dir, &format!("token-{name}"), value);
    }
    write(dir, "token-dev-rs256", &plain);
    write(dir, "token-dev-rs512-kid", &kid);
    write(dir, "not-a-jws", "eyJhbGciOiJSUzI1NiJ9.e30");
    write(
        dir,
        "claims.json",
        valid_claims("seed-header-json").to_string(),
    );
}

// === claims ===

fn valid_claims(request_id: &str) -> Value {
    json!({
        "smart_contract_address": CONTRACT.to_lowercase(),
        "network_name": "ETHEREUM",
        "consumer_key": "seed-consumer",
        "msg_sender": SENDER,
        "timestamp": NOW_RFC3339,
        "iat": NOW,
        "exp": NOW + 300,
        "request_id": request_id,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn claims(dir: &Path) {
    let base = || valid_claims("seed-claims");
    let upper = format!("0x{}", CONTRACT[2..].to_uppercase());
    let bad_checksum = CONTRACT.replace("dA6", "Da6");
    let obp_example = "0xe123425E7734CE288F8367e1Bb143E90bb3F051224";
    let seeds = [
        ("valid", base(), Ok(())),
        (
            "checksummed",
            with(base(), "smart_contract_address", json!(CONTRACT)),
            Ok(()),
        ),
        (
            "uppercase",
            with(base(), "smart_contract_address", json!(upper)),
            Ok(()),
        ),
        (
            "minimal",
            json!({"smart_contract_address": CONTRACT, "network_name": "eip155:1",
            "consumer_key": "k", "iat": NOW, "request_id": "r"}),
            Ok(()),
        ),
        (
            "float-times",
            with(
                with(base(), "iat", json!(1.8e9)),
                "exp",
                json!(1.8e9 + 299.5),
            ),
            Ok(()),
        ),
        (
            "bad-checksum",
            with(base(), "smart_contract_address", json!(bad_checksum)),
            Err("DAUTH-2009"),
        ),
        (
            "obp-glossary-address",
            with(base(), "smart_contract_address", json!(obp_example)),
            Err("DAUTH-2008"),
        ),
        (
            "expired",
            with(base(), "exp", json!(NOW - 61)),
            Err("DAUTH-2001"),
        ),
        (
            "not-yet-valid",
            with(base(), "nbf", json!(NOW + 61)),
            Err("DAUTH-2002"),
        ),
        (
            "stale-timestamp",
            with(base(), "timestamp", json!("2027-01-15T07:50:00Z")),
            Err("DAUTH-2003"),
        ),
        (
            "future-iat",
            with(base(), "iat", json!(NOW + 3600)),
            Err("DAUTH-2004"),
        ),
        (
            "undated",
            without(without(base(), "iat"), "timestamp"),
            Err("DAUTH-2005"),
        ),
        (
            "no-request-id",
            without(base(), "request_id"),
            Err("DAUTH-2006"),
        ),
        (
            "bad-network",
            with(base(), "network_name", json!("ETH EREUM")),
            Err("DAUTH-2010"),
        ),
        (
            "network-number",
            with(base(), "network_name", json!(1)),
            Err("OBP-20071"),
        ),
        (
            "no-consumer-key",
            without(base(), "consumer_key"),
            Err("OBP-20071"),
        ),
        (
            "bad-timestamp",
            with(base(), "timestamp", json!("yesterday")),
            Err("OBP-20071"),
        ),
    ];
    let fx = fixture();
    for (name, mut claims, expected) in seeds {
        // One request id per seed, or the replay window refuses all but the first.
        if claims.get("request_id").is_some() {
            claims["request_id"] = json!(format!("seed-{name}"));
        }
        let token = fx.sign(claims.as_object().unwrap());
        let got = fx
            .state
            .policy()
            .dauth
            .verify(&token, NOW)
            .map(|_| ())
            .map_err(|e| e.code());
        assert_eq!(got, expected, "claims seed {name}");
        write(
            dir,
            &format!("{name}.json"),
            serde_json::to_vec_pretty(&claims).unwrap(),
        );
    }
}

// === config ===

fn config(dir: &Path) {
    dauth_proxy_fuzz::config::enter_repo_root();
    let shipped = fs::read_to_string("config/dauth.toml").unwrap();
    let readme = fs::read_to_string("README.md").unwrap();
    let documented = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap()
        .to_owned();
    let dev_key = r#"public_keys = ["keys/dev/dauth_public.pem"]"#;
    let seeds = [
        ("shipped.toml", shipped.clone(), None),
        (
            "empty.toml",
            String::new(),
            Some("fuzz.toml: dauth.public_keys: "),
        ),
        (
            "readme.toml",
            documented.clone(),
            Some("fuzz.toml: dauth.public_keys: "),
        ),
        (
            "readme-with-key.toml",
            documented.replace("public_keys = []", dev_key),
            None,
        ),
        (
            "kid-and-proxies.toml",
            shipped
                .replace(
                    dev_key,
                    r#"public_keys = [{ path = "keys/dev/dauth_public.pem", kid = "dev" }]"#,
                )
                .replace(
                    "trusted_proxies = []",
                    r#"trusted_proxies = ["10.0.0.0/8", "::ffff:192.168.0.0/112"]"#,
                )
                // The first `networks = []` is `[dauth]`'s (`[internal]` has one too).
                .replacen("networks = []", r#"networks = ["ETHEREUM", "eip155:1"]"#, 1),
            None,
        ),
        (
            "routes.toml",
            format!(
                "{shipped}\n[[routes]]\nprefix = \"/\"\nupstream = \"http://127.0.0.1:9000/base/\"\n\
                 auth = \"optional\"\nstrip_prefix = true\n\n[[routes]]\nprefix = \"/obp/\"\n\
                 upstream = \"https://backend.example:8443\"\nauth = \"none\"\n\
                 forward_token = true\npreserve_host = true\nmax_body_bytes = 1024\n"
            ),
            None,
        ),
        (
            "bad-cidr.toml",
            shipped.replace(
                r#"allowed_hosts = ["127.0.0.1/32", "::1/128"]"#,
                r#"allowed_hosts = ["127.0.0.1/32", "10.0.0.300/8"]"#,
            ),
            Some("fuzz.toml: dauth.allowed_hosts[1]: "),
        ),
        (
            "replay-without-age.toml",
            shipped.replace("max_token_age_secs = 300", "max_token_age_secs = 0"),
            Some("fuzz.toml: dauth.replay_protection: "),
        ),
        (
            "unknown-key.toml",
            shipped.replace("[log]", "[log]\ncolour = true"),
            Some("fuzz.toml: log.colour: "),
        ),
        (
            "private-key-as-public.toml",
            shipped.replace("dauth_public.pem", "dauth_private.pem"),
            Some("fuzz.toml: dauth.public_keys[0]: "),
        ),
        (
            "tls-half.toml",
            shipped.replace(
                "shutdown_grace_secs = 30",
                "shutdown_grace_secs = 30\ntls_cert = \"tls/cert.pem\"",
            ),
            Some("fuzz.toml: server.tls_key: "),
        ),
    ];
    for (name, text, expected) in seeds {
        let got = Config::from_toml(&text, Path::new("fuzz.toml"));
        match (expected, got) {
            (None, Ok(_)) => {}
            (Some(prefix), Err(e)) => assert!(e.to_string().starts_with(prefix), "{name}: {e}"),
            (expected, got) => panic!("config seed {name}: expected {expected:?}, got {got:?}"),
        }
        write(dir, name, text);
    }
}

// === client_ip ===

fn client_ip(dir: &Path) {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let seeds: [(&str, IpAddr, &str, &[&str], &str); 8] = [
        (
            "untrusted-peer",
            ip("203.0.113.9"),
            "",
            &["127.0.0.1"],
            "203.0.113.9",
        ),
        (
            "trusted-chain",
            ip("10.0.0.1"),
            "",
            &["6.6.6.6, 1.2.3.4, 10.0.0.9"],
            "1.2.3.4",
        ),
        (
            "forged-left",
            ip("10.0.0.1"),
            "",
            &["127.0.0.1", "203.0.113.7"],
            "203.0.113.7",
        ),
        (
            "all-trusted",
            ip("10.0.0.1"),
            "",
            &["10.1.1.1, 10.2.2.2"],
            "10.1.1.1",
        ),
        (
            "garbage-hop",
            ip("10.0.0.1"),
            "",
            &["1.1.1.1, garbage, 10.2.2.2"],
            "10.2.2.2",
        ),
        (
            "ports-v6",
            ip("::1"),
            "",
            &["[2001:db8::1]:443, 1.2.3.4:5678"],
            "1.2.3.4",
        ),
        (
            "mapped-list",
            ip("192.168.1.1"),
            "::ffff:192.168.0.0/112, 2001:db8::/32",
            &["2001:db8::5, 198.51.100.2"],
            "198.51.100.2",
        ),
        ("no-header", ip("10.0.0.1"), "10.0.0.0/8", &[], "10.0.0.1"),
    ];
    for (name, peer, trusted, xff, caller) in seeds {
        let bytes = ClientIpInput::encode(peer, trusted, xff);
        let input = ClientIpInput::decode(&bytes).unwrap();
        let got = dauth_proxy::net::client_ip(input.peer, &input.headers, &input.trusted);
        assert_eq!(got, ip(caller), "client_ip seed {name}");
        write(dir, name, bytes);
    }
}

// === header_filter ===

fn header_filter(dir: &Path) {
    let ctx = |peer: &str, trusted: bool| FilterContext {
        peer: match peer.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        },
        peer_as_v4: true,
        peer_trusted: trusted,
        tls: false,
        forward_token: false,
        preserve_host: false,
        host_from_header: true,
    };
    let spoof = "Host: api.example\nX-DAuth-User-Id: admin\nx_dauth_user_id: admin\n\
                 X-User-Ctx: root\nx_user_ctx_role: admin\nX_DAUTH-USERNAME: 0xabc\n\
                 DAuth: token\nAccept: */*\n";
    let hop = "Host: api.example\nConnection: keep-alive, X-Secret, x-forwarded-for, Upgrade\n\
               Keep-Alive: timeout=5\nX-Secret: 1\nTE: trailers\nTrailer: X-Sum\n\
               Transfer-Encoding: chunked\nUpgrade: h2c\nProxy-Authorization: Basic x\n\
               Proxy-Connection: keep-alive\n";
    let forwarded = "Host: api.example\nX-Forwarded-For: 6.6.6.6, 1.2.3.4\n\
                     X-Forwarded-Proto: https\nX-Forwarded-Host: evil.example\n\
                     Forwarded: for=6.6.6.6\nX-Real-IP: 6.6.6.6\n";
    let mut tls_token = ctx("2001:db8::7", false);
    tls_token.tls = true;
    tls_token.forward_token = true;
    tls_token.preserve_host = true;
    let seeds = [
        ("spoofed-identity", ctx("203.0.113.9", false), spoof),
        ("hop-by-hop", ctx("203.0.113.9", false), hop),
        ("forwarded-untrusted", ctx("203.0.113.9", false), forwarded),
        ("forwarded-trusted", ctx("10.0.0.1", true), forwarded),
        ("tls-forward-token", tls_token, spoof),
    ];
    let who = principal();
    for (name, ctx, lines) in seeds {
        let mut bytes = ctx.encode();
        bytes.extend_from_slice(lines.as_bytes());
        let input = FilterInput::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
        assert_eq!(
            input.headers.len(),
            lines.lines().count(),
            "{name}: every line is a header"
        );
        check_anonymous(&input, &filter(&input, None));
        check_principal(&input, &filter(&input, Some(&who)), &who);
        write(dir, name, bytes);
    }
}

// === json_bodies ===

fn json_bodies(dir: &Path) {
    const CONTRACT_C: &str = "0x00000000000000000000000000000000000000c3";
    let user = gateway::USER_EMAIL;
    let password = gateway::PASSWORD;
    // An importable bcrypt hash (cost 4): `$2b$`, 60 characters.
    // A real bcrypt hash (cost 4, fixed salt) of "C3rs3i#L4nnist3r": an import must parse.
    let bcrypt = "$2b$04$XEDzbEeraFHtcFira0TjX.iD0W.PgHNtWPZKt3Gy4EeA3T1JqOkUC";
    let grant_other = |view: &str, system: bool| {
        json!({"user_id": "$OTHER", "view": {"view_id": view, "is_system": system}}).to_string()
    };
    // (seed name, endpoint, body, status, code of an error). In this order against one fresh
    // gateway: the grants find the custom view created before them, the revokes what was
    // granted.
    let seeds: Vec<(&str, &str, String, u16, Option<&str>)> = vec![
        (
            "register",
            "register",
            json!({"email": "seed.register@example.com", "password": "seed password",
                   "firstname": "Seed", "lastname": "Register", "language": "en"})
            .to_string(),
            201,
            None,
        ),
        (
            "register-taken",
            "register",
            json!({"email": user, "password": password}).to_string(),
            409,
            Some("DAUTH-4004"),
        ),
        (
            "confirm",
            "confirm",
            json!({"code": "not-a-code"}).to_string(),
            400,
            Some("DAUTH-4007"),
        ),
        (
            "login",
            "login",
            json!({"email": user, "password": password}).to_string(),
            200,
            None,
        ),
        (
            "login-seed-002",
            "login",
            json!({"type": "password", "clientId": "client-app-id", "clientSecret": "secret",
                   "withPassword": {"emailOrUsername": user, "password": password}})
            .to_string(),
            200,
            None,
        ),
        (
            "refresh",
            "refresh",
            json!({"refreshToken": "$REFRESH"}).to_string(),
            200,
            None,
        ),
        (
            "reset-request",
            "reset-request",
            json!({"email": user}).to_string(),
            200,
            None,
        ),
        (
            "reset-confirm",
            "reset-confirm",
            json!({"email": user, "code": "not-the-code", "password": "new password 1"})
                .to_string(),
            400,
            Some("DAUTH-4007"),
        ),
        (
            "names",
            "names",
            json!({"firstname": "Fuzz", "lastname": "User"}).to_string(),
            200,
            None,
        ),
        (
            "attributes",
            "attributes",
            json!({"attributeKey": "key_one", "attributeText": "one"}).to_string(),
            200,
            None,
        ),
        (
            "sync",
            "sync",
            json!({"username": "cersei.lannister", "email": "cersei-lannister@gmail.com",
                   "passwordHash": bcrypt, "emailVerified": true, "firstName": "Cersei",
                   "lastName": "Lannister", "locale": "en", "phoneNumber": "+1 555 0100",
                   "roles": ["user"]})
            .to_string(),
            200,
            None,
        ),
        (
            "create-account",
            "create-account",
            json!({"label": "Checking"}).to_string(),
            201,
            None,
        ),
        (
            "create-view",
            "create-view",
            json!({"name": "_family", "description": "Family", "metadata_view": "",
                   "is_public": false, "which_alias_to_use": "private",
                   "hide_metadata_if_alias_used": false,
                   "allowed_actions": ["can_see_transaction_amount"],
                   "can_grant_access_to_views": ["auditor"],
                   "can_revoke_access_to_views": ["auditor"]})
            .to_string(),
            201,
            None,
        ),
        (
            "user-account-access",
            "user-account-access",
            json!({"username": CONTRACT_C, "provider": "dauth.ETHEREUM",
                   "views": [{"view_id": "auditor", "is_system": true}]})
            .to_string(),
            201,
            None,
        ),
        ("grant", "grant", grant_other("accountant", true), 201, None),
        (
            "grant-custom",
            "grant",
            grant_other("_family", false),
            201,
            None,
        ),
        (
            "revoke",
            "revoke",
            grant_other("accountant", true),
            201,
            None,
        ),
        (
            "revoke-last-owner",
            "revoke",
            json!({"user_id": "$CALLER", "view": {"view_id": "owner", "is_system": true}})
                .to_string(),
            400,
            Some("OBP-30064"),
        ),
        (
            "replace-views",
            "replace-views",
            json!({"views": ["owner", "auditor", "_family"]}).to_string(),
            201,
            None,
        ),
        (
            "replace-views-unknown",
            "replace-views",
            json!({"views": ["owner", "nope"]}).to_string(),
            400,
            Some("OBP-30252"),
        ),
        (
            "v510-user-account-access",
            "v510-user-account-access",
            json!({"username": CONTRACT_C, "provider": "ETHEREUM", "view_id": "accountant"})
                .to_string(),
            201,
            None,
        ),
        (
            "v510-grant",
            "v510-grant",
            json!({"user_id": "$OTHER", "view_id": "standard"}).to_string(),
            201,
            None,
        ),
        (
            "v510-revoke",
            "v510-revoke",
            json!({"user_id": "$OTHER", "view_id": "standard"}).to_string(),
            201,
            None,
        ),
        (
            "client-users",
            "client-users",
            json!({"clientUserId": "seed-user"}).to_string(),
            201,
            None,
        ),
        (
            "client-users-empty",
            "client-users",
            String::new(),
            201,
            None,
        ),
        // Not JSON, or not the expected shape.
        (
            "truncated",
            "register",
            r#"{"email":"a@example.com","pass"#.into(),
            400,
            Some("OBP-10001"),
        ),
        (
            "wrong-types",
            "login",
            r#"{"email":1,"password":["x"]}"#.into(),
            400,
            Some("OBP-10001"),
        ),
        ("null", "names", "null".into(), 400, Some("OBP-10001")),
        ("array", "grant", "[]".into(), 400, Some("OBP-10001")),
        (
            "deep",
            "attributes",
            "[".repeat(200),
            400,
            Some("OBP-10001"),
        ),
        (
            "lone-surrogate",
            "create-account",
            r#"{"label":"\ud800"}"#.into(),
            400,
            Some("OBP-10001"),
        ),
        (
            "trailing",
            "v510-grant",
            r#"{"user_id":"$OTHER","view_id":"auditor"} x"#.into(),
            400,
            Some("OBP-10001"),
        ),
    ];
    let gw = gateway::fixture();
    for (name, endpoint, body, status, code) in seeds {
        let index = endpoint_index(endpoint).unwrap();
        let mut bytes = vec![u8::try_from(index).unwrap()];
        bytes.extend_from_slice(body.as_bytes());
        let (target, rest) = gateway::decode(&bytes).unwrap();
        assert_eq!(target.name, ENDPOINTS[index].name);
        let (sent, reply) = gw.send(target, rest);
        check_reply(target, &sent, &reply);
        assert_eq!(
            reply.status,
            status,
            "json_bodies seed {name}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        if let Some(code) = code {
            assert!(
                reply.message().starts_with(&format!("{code}: ")),
                "json_bodies seed {name}: {}",
                reply.message()
            );
        }
        write(dir, name, bytes);
    }
    // A body with invalid UTF-8 in a string, which `json!` cannot write.
    let mut bytes = vec![u8::try_from(endpoint_index("sync").unwrap()).unwrap()];
    bytes.extend_from_slice(b"{\"email\":\"\xff@example.com\"}");
    let (target, rest) = gateway::decode(&bytes).unwrap();
    let (sent, reply) = gw.send(target, rest);
    check_reply(target, &sent, &reply);
    assert!(
        reply.message().starts_with("OBP-10001: "),
        "json_bodies seed not-utf8"
    );
    write(dir, "not-utf8", bytes);
}
