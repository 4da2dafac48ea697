//! What the user service's endpoints share: the seeds' user object and success envelope, who is
//! an administrator, the email rule's answer, a one-time code as stored, and how a password
//! user's store refusals answer (`From<LocalError>`).

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::body::Body;
use crate::people::codes;
use crate::state::call::Call;
use crate::store::error::LocalError;
use crate::store::model::{Profile, StoredCode, User};

/// Seed 001's user object; `attributes` only where the seed shows them.
pub(crate) fn user_json(user: &User, p: &Profile, call: &Call<'_>, with_attributes: bool) -> Value {
    let mut v = json!({
        "confirmed": p.confirmed,
        "firstname": p.firstname,
        "lastname": p.lastname,
        "email": p.email,
        "id": user.user_id,
        "language": p.language,
        "permissionLevel": if is_admin(call, p) { 100 } else { 0 },
    });
    if with_attributes {
        v["attributes"] = json!(p.attributes);
    }
    v
}

/// Whether `email` (normalised) is in `accounts.admin_emails`.
pub(crate) fn is_admin_address(call: &Call<'_>, email: &str) -> bool {
    call.policy
        .config
        .accounts
        .admin_emails
        .iter()
        .any(|a| a == email)
}

/// Whether the profile is an administrator's: its address is in `accounts.admin_emails` *and*
/// its mailbox is proven ([`Profile::mailbox_verified`]). A self-asserted address grants
/// nothing, even under `accounts.auto_confirm`.
pub(crate) fn is_admin(call: &Call<'_>, p: &Profile) -> bool {
    p.mailbox_verified && is_admin_address(call, &p.email)
}

/// [`crate::mail::address::normalize_email`], or 400 `DAUTH-4005`.
pub(crate) fn normalize_email(raw: &str) -> Result<String, Error> {
    crate::mail::address::normalize_email(raw).ok_or(Error::InvalidEmail)
}

/// The seeds' success envelope: `{"status": "success", ...fields}` with `status`.
pub(crate) fn success(status: StatusCode, fields: Value) -> Response<Body> {
    let mut body = json!({"status": "success"});
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), fields) {
        b.extend(extra);
    }
    crate::http::render::json(status, &body)
}

/// How a password-user store refusal answers, unless an endpoint says otherwise.
impl From<LocalError> for Error {
    fn from(e: LocalError) -> Self {
        match e {
            LocalError::Store(s) => Error::Store(s),
            LocalError::EmailTaken | LocalError::UsernameTaken => Error::UserExists,
            LocalError::NotFound | LocalError::Refused(_) => Error::InvalidCode,
            LocalError::RefreshReused => Error::InvalidRefreshToken,
        }
    }
}

/// A one-time code as stored: its digest and its expiry, `ttl_secs` after `now`.
pub(crate) fn stored(code: &str, ttl_secs: u64, now: i64) -> StoredCode {
    StoredCode {
        digest: codes::digest(code),
        expires_at: now.saturating_add_unsigned(ttl_secs),
    }
}
