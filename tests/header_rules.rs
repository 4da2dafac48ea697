//! Header rules through a real upstream: headers that claim the client's address or another
//! path never pass from an untrusted peer, whatever their spelling, and `Authorization` is read
//! one way by the verifier and the header filter alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::client::{build, send};
use support::upstream::Upstream;
use support::{Gateway, route};

/// Address headers as CDNs, load balancers and frameworks spell them.
const ADDRESS_HEADERS: [&str; 20] = [
    "X-Real-IP",
    "True-Client-IP",
    "X-Client-IP",
    "CF-Connecting-IP",
    "Fastly-Client-IP",
    "X-Cluster-Client-IP",
    "X-Original-Forwarded-For",
    "X-Forwarded",
    "Forwarded-For",
    "X-Originating-IP",
    "X-Remote-IP",
    "X-Remote-Addr",
    "Client-IP",
    "X-ProxyUser-Ip",
    "Forwarded",
    "CF-Connecting-IPv6",
    "X-Azure-ClientIP",
    "X-Envoy-External-Address",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
];

/// Each name as sent, lowercased with `_`, and uppercased with `_` for the first `-`.
fn spellings() -> Vec<String> {
    ADDRESS_HEADERS
        .iter()
        .flat_map(|n| {
            [
                n.to_string(),
                n.to_ascii_lowercase().replace('-', "_"),
                n.to_ascii_uppercase().replacen('-', "_", 1),
            ]
        })
        .collect()
}

async fn gateway(server_extra: &str) -> (Upstream, Gateway) {
    let up = Upstream::start().await;
    let routes = route("/backend/", &format!("http://{}", up.addr), "none", "");
    let gw = Gateway::start_with(server_extra, "", &routes).await;
    (up, gw)
}

