//! Dispatch: each embedded endpoint to its product's handler, with the caller its kind
//! guarantees ([`super::endpoints`]) and its body read whole. The method has been checked; only
//! endpoints that answer two methods look at it again, to pick the handler.

use http::{Method, Response, StatusCode};

use super::endpoints::{Authenticated, Open, Optional};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::http::render::{json, text};
use crate::obp;
use crate::oidc;
use crate::people;
use crate::people::paths::{Mine, Public};
use crate::state::call::Call;
use crate::wallets;

/// An endpoint anyone may call.
pub(super) async fn open(
    call: &Call<'_>,
    op: Open,
    body: Payload,
) -> Result<Response<Body>, Error> {
    match op {
        Open::Health => Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"}))),
        Open::ApiDocument => Ok(crate::openapi::document()),
        Open::People(p) => match p {
            Public::Register => people::register::register(call, body).await,
            Public::Confirm => people::register::confirm(call, body).await,
            Public::Login => people::login::login(call, body).await,
            Public::Refresh => people::register::refresh(call, body).await,
            Public::ResetRequest => people::reset::reset_request(call, body).await,
            Public::ResetConfirm => people::reset::reset_confirm(call, body).await,
            Public::Health => Ok(text(StatusCode::OK, "all good")),
            Public::Jwks => people::register::jwks(call),
        },
        Open::Token => oidc::token::token(call, body).await,
        Open::Discovery => oidc::token::discovery(call),
        Open::SiweNonce => wallets::siwe::nonce(call, body).await,
        Open::SiweLogin => wallets::siwe::login(call, body).await,
    }
}

/// An endpoint that takes a caller when there is one.
pub(super) async fn optional(
    call: &Call<'_>,
    op: Optional,
    who: Option<&Principal>,
    body: Payload,
) -> Result<Response<Body>, Error> {
    match op {
        Optional::Sync => people::sync::sync(call, who, body).await,
    }
}

/// An endpoint for an authenticated caller, `who`.
pub(super) async fn authenticated(
    call: &Call<'_>,
    op: Authenticated,
    who: &Principal,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let method = &call.head.method;
    match op {
        Authenticated::CurrentUser => obp::users::current_user(call, who).await,
        Authenticated::Account(path) => obp::accounts::serve(call, path, who, body).await,
        Authenticated::Mine(m) => match m {
            Mine::Me if method == Method::PATCH => {
                people::profile::update_names(call, who, body).await
            }
            Mine::Me => people::profile::current(call, who).await,
            Mine::Profile => people::profile::profile(call, who).await,
            Mine::Attributes if method == Method::PUT => {
                people::profile::set_attribute(call, who, body).await
            }
            Mine::Attributes => people::profile::list_attributes(call, who).await,
            Mine::Attribute(key) => people::profile::delete_attribute(call, who, key).await,
        },
        Authenticated::ClientUsers if method == Method::POST => {
            oidc::users::create(call, who, body).await
        }
        Authenticated::ClientUsers => oidc::users::list(call, who).await,
        Authenticated::ClientUser(id) if method == Method::DELETE => {
            oidc::users::delete(call, who, &id).await
        }
        Authenticated::ClientUser(id) => oidc::users::get(call, who, &id).await,
    }
}
