//! The endpoint table: paths to endpoints, methods, callers, and one row per path.

use super::*;
use crate::path::EMBEDDED_NAMESPACES as NAMESPACES;

#[test]
fn finds_embedded_paths_and_checks_methods() {
    let health = Endpoint::Open(Open::Health);
    assert_eq!(endpoint_for("/health"), Some(health.clone()));
    assert!(matches!(
        endpoint_for("/obp/v4.0.0/banks/b/accounts/a/views"),
        Some(Endpoint::Authenticated(Authenticated::Account(_)))
    ));
    assert_eq!(
        endpoint_for("/obp/v5.1.0/users/current"),
        Some(Endpoint::Authenticated(Authenticated::CurrentUser))
    );
    assert_eq!(endpoint_for("/nope"), None);
    assert!(matches!(
        health.check_method(&Method::POST),
        Err(Error::MethodNotAllowed { .. })
    ));
    health.check_method(&Method::HEAD).unwrap();
}

#[test]
fn every_namespace_is_listed() {
    for path in [
        "/health",
        "/openapi.json",
        "/obp/v5.1.0/users/current",
        "/obp/v4.0.0/banks/b/accounts/a/views",
        "/api/auth/login",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/oidc/token",
        "/auth/siwe/nonce",
        "/users",
        "/users/u-1",
    ] {
        let e = endpoint_for(path).unwrap_or_else(|| panic!("{path}"));
        assert!(NAMESPACES.contains(&e.namespace()), "{path}");
        assert!(path.starts_with(e.namespace()), "{path}");
    }
}

#[test]
fn every_row_serves_its_example_and_only_its_own() {
    for row in TABLE {
        assert!(fits(row.template, row.example), "{}", row.template);
        assert!((row.build)(row.example).is_some(), "{}", row.example);
        assert_eq!(template_for(row.example), Some(row.template));
        let serving = |r: &&Row| fits(r.template, row.example) && (r.build)(row.example).is_some();
        let others = TABLE.iter().filter(serving);
        assert_eq!(others.count(), 1, "{} is served by two rows", row.example);
    }
}

#[test]
fn segments_fit_templates_one_for_one() {
    assert!(fits("/users/{userId}", "/users/u-1"));
    assert!(!fits("/users/{userId}", "/users/u-1/x"));
    assert!(!fits("/users/{userId}", "/users"));
    assert!(fits("/api/users/", "/api/users/"));
    assert!(!fits("/api/users", "/api/users/"));
    assert_eq!(endpoint_for("/users/"), None);
    assert_eq!(endpoint_for("/api/users/me/attributes/"), None);
    assert_eq!(endpoint_for("/obp/v4.0.0/banks/b/accounts/a/"), None);
    assert_eq!(endpoint_for("/obp/v2.0.0/users/current"), None);
    assert_eq!(endpoint_for("/openapi.json/"), None);
}

#[test]
fn authentication_follows_the_endpoint() {
    let kind = |p: &str| match endpoint_for(p) {
        Some(Endpoint::Open(_)) => "open",
        Some(Endpoint::Optional(_)) => "optional",
        Some(Endpoint::Authenticated(_)) => "authenticated",
        None => "none",
    };
    assert_eq!(kind("/api/auth/register"), "open");
    assert_eq!(kind("/.well-known/jwks.json"), "open");
    assert_eq!(kind("/api/users"), "optional");
    assert_eq!(kind("/api/users/me/attributes/k"), "authenticated");
    assert_eq!(kind("/users/u-1"), "authenticated");
}

#[test]
fn every_endpoint_name_is_a_metrics_label() {
    for row in TABLE {
        let e = endpoint_for(row.example).unwrap_or_else(|| panic!("{}", row.example));
        assert!(
            crate::metrics::EMBEDDED_ENDPOINTS.contains(&e.name()),
            "{}: {}",
            row.template,
            e.name()
        );
    }
}

#[test]
fn every_row_is_under_a_namespace() {
    // endpoint_for answers None at once for a path under no namespace.
    for row in TABLE {
        assert!(
            NAMESPACES.iter().any(|ns| row.template.starts_with(ns)),
            "{}",
            row.template
        );
        assert!(endpoint_for(row.example).is_some(), "{}", row.example);
    }
}
