//! The `json_bodies` target's fixture and checks: the real gateway's state, called in this
//! process through its request pipeline with a body held in memory: no socket, no hyper
//! connection. Everything behind the socket is the gateway's own: the pipeline (path checks,
//! routing, authentication, reading the body through the client-body clock), then the handler.
//! Built once per process ([`fixture`]):
//! - a gateway state from TOML text ([`config_text`]): a store in a temporary directory, DAuth
//!   with the development key (replay protection and token freshness off, so one token serves
//!   the whole run and is verified once, then cached), the `[issuer]` with the development
//!   issuer key and year-long access tokens, `accounts.auto_confirm`, one admin email, one
//!   service client (`fuzz-client`, whose key is the development DAuth key), rate limits off;
//!   the background reset mailer runs, as in the gateway;
//! - the credentials each endpoint needs, obtained through the same pipeline as a client would:
//!   the account [`BANK`]/[`ACCOUNT`], created by the DAuth caller [`OWNER`] (who holds `owner`
//!   on it); a second DAuth user [`OTHER`]; a password user and an admin (registered and logged
//!   in); a client-credentials token with `user:create` (from `POST /oidc/token`);
//! - a multi-thread tokio runtime the requests and the background tasks run on.
//!
//! Input layout: the first byte picks the endpoint (modulo [`ENDPOINTS`]`.len()`), the rest is
//! the body, sent as is except that the placeholders `$CALLER`, `$OTHER` and `$REFRESH` are
//! replaced by the owner's user id, the other DAuth user's id and the password user's refresh
//! token: libFuzzer cannot guess a random UUID, and without one the grant and revoke logic is
//! never reached. The OBP endpoints act on [`ACCOUNT`], except account creation, which names
//! `acc-2` (the first valid body creates it, later ones get 409). After a successful OBP input
//! the fixture gives [`OWNER`] `owner` back if the input took it away (see `keep_owner`).
//!
//! Properties ([`check_reply`]): never a 5xx (the store is healthy, limits are off); a 2xx body
//! is JSON; any other answer is the documented error shape `{"code": <status>, "message":
//! "<OBP-|DAUTH-><digits>: ..."}`; a body that is not JSON at all answers 400 `OBP-10001` (every
//! fixture caller has what the endpoint checks before reading the body). A response body that
//! fails while it is read fails; a panic anywhere in the gateway aborts the process through
//! libFuzzer's panic hook.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use dauth_proxy::auth::mint::{DauthTokenSpec, mint_dauth};
use dauth_proxy::http::client_body::ClientBody;
use dauth_proxy::pipeline::{ConnInfo, handle};
use dauth_proxy::store::Backend;
use dauth_proxy::store::model::Grantee;
use dauth_proxy::store::sled::SledStore;
use dauth_proxy::{Config, State};
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use crate::{dev_key_dir, dev_signer, repo_root, temporary_dir};

/// `BANK_ID` of the account the OBP endpoints act on.
pub const BANK: &str = "fuzz.bank";
/// `ACCOUNT_ID` of that account (created at start-up; [`OWNER`] holds `owner`).
pub const ACCOUNT: &str = "acc-1";
/// The DAuth caller of every OBP endpoint: the account's holder.
pub const OWNER: &str = "0x00000000000000000000000000000000000000a1";
/// A second DAuth user, for grants (`$OTHER`).
pub const OTHER: &str = "0x00000000000000000000000000000000000000b2";
/// The password user whose bearer token calls the `/api/users/me...` endpoints.
pub const USER_EMAIL: &str = "fuzz.user@example.com";
/// An email in `accounts.admin_emails`: its bearer token calls `PUT /api/users`.
pub const ADMIN_EMAIL: &str = "fuzz.admin@example.com";
/// The password of both.
pub const PASSWORD: &str = "correct horse battery";
/// The service client (`[[clients]]`), with scope `user:create`.
pub const CLIENT_ID: &str = "fuzz-client";
/// `issuer.url`.
pub const ISSUER_URL: &str = "http://gateway.fuzz";

/// Replaced by [`OWNER`]'s user id in a body.
pub const CALLER_MARK: &str = "$CALLER";
/// Replaced by [`OTHER`]'s user id.
pub const OTHER_MARK: &str = "$OTHER";
/// Replaced by the password user's first refresh token.
pub const REFRESH_MARK: &str = "$REFRESH";

