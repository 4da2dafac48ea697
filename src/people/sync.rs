//! The third-party sync `PUT /api/users` (seed 002): upserts a password user by email.
//!
//! `PUT /api/users` is for administrators (a bearer token of a user whose proven address is in
//! `accounts.admin_emails`, see [`crate::people::common::is_admin`]) or for internal services: the
//! header `x-user-ctx: base64({"id":"__system","user":"__system"})` counts only when the TCP
//! peer is in `[internal] networks`. From anywhere else the header is ignored, and the proxy
//! strips it before forwarding. A trusted caller's `emailVerified` counts as proof of the
//! mailbox (see [`crate::store::model::Profile::mailbox_verified`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use http::{HeaderMap, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::auth::passwords;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::people::common::{is_admin, normalize_email};
use crate::state::call::Call;
use crate::store::model::is_valid_id;
use crate::store::model::{Profile, User, UserKind};

/// Whether the request carries the internal system context from an internal peer.
fn internal_system(call: &Call<'_>, headers: &HeaderMap, peer: IpAddr) -> bool {
    use base64::Engine;
    if !call.policy.config.internal_networks.contains(peer) {
        return false;
    }
    let Some(raw) = headers.get("x-user-ctx").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok();
    let ctx: Option<Value> = decoded.and_then(|d| serde_json::from_slice(&d).ok());
    ctx.is_some_and(|c| c["id"] == "__system" && c["user"] == "__system")
}

/// Whether `who` acts as an administrator: a password user who is one now (the store says so)
/// *and* whose access token was issued as one (`permissionLevel` 100). A token issued before
/// the mailbox was proven (say, to a stranger who registered the address first, and whose
/// account the owner then took back with a password reset) never gains the rights.
async fn administrator(call: &Call<'_>, who: &Principal) -> Result<bool, Error> {
    let token_says_so = who.bearer.as_ref().is_some_and(|c| {
        c.own && c.claims.get("permissionLevel").and_then(Value::as_i64) == Some(100)
    });
    if who.user.kind != UserKind::Local || !token_says_so {
        return Ok(false);
    }
    Ok(call
        .shared
        .store
        .passwords
        .profile(&who.user.user_id)
        .await?
        .is_some_and(|p| is_admin(call, &p)))
}

/// Seed 002's sync body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyncUser {
    email: String,
    username: Option<String>,
    password: Option<String>,
    /// An imported hash (bcrypt `$2a$`/`$2b$`/`$2y$` or argon2 PHC) instead of a password.
    password_hash: Option<String>,
    email_verified: Option<bool>,
    first_name: Option<String>,
    last_name: Option<String>,
    locale: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

/// Third-party fields kept as given.
const EXTRA_FIELDS: [&str; 5] = ["phoneNumber", "avatar", "birthday", "gender", "roles"];

/// `PUT /api/users`: upserts a user by email, storing only a hash of the password.
pub(crate) async fn sync(
    call: &Call<'_>,
    who: Option<&Principal>,
    body: Payload,
) -> Result<Response<Body>, Error> {
    call.policy.issuer()?;
    let actor = if internal_system(call, &call.head.headers, call.peer) {
        "__system".to_owned()
    } else {
        let who = who.ok_or(Error::MissingCredentials)?;
        if !administrator(call, who).await? {
            return Err(Error::AdminRequired);
        }
        who.user.user_id.clone()
    };
    let req: SyncUser = body.json("SyncUserJson")?;
    let email = normalize_email(&req.email)?;
    if req.username.as_ref().is_some_and(|u| !is_valid_id(u)) {
        return Err(Error::InvalidJson {
            expected: "SyncUserJson",
        });
    }
    let hash = match (req.password, req.password_hash) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidJson {
                expected: "SyncUserJson",
            });
        }
        (Some(pw), None) if !passwords::acceptable(&pw) => return Err(Error::WeakPassword),
        (Some(pw), None) => Some(call.shared.passwords.hash(pw).await?),
        (None, Some(h)) if passwords::importable(&h) => Some(h),
        (None, Some(_)) => {
            return Err(Error::InvalidJson {
                expected: "SyncUserJson",
            });
        }
        (None, None) => None,
    };
    let extra: BTreeMap<String, Value> = req
        .extra
        .into_iter()
        .filter(|(k, _)| EXTRA_FIELDS.contains(&k.as_str()))
        .collect();
    let existing = call
        .shared
        .store
        .passwords
        .local_user_by_login(&email)
        .await?;
    let apply = move |p: &mut Profile| {
        p.email = email.clone();
        if req.username.is_some() {
            p.username = req.username.clone();
        }
        if let Some(h) = &hash {
            p.password_hash = Some(h.clone());
        }
        // The caller is trusted (an administrator or the internal system): its word that the
        // mailbox is verified counts as proof, and its "not verified" takes the proof back.
        if let Some(v) = req.email_verified {
            p.confirmed = v;
            p.mailbox_verified = v;
        }
        if req.first_name.is_some() {
            p.firstname = req.first_name.clone();
        }
        if req.last_name.is_some() {
            p.lastname = req.last_name.clone();
        }
        if let Some(l) = &req.locale {
            p.language = l.clone();
        }
        p.extra.extend(extra.clone());
        p.updated_by = Some(actor.clone());
        Ok(())
    };
    let (user, profile) = match existing {
        Some((user, _)) => {
            let p = call
                .shared
                .store
                .passwords
                .update_profile(&user.user_id, true, Box::new(apply), call.now)
                .await?;
            (user, p)
        }
        None => {
            let mut p = Profile {
                language: "en".into(),
                ..Profile::default()
            };
            apply(&mut p)?;
            let by = p.updated_by.take();
            call.shared
                .store
                .passwords
                .create_local_user(p, by, call.now)
                .await?
        }
    };
    Ok(crate::http::render::json(
        StatusCode::OK,
        &synced_json(&user, &profile, call.now),
    ))
}

/// Seed 002's user shape. The password hash is never returned.
fn synced_json(user: &User, p: &Profile, now: i64) -> Value {
    let time = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
    };
    let extra = |k: &str| p.extra.get(k).cloned().unwrap_or(Value::Null);
    let locked = p.locked_until.is_some_and(|u| u > now);
    json!({
        "emailVerified": p.confirmed,
        "username": p.username,
        "email": p.email,
        "id": user.user_id,
        "_guid": format!("user_{}", user.user_id.replace('-', "")),
        "createdBy": p.created_by,
        "createdAt": time(user.created_at),
        "updatedAt": time(p.updated_at),
        "deletedAt": null,
        "updatedBy": p.updated_by,
        "deletedBy": null,
        "firstName": p.firstname,
        "lastName": p.lastname,
        "locale": p.language,
        "roles": extra("roles"),
        "phoneNumber": extra("phoneNumber"),
        "avatar": extra("avatar"),
        "birthday": extra("birthday"),
        "gender": extra("gender"),
        "lockedAt": Value::Null,
        "isActive": true,
        "isLocked": locked,
    })
}
