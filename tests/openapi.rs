//! `GET /openapi.json` (issue 14, section 5) kept true: the document served by a real gateway
//! lists exactly the endpoints of the code's endpoint table (`pipeline::embedded_endpoints`),
//! with their methods, path parameters and callers; it is valid OpenAPI 3.1 against the
//! meta-schema checked in under tests/fixtures/openapi; its error codes are the error table's;
//! and real answers of a running gateway match the schemas it gives (tests/openapi/samples.rs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "openapi/flows.rs"]
mod flows;
#[path = "openapi/samples.rs"]
mod samples;
#[path = "openapi/schema.rs"]
mod schema;
mod support;

use std::collections::BTreeSet;

use dauth_proxy::pipeline::{Caller, embedded_endpoints, template_for};
use serde_json::{Value, json};
use support::client::{build, send};
use support::{Gateway, get, get_with, route};

/// The document as a gateway with the default test configuration serves it.
async fn served() -> Value {
    let gw = Gateway::start("", "").await;
    get(gw.addr, "/openapi.json").await.json()
}

/// What the code's table says: every (template, METHOD) but HEAD, which the document leaves
/// implied by GET (checked below).
fn table_operations() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for e in embedded_endpoints() {
        for m in e.methods.iter().filter(|m| **m != "HEAD") {
            ops.insert((e.template.to_owned(), (*m).to_owned()));
        }
    }
    ops
}

#[tokio::test]
async fn the_document_lists_every_embedded_endpoint_and_no_other() {
    let doc = served().await;
    let (table, documented) = (table_operations(), schema::operations(&doc));
    let missing: Vec<_> = table.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "in the endpoint table, not documented: {missing:?}\ndocumented, not in the table: {extra:?}"
    );
    for e in embedded_endpoints() {
        assert!(
            !e.methods.is_empty(),
            "{}: its example does not route",
            e.template
        );
        assert_eq!(
            e.methods.contains(&"GET"),
            e.methods.contains(&"HEAD"),
            "{}: HEAD is documented as implied by GET",
            e.template
        );
    }
}

/// A concrete path for `template` with `version` and a plain id for every other parameter.
fn concrete(template: &str, version: &str) -> String {
    let mut out = Vec::new();
    for seg in template.split('/') {
        out.push(match seg {
            "{version}" => version,
            s if s.starts_with('{') => "x1",
            s => s,
        });
    }
    out.join("/")
}

/// The versions a path's `{version}` parameter documents: its enum, or its examples; and
/// whether they are all it admits (an enum).
fn versions(item: &Value) -> Option<(Vec<String>, bool)> {
    let params = item["parameters"].as_array()?;
    let p = params.iter().find(|p| p["name"] == "version")?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    match p["schema"].get("enum") {
        Some(e) => Some((strings(e), true)),
        None => Some((strings(&p["schema"]["examples"]), false)),
    }
}

#[tokio::test]
async fn every_documented_path_routes_to_its_own_row_for_exactly_its_versions() {
    let doc = served().await;
    let probes = [
        "v2.0.0", "v3.0.0", "v3.1.0", "v4.0.0", "v5.0.0", "v5.1.0", "v5.2.0",
    ];
    for (template, item) in doc["paths"].as_object().unwrap() {
        let declared: BTreeSet<&str> = item["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path"))
            .into_iter()
            .flatten()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let in_template: BTreeSet<&str> = template
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, in_template, "{template}: path parameters");
        let Some((listed, exhaustive)) = versions(item) else {
            assert_eq!(
                template_for(template),
                Some(template.as_str()),
                "{template}"
            );
            assert_eq!(
                template_for(&concrete(template, "")),
                Some(template.as_str())
            );
            continue;
        };
        for v in &listed {
            let path = concrete(template, v);
            assert_eq!(template_for(&path), Some(template.as_str()), "{path}");
        }
        for v in probes
            .iter()
            .filter(|p| exhaustive && !listed.iter().any(|l| l == *p))
        {
            let path = concrete(template, v);
            assert_ne!(
                template_for(&path),
                Some(template.as_str()),
                "{path} is served"
            );
        }
    }
}

