//! Real answers of a running gateway, each validated against the schema the document it
//! serves gives for it: a success for every documented operation, and an error for every
//! documented path (the error shape, its code one of the document's `ErrorCode`s). Which
//! documented path an answer belongs to is the code's choice (`pipeline::template_for`, the
//! row that served it), which tests/openapi.rs holds to the document.

use std::collections::BTreeSet;

use dauth_proxy::pipeline::template_for;
use serde_json::Value;

use super::flows;
use super::schema::{self, Schemas};
use crate::support::Gateway;
use crate::support::client::{Reply, build, send};
use crate::support::smtp::Smtp;
use crate::support::token;

/// The gateway, the document it serves, and what has been checked against it.
pub(crate) struct Run {
    pub(crate) gw: Gateway,
    doc: Value,
    schemas: Schemas,
    codes: BTreeSet<String>,
    /// (template, METHOD, status) of every answer checked.
    seen: BTreeSet<(String, String, u16)>,
}

/// A caller's credential.
pub(crate) enum Auth {
    None,
    /// A DAuth token for a contract, fresh each time (a DAuth request id is taken once).
    Dauth(&'static str),
    Bearer(String),
}

impl Auth {
    fn header(&self) -> Option<(&'static str, String)> {
        match self {
            Self::None => None,
            Self::Dauth(contract) => Some(("dauth", token(contract, "ETHEREUM"))),
            Self::Bearer(t) => Some(("authorization", format!("Bearer {t}"))),
        }
    }
}

impl Run {
    /// Sends `method path` with `headers` and `body`, expects `status`, and validates the
    /// answer against the document's schema for it.
    pub(crate) async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
        status: u16,
    ) -> Reply {
        let r = send(self.gw.addr, build(method, path, headers, body.to_owned())).await;
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert_eq!(r.status, status, "{method} {path}: {text}");
        let bare = path.split('?').next().unwrap();
        let template = template_for(bare).unwrap_or_else(|| panic!("no row serves {bare}"));
        self.check(template, method, &r);
        r
    }

    /// [`Run::call`] with a JSON body (none for `Value::Null`) and `auth`; the answer's JSON.
    pub(crate) async fn json(
        &mut self,
        method: &str,
        path: &str,
        auth: &Auth,
        body: Value,
        status: u16,
    ) -> Value {
        let credential = auth.header();
        let mut headers = vec![("content-type", "application/json")];
        if let Some((name, value)) = &credential {
            headers.push((name, value.as_str()));
        }
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let r = self.call(method, path, &headers, &text, status).await;
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    }

    fn check(&mut self, template: &str, method: &str, r: &Reply) {
        let response = self.schemas.response(template, method, r.status);
        let ctype = r.header("content-type").unwrap_or("");
        let ctype = ctype.split(';').next().unwrap_or("").trim().to_owned();
        let Some(media) = response["content"].get(&ctype) else {
            panic!(
                "{method} {template} {}: {ctype:?} is not documented: {response}",
                r.status
            );
        };
        let value = if ctype == "application/json" {
            r.json()
        } else {
            Value::String(String::from_utf8(r.body.to_vec()).unwrap())
        };
        let errors = self.schemas.errors(&media["schema"], &value);
        assert!(
            errors.is_empty(),
            "{method} {template} {}: {value}\ndoes not match: {}",
            r.status,
            errors.join("; ")
        );
        let message = value.get("message").and_then(Value::as_str);
        if let Some(message) = message.filter(|_| r.status >= 400) {
            let code = message.split(':').next().unwrap();
            assert!(self.codes.contains(code), "{code} is not in ErrorCode");
        }
        self.seen
            .insert((template.to_owned(), method.to_owned(), r.status));
    }
}

/// Starts the gateway with every product on, runs every flow, then checks coverage.
pub(crate) async fn run() {
    let smtp = Smtp::start().await;
    let gw = Gateway::start("", &flows::config(&smtp)).await;
    let doc = crate::support::get(gw.addr, "/openapi.json").await.json();
    let schemas = Schemas::new(&doc);
    let codes = schemas.error_codes();
    let seen = BTreeSet::new();
    let mut run = Run {
        gw,
        doc,
        schemas,
        codes,
        seen,
    };
    flows::gateway(&mut run).await;
    flows::obp(&mut run).await;
    flows::people(&mut run, &smtp).await;
    flows::services(&mut run).await;
    flows::wallets(&mut run).await;
    every_path(&mut run).await;
    coverage(&run);
}

/// For every documented path: OPTIONS where it is documented, and a method it does not
/// answer (405 with `Allow`, the error shape).
async fn every_path(run: &mut Run) {
    let paths = run.doc["paths"].as_object().unwrap().clone();
    for (template, item) in paths {
        let version = if template.contains("/views/{VIEW_ID}/") {
            "v5.1.0"
        } else {
            "v4.0.0"
        };
        let path = template
            .replace("{version}", version)
            .replace(['{', '}'], "");
        if item.get("options").is_some() {
            let r = run.call("OPTIONS", &path, &[], "", 200).await;
            assert!(r.header("allow").is_some(), "OPTIONS {path}");
        }
        let unused = ["PATCH", "DELETE", "PUT", "POST", "GET"]
            .into_iter()
            .find(|m| item.get(m.to_lowercase()).is_none())
            .unwrap();
        let r = run.call(unused, &path, &[], "", 405).await;
        assert!(r.header("allow").is_some(), "{unused} {path}");
    }
}

/// Every documented operation answered a success that was checked, and every path an error.
fn coverage(run: &Run) {
    for (path, method) in schema::operations(&run.doc) {
        let ok = run
            .seen
            .iter()
            .any(|(p, m, s)| *p == path && *m == method && *s < 400);
        assert!(ok, "no success of {method} {path} was checked");
    }
    for path in run.doc["paths"].as_object().unwrap().keys() {
        let err = run.seen.iter().any(|(p, _, s)| p == path && *s >= 400);
        assert!(err, "no error of {path} was checked");
    }
}
