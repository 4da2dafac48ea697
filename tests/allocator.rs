//! The binary's allocator: jemalloc, built with the options of `.cargo/config.toml`, so that
//! the memory parked keep-alive connections give back leaves the resident set while the
//! gateway sits idle, instead of staying until the allocator is next busy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use support::binary::{Binary, exe};

#[test]
fn jemalloc_is_built_to_return_freed_pages_within_a_second() {
    // confirm_conf makes jemalloc print each options string it reads, and each value it sets.
    let out = Command::new(exe())
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "confirm_conf:true")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let built_in = err
        .lines()
        .find(|l| l.contains("--with-malloc-conf"))
        .unwrap_or_else(|| panic!("no built-in options reported: {err}"));
    assert!(
        built_in.contains("background_thread:true") && built_in.contains("dirty_decay_ms:1000"),
        "{built_in}"
    );
    for set in ["background_thread:true", "dirty_decay_ms:1000"] {
        assert!(
            err.contains(&format!("-- Set conf value: {set}")),
            "{set} not set: {err}"
        );
    }
}

#[tokio::test]
async fn a_serving_gateway_runs_the_allocators_purging_thread() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _) = Binary::spawn_default_in(dir.path());
    let health = support::get_with(gw.addr, "/health", &[]).await;
    assert_eq!(health.status, 200);
    let tasks = std::fs::read_dir(format!("/proc/{}/task", gw.pid())).unwrap();
    // A thread may end between the listing and the read (tokio's idle blocking threads do):
    // skip it rather than fail on it.
    let names: Vec<String> = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_owned())
        .collect();
    assert!(names.iter().any(|n| n == "jemalloc_bg_thd"), "{names:?}");
}
