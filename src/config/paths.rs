//! Relative paths in a configuration are taken from the directory of the file that names them,
//! not from the working directory: a file and the keys beside it work wherever the gateway is
//! started from. Absolute paths are kept as written.

use std::path::Path;

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
    for route in &mut raw.routes {
        route.upstream_ca.iter_mut().for_each(fix);
    }
    if let Some(issuer) = &mut raw.issuer {
        fix(&mut issuer.private_key);
    }
    for issuer in &mut raw.bearer.issuers {
        keys(&mut issuer.public_keys);
        issuer.jwks_file.iter_mut().for_each(fix);
    }
    for client in &mut raw.clients {
        keys(&mut client.public_keys);
        client.jwks_file.iter_mut().for_each(fix);
    }
    for airnode in &mut raw.airnode {
        airnode.api_key_file.iter_mut().for_each(fix);
    }
}
