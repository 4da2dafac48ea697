//! Arbitrary UTF-8 text -> `Config::from_toml(text, "fuzz.toml")`.
//!
//! Runs in the repository root, so `keys/dev/dauth_public.pem` in a seed loads and the checks
//! after the key section are reached. Inputs naming a file outside the checkout (absolute
//! paths, `..`) are skipped: reading `/dev/zero` or a FIFO would only test the host.
//! Property: no panic, and every error names the file first (`fuzz.toml: key: problem`).

#![no_main]

use std::path::Path;

use dauth_proxy::Config;
use dauth_proxy_fuzz::config::{enter_repo_root, reads_only_checkout_files};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    enter_repo_root();
    if !reads_only_checkout_files(text) {
        return;
    }
    if let Err(e) = Config::from_toml(text, Path::new("fuzz.toml")) {
        let message = e.to_string();
        assert!(message.starts_with("fuzz.toml: "), "{message:?}");
    }
});