/// Which credentials a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// None: the endpoint is public.
    Anonymous,
    /// `DAuth`: [`OWNER`]'s token.
    Owner,
    /// `Authorization: Bearer`: the password user ([`USER_EMAIL`]).
    User,
    /// `Authorization: Bearer`: the admin ([`ADMIN_EMAIL`]).
    Admin,
    /// `Authorization: Bearer`: the client-credentials token of [`CLIENT_ID`].
    Client,
}

/// One embedded endpoint that reads a JSON body.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Short name (seed files are named after it).
    pub name: &'static str,
    /// The method.
    pub method: &'static str,
    /// The path.
    pub path: &'static str,
    /// The credentials sent.
    pub caller: Caller,
}

const fn ep(
    name: &'static str,
    method: &'static str,
    path: &'static str,
    caller: Caller,
) -> Endpoint {
    Endpoint {
        name,
        method,
        path,
        caller,
    }
}

/// Every embedded endpoint that reads a JSON body (`Payload::json`, `Payload::bytes`),
/// in input order: an input's first byte modulo the length picks one. `POST /oidc/token` reads
/// a form, not JSON, and is left out.
pub const ENDPOINTS: [Endpoint; 19] = [
    ep("register", "POST", "/api/auth/register", Caller::Anonymous),
    ep("confirm", "POST", "/api/auth/confirm", Caller::Anonymous),
    ep("login", "POST", "/api/auth/login", Caller::Anonymous),
    ep("refresh", "POST", "/api/auth/refresh", Caller::Anonymous),
    ep(
        "reset-request",
        "POST",
        "/api/auth/password-reset",
        Caller::Anonymous,
    ),
    ep(
        "reset-confirm",
        "POST",
        "/api/auth/password-reset/confirm",
        Caller::Anonymous,
    ),
    ep("names", "PATCH", "/api/users/me", Caller::User),
    ep(
        "attributes",
        "PUT",
        "/api/users/me/attributes",
        Caller::User,
    ),
    ep("sync", "PUT", "/api/users", Caller::Admin),
    ep(
        "create-account",
        "PUT",
        "/obp/v4.0.0/banks/fuzz.bank/accounts/acc-2",
        Caller::Owner,
    ),
    ep(
        "create-view",
        "POST",
        "/obp/v4.0.0/banks/fuzz.bank/accounts/acc-1/views",
        Caller::Owner,
    ),
    ep(
        "user-account-access",
        "POST",
        "/obp/v4.0.0/banks/fuzz.bank/accounts/acc-1/user-account-access",
        Caller::Owner,
    ),
    ep(
        "grant",
        "POST",
        "/obp/v4.0.0/banks/fuzz.bank/accounts/acc-1/account-access/grant",
        Caller::Owner,
    ),
    ep(
        "revoke",
        "POST",
        "/obp/v4.0.0/banks/fuzz.bank/accounts/acc-1/account-access/revoke",
        Caller::Owner,
    ),
    ep(
        "replace-views",
        "PUT",
        "/obp/v5.0.0/banks/fuzz.bank/accounts/acc-1/account-access",
        Caller::Owner,
    ),
    ep(
        "v510-user-account-access",
        "POST",
        "/obp/v5.1.0/banks/fuzz.bank/accounts/acc-1/views/owner/user-account-access",
        Caller::Owner,
    ),
    ep(
        "v510-grant",
        "POST",
        "/obp/v5.1.0/banks/fuzz.bank/accounts/acc-1/views/owner/account-access/grant",
        Caller::Owner,
    ),
    ep(
        "v510-revoke",
        "POST",
        "/obp/v5.1.0/banks/fuzz.bank/accounts/acc-1/views/owner/account-access/revoke",
        Caller::Owner,
    ),
    ep("client-users", "POST", "/users", Caller::Client),
];

/// The index in [`ENDPOINTS`] of the endpoint called `name`.
pub fn endpoint_index(name: &str) -> Option<usize> {
    ENDPOINTS.iter().position(|e| e.name == name)
}

