//! `POST /api/auth/login` (seeds 001 and 002), and the lockout after failed logins.

use http::{Response, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::identity::{hash_error, is_admin, issuer, local_error, success, token_error, user_json};
use super::{Body, read_json};
use crate::app::State;
use crate::error::Error;
use crate::identity::{codes, passwords};
use crate::pipeline::unix_now;

/// Both login bodies: seed 001 `{email, password}` and seed 002
/// `{type: "password", clientId, clientSecret, withPassword: {emailOrUsername, password}}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Login {
    email: Option<String>,
    password: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    with_password: Option<WithPassword>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithPassword {
    email_or_username: String,
    password: String,
}

/// `POST /api/auth/login`
pub async fn login(state: &State, body: Incoming) -> Result<Response<Body>, Error> {
    let issuer = issuer(state)?;
    let req: Login = read_json(body, "LoginJson").await?;
    let bad_body = || Error::InvalidJson {
        expected: "LoginJson",
    };
    let (login, password) = match (req.with_password, req.email, req.password) {
        (Some(w), _, _) => {
            if req.kind.as_deref().is_some_and(|k| k != "password") {
                return Err(bad_body());
            }
            check_login_client(
                state,
                req.client_id.as_deref(),
                req.client_secret.as_deref(),
            )?;
            (w.email_or_username, w.password)
        }
        (None, Some(e), Some(p)) => (e, p),
        _ => return Err(bad_body()),
    };
    let login = login.trim().trim_matches(|c| c == '\'' || c == '"');
    let (user, profile) = match state.store.local_user_by_login(&login.to_lowercase())? {
        Some(found) => found,
        None => state
            .store
            .local_user_by_login(login)?
            .ok_or(Error::LoginUnknownUser)?,
    };
    let now = unix_now();
    if let Some(until) = profile.locked_until.filter(|u| *u > now) {
        return Err(Error::AccountLocked(
            u64::try_from(until - now).unwrap_or(0),
        ));
    }
    let stored = profile
        .password_hash
        .clone()
        .ok_or(Error::LoginWrongPassword)?;
    let (ok, upgrade) = passwords::verify(password.clone(), stored)
        .await
        .map_err(hash_error)?;
    if !ok {
        return Err(failed_login(state, &user.user_id).await);
    }
    if !profile.confirmed {
        return Err(Error::EmailNotConfirmed);
    }
    let new_hash = if upgrade {
        Some(passwords::hash(password).await.map_err(hash_error)?)
    } else {
        None
    };
    let profile = if profile.failed_logins > 0 || new_hash.is_some() {
        state
            .store
            .update_profile(&user.user_id, new_hash.is_some(), move |p| {
                p.failed_logins = 0;
                if let Some(h) = &new_hash {
                    p.password_hash = Some(h.clone());
                }
                Ok(())
            })
            .await
            .map_err(local_error)?
    } else {
        profile
    };
    let (access, _) = issuer
        .access_token(&user, &profile, is_admin(state, &profile), now)
        .map_err(token_error)?;
    let jti = uuid::Uuid::new_v4().to_string();
    let exp = now.saturating_add_unsigned(issuer.config().refresh_ttl_secs);
    let family = state
        .store
        .start_refresh_family(&user.user_id, &jti, exp)
        .await
        .map_err(local_error)?;
    let (refresh, _) = issuer
        .refresh_token(&user.user_id, &family, &jti, now)
        .map_err(token_error)?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &profile, state, false), "accessToken": access, "refreshToken": refresh }),
    ))
}

fn check_login_client(state: &State, id: Option<&str>, secret: Option<&str>) -> Result<(), Error> {
    let clients = &state.config.accounts.login_clients;
    if clients.is_empty() {
        return Ok(());
    }
    let (id, secret) = (id.unwrap_or_default(), secret.unwrap_or_default());
    let known = clients
        .iter()
        .any(|(cid, csecret)| codes::same_secret(cid, id) & codes::same_secret(csecret, secret));
    if known {
        Ok(())
    } else {
        Err(Error::InvalidLoginClient)
    }
}

/// Counts a failed login; the one that reaches `max_failed_logins` locks the account.
async fn failed_login(state: &State, user_id: &str) -> Error {
    let cfg = &state.config.accounts;
    let (max, lock) = (cfg.max_failed_logins, cfg.lockout_secs);
    let updated = state
        .store
        .update_profile(user_id, false, move |p| {
            p.failed_logins = p.failed_logins.saturating_add(1);
            if p.failed_logins >= max {
                p.failed_logins = 0;
                p.locked_until = Some(unix_now().saturating_add_unsigned(lock));
            }
            Ok(())
        })
        .await;
    match updated {
        Ok(p) if p.locked_until.is_some_and(|u| u > unix_now()) => Error::AccountLocked(lock),
        Ok(_) => Error::LoginWrongPassword,
        Err(e) => local_error(e),
    }
}
