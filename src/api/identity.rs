//! The user service (seeds 001 and 002): register, confirm, login, refresh and password reset.
//! Profile, attributes and third-party sync are in [`super::profile`].
//!
//! Responses keep the seeds' `{"status": "success", "user": {...}}` envelope. Deliberate
//! departures, for safety: a password reset mails a single-use, expiring code and a second call
//! sets the new password (the seed mails a new password); a reset request answers the same
//! whether or not the email is known; refresh tokens rotate, and a reused one ends its login.

use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Body, read_json};
use crate::app::State;
use crate::body::ClientBody;
use crate::error::Error;
use crate::identity::{Issuer, codes, passwords};
use crate::pipeline::unix_now;
use crate::store::{LocalError, Profile, StoredCode, User};

/// The issuer, or 404 when `[issuer]` is not configured (the endpoints do not exist then).
pub fn issuer(state: &State) -> Result<&Issuer, Error> {
    state.issuer.as_ref().ok_or(Error::NotFound)
}

/// Seed 001's user object; `attributes` only where the seed shows them.
pub fn user_json(user: &User, p: &Profile, state: &State, with_attributes: bool) -> Value {
    let mut v = json!({
        "confirmed": p.confirmed,
        "firstname": p.firstname,
        "lastname": p.lastname,
        "email": p.email,
        "id": user.user_id,
        "language": p.language,
        "permissionLevel": if is_admin(state, p) { 100 } else { 0 },
    });
    if with_attributes {
        v["attributes"] = json!(p.attributes);
    }
    v
}

/// Whether the profile's email is in `accounts.admin_emails`.
pub fn is_admin(state: &State, p: &Profile) -> bool {
    state.config.accounts.admin_emails.contains(&p.email)
}

/// Trims whitespace and stray quotes, lowercases, and checks the shape of an email address.
pub fn normalize_email(raw: &str) -> Result<String, Error> {
    let email = raw
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim()
        .to_lowercase();
    let (local, domain) = email.rsplit_once('@').ok_or(Error::InvalidEmail)?;
    let domain_ok = !domain.is_empty()
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@');
    if email.len() > 254 || !domain_ok || !local_ok {
        return Err(Error::InvalidEmail);
    }
    Ok(email)
}

pub(super) fn success(status: StatusCode, fields: Value) -> Response<Body> {
    let mut body = json!({"status": "success"});
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), fields) {
        b.extend(extra);
    }
    super::json(status, &body)
}

pub(super) fn local_error(e: LocalError) -> Error {
    match e {
        LocalError::Store(s) => Error::Store(s),
        LocalError::EmailTaken | LocalError::UsernameTaken => Error::UserExists,
        LocalError::NotFound | LocalError::Refused(_) => Error::InvalidCode,
        LocalError::RefreshReused => Error::InvalidRefreshToken,
    }
}

pub(super) fn hash_error(_: passwords::PasswordError) -> Error {
    Error::Internal("password hashing failed")
}

