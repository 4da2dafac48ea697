//! Relative paths in a configuration are taken from the directory of the file that names them,
//! not from the working directory: a file and the keys beside it work wherever the gateway is
//! started from. Absolute paths are kept as written.

use std::path::{Path, PathBuf};

use super::file::{RawConfig, RawKey};

/// Rewrites every path in `raw` that is relative into `base` joined with it. `base` is the
/// configuration file's directory (empty for a file named without one: then nothing changes).
pub(super) fn resolve(raw: &mut RawConfig, base: &Path) {
    let fix = |p: &mut String| {
        if !base.as_os_str().is_empty() && Path::new(p.as_str()).is_relative() {
            // A directory whose name is not UTF-8 is shown and opened as its lossy reading.
            *p = base.join(p.as_str()).to_string_lossy().into_owned();
        }
    };
    let keys = |list: &mut Vec<RawKey>| list.iter_mut().for_each(|k| fix(&mut k.path));
    raw.server.tls_cert.iter_mut().for_each(fix);
    raw.server.tls_key.iter_mut().for_each(fix);
    fix(&mut raw.store.path);
    raw.store.password_file.iter_mut().for_each(fix);
    keys(&mut raw.dauth.public_keys);
    raw.dauth.jwks_ca.iter_mut().for_each(fix);
    for route in &mut raw.routes {
        route.upstream_ca.iter_mut().for_each(fix);
    }
    if let Some(issuer) = &mut raw.issuer {
        fix(&mut issuer.private_key);
    }
    for issuer in &mut raw.bearer.issuers {
        keys(&mut issuer.public_keys);
        issuer.jwks_file.iter_mut().for_each(fix);
        issuer.jwks_ca.iter_mut().for_each(fix);
    }
    for client in &mut raw.clients {
        keys(&mut client.public_keys);
        client.jwks_file.iter_mut().for_each(fix);
    }
    for airnode in &mut raw.airnode {
        airnode.api_key_file.iter_mut().for_each(fix);
    }
}

/// Every file `raw` names (keys, JWKS files, certificates, CAs, API key files), after
/// [`resolve`]: what a reload reads to tell whether anything changed, and whose directories it
/// watches. The store directory is not one of them.
pub(super) fn named_files(raw: &RawConfig) -> Vec<PathBuf> {
    let mut out: Vec<&String> = Vec::new();
    fn keys(list: &[RawKey]) -> impl Iterator<Item = &String> {
        list.iter().map(|k| &k.path)
    }
    out.extend(raw.server.tls_cert.iter().chain(&raw.server.tls_key));
    out.extend(keys(&raw.dauth.public_keys));
    out.extend(raw.dauth.jwks_ca.iter());
    out.extend(raw.routes.iter().filter_map(|r| r.upstream_ca.as_ref()));
    out.extend(raw.issuer.iter().map(|i| &i.private_key));
    for issuer in &raw.bearer.issuers {
        out.extend(keys(&issuer.public_keys));
        out.extend(issuer.jwks_file.iter().chain(&issuer.jwks_ca));
    }
    for client in &raw.clients {
        out.extend(keys(&client.public_keys));
        out.extend(client.jwks_file.iter());
    }
    out.extend(raw.airnode.iter().filter_map(|a| a.api_key_file.as_ref()));
    let mut files: Vec<PathBuf> = out.into_iter().map(PathBuf::from).collect();
    files.sort();
    files.dedup();
    files
}
