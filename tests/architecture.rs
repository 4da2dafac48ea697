//! The crate's architecture, checked from its imports: `tools/modgraph` finds no import cycle
//! between files, and every edge between top-level modules goes down the layers (see
//! ARCHITECTURE.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::Command;

/// The layers, top to bottom. A module may use modules of lower layers only; two modules of one
/// layer may not use each other. Lower layers are split finer than the ARCHITECTURE.md diagram
/// where their modules use one another (`http` renders `error`s, `error` holds a store failure).
const LAYERS: &[&[&str]] = &[
    &["main", "cli"],
    &["app"],
    &["reload"],
    &["server"],
    &["pipeline"],
    &["obp", "people", "oidc", "wallets", "openapi"],
    &["state"],
    &["proxy", "limits"],
    &["config"],
    &["auth", "mail"],
    &["http", "path"],
    &["error", "tls", "net"],
    &["store", "fs"],
    &["cache", "clock", "chain", "metrics"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("top-level module `{module}` is in no layer: add it to LAYERS"))
}

/// `tools/modgraph`'s output: its exit status and its edges (file module -> file module).
fn modgraph() -> (bool, Vec<(String, String)>, String) {
    let out = Command::new("python3")
        .arg("tools/modgraph")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs tools/modgraph");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut edges = Vec::new();
    for line in stdout.lines() {
        let (from, to) = line.split_once(" -> ").unwrap_or_else(|| panic!("{line}"));
        for target in to.split(", ").filter(|t| *t != "-") {
            edges.push((from.to_owned(), target.to_owned()));
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), edges, stderr)
}

#[test]
fn no_file_imports_another_that_imports_it_back() {
    let (ok, edges, stderr) = modgraph();
    assert!(ok, "tools/modgraph found import cycles:\n{stderr}");
    assert!(!edges.is_empty(), "tools/modgraph printed no edges");
}

#[test]
fn every_edge_between_top_level_modules_goes_down_the_layers() {
    let (_, edges, _) = modgraph();
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    let mut wrong = BTreeSet::new();
    for (from, to) in &edges {
        let (a, b) = (top(from), top(to));
        if a == b || a == "lib" {
            continue;
        }
        if layer_of(&a) >= layer_of(&b) {
            wrong.insert(format!("{from} -> {to} ({a} may not use {b})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_layer_table_knows_every_top_level_module() {
    let (_, edges, _) = modgraph();
    for (from, to) in &edges {
        for m in [from, to] {
            let top = m.split("::").next().unwrap_or(m);
            if top != "lib" {
                layer_of(top);
            }
        }
    }
}
