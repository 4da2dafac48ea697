//! `POST /api/auth/login` (seeds 001 and 002), and the lockout after failed logins: each
//! attempt is counted in the store before its password is checked (see the store's `logins`).

use crate::http::read::Payload;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::error::Error;
use crate::http::body::Body;
use crate::people::codes;
use crate::people::common::{is_admin, success, user_json};
use crate::state::call::Call;
use crate::store::model::{LoginAttempt, Profile};

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
pub(crate) async fn login(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let issuer = call.policy.issuer()?;
    let req: Login = body.json("LoginJson")?;
    let (login, password) = credentials(call, req)?;
    let login = login.trim().trim_matches(|c| c == '\'' || c == '"');
    let by_email = call
        .shared
        .store
        .passwords
        .local_user_by_login(&login.to_lowercase())
        .await?;
    let (user, profile) = match by_email {
        Some(found) => found,
        None => call
            .shared
            .store
            .passwords
            .local_user_by_login(login)
            .await?
            .ok_or(Error::LoginUnknownUser)?,
    };
    let stored = profile
        .password_hash
        .clone()
        .ok_or(Error::LoginWrongPassword)?;
    let now = call.now;
    let profile = check_password(call, &user.user_id, password, stored, now).await?;
    if !profile.confirmed {
        return Err(Error::EmailNotConfirmed);
    }
    let (access, _) = issuer.access_token(&user, &profile, is_admin(call, &profile), now)?;
    let jti = uuid::Uuid::new_v4().to_string();
    let exp = now.saturating_add_unsigned(issuer.config().refresh_ttl_secs);
    let family = call
        .shared
        .store
        .passwords
        .start_refresh_family(&user.user_id, &jti, exp)
        .await?;
    let (refresh, _) = issuer.refresh_token(&user.user_id, &family, &jti, now)?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &profile, call, false), "accessToken": access, "refreshToken": refresh }),
    ))
}

/// (login name, password) from either body; a seed-002 body must name a configured client.
fn credentials(call: &Call<'_>, req: Login) -> Result<(String, String), Error> {
    let bad_body = || Error::InvalidJson {
        expected: "LoginJson",
    };
    match (req.with_password, req.email, req.password) {
        (Some(w), _, _) => {
            if req.kind.as_deref().is_some_and(|k| k != "password") {
                return Err(bad_body());
            }
            check_login_client(call, req.client_id.as_deref(), req.client_secret.as_deref())?;
            Ok((w.email_or_username, w.password))
        }
        (None, Some(e), Some(p)) => Ok((e, p)),
        _ => Err(bad_body()),
    }
}

/// Checks `password` against the user's `stored` hash under the lockout; returns the profile
/// as the successful attempt left it.
async fn check_password(
    call: &Call<'_>,
    id: &str,
    password: String,
    stored: String,
    now: i64,
) -> Result<Profile, Error> {
    let cfg = &call.policy.config.accounts;
    let (max, lockout) = (cfg.max_failed_logins, cfg.lockout_secs);
    // A place in the hashing queue first: a full queue refuses before the attempt is counted.
    let ticket = call.shared.passwords.admit()?;
    // Counted before the slow check, so parallel guesses cannot all pass a "not locked" test.
    let begun = call
        .shared
        .store
        .passwords
        .begin_login(id, max, lockout, now)
        .await;
    if let LoginAttempt::Locked(left) = begun? {
        return Err(Error::AccountLocked(left));
    }
    let (ok, upgrade) = ticket.verify(password.clone(), stored).await?;
    if !ok {
        return Err(
            match call
                .shared
                .store
                .passwords
                .fail_login(id, max, lockout, call.now)
                .await
            {
                Ok(LoginAttempt::Locked(left)) => Error::AccountLocked(left),
                Ok(LoginAttempt::Counted) => Error::LoginWrongPassword,
                Err(e) => Error::from(e),
            },
        );
    }
    // An old (bcrypt) hash is replaced when there is room to compute the new one; when the
    // queue is full, at a later login.
    let new_hash = match upgrade.then(|| call.shared.passwords.admit()) {
        Some(Ok(t)) => t.hash(password).await.ok(),
        _ => None,
    };
    let done = call
        .shared
        .store
        .passwords
        .succeed_login(id, new_hash, call.now)
        .await;
    match done? {
        Ok(p) => Ok(p),
        Err(LoginAttempt::Locked(left)) => Err(Error::AccountLocked(left)),
        Err(LoginAttempt::Counted) => Err(Error::LoginWrongPassword),
    }
}

fn check_login_client(
    call: &Call<'_>,
    id: Option<&str>,
    secret: Option<&str>,
) -> Result<(), Error> {
    let clients = &call.policy.config.accounts.login_clients;
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