/// Splits an input into its endpoint and body; `None` for the empty input.
pub fn decode(data: &[u8]) -> Option<(&'static Endpoint, &[u8])> {
    let (&first, body) = data.split_first()?;
    Some((&ENDPOINTS[usize::from(first) % ENDPOINTS.len()], body))
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `message` of an error body, or `""`.
    pub fn message(&self) -> String {
        self.json()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// The gateway's state and the credentials of its callers.
pub struct Gateway {
    runtime: tokio::runtime::Runtime,
    state: Arc<State>,
    owner_token: String,
    user_bearer: String,
    admin_bearer: String,
    client_bearer: String,
    /// [`OWNER`]'s user id (`$CALLER`).
    pub owner_id: String,
    /// [`OTHER`]'s user id (`$OTHER`).
    pub other_id: String,
    /// The password user's first refresh token (`$REFRESH`).
    pub refresh_token: String,
}

static GATEWAY: LazyLock<Gateway> = LazyLock::new(start);

/// The process-wide gateway, started on first use.
pub fn fixture() -> &'static Gateway {
    &GATEWAY
}

/// The gateway's configuration; `store` is its store directory.
pub fn config_text(store: &Path) -> String {
    let root = repo_root();
    let path = |p: &Path| p.display().to_string();
    let dauth_public = path(&dev_key_dir().join("dauth_public.pem"));
    let issuer_private = path(&root.join("keys").join("dev").join("issuer_private.pem"));
    format!(
        r#"[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 1

[store]
path = {store:?}
cache_mb = 16

[dauth]
public_keys = [{dauth_public:?}]
allowed_hosts = ["127.0.0.1/32"]
max_token_age_secs = 0
replay_protection = false

[issuer]
url = "{ISSUER_URL}"
private_key = {issuer_private:?}
kid = "fuzz-1"
access_ttl_secs = 31536000
refresh_ttl_secs = 31536000

[accounts]
auto_confirm = true
admin_emails = ["{ADMIN_EMAIL}"]

[internal]
networks = ["127.0.0.1/32"]

[limits]
per_ip_rps = 0
per_consumer_rps = 0
password_per_ip_per_minute = 0

[[clients]]
client_id = "{CLIENT_ID}"
name = "Fuzz Client"
public_keys = [{dauth_public:?}]
scopes = ["user:create"]
"#,
        store = path(store),
    )
}

fn start() -> Gateway {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = temporary_dir();
    let config = Config::from_toml(&config_text(&dir), Path::new("json_bodies.toml"))
        .expect("fixture configuration");
    let store = SledStore::open(&dir, 16 << 20).expect("store in a temporary directory");
    let state = runtime.block_on(async {
        store.check_writable(0).await.expect("store writable");
        let stores = store.stores(config.cache.users);
        State::new(config, stores).await.expect("gateway state")
    });
    let state = Arc::new(state);
    runtime.spawn(dauth_proxy::people::reset::deliver_resets(Arc::clone(
        &state,
    )));
    let mut gw = Gateway {
        runtime,
        state,
        owner_token: dauth_token(OWNER),
        user_bearer: String::new(),
        admin_bearer: String::new(),
        client_bearer: String::new(),
        owner_id: String::new(),
        other_id: String::new(),
        refresh_token: String::new(),
    };
    gw.sign_in();
    gw
}

/// A DAuth token for `contract` on ETHEREUM, signed with the development key: no `exp` and no
/// freshness check configured, so it stays good for the whole run.
fn dauth_token(contract: &str) -> String {
    let spec = DauthTokenSpec {
        ttl_secs: 0,
        ..DauthTokenSpec::new(contract, "ETHEREUM", "fuzz-consumer")
    };
    mint_dauth(&dev_signer(), &spec, time::OffsetDateTime::now_utc()).expect("DAuth token")
}

/// `status` is what the fixture expects, or the set-up fails with the answer.
fn expect(reply: Reply, status: u16, what: &str) -> Value {
    assert_eq!(
        reply.status,
        status,
        "fixture: {what}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json().unwrap_or(Value::Null)
}

fn text(v: &Value, what: &str) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("fixture: {what} missing"))
        .to_owned()
}

