//! The `config` target's guards: where it runs and which inputs it skips.

use std::path::{Component, Path};
use std::sync::Once;

/// Moves to the repository root once, so relative key paths in seeds resolve.
pub fn enter_repo_root() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_current_dir(crate::repo_root()).expect("cd to the repository root");
    });
}

/// Keys whose values `Config::from_toml` opens as files.
const FILE_KEYS: [&str; 5] = ["public_keys", "path", "tls_cert", "tls_key", "upstream_ca"];

/// False if the text names, where a file is read, a path that could leave the checkout
/// (absolute, or with a `..` component). Text that is not TOML opens nothing and passes.
pub fn reads_only_checkout_files(text: &str) -> bool {
    match text.parse::<toml::Table>() {
        Ok(table) => table_ok(&table),
        Err(_) => true,
    }
}

fn table_ok(table: &toml::Table) -> bool {
    table.iter().all(|(key, value)| {
        if FILE_KEYS.contains(&key.as_str()) {
            strings_ok(value)
        } else {
            value_ok(value)
        }
    })
}

fn value_ok(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(t) => table_ok(t),
        toml::Value::Array(a) => a.iter().all(value_ok),
        _ => true,
    }
}

/// Every string inside `value` is a path confined to the working directory.
fn strings_ok(value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => {
            let path = Path::new(s);
            !path.is_absolute()
                && path
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        }
        toml::Value::Table(t) => t.values().all(strings_ok),
        toml::Value::Array(a) => a.iter().all(strings_ok),
        _ => true,
    }
}
