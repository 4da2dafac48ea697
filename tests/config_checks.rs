//! Configuration mistakes an operator makes, each refused by `check-config` and `serve` with
//! exit 64 and a message naming the key, in the configuration's words (no internal type
//! names), run as the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::binary::{Binary, run};
use support::config_text;

/// `check-config` on `text` written to `dir/bad.toml`: (exit code, stderr).
fn check(dir: &Path, text: &str) -> (i32, String) {
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let (code, _, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    (code, err)
}

/// The test configuration (store under `dir`) with `extra` sections appended.
fn with(dir: &Path, dauth_extra: &str, extra: &str) -> String {
    config_text(&dir.join("store"), dauth_extra, extra)
}

/// Asserts that `text` is refused with exit 64, by a message naming `key` and containing
/// every one of `words`, and that `serve` refuses it too.
fn assert_refused(dir: &Path, text: &str, key: &str, words: &[&str]) {
    let (code, err) = check(dir, text);
    assert_eq!(code, 64, "{text}\n{err}");
    assert!(err.contains(&format!("bad.toml: {key}: ")), "{key}: {err}");
    for w in words {
        assert!(err.contains(w), "{key}: wants {w:?}: {err}");
    }
    let path = dir.join("bad.toml");
    let (code, _, err) = run(&["serve", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 64, "serve refuses too: {text}\n{err}");
}

#[test]
fn log_levels_outside_the_filter_syntax_are_refused_naming_log_level() {
    let dir = tempfile::tempdir().unwrap();
    for level in [
        "warning",
        "debugg",
        "info,,",
        ",info",
        "",
        " ",
        "dauth_proxy",
        "dauth_proxy=",
        "dauth_proxy=verbose",
        "dauth_proxy=debug,hyper=warning",
        "info,dauth_proxy",
        "3",
        "dauth_proxy=4",
        "[span]",
        "in fo",
        "info;debug",
        // tracing itself refuses spaces around directives.
        " info , hyper=warn ",
    ] {
        let text = with(dir.path(), "", &format!("[log]\nlevel = {level:?}\n"));
        assert_refused(dir.path(), &text, "log.level", &["trace, debug, info"]);
    }
}

#[test]
fn log_levels_in_the_filter_syntax_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    for level in [
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "off",
        "INFO",
        "Warn",
        "dauth_proxy=debug,hyper=warn",
        "info,dauth_proxy::server=trace",
        "info,[request]=debug",
        "info,dauth_proxy[conn{peer}]=debug",
    ] {
        let text = with(dir.path(), "", &format!("[log]\nlevel = {level:?}\n"));
        let (code, err) = check(dir.path(), &text);
        assert_eq!(code, 0, "{level:?}: {err}");
    }
}

#[test]
fn an_uppercase_level_still_logs_the_listening_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dauth.toml");
    std::fs::write(&path, with(dir.path(), "", "[log]\nlevel = \"INFO\"\n")).unwrap();
    // Binary::spawn_with_log waits for the listening line and panics without it.
    let gw = Binary::spawn_with_log(None, &path);
    assert_eq!(gw.terminate().code(), Some(0));
}