#[tokio::test]
async fn every_operation_says_who_may_call_it_as_the_table_does() {
    let doc = served().await;
    for e in embedded_endpoints() {
        for m in e
            .methods
            .iter()
            .filter(|m| !matches!(**m, "HEAD" | "OPTIONS"))
        {
            let op = schema::operation(&doc, e.template, m)
                .unwrap_or_else(|| panic!("{m} {} is not documented", e.template));
            let security = op["security"].as_array().unwrap();
            let anonymous = security.iter().any(|s| s == &json!({}));
            let schemes = security.iter().filter(|s| s != &&json!({})).count();
            let (want_anonymous, want_schemes) = match e.caller {
                Caller::Anyone => (false, false),
                Caller::Optional => (true, true),
                Caller::Required => (false, true),
            };
            assert_eq!(
                anonymous, want_anonymous,
                "{m} {}: {security:?}",
                e.template
            );
            assert_eq!(
                schemes > 0,
                want_schemes,
                "{m} {}: {security:?}",
                e.template
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["DAuth"],
        json!({"type": "apiKey", "in": "header", "name": "DAuth", "description": schemes["DAuth"]["description"]})
    );
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
    assert_eq!(schemes["erc8128"]["name"], "Signature");
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let doc = served().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let errors = schema::meta_errors(&doc);
    assert!(
        errors.is_empty(),
        "not valid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );
    // The check has teeth: a document with a wrong field fails it.
    let mut broken = doc.clone();
    broken["paths"]["/health"]["get"]["responses"]["200"] = json!({"content": {}});
    broken["components"]["schemas"]["Error"]["type"] = json!("strange");
    assert!(schema::meta_errors(&broken).len() >= 2);
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| schema::METHODS.iter().filter_map(|m| item.get(m)))
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        ids.iter().collect::<BTreeSet<_>>().len(),
        "operationIds repeat"
    );
    // Every component schema builds, so every reference in it resolves.
    let schemas = schema::Schemas::new(&doc);
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        schemas.validator(&json!({"$ref": format!("#/components/schemas/{name}")}));
    }
}

/// Every code the error table (src/error/, its tests left out) can answer.
fn table_codes() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/error");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(concat!(env!("CARGO_MANIFEST_DIR"), "/src/error.rs").into());
    let mut codes = BTreeSet::new();
    for file in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let (prefix, digits) = piece.split_once('-').unwrap_or(("", ""));
            if matches!(prefix, "DAUTH" | "OBP")
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                codes.insert(piece.to_owned());
            }
        }
    }
    codes
}

#[tokio::test]
async fn the_documented_error_codes_are_the_error_tables() {
    let doc = served().await;
    let documented = schema::Schemas::new(&doc).error_codes();
    let table = table_codes();
    assert!(
        table.len() > 100,
        "read {} codes from src/error",
        table.len()
    );
    let unknown: Vec<_> = documented.difference(&table).collect();
    let undocumented: Vec<_> = table.difference(&documented).collect();
    assert!(
        unknown.is_empty(),
        "documented codes the table lacks: {unknown:?}"
    );
    assert!(
        undocumented.is_empty(),
        "table codes the document lacks: {undocumented:?}"
    );
}

#[tokio::test]
async fn the_document_is_served_as_is_cacheable_and_without_credentials() {
    // A route claiming everything below / does not take the document's path.
    let up = "http://127.0.0.1:9";
    let gw = Gateway::start("", &route("/", up, "required", "")).await;
    let r = get(gw.addr, "/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(r.body, dauth_proxy::openapi::DOCUMENT.as_bytes());
    // Credentials are not read: a bad token is no reason to refuse the document.
    let r = get_with(gw.addr, "/openapi.json", &[("dauth", "not-a-token")]).await;
    assert_eq!(r.status, 200);
    let r = get_with(
        gw.addr,
        "/openapi.json",
        &[("authorization", "Bearer x.y.z")],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(gw.addr, build("HEAD", "/openapi.json", &[], "")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = send(gw.addr, build("POST", "/openapi.json", &[], "{}")).await;
    r.assert_error(405, "DAUTH-1405");
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    // Only the exact path: anything below it is the route's.
    let r = get(gw.addr, "/openapi.json/x").await;
    assert_ne!(r.status, 200);
}

#[tokio::test]
async fn real_answers_match_the_documented_schemas() {
    samples::run().await;
}
