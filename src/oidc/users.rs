//! The users API for service clients (seed 000): `POST /users`, `GET /users/{userId}`,
//! `GET /users`, `DELETE /users/{userId}`.
//!
//! Every call needs a client-credentials token (from `POST /oidc/token`) with the call's scope
//! (`user:create`, `user:read`, `user:delete`; 403 without it), and sees only the calling
//! client's users: another client's user is 404, as if it did not exist.

use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::auth::issuer::USE_CLIENT;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::state::call::Call;
use crate::store::error::ClientStoreError;
use crate::store::model::ClientUser;

/// Largest page of `GET /users`.
const MAX_LIMIT: usize = 1000;

/// The calling client and its token's scopes.
struct Caller {
    client_id: String,
    client_name: String,
    scopes: Vec<String>,
}

fn caller(call: &Call<'_>, who: &Principal) -> Result<Caller, Error> {
    let claims = who
        .bearer
        .as_ref()
        .filter(|c| c.own && c.token_use() == Some(USE_CLIENT))
        .ok_or(Error::ClientTokenRequired)?;
    let client_id = claims.str("client_id").unwrap_or_default();
    if claims.str("sub") != Some(client_id) {
        return Err(Error::ClientTokenRequired);
    }
    let client = call
        .policy
        .clients
        .get(client_id)
        .ok_or(Error::ClientTokenRequired)?;
    let scopes = claims
        .str("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Caller {
        client_id: client.client_id.clone(),
        client_name: client.name.clone(),
        scopes,
    })
}

impl Caller {
    fn require(&self, scope: &'static str) -> Result<(), Error> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(Error::InsufficientScope(scope))
        }
    }
}

/// How a client-store refusal answers in the users API.
impl From<ClientStoreError> for Error {
    fn from(e: ClientStoreError) -> Self {
        match e {
            ClientStoreError::Store(s) => Error::Store(s),
            ClientStoreError::Exists => Error::ClientUserIdTaken,
            ClientStoreError::NotFound => Error::ClientUserNotFound,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    client_user_id: Option<String>,
}

/// `POST /users` (`user:create`): 201 and the new user.
pub(crate) async fn create(
    call: &Call<'_>,
    who: &Principal,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let c = caller(call, who)?;
    c.require("user:create")?;
    let bytes = body.bytes()?;
    let req: NewUser = if bytes.iter().all(u8::is_ascii_whitespace) {
        NewUser::default()
    } else {
        // Nothing to keep: a body that is not the JSON expected is the client's, answered 400.
        serde_json::from_slice(&bytes).map_err(|_| Error::InvalidJson {
            expected: "CreateUserJson",
        })?
    };
    if req
        .client_user_id
        .as_ref()
        .is_some_and(|id| id.is_empty() || id.len() > 256 || id.chars().any(char::is_control))
    {
        return Err(Error::InvalidJson {
            expected: "CreateUserJson",
        });
    }
    let now = crate::clock::rfc3339(call.now);
    let user = ClientUser {
        user_id: uuid::Uuid::new_v4().to_string(),
        client_user_id: req.client_user_id,
        client_id: c.client_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        scopes: c.scopes.clone(),
        managed_by: "client".into(),
        last_accessed: None,
        deleted_at: None,
        user_type: "api".into(),
        client_name: c.client_name.clone(),
        connection_ids: Vec::new(),
    };
    let created = call.shared.store.clients.create_client_user(user).await?;
    Ok(crate::http::render::json(StatusCode::CREATED, &created))
}

/// `GET /users/{userId}` (`user:read`).
pub(crate) async fn get(
    call: &Call<'_>,
    who: &Principal,
    user_id: &str,
) -> Result<Response<Body>, Error> {
    let c = caller(call, who)?;
    c.require("user:read")?;
    let user = call
        .shared
        .store
        .clients
        .client_user(&c.client_id, user_id)
        .await?
        .ok_or(Error::ClientUserNotFound)?;
    Ok(crate::http::render::json(StatusCode::OK, &user))
}

/// `GET /users?limit=&offset=&clientUserId=` (`user:read`): `{data, meta}`; deleted users are
/// left out.
pub(crate) async fn list(call: &Call<'_>, who: &Principal) -> Result<Response<Body>, Error> {
    let query = call.head.uri.query();
    let c = caller(call, who)?;
    c.require("user:read")?;
    let (mut limit, mut offset, mut client_user_id) = (100usize, 0usize, None);
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or(Error::InvalidPaging)?
            }
            // Nothing to keep: the client's query, answered 400.
            "offset" => offset = v.parse().map_err(|_| Error::InvalidPaging)?,
            "clientUserId" => client_user_id = Some(v.into_owned()),
            _ => {}
        }
    }
    let (data, total) = call
        .shared
        .store
        .clients
        .client_users(&c.client_id, client_user_id.as_deref(), offset, limit)
        .await?;
    Ok(crate::http::render::json(
        StatusCode::OK,
        &json!({"data": data, "meta": {"total": total, "limit": limit, "offset": offset}}),
    ))
}

/// `DELETE /users/{userId}` (`user:delete`): a soft delete; the user gets no more tokens.
pub(crate) async fn delete(
    call: &Call<'_>,
    who: &Principal,
    user_id: &str,
) -> Result<Response<Body>, Error> {
    let c = caller(call, who)?;
    c.require("user:delete")?;
    let now = crate::clock::rfc3339(call.now);
    let deleted = call
        .shared
        .store
        .clients
        .update_client_user(
            &c.client_id,
            user_id,
            Box::new(move |u| {
                if u.deleted_at.is_some() {
                    return Err(ClientStoreError::NotFound);
                }
                u.deleted_at = Some(now.clone());
                u.updated_at = now.clone();
                Ok(())
            }),
        )
        .await?;
    Ok(crate::http::render::json(StatusCode::OK, &deleted))
}
