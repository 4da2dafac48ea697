//! Password reset: `POST /api/auth/password-reset` mails a single-use, expiring code (not a new
//! password, as seed 001 does), and `POST /api/auth/password-reset/confirm` sets the new
//! password with it.
//!
//! The request handler only validates and queues (`crate::mail::outbox`); the lookup, the
//! code and the mail run in [`deliver_resets`], after the answer. So the answer is the same, in
//! content and in time, for a registered address and an unknown one, and never waits for SMTP.

use std::sync::Arc;

use crate::http::read::Payload;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::auth::passwords;
use crate::error::Error;
use crate::http::body::{Body, BoxError};
use crate::people::codes;
use crate::people::common::{normalize_email, stored, success, user_json};
use crate::state::State;
use crate::state::call::Call;
use crate::state::policy::Policy;
use crate::state::shared::Shared;
use crate::store::error::LocalError;
use crate::store::model::Profile;

#[derive(Deserialize)]
struct ResetRequest {
    email: String,
}

/// `POST /api/auth/password-reset`: queues the request and answers 200 at once, whether or not
/// the email is known; a full queue answers 503 to every address alike.
pub async fn reset_request(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    call.policy.issuer()?;
    let req: ResetRequest = body.json("PasswordResetJson")?;
    let email = normalize_email(&req.email)?;
    call.shared.resets.push(email)?;
    Ok(success(StatusCode::OK, json!({})))
}

/// Empties the reset queue for as long as the gateway runs: up to
/// `crate::mail::outbox::SENDERS` requests at once are looked up and, for a registered
/// address, given a fresh code that is mailed. Failures are logged (never the code).
pub async fn deliver_resets(state: Arc<State>) {
    let Some(mut queue) = state.shared().resets.take_receiver() else {
        return;
    };
    let senders = Arc::new(tokio::sync::Semaphore::new(crate::mail::outbox::SENDERS));
    while let Ok(permit) = Arc::clone(&senders).acquire_owned().await {
        let Some(email) = queue.recv().await else {
            return;
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let policy = state.policy();
            // A background job, not a request: it reads the clock for itself, once.
            let now = crate::clock::now();
            if let Err(e) = mail_reset_code(state.shared(), &policy, &email, now).await {
                tracing::warn!(error = %e, "password reset not mailed");
            }
            drop(permit);
        });
    }
}

/// For a registered `email`: a new reset code (replacing any earlier one), stored as its
/// digest, then mailed. Nothing for an unknown one.
async fn mail_reset_code(
    shared: &Shared,
    policy: &Policy,
    email: &str,
    now: i64,
) -> Result<(), BoxError> {
    let Some((user, _)) = shared.store.passwords.local_user_by_login(email).await? else {
        return Ok(());
    };
    let code = codes::new_code();
    let ttl = policy.config.accounts.code_ttl_secs;
    let pending = stored(&code, ttl, now);
    shared
        .store
        .passwords
        .update_profile(
            &user.user_id,
            true,
            Box::new(move |p| {
                p.reset_code = Some(pending.clone());
                Ok(())
            }),
            now,
        )
        .await?;
    let text = format!("Your password reset code is {code}\nIt expires in {ttl} seconds.");
    shared
        .mailer
        .send(email, "Reset your password", text)
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct ResetConfirm {
    email: String,
    code: String,
    password: String,
}

/// `POST /api/auth/password-reset/confirm`: sets the new password, ends every login. The code
/// came by mail, so the mailbox is proven too.
pub async fn reset_confirm(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    call.policy.issuer()?;
    let req: ResetConfirm = body.json("PasswordResetConfirmJson")?;
    let email = normalize_email(&req.email)?;
    if !passwords::acceptable(&req.password) {
        return Err(Error::WeakPassword);
    }
    let (user, current) = call
        .shared
        .store
        .passwords
        .local_user_by_login(&email)
        .await?
        .ok_or(Error::InvalidCode)?;
    let digest = codes::digest(req.code.trim());
    let now = call.now;
    let code_matches = move |p: &Profile| {
        p.reset_code
            .as_ref()
            .is_some_and(|c| codes::same_secret(&c.digest, &digest) && c.expires_at > now)
    };
    // Checked before the (deliberately slow) hash, so a wrong code costs no hashing; checked
    // again in the update, which is what makes the code single-use.
    if !code_matches(&current) {
        return Err(Error::InvalidCode);
    }
    let hash = call.shared.passwords.hash(req.password).await?;
    let profile = call
        .shared
        .store
        .passwords
        .update_profile(
            &user.user_id,
            true,
            Box::new(move |p| {
                if !code_matches(p) {
                    return Err(LocalError::NotFound);
                }
                p.reset_code = None;
                p.mailbox_verified = true;
                p.password_hash = Some(hash.clone());
                p.failed_logins = 0;
                p.locked_until = None;
                Ok(())
            }),
            call.now,
        )
        .await?;
    call.shared
        .store
        .passwords
        .revoke_refresh_families(&user.user_id)
        .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &profile, call, false) }),
    ))
}