#[derive(Deserialize)]
struct Register {
    email: String,
    password: String,
    #[serde(default)]
    firstname: Option<String>,
    #[serde(default)]
    lastname: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// `POST /api/auth/register`
pub async fn register(state: &State, body: ClientBody) -> Result<Response<Body>, Error> {
    issuer(state)?;
    let req: Register = read_json(body, "RegisterJson").await?;
    let email = normalize_email(&req.email)?;
    if !passwords::acceptable(&req.password) {
        return Err(Error::WeakPassword);
    }
    if state.store.local_user_by_login(&email)?.is_some() {
        return Err(Error::UserExists);
    }
    let hash = passwords::hash(req.password).await.map_err(hash_error)?;
    let auto = state.config.accounts.auto_confirm;
    let code = (!auto).then(codes::new_code);
    let profile = Profile {
        email: email.clone(),
        password_hash: Some(hash),
        confirmed: auto,
        firstname: req.firstname,
        lastname: req.lastname,
        language: req.language.unwrap_or_else(|| "en".into()),
        confirm_code: code.as_deref().map(|c| stored(c, state)),
        ..Profile::default()
    };
    if let Some(code) = &code {
        let text = format!(
            "Your confirmation code is {code}\nIt expires in {} seconds.",
            state.config.accounts.code_ttl_secs
        );
        state
            .mailer
            .send(&email, "Confirm your email address", text)
            .await
            .map_err(|_| Error::MailUnavailable)?;
    }
    let (user, profile) = state
        .store
        .create_local_user(profile, None)
        .await
        .map_err(local_error)?;
    Ok(success(
        StatusCode::CREATED,
        json!({ "user": user_json(&user, &profile, state, false) }),
    ))
}

fn stored(code: &str, state: &State) -> StoredCode {
    StoredCode {
        digest: codes::digest(code),
        expires_at: unix_now().saturating_add_unsigned(state.config.accounts.code_ttl_secs),
    }
}

#[derive(Deserialize)]
struct Confirm {
    code: String,
}

/// `POST /api/auth/confirm`
pub async fn confirm(state: &State, body: ClientBody) -> Result<Response<Body>, Error> {
    issuer(state)?;
    let req: Confirm = read_json(body, "ConfirmJson").await?;
    let (user, profile) = state
        .store
        .confirm(&codes::digest(req.code.trim()))
        .await
        .map_err(local_error)?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &profile, state, false) }),
    ))
}

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
pub async fn login(state: &State, body: ClientBody) -> Result<Response<Body>, Error> {
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

fn token_error(_: crate::identity::TokenError) -> Error {
    Error::Internal("token signing failed")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Refresh {
    refresh_token: String,
}

/// `POST /api/auth/refresh`: a new access token, and the rotated refresh token.
pub async fn refresh(state: &State, body: ClientBody) -> Result<Response<Body>, Error> {
    let issuer = issuer(state)?;
    let req: Refresh = read_json(body, "RefreshJson").await?;
    let claims = issuer
        .verify_refresh(&req.refresh_token)
        .map_err(|_| Error::InvalidRefreshToken)?;
    let now = unix_now();
    let next = uuid::Uuid::new_v4().to_string();
    let exp = now.saturating_add_unsigned(issuer.config().refresh_ttl_secs);
    let user_id = state
        .store
        .rotate_refresh(&claims.fam, &claims.jti, &next, exp)
        .await
        .map_err(|e| match e {
            LocalError::Store(s) => Error::Store(s),
            _ => Error::InvalidRefreshToken,
        })?;
    let user = state
        .store
        .user_by_id(&user_id)?
        .ok_or(Error::InvalidRefreshToken)?;
    let profile = state
        .store
        .profile(&user_id)?
        .ok_or(Error::InvalidRefreshToken)?;
    let (access, _) = issuer
        .access_token(&user, &profile, is_admin(state, &profile), now)
        .map_err(token_error)?;
    let (refresh, _) = issuer
        .refresh_token(&user_id, &claims.fam, &next, now)
        .map_err(token_error)?;
    Ok(success(
        StatusCode::OK,
        json!({ "accessToken": access, "refreshToken": refresh }),
    ))
}

#[derive(Deserialize)]
struct ResetRequest {
    email: String,
}

/// `POST /api/auth/password-reset`: mails a single-use, expiring code. Answers the same whether
/// or not the email is known.
pub async fn reset_request(state: &State, body: ClientBody) -> Result<Response<Body>, Error> {
    issuer(state)?;
    let req: ResetRequest = read_json(body, "PasswordResetJson").await?;
    let email = normalize_email(&req.email)?;
    if let Some((user, _)) = state.store.local_user_by_login(&email)? {
        let code = codes::new_code();
        let pending = stored(&code, state);
        state
            .store
            .update_profile(&user.user_id, true, move |p| {
                p.reset_code = Some(pending.clone());
                Ok(())
            })
            .await
            .map_err(local_error)?;
        let text = format!(
            "Your password reset code is {code}\nIt expires in {} seconds.",
            state.config.accounts.code_ttl_secs
        );
        state
            .mailer
            .send(&email, "Reset your password", text)
            .await
            .map_err(|_| Error::MailUnavailable)?;
    }
    Ok(success(StatusCode::OK, json!({})))
}

#[derive(Deserialize)]
struct ResetConfirm {
    email: String,
    code: String,
    password: String,
}

/// `POST /api/auth/password-reset/confirm`: sets the new password, ends every login.
pub async fn reset_confirm(state: &State, body: ClientBody) -> Result<Response<Body>, Error> {
    issuer(state)?;
    let req: ResetConfirm = read_json(body, "PasswordResetConfirmJson").await?;
    let email = normalize_email(&req.email)?;
    if !passwords::acceptable(&req.password) {
        return Err(Error::WeakPassword);
    }
    let (user, current) = state
        .store
        .local_user_by_login(&email)?
        .ok_or(Error::InvalidCode)?;
    let digest = codes::digest(req.code.trim());
    let code_matches = move |p: &Profile| {
        p.reset_code
            .as_ref()
            .is_some_and(|c| codes::same_secret(&c.digest, &digest) && c.expires_at > unix_now())
    };
    // Checked before the (deliberately slow) hash, so a wrong code costs no hashing; checked
    // again in the update, which is what makes the code single-use.
    if !code_matches(&current) {
        return Err(Error::InvalidCode);
    }
    let hash = passwords::hash(req.password).await.map_err(hash_error)?;
    let profile = state
        .store
        .update_profile(&user.user_id, true, move |p| {
            if !code_matches(p) {
                return Err(LocalError::NotFound);
            }
            p.reset_code = None;
            p.password_hash = Some(hash.clone());
            p.failed_logins = 0;
            p.locked_until = None;
            Ok(())
        })
        .await
        .map_err(local_error)?;
    state
        .store
        .revoke_refresh_families(&user.user_id)
        .await
        .map_err(local_error)?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &profile, state, false) }),
    ))
}

/// `GET /.well-known/jwks.json`
pub fn jwks(state: &State) -> Result<Response<Body>, Error> {
    Ok(super::json(StatusCode::OK, issuer(state)?.jwks()))
}
