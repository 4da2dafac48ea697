//! The fuzz targets, each run for a short bounded time, as part of `cargo test`.
//!
//! Runs `fuzz/run-all 10`: it installs cargo-fuzz if it is missing, builds every target of the
//! `fuzz/` crate once (stable Rust, libFuzzer without a sanitizer) and fuzzes each for ten
//! seconds from its checked-in seeds. A crash, panic, failed property, leak or timeout in any
//! target fails this test, with the target's verdict and the input libFuzzer saved.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// Seconds each target is fuzzed for.
const SECONDS_PER_TARGET: &str = "10";

#[test]
fn every_fuzz_target_runs_clean_for_ten_seconds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("fuzz").join("run-all"))
        .arg(SECONDS_PER_TARGET)
        .current_dir(root)
        .output()
        .expect("fuzz/run-all starts");
    let report = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    let log_tail: String = {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    assert!(
        out.status.success(),
        "fuzz/run-all failed ({}):\n{report}\n--- last lines of its log ---\n{log_tail}",
        out.status
    );

    let listed = Command::new("cargo")
        .args(["fuzz", "list"])
        .current_dir(root)
        .output()
        .expect("cargo fuzz list");
    assert!(listed.status.success(), "cargo fuzz list failed");
    let targets: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        targets.len() >= 5,
        "expected the fuzz targets, cargo fuzz list gave {targets:?}"
    );
    for target in &targets {
        let verdict = report
            .lines()
            .find(|l| l.split_whitespace().next() == Some(target.as_str()))
            .unwrap_or_else(|| panic!("no verdict for {target} in:\n{report}"));
        let runs: u64 = verdict
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            verdict.split_whitespace().nth(1) == Some("ok") && runs > 0,
            "{target} did not run clean: {verdict}"
        );
    }
}
