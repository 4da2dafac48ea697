//! Reading the file and the value kinds several sections share: key files and CIDR lists, each
//! failure naming its entry.

use std::path::Path;

use super::error::{KeyProblem, Problem};
use super::file::{RawConfig, RawKey};
use crate::auth::keys::{VerifyKey, load_verify_key};
use crate::net::CidrList;

/// The raw sections of `text`; a syntax error or unknown key names its dotted path.
pub(super) fn parse(text: &str) -> Result<RawConfig, (String, toml::de::Error)> {
    let de = toml::Deserializer::parse(text).map_err(|e| ("-".to_owned(), e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { "-".to_owned() } else { path };
        (key, e.into_inner())
    })
}

/// Loads the PEM public keys listed under `key`; an error names the entry (`key[i]`).
pub(super) fn verify_keys(key: &str, raw: Vec<RawKey>) -> Result<Vec<VerifyKey>, KeyProblem> {
    raw.into_iter()
        .enumerate()
        .map(|(i, k)| {
            load_verify_key(Path::new(&k.path), k.kid)
                .map_err(|e| (format!("{key}[{i}]"), Problem::Key(e)))
        })
        .collect()
}

/// A CIDR list; an error names the entry (`key[i]`).
pub(super) fn cidrs(key: &str, entries: &[String]) -> Result<CidrList, KeyProblem> {
    CidrList::parse(entries).map_err(|(i, e)| (format!("{key}[{i}]"), Problem::Cidr(e)))
}

/// (key, warning) for each configured key that is a development key of `keys/dev/`: `dauth`'s
/// keys, the issuer's, and those of each bearer issuer and client, whose `jwks_file` flag says
/// which of `public_keys` and `jwks_file` held them.
pub(super) fn development_keys(
    dauth: &[VerifyKey],
    issuer: Option<&crate::auth::issuer::IssuerConfig>,
    bearer: &[(&[VerifyKey], bool)],
    clients: &[(&[VerifyKey], bool)],
) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = dauth
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((format!("dauth.public_keys[{i}]"), k.development_key()?)))
        .collect();
    if let Some(why) = issuer.and_then(|i| i.key.development_key()) {
        out.push(("issuer.private_key".into(), why));
    }
    for (section, entries) in [("bearer.issuers", bearer), ("clients", clients)] {
        for (i, (keys, jwks_file)) in entries.iter().enumerate() {
            for (j, k) in keys.iter().enumerate() {
                let Some(why) = k.development_key() else {
                    continue;
                };
                let key = if *jwks_file {
                    format!("{section}[{i}].jwks_file")
                } else {
                    format!("{section}[{i}].public_keys[{j}]")
                };
                out.push((key, why));
            }
        }
    }
    out
}
