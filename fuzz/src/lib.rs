//! Shared set-up and checks for the fuzz targets in `fuzz_targets/` (see `fuzz/README.md`).
//!
//! Everything expensive is built once per process: a freshly generated RSA key pair, the
//! verifiers that trust it (and the checked-in development key, so that seed tokens signed with
//! `keys/dev/dauth_private.pem` pass the signature check), a user store and a current-thread
//! tokio runtime. The targets only decode their input and call the library's public API; the
//! properties they assert live here so that every target states them the same way.
//! `json_bodies` has a fixture of its own, in [`gateway`]: the whole gateway state, called
//! through its request pipeline with in-memory bodies.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, Once, PoisonError};

use dauth_proxy::auth::keys::{generate_rsa, load_signing_key};
use dauth_proxy::auth::{DauthVerifier, Principal};
use dauth_proxy::config::DauthConfig;
use dauth_proxy::pipeline::authenticate::authenticate;
use dauth_proxy::store::sled::SledStore;
use dauth_proxy::{Config, Error, State};
use http::HeaderMap;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

pub mod config;
pub mod filter;
pub mod gateway;
pub mod inputs;

/// The clock every target runs at: 2027-01-15T08:00:00Z. Seeds are dated at this instant.
pub const NOW: i64 = 1_800_000_000;
/// [`NOW`] as RFC 3339, for `timestamp` claims.
pub const NOW_RFC3339: &str = "2027-01-15T08:00:00Z";
/// `kid` of the key generated at start-up.
pub const FUZZ_KID: &str = "fuzz";
/// `kid` of the checked-in development key (`keys/dev/`).
pub const DEV_KID: &str = "dev";
/// The caller address the DAuth targets authenticate from (inside `allowed_hosts`).
pub const CALLER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// The repository root (the main crate), whatever directory the fuzzer runs in.
pub fn repo_root() -> PathBuf {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    fuzz.parent().unwrap_or(fuzz).to_owned()
}

/// Everything the DAuth targets share.
pub struct Fixture {
    /// Signs with the key generated at start-up (trusted as [`FUZZ_KID`]).
    pub signer: EncodingKey,
    /// The gateway's state for the DAuth targets: strict addresses, replay protection on (the
    /// shipped defaults), no bearer issuers or clients, no rate limits, the verification bound
    /// as shipped, the token cache off so that every input is verified; a store in a temporary
    /// directory, removed when the process exits.
    pub state: State,
    /// Same keys and clock rules, lenient addresses.
    pub lenient: DauthVerifier,
    runtime: tokio::runtime::Runtime,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(build_fixture);

/// The process-wide fixture, built on first use.
pub fn fixture() -> &'static Fixture {
    &FIXTURE
}

fn build_fixture() -> Fixture {
    // Only needed while the public key is loaded; deleted at the end of this function.
    let dir = tempfile::tempdir().expect("temporary directory");
    let pair = generate_rsa(2048).expect("RSA key generation");
    let public = dir.path().join("fuzz_public.pem");
    std::fs::write(&public, &pair.public_pem).expect("write public key");
    let signer = EncodingKey::from_rsa_pem(pair.private_pem.as_bytes()).expect("signing key");
    let store_dir = temporary_dir();
    let config = Config::from_toml(
        &config_text(&public, &store_dir),
        Path::new("fuzz-dauth.toml"),
    )
    .expect("fixture configuration");
    let lenient = DauthConfig {
        strict_addresses: false,
        jwks_url: None,
        ..config.dauth.clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    // Not `SledStore::temporary()`: sled deletes that directory (in `/dev/shm`) only when the
    // `Db` is dropped, and a static never is, so every fuzzing run would leave one behind.
    let store = SledStore::open(&store_dir, 16 << 20).expect("store in a temporary directory");
    let state = runtime
        .block_on(State::new(config, store.stores(100_000)))
        .expect("fixture state");
    Fixture {
        signer,
        state,
        lenient: DauthVerifier::new(lenient),
        runtime,
    }
}

/// The DAuth targets' configuration: the generated key (`kid` [`FUZZ_KID`]) and the
/// development key ([`DEV_KID`]), callers from loopback, five minutes of freshness and a
/// minute of skew, replay protection with a window large enough that a long run keeps reaching
/// the accept path (when full the verifier answers 503, which the status property allows).
fn config_text(public: &Path, store: &Path) -> String {
    let path = |p: &Path| p.display().to_string();
    let dev = path(&dev_key_dir().join("dauth_public.pem"));
    format!(
        r#"[store]
path = {store:?}

[dauth]
public_keys = [{{ path = {public:?}, kid = "{FUZZ_KID}" }}, {{ path = {dev:?}, kid = "{DEV_KID}" }}]
allowed_hosts = ["127.0.0.1", "::1"]
max_token_age_secs = 300
clock_skew_secs = 60
replay_protection = true
replay_capacity = 1048576
strict_addresses = true

[limits]
per_ip_rps = 0
per_consumer_rps = 0

[cache]
tokens = 0
"#,
        store = path(store),
        public = path(public),
    )
}

/// A fresh directory `$TMPDIR/dauth-proxy-fuzz-store.*` for a store, removed when the process
/// exits normally (see [`remove_at_exit`]).
pub fn temporary_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("dauth-proxy-fuzz-store.")
        .tempdir()
        .expect("temporary directory")
        .keep();
    remove_at_exit(dir.clone());
    dir
}

