//! The user service's profile side: current user, profile, name and attributes (seed 001).
//! The third-party sync is in [`super::sync`].

use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::people::common::{success, user_json};
use crate::state::call::Call;
use crate::store::error::LocalError;
use crate::store::model::is_valid_id;
use crate::store::model::{Profile, User, UserKind};

/// Most attributes a user may have.
const MAX_ATTRIBUTES: usize = 100;
/// Longest attribute value.
const MAX_ATTRIBUTE_VALUE: usize = 4096;

/// The caller's stored user and profile; only password users have one.
async fn me(call: &Call<'_>, who: &Principal) -> Result<(User, Profile), Error> {
    call.policy.issuer()?;
    if who.user.kind != UserKind::Local {
        return Err(Error::PasswordUsersOnly);
    }
    let profile = call
        .shared
        .store
        .passwords
        .profile(&who.user.user_id)
        .await?
        .ok_or(Error::PasswordUsersOnly)?;
    Ok((who.user.clone(), profile))
}

/// `GET /api/users/me`: the user, without attributes.
pub(crate) async fn current(call: &Call<'_>, who: &Principal) -> Result<Response<Body>, Error> {
    let (user, p) = me(call, who).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &p, call, false) }),
    ))
}

/// `GET /api/users/me/profile`: the user with attributes.
pub(crate) async fn profile(call: &Call<'_>, who: &Principal) -> Result<Response<Body>, Error> {
    let (user, p) = me(call, who).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &p, call, true) }),
    ))
}

#[derive(Deserialize)]
struct Names {
    firstname: Option<String>,
    lastname: Option<String>,
}

/// `PATCH /api/users/me`: sets both names; an absent one becomes null, as the seed says.
pub(crate) async fn update_names(
    call: &Call<'_>,
    who: &Principal,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let (user, _) = me(call, who).await?;
    let req: Names = body.json("UpdateNameJson")?;
    if [&req.firstname, &req.lastname].iter().any(|n| {
        n.as_ref()
            .is_some_and(|n| n.len() > 255 || n.chars().any(char::is_control))
    }) {
        return Err(Error::InvalidJson {
            expected: "UpdateNameJson",
        });
    }
    let p = call
        .shared
        .store
        .passwords
        .update_profile(
            &user.user_id,
            true,
            Box::new(move |p| {
                p.firstname = req.firstname.clone();
                p.lastname = req.lastname.clone();
                Ok(())
            }),
            call.now,
        )
        .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &p, call, true) }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetAttribute {
    attribute_key: String,
    attribute_text: String,
}

/// `PUT /api/users/me/attributes`: creates or replaces one attribute.
pub(crate) async fn set_attribute(
    call: &Call<'_>,
    who: &Principal,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let (user, _) = me(call, who).await?;
    let req: SetAttribute = body.json("AttributeJson")?;
    if !is_valid_id(&req.attribute_key) || req.attribute_text.len() > MAX_ATTRIBUTE_VALUE {
        return Err(Error::InvalidAttribute);
    }
    let p = call
        .shared
        .store
        .passwords
        .update_profile(
            &user.user_id,
            true,
            Box::new(move |p| {
                if !p.attributes.contains_key(&req.attribute_key)
                    && p.attributes.len() >= MAX_ATTRIBUTES
                {
                    return Err(LocalError::Refused("too many attributes"));
                }
                p.attributes
                    .insert(req.attribute_key.clone(), req.attribute_text.clone());
                Ok(())
            }),
            call.now,
        )
        .await
        .map_err(|e| match e {
            LocalError::Refused(_) => Error::InvalidAttribute,
            other => Error::from(other),
        })?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &p, call, true) }),
    ))
}

/// `GET /api/users/me/attributes`: the attributes object itself.
pub(crate) async fn list_attributes(
    call: &Call<'_>,
    who: &Principal,
) -> Result<Response<Body>, Error> {
    let (_, p) = me(call, who).await?;
    Ok(crate::http::render::json(StatusCode::OK, &p.attributes))
}

/// `DELETE /api/users/me/attributes/{key}`
pub(crate) async fn delete_attribute(
    call: &Call<'_>,
    who: &Principal,
    key: String,
) -> Result<Response<Body>, Error> {
    let (user, _) = me(call, who).await?;
    let p = call
        .shared
        .store
        .passwords
        .update_profile(
            &user.user_id,
            true,
            Box::new(move |p| {
                p.attributes
                    .remove(&key)
                    .map(drop)
                    .ok_or(LocalError::Refused("no such attribute"))
            }),
            call.now,
        )
        .await
        .map_err(|e| match e {
            LocalError::Refused(_) => Error::AttributeNotFound,
            other => Error::from(other),
        })?;
    Ok(success(
        StatusCode::OK,
        json!({ "user": user_json(&user, &p, call, true) }),
    ))
}
