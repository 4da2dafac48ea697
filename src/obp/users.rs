//! `GET /obp/{version}/users/current`, OBP's "Get User (Current)".
//!
//! Served for every version from v3.0.0 to v5.1.0 (OBP's new-style endpoints, where an
//! authentication failure answers 401). The shape is OBP's `UserJsonV300`.

use http::{Response, StatusCode};
use serde::Serialize;

use crate::auth::Principal;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::render::json;
use crate::state::call::Call;
use crate::store::model::AccessRow;

/// The lowest and highest OBP versions served, as (major, minor, patch).
const VERSIONS: ((u32, u32, u32), (u32, u32, u32)) = ((3, 0, 0), (5, 1, 0));

/// True for `/obp/vX.Y.Z/users/current` with X.Y.Z in the served range.
pub(crate) fn is_current_user_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/obp/v") else {
        return false;
    };
    let Some(version) = rest.strip_suffix("/users/current") else {
        return false;
    };
    parse_version(version).is_some_and(|v| v >= VERSIONS.0 && v <= VERSIONS.1)
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.split('.');
    let mut next = || {
        parts
            .next()
            .and_then(|p| p.parse::<u32>().ok().filter(|_| p.len() <= 3))
    };
    let parsed = (next()?, next()?, next()?);
    parts.next().is_none().then_some(parsed)
}

#[derive(Serialize)]
struct List<T> {
    list: Vec<T>,
}

#[derive(Serialize)]
struct CurrentUser<'a> {
    user_id: &'a str,
    email: &'a str,
    provider_id: &'a str,
    provider: &'a str,
    username: &'a str,
    entitlements: List<()>,
    views: List<AccessRow>,
}

/// Answers with the caller's user record and the views they hold (`{bank_id, account_id,
/// view_id}` per account-access row).
pub(crate) async fn current_user(
    call: &Call<'_>,
    principal: &Principal,
) -> Result<Response<Body>, Error> {
    let user = &principal.user;
    let views = call.shared.store.access.access_of(&user.user_id).await?;
    Ok(json(
        StatusCode::OK,
        &CurrentUser {
            user_id: &user.user_id,
            email: "",
            provider_id: &user.username,
            provider: &user.provider,
            username: &user.username,
            entitlements: List { list: Vec::new() },
            views: List { list: views },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_in_range_are_served() {
        for ok in ["v3.0.0", "v3.1.0", "v4.0.0", "v5.0.0", "v5.1.0"] {
            assert!(
                is_current_user_path(&format!("/obp/{ok}/users/current")),
                "{ok}"
            );
        }
        for bad in [
            "v2.0.0",
            "v5.2.0",
            "v6.0.0",
            "v5.1",
            "v5.1.0.1",
            "vx.y.z",
            "v05.1.0000",
        ] {
            assert!(
                !is_current_user_path(&format!("/obp/{bad}/users/current")),
                "{bad}"
            );
        }
        assert!(!is_current_user_path("/obp/v4.0.0/users/current/"));
    }
}
