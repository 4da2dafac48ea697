//! Reading the served OpenAPI document: its operations, the schema it gives for an answer, and
//! validating values against those schemas with `jsonschema` (no remote references: the
//! document and the checked-in meta-schemas are the only resources).

use std::collections::BTreeSet;

use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

/// The URI the document is registered under, so its `#/components/...` references resolve.
const DOC_URI: &str = "https://dauth-proxy.test/openapi.json";

/// The HTTP methods an OpenAPI path item may hold, lower-case as the document writes them.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The OpenAPI 3.1 meta-schemas under tests/fixtures/openapi (see its README), by `$id`.
pub(crate) fn meta_schemas() -> Vec<(&'static str, Value)> {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    vec![
        (
            "https://spec.openapis.org/oas/3.1/schema/2022-10-07",
            parse(include_str!("../fixtures/openapi/schema.json")),
        ),
        (
            "https://spec.openapis.org/oas/3.1/schema-base/2022-10-07",
            parse(include_str!("../fixtures/openapi/schema-base.json")),
        ),
        (
            "https://spec.openapis.org/oas/3.1/dialect/base",
            parse(include_str!("../fixtures/openapi/dialect-base.schema.json")),
        ),
        (
            "https://spec.openapis.org/oas/3.1/meta/base",
            parse(include_str!("../fixtures/openapi/meta-base.schema.json")),
        ),
    ]
}

/// The errors of `doc` against the OpenAPI 3.1 meta-schema with the base dialect (which also
/// checks every Schema Object as JSON Schema 2020-12), as text; empty when valid.
pub(crate) fn meta_errors(doc: &Value) -> Vec<String> {
    let mut registry = Registry::new();
    for (id, schema) in meta_schemas() {
        registry = registry.add(id, schema).unwrap();
    }
    let registry = registry.prepare().unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&json!({"$ref": "https://spec.openapis.org/oas/3.1/schema-base/2022-10-07"}))
        .unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every (path, METHOD) the document has an operation for.
pub(crate) fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((path.clone(), m.to_uppercase()));
            }
        }
    }
    ops
}

/// The document's operation for `path` and `method`, if it has one.
pub(crate) fn operation<'d>(doc: &'d Value, path: &str, method: &str) -> Option<&'d Value> {
    doc["paths"].get(path)?.get(method.to_lowercase())
}

/// Validates values against the schemas of one document.
pub(crate) struct Schemas {
    doc: Value,
}

impl Schemas {
    /// For `doc`.
    pub(crate) fn new(doc: &Value) -> Self {
        Self { doc: doc.clone() }
    }

    /// The Response Object the document gives for `status` of `method path`: the operation's
    /// own, or its `default`; with no such operation (a method the path does not answer),
    /// the shared `Error` response. References to `components/responses` are followed.
    pub(crate) fn response(&self, path: &str, method: &str, status: u16) -> &Value {
        let response = match operation(&self.doc, path, method) {
            Some(op) => {
                let responses = &op["responses"];
                responses
                    .get(status.to_string())
                    .or_else(|| responses.get("default"))
                    .unwrap_or_else(|| panic!("{method} {path}: no response for {status}"))
            }
            None => &self.doc["components"]["responses"]["Error"],
        };
        match response.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.strip_prefix('#').unwrap();
                self.doc.pointer(pointer).unwrap_or_else(|| panic!("{r}"))
            }
            None => response,
        }
    }

    /// A validator for `schema`, a Schema Object of the document (its `#/components/...`
    /// references resolved against the document).
    pub(crate) fn validator(&self, schema: &Value) -> Validator {
        let text = schema
            .to_string()
            .replace("\"#/components/", &format!("\"{DOC_URI}#/components/"));
        let schema: Value = serde_json::from_str(&text).unwrap();
        let mut doc = self.doc.clone();
        doc["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        let registry = Registry::new()
            .add(DOC_URI, doc)
            .unwrap()
            .prepare()
            .unwrap();
        jsonschema::options()
            .with_registry(&registry)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema {schema} does not build: {e}"))
    }

    /// The errors of `value` against `schema`, as text.
    pub(crate) fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        self.validator(schema)
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// The document's `ErrorCode` enum.
    pub(crate) fn error_codes(&self) -> BTreeSet<String> {
        self.doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    }
}