impl Gateway {
    /// Creates the account and obtains every caller's credentials, over HTTP.
    fn sign_in(&mut self) {
        let account = format!("/obp/v4.0.0/banks/{BANK}/accounts/{ACCOUNT}");
        let owner = format!("DAuth: {}", self.owner_token);
        let created = expect(
            self.call("PUT", &account, &[&owner], br#"{"label":"Fuzz"}"#),
            201,
            "create the account",
        );
        self.owner_id = text(&created["user_id"], "owner user_id");
        let other = format!("DAuth: {}", dauth_token(OTHER));
        let me = expect(
            self.call("GET", "/obp/v5.1.0/users/current", &[&other], b""),
            200,
            "second DAuth user",
        );
        self.other_id = text(&me["user_id"], "other user_id");

        let (access, refresh) = self.register_and_login(USER_EMAIL);
        self.user_bearer = format!("Authorization: Bearer {access}");
        self.refresh_token = refresh;
        // An admin address grants admin rights only once its mailbox is proven; the internal
        // system's sync (peer in [internal] networks) vouches for it, as a mailed code would.
        // base64 of {"id":"__system","user":"__system"}
        let ctx = "x-user-ctx: eyJpZCI6Il9fc3lzdGVtIiwidXNlciI6Il9fc3lzdGVtIn0=";
        let admin_body = json!({"email": ADMIN_EMAIL, "password": PASSWORD, "emailVerified": true});
        expect(
            self.call(
                "PUT",
                "/api/users",
                &[ctx, "Content-Type: application/json"],
                admin_body.to_string().as_bytes(),
            ),
            200,
            "admin sync",
        );
        let (admin, _) = self.login(ADMIN_EMAIL);
        self.admin_bearer = format!("Authorization: Bearer {admin}");

        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({
            "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": format!("{ISSUER_URL}/oidc/token"),
            "iat": now, "exp": now + 60, "jti": assertion_jti(now),
        });
        let assertion =
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &dev_signer())
                .expect("client assertion");
        let form = format!(
            "grant_type=client_credentials&scope=user%3Acreate&client_assertion_type=\
             urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
        );
        let token = expect(
            self.call(
                "POST",
                "/oidc/token",
                &["Content-Type: application/x-www-form-urlencoded"],
                form.as_bytes(),
            ),
            200,
            "client-credentials token",
        );
        self.client_bearer = format!(
            "Authorization: Bearer {}",
            text(&token["access_token"], "access_token")
        );
    }

    fn register_and_login(&self, email: &str) -> (String, String) {
        let body = json!({"email": email, "password": PASSWORD}).to_string();
        let ct = "Content-Type: application/json";
        expect(
            self.call("POST", "/api/auth/register", &[ct], body.as_bytes()),
            201,
            "register",
        );
        self.login(email)
    }

    fn login(&self, email: &str) -> (String, String) {
        let body = json!({"email": email, "password": PASSWORD}).to_string();
        let ct = "Content-Type: application/json";
        let login = expect(
            self.call("POST", "/api/auth/login", &[ct], body.as_bytes()),
            200,
            "login",
        );
        (
            text(&login["accessToken"], "accessToken"),
            text(&login["refreshToken"], "refreshToken"),
        )
    }

    /// Sends `body` (placeholders replaced) to `endpoint` with its caller's credentials.
    pub fn send(&self, endpoint: &Endpoint, body: &[u8]) -> (Vec<u8>, Reply) {
        let body = self.fill(body);
        let credential = match endpoint.caller {
            Caller::Anonymous => None,
            Caller::Owner => Some(format!("DAuth: {}", self.owner_token)),
            Caller::User => Some(self.user_bearer.clone()),
            Caller::Admin => Some(self.admin_bearer.clone()),
            Caller::Client => Some(self.client_bearer.clone()),
        };
        let mut headers = vec!["Content-Type: application/json"];
        if let Some(c) = &credential {
            headers.push(c);
        }
        let reply = self.call(endpoint.method, endpoint.path, &headers, &body);
        if endpoint.caller == Caller::Owner && (200..300).contains(&reply.status) {
            self.keep_owner();
        }
        (body, reply)
    }