/// Removes `dir` from an `atexit` handler: libFuzzer ends a run with `exit()`, which runs it
/// (a crash ends with `_exit()`, which leaves the directory for inspection).
pub fn remove_at_exit(dir: PathBuf) {
    static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static REGISTER: Once = Once::new();
    extern "C" fn cleanup() {
        let dirs = DIRS.lock().unwrap_or_else(PoisonError::into_inner);
        for dir in dirs.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    }
    DIRS.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(dir);
    REGISTER.call_once(|| {
        // SAFETY: `cleanup` is an `extern "C"` function taking nothing, as `atexit` requires;
        // it only reads a static that is initialised before registration and touches no
        // thread-locals.
        unsafe {
            atexit(cleanup);
        }
    });
}

/// `keys/dev/` of the checkout.
pub fn dev_key_dir() -> PathBuf {
    repo_root().join("keys").join("dev")
}

/// The development signing key, for seed tokens (`examples/gen_corpus.rs`).
pub fn dev_signer() -> EncodingKey {
    load_signing_key(&dev_key_dir().join("dauth_private.pem")).expect("dev private key")
}

impl Fixture {
    /// The full DAuth decision for `headers` from [`CALLER`] at [`NOW`].
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Principal>, Error> {
        let policy = self.state.policy();
        self.runtime.block_on(authenticate(
            self.state.shared(),
            &policy,
            headers,
            CALLER,
            NOW,
        ))
    }

    /// Signs `claims` with RS256 and the generated key (no `kid`: every key is tried).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &self.signer)
            .expect("signing a JSON object cannot fail")
    }
}

/// The fuzz bytes as a JSON object of claims, if they are one.
pub fn json_claims(data: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(data).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A refusal must be a client error or "retry later", never a 500.
pub fn assert_refusal_status(err: &Error) {
    let status = err.status().as_u16();
    assert!(
        matches!(status, 400 | 401 | 503),
        "refusal answers {status} ({}): {err:?}",
        err.code()
    );
}

/// `address` is `0x` + 40 hex digits in its EIP-55 form.
pub fn assert_eip55(address: &str) {
    let parsed = alloy_primitives::Address::parse_checksummed(address, None);
    assert!(parsed.is_ok(), "{address:?} is not EIP-55 checksummed");
    assert_eq!(
        parsed.map(|a| a.to_checksum(None)).ok().as_deref(),
        Some(address),
        "{address:?} is not the canonical EIP-55 form"
    );
}

/// Checks what `authenticate` returned, and that an accepted caller is really in the store.
pub fn check_decision(fx: &Fixture, result: Result<Option<Principal>, Error>) {
    match result {
        Ok(None) => {}
        Ok(Some(who)) => {
            assert_eip55(&who.user.username);
            let users = &fx.state.shared().store.users;
            let stored = fx.runtime.block_on(users.user_by_id(&who.user.user_id));
            assert_eq!(
                stored.ok().flatten().as_ref(),
                Some(&who.user),
                "accepted user is not the stored one"
            );
        }
        Err(e) => assert_refusal_status(&e),
    }
}
