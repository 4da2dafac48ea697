//! The user service (seeds 001 and 002): register, confirm, refresh and the issuer's JWKS. Login
//! is in [`super::login`], password reset in [`super::reset`], profile and attributes in
//! [`super::profile`], the third-party sync in [`super::sync`].
//!
//! Responses keep the seeds' `{"status": "success", "user": {...}}` envelope. Deliberate
//! departures, for safety: a password reset mails a single-use, expiring code and a second call
//! sets the new password (the seed mails a new password); a reset request answers the same
//! whether or not the email is known; refresh tokens rotate, and a reused one ends its login.

use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::auth::passwords;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::people::codes;
use crate::people::common::{
    is_admin, is_admin_address, normalize_email, stored, success, user_json,
};
use crate::state::call::Call;
use crate::store::error::LocalError;
use crate::store::model::{Profile, UserKind};

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
pub(crate) async fn register(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    call.policy.issuer()?;
    let req: Register = body.json("RegisterJson")?;
    let email = normalize_email(&req.email)?;
    if !passwords::acceptable(&req.password) {
        return Err(Error::WeakPassword);
    }
    if call
        .shared
        .store
        .passwords
        .local_user_by_login(&email)
        .await?
        .is_some()
    {
        return Err(Error::UserExists);
    }
    let hash = call.shared.passwords.hash(req.password).await?;
    let auto = call.policy.config.accounts.auto_confirm;
    // An administrator's address gets a code even under auto_confirm: the account is usable at
    // once, but is an administrator only once the code proves the mailbox.
    let code = (!auto || is_admin_address(call, &email)).then(codes::new_code);
    let profile = Profile {
        email: email.clone(),
        password_hash: Some(hash),
        confirmed: auto,
        firstname: req.firstname,
        lastname: req.lastname,
        language: req.language.unwrap_or_else(|| "en".into()),
        confirm_code: code
            .as_deref()
            .map(|c| stored(c, call.policy.config.accounts.code_ttl_secs, call.now)),
        ..Profile::default()
    };
    if let Some(code) = &code {
        mail_confirmation(call, &email, code).await?;
    }
    let (user, profile) = call
        .shared
        .store
        .passwords
        .create_local_user(profile, None, call.now)
        .await?;
    Ok(success(
        StatusCode::CREATED,
        json!({ "user": user_json(&user, &profile, call, false) }),
    ))
}

/// Mails the confirmation `code` to `email` (before the user is stored: no mail, no user).
async fn mail_confirmation(call: &Call<'_>, email: &str, code: &str) -> Result<(), Error> {
    let mut text = format!(
        "Your confirmation code is {code}\nIt expires in {} seconds.",
        call.policy.config.accounts.code_ttl_secs
    );
    if is_admin_address(call, email) {
        // Whoever registered chose the password: the mailbox's owner should only confirm an
        // account they made, and otherwise take it over with a password reset.
        text.push_str(
            "\nConfirming makes this account an administrator. If you did not register it, \
             do not confirm: reset its password instead, which makes it yours.",
        );
    }
    call.shared
        .mailer
        .send(email, "Confirm your email address", text)
        .await
        .map_err(Error::from)
}

#[derive(Deserialize)]
struct Confirm {
    code: String,
}

/// `POST /api/auth/confirm`
pub(crate) async fn confirm(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    call.policy.issuer()?;
    let req: Confirm = body.json("ConfirmJson")?;
    let (user, profile) = call
        .shared
        .store
        .passwords
        .confirm(&codes::digest(req.code.trim()), call.now)
        .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &profile, call, false) }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Refresh {
    refresh_token: String,
}

/// `POST /api/auth/refresh`: a new access token, and the rotated refresh token.
pub(crate) async fn refresh(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let issuer = call.policy.issuer()?;
    let req: Refresh = body.json("RefreshJson")?;
    let claims = issuer.verify_refresh(&req.refresh_token)?;
    let now = call.now;
    let next = uuid::Uuid::new_v4().to_string();
    let exp = now.saturating_add_unsigned(issuer.config().refresh_ttl_secs);
    let user_id = call
        .shared
        .store
        .passwords
        .rotate_refresh(&claims.fam, &claims.jti, &next, exp, now)
        .await
        .map_err(|e| match e {
            LocalError::Store(s) => Error::Store(s),
            _ => Error::InvalidRefreshToken,
        })?;
    let user = call
        .shared
        .store
        .users
        .user_by_id(&user_id)
        .await?
        .ok_or(Error::InvalidRefreshToken)?;
    let profile = call.shared.store.passwords.profile(&user_id).await?;
    // A SIWE user (an EOA, or a contract account keyed as its contract) has no profile: its
    // tokens carry no email and no names.
    let profile = match profile {
        Some(p) => p,
        None if user.kind == UserKind::Dauth => Profile {
            language: "en".into(),
            ..Profile::default()
        },
        None => return Err(Error::InvalidRefreshToken),
    };
    let (access, _) = issuer.access_token(&user, &profile, is_admin(call, &profile), now)?;
    let (refresh, _) = issuer.refresh_token(&user_id, &claims.fam, &next, now)?;
    Ok(success(
        StatusCode::OK,
        json!({ "accessToken": access, "refreshToken": refresh }),
    ))
}

/// `GET /.well-known/jwks.json`
pub(crate) fn jwks(call: &Call<'_>) -> Result<Response<Body>, Error> {
    Ok(crate::http::render::json(
        StatusCode::OK,
        call.policy.issuer()?.jwks(),
    ))
}