#[tokio::test]
async fn client_address_headers_from_an_untrusted_peer_never_reach_the_upstream() {
    let (up, gw) = gateway("").await;
    let names = spellings();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "6.6.6.6")).collect();
    let r = send(gw.addr, build("GET", "/backend/x", &headers, "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    let leaked: Vec<_> = seen
        .iter()
        .filter(|(_, v)| v.to_str().unwrap_or_default().contains("6.6.6.6"))
        .map(|(k, _)| k.as_str().to_owned())
        .collect();
    assert!(leaked.is_empty(), "reached the upstream: {leaked:?}");
    assert_eq!(seen.get("x-forwarded-for").unwrap(), "127.0.0.1");
}

#[tokio::test]
async fn a_trusted_proxy_may_send_them_but_never_a_path_override() {
    let (up, gw) = gateway("trusted_proxies = [\"127.0.0.0/8\"]").await;
    let headers = [
        ("True-Client-IP", "6.6.6.6"),
        ("X_Real_IP", "6.6.6.6"),
        ("X-Original-URL", "/admin"),
        ("X_Rewrite_URL", "/admin"),
        ("X-Envoy-Original-Path", "/admin"),
        ("X-Forwarded-Uri", "/admin"),
    ];
    let r = send(gw.addr, build("GET", "/backend/x", &headers, "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("true-client-ip").unwrap(), "6.6.6.6");
    assert_eq!(seen.get("x_real_ip").unwrap(), "6.6.6.6");
    let overrides: Vec<_> = seen
        .iter()
        .filter(|(_, v)| v.to_str().unwrap_or_default() == "/admin")
        .map(|(k, _)| k.as_str().to_owned())
        .collect();
    assert!(overrides.is_empty(), "reached the upstream: {overrides:?}");
}

const IDP: &str = "https://idp.example";

/// A gateway trusting `IDP` (tokens signed by the per-binary trusted key), with `/open/`
/// (`auth = "none"`), `/opt/` (optional), `/req/` (required) and `/fwd/` (required,
/// `forward_token`), and `/openfwd/` (`auth = "none"`, `forward_token`), all to one upstream.
async fn bearer_gateway() -> (Upstream, Gateway) {
    let up = Upstream::start().await;
    let u = format!("http://{}", up.addr);
    let key = support::keys()
        .dir
        .join("trusted_public.pem")
        .display()
        .to_string();
    let text = format!(
        "[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"dauth-proxy\"\npublic_keys = [{key:?}]\n{}{}{}{}{}",
        route("/open/", &u, "none", ""),
        route("/opt/", &u, "optional", ""),
        route("/req/", &u, "required", ""),
        route("/fwd/", &u, "required", "forward_token = true"),
        route("/openfwd/", &u, "none", "forward_token = true"),
    );
    let gw = Gateway::start("", &text).await;
    (up, gw)
}

fn valid_bearer() -> String {
    support::sign_claims(
        &serde_json::json!({"iss": IDP, "aud": "dauth-proxy", "sub": "p-1", "exp": support::now() + 300}),
    )
}

/// `alg: none`, which no verifier may accept.
fn unsigned_bearer() -> String {
    use base64::Engine;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.",
        b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(
            serde_json::json!({"iss": IDP, "aud": "dauth-proxy", "sub": "admin", "exp": support::now() + 300})
        )
    )
}

#[tokio::test]
async fn a_second_authorization_line_is_refused_on_every_route() {
    let (up, gw) = bearer_gateway().await;
    let forged = format!("Bearer {}", unsigned_bearer());
    for lines in [
        vec!["Basic dXNlcjpwdw==", forged.as_str()],
        vec![forged.as_str(), "Basic dXNlcjpwdw=="],
        vec!["Basic a", "Basic b"],
        vec!["Basic dXNlcjpwdw==, Bearer x"],
    ] {
        for path in ["/open/x", "/opt/x", "/req/x", "/fwd/x", "/health"] {
            let headers: Vec<(&str, &str)> = lines.iter().map(|l| ("authorization", *l)).collect();
            send(gw.addr, build("GET", path, &headers, ""))
                .await
                .assert_error(400, "DAUTH-2012");
        }
    }
    assert!(up.seen().is_empty(), "{:?}", up.seen());
}

#[tokio::test]
async fn bearer_is_recognised_in_any_case_and_after_any_whitespace() {
    let (up, gw) = bearer_gateway().await;
    let forged = unsigned_bearer();
    let spellings = [
        format!("Bearer\t{forged}"),
        format!("bEaReR   {forged}"),
        format!("BEARER \t {forged}"),
        "Bearer".to_owned(),
        format!("bearer\t\t{forged}\t"),
    ];
    for value in &spellings {
        // Unauthenticated route: never verified, so never forwarded.
        let r = send(
            gw.addr,
            build("GET", "/open/x", &[("authorization", value)], ""),
        )
        .await;
        assert_eq!(r.status, 200, "{value:?}: {:?}", r.body);
        assert!(
            up.last().headers.get("authorization").is_none(),
            "{value:?} reached the upstream unverified"
        );
        // Authenticated routes verify it, and refuse it.
        for path in ["/opt/x", "/req/x", "/fwd/x"] {
            send(gw.addr, build("GET", path, &[("authorization", value)], ""))
                .await
                .assert_error(401, "DAUTH-2101");
        }
    }
    assert_eq!(up.seen().len(), spellings.len());
    // A valid token in any spelling is verified and then not forwarded (no forward_token).
    let good = valid_bearer();
    for value in [format!("bEaReR\t{good}"), format!("Bearer   {good}")] {
        let r = send(
            gw.addr,
            build("GET", "/req/x", &[("authorization", &value)], ""),
        )
        .await;
        assert_eq!(r.status, 200, "{value:?}: {:?}", r.body);
        let seen = up.last().headers;
        assert_eq!(seen.get("x-dauth-auth-method").unwrap(), "bearer");
        assert!(seen.get("authorization").is_none());
    }
}

#[tokio::test]
async fn forward_token_forwards_only_a_verified_bearer() {
    let (up, gw) = bearer_gateway().await;
    let good = format!("Bearer\t{}", valid_bearer());
    let r = send(
        gw.addr,
        build("GET", "/fwd/x", &[("authorization", &good)], ""),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        up.last().headers.get("authorization").unwrap(),
        good.as_str()
    );
    // On an unauthenticated route nothing is verified, so even forward_token drops it.
    for value in [good.clone(), format!("Bearer {}", unsigned_bearer())] {
        let r = send(
            gw.addr,
            build("GET", "/openfwd/x", &[("authorization", &value)], ""),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(
            up.last().headers.get("authorization").is_none(),
            "{value:?}"
        );
    }
    // Another scheme is not a credential of the gateway's, and passes.
    let basic = "Basic dXNlcjpwdw==";
    send(
        gw.addr,
        build("GET", "/open/x", &[("authorization", basic)], ""),
    )
    .await;
    assert_eq!(up.last().headers.get("authorization").unwrap(), basic);
}
