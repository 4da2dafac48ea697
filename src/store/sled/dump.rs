//! Reading every record out of the sled store, for `dauth-proxy admin copy-store`.

use serde::Deserialize;

use super::db::{SledStore, decode};
use super::keys::parts;
use crate::store::dump::{Dump, FamilyRecord};
use crate::store::error::StoreError;

/// A refresh family as `local` stores it.
#[derive(Deserialize)]
struct Family {
    user_id: String,
    jti: String,
    expires_at: i64,
}

/// The parts of a tagged key, if it has `tag`.
fn tagged(k: &[u8], tag: u8) -> Option<Vec<String>> {
    (k.first() == Some(&tag)).then(|| parts(&k[1..]))
}

fn part(p: &[String], i: usize) -> String {
    p.get(i).cloned().unwrap_or_default()
}

impl SledStore {
    /// Every record (reads every tree; for moving an installation while it is stopped).
    pub fn dump(&self) -> Result<Dump, StoreError> {
        let t = &self.inner;
        let mut d = Dump {
            users: self.all_users()?,
            ..Dump::default()
        };
        for item in t.profiles.iter() {
            let (k, v) = item?;
            d.profiles.push((
                String::from_utf8_lossy(&k).into_owned(),
                decode(&v, "profile")?,
            ));
        }
        for item in t.codes.iter() {
            let (k, v) = item?;
            if let Some(p) = tagged(&k, b'c') {
                d.codes
                    .push((part(&p, 0), String::from_utf8_lossy(&v).into_owned()));
            }
        }
        for item in t.refresh.iter() {
            let (k, v) = item?;
            if let Some(p) = tagged(&k, b'F') {
                let f: Family = decode(&v, "refresh family")?;
                d.refresh.push(FamilyRecord {
                    family: part(&p, 0),
                    user_id: f.user_id,
                    jti: f.jti,
                    expires_at: f.expires_at,
                });
            }
        }
        for v in t.accounts.iter().values() {
            d.accounts.push(decode(&v?, "account")?);
        }
        for item in t.views.iter() {
            let (k, v) = item?;
            if let Some(p) = tagged(&k, b'V') {
                d.views
                    .push((part(&p, 0), part(&p, 1), decode(&v, "view")?));
            }
        }
        for k in t.access.iter().keys() {
            if let Some(p) = tagged(&k?, b'u') {
                d.access
                    .push((part(&p, 0), part(&p, 1), part(&p, 2), part(&p, 3)));
            }
        }
        for v in t.clients.iter().values() {
            d.clients.push(decode(&v?, "client")?);
        }
        for item in t.client_users.iter() {
            let (k, v) = item?;
            if tagged(&k, b'U').is_some() {
                d.client_users.push(decode(&v, "client user")?);
            }
        }
        for item in t.assertions.iter() {
            let (k, v) = item?;
            let (Some(&tag), Ok(until)) = (k.first(), <[u8; 8]>::try_from(v.as_ref())) else {
                continue;
            };
            let p = parts(&k[1..]);
            d.replay.push((
                format!("{}:{}", char::from(tag), part(&p, 0)),
                part(&p, 1),
                i64::from_be_bytes(until),
            ));
        }
        Ok(d)
    }
}
