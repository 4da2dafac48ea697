//! The integration suite again, on PostgreSQL: runs the already-built test executables of the
//! gateway's integration files with `DAUTH_TEST_STORE=postgres` (tests/support/mod.rs
//! `STORE_SWITCH`), under which every gateway they start through `config_text` /
//! `Gateway::start` gets a database of its own on the binary's shared cluster instead of a
//! sled directory. Nothing is copied: the same tests, another backend.
//!
//! `cargo test` builds every test executable before it runs any, so they are siblings of this
//! one in `target/debug/deps` (the newest of each name is run). Run alone (`cargo test --test
//! on_postgres`), build the others first (`cargo test --no-run`).
//!
//! Sled-only (left out here, they are about sled itself): `crash.rs` (reopens the sled
//! directory to count users; tests/replicas.rs kills a replica on PostgreSQL), and the tests in
//! [`SLED_ONLY`]. Files that start no gateway over a store (architecture, readme, cli,
//! config checks, fuzz, soak, properties, services, shipped configs, chain) are not re-run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

/// The integration files re-run on PostgreSQL.
const FILES: &[&str] = &[
    "users",
    "dauth",
    "obp_access",
    "store_rules",
    "clients",
    "people",
    "identity",
    "proxy",
    "allowlist",
    "header_rules",
    "paths",
    "bodies",
    "jws",
    "external_bearer",
    "siwe",
    "wallets",
    "hardening",
    "streaming",
    "server",
];

/// Tests that are about sled itself: they open the sled directory (its lock, its records).
const SLED_ONLY: &[&str] = &[
    // users.rs: writes a corrupt record into the sled tree; sled's one-process lock.
    "corrupt_store_record_answers_503_and_other_users_still_work",
    "a_second_gateway_on_the_same_store_refuses_to_start",
    // obp_access.rs: counts users by reopening the sled directory after the gateway stopped.
    "user_account_access_errors",
    // hardening.rs: a sled path that cannot be a directory must refuse the start.
    "unusable_store_stops_serve_at_start_with_a_clear_message",
];

/// The newest executable named `<name>-<hash>` beside this one.
fn sibling(name: &str) -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let dir = me.parent()?;
    let prefix = format!("{name}-");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let f = e.file_name().to_string_lossy().into_owned();
            f.strip_prefix(&prefix)
                .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
}

#[test]
fn the_integration_suite_passes_on_postgresql() {
    let mut failed = Vec::new();
    for name in FILES {
        let exe = sibling(name).unwrap_or_else(|| {
            panic!("no built test executable for tests/{name}.rs: run `cargo test --no-run`")
        });
        let mut cmd = Command::new(&exe);
        cmd.env("DAUTH_TEST_STORE", "postgres")
            .args(["-q", "--test-threads=2"]);
        for t in SLED_ONLY {
            cmd.args(["--skip", t]);
        }
        let out = cmd.output().unwrap();
        if !out.status.success() {
            eprintln!(
                "tests/{name}.rs on PostgreSQL failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "failed on PostgreSQL: {failed:?}");
}