    /// `body` with the placeholders replaced.
    pub fn fill(&self, body: &[u8]) -> Vec<u8> {
        let mut out = body.to_vec();
        for (mark, value) in [
            (CALLER_MARK, &self.owner_id),
            (OTHER_MARK, &self.other_id),
            (REFRESH_MARK, &self.refresh_token),
        ] {
            if out.windows(mark.len()).any(|w| w == mark.as_bytes()) {
                out = replace(&out, mark.as_bytes(), value.as_bytes());
            }
        }
        out
    }

    /// A successful grant, revoke or view replacement may have taken `owner` from the caller
    /// (handing it to `$OTHER` first); give it back, or every later OBP input would stop at the
    /// permission check.
    fn keep_owner(&self) {
        let store = &self.state.shared().store.access;
        let held = self
            .runtime
            .block_on(store.views_held(&self.owner_id, BANK, ACCOUNT))
            .expect("store read");
        if held.iter().any(|v| v == "owner") {
            return;
        }
        let limit = self.state.policy().config.obp.max_access_rows;
        let owner = Grantee::User(self.owner_id.clone());
        let views = vec!["owner".into()];
        self.runtime
            .block_on(store.grant(BANK, ACCOUNT, owner, views, None, limit, 0))
            .expect("give the owner view back");
    }

    /// One request through the gateway's pipeline, from a loopback peer, its body in memory;
    /// `headers` are `Name: value` lines.
    pub fn call(&self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Reply {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path)
            .header(header::HOST, "gateway.fuzz");
        for line in headers {
            let (name, value) = line.split_once(": ").expect("Name: value");
            req = req.header(name, value);
        }
        let body = Full::new(Bytes::copy_from_slice(body));
        let conn = ConnInfo {
            peer: SocketAddr::from(([127, 0, 0, 1], 40_000)),
            tls: false,
        };
        self.runtime.block_on(async {
            // One policy load per request, as the server does.
            let policy = self.state.policy();
            let timeout = policy.config.server.body_read_timeout;
            let req = req.body(ClientBody::new(body, timeout)).expect("request");
            let response = handle(self.state.shared(), &policy, req, conn).await;
            let status = response.status().as_u16();
            let body = match response.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => panic!("the gateway's {status} response body failed: {e}"),
            };
            Reply { status, body }
        })
    }
}

/// Every occurrence of `from` in `data` replaced by `to`.
fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(i) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A `jti` unique to this process start.
fn assertion_jti(now: i64) -> String {
    format!("fuzz-{now}-{}", std::process::id())
}

/// Whether `body` is JSON at all (any value, unknown fields and all, as serde reads a body it
/// then maps onto a struct).
pub fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// Asserts the properties in the module docs for `body` (as sent) answered by `reply`.
pub fn check_reply(endpoint: &Endpoint, body: &[u8], reply: &Reply) {
    let status = reply.status;
    let shown = || {
        format!(
            "{} {} answered {status}: {}",
            endpoint.method,
            endpoint.path,
            String::from_utf8_lossy(&reply.body)
        )
    };
    assert!(status < 500, "server error: {}", shown());
    let json = reply.json();
    let empty_allowed = endpoint.name == "client-users" && body.iter().all(u8::is_ascii_whitespace);
    if !is_json(body) && !empty_allowed && body.len() <= dauth_proxy::http::read::MAX_JSON_BODY {
        let message = json.as_ref().and_then(|j| j["message"].as_str());
        assert!(
            status == 400 && message.is_some_and(|m| m.starts_with("OBP-10001: ")),
            "a body that is not JSON must answer 400 OBP-10001: {}",
            shown()
        );
    }
    if (200..300).contains(&status) {
        assert!(json.is_some(), "success body is not JSON: {}", shown());
        return;
    }
    let json = json.unwrap_or_else(|| panic!("error body is not JSON: {}", shown()));
    assert_eq!(
        json["code"].as_u64(),
        Some(u64::from(status)),
        "code is not the status: {}",
        shown()
    );
    let message = json["message"].as_str().unwrap_or_default();
    assert!(
        is_error_message(message),
        "message is not \"<CODE>: ...\": {}",
        shown()
    );
}

/// `OBP-` or `DAUTH-`, digits, `": "`.
fn is_error_message(message: &str) -> bool {
    let Some(rest) = message
        .strip_prefix("OBP-")
        .or_else(|| message.strip_prefix("DAUTH-"))
    else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(": ")
}
