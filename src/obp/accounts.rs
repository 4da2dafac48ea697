//! OBP account endpoints: create an account, list and create its views, and dispatch the
//! account-access endpoints ([`super::access`]).
//!
//! Every handler here runs for an authenticated caller and checks, in OBP's order: ids, bank,
//! account, body, permission, then acts.

use http::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::access;
use super::paths::{AccountOp, AccountPath};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::obp::views::{self, Allowance, is_custom_id, system_view};
use crate::state::call::Call;
use crate::store::AccessStore;
use crate::store::error::AccessError;
use crate::store::model::{Account, Authority};
use crate::store::model::{OWNER, Permissions, View, is_valid_id};

/// Dispatches an account path.
pub(crate) async fn serve(
    call: &Call<'_>,
    path: AccountPath,
    who: &Principal,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let method = &call.head.method;
    let AccountPath { bank, account, op } = path;
    if !is_valid_id(&bank) || !is_valid_id(&account) {
        return Err(Error::InvalidId);
    }
    let store = &*call.shared.store.access;
    if op == AccountOp::Create {
        return create_account(call, store, &bank, &account, body, who).await;
    }
    require_account(store, &bank, &account).await?;
    let ctx = access::Ctx {
        call,
        bank: &bank,
        account: &account,
        who,
    };
    match op {
        AccountOp::Create => Err(Error::NotFound),
        AccountOp::Views if method == Method::POST => create_view(&ctx, body).await,
        AccountOp::Views => list_views(&ctx).await,
        AccountOp::UserAccountAccess => access::user_account_access(&ctx, body).await,
        AccountOp::Grant => access::grant(&ctx, body).await,
        AccountOp::Revoke => access::revoke(&ctx, body).await,
        AccountOp::ReplaceOwnViews => access::replace_own_views(&ctx, body).await,
        AccountOp::Source { view, action } => {
            super::source::through_source(&ctx, &view, action, body).await
        }
    }
}

/// The account, or OBP's 404: bank not found when the bank has no account at all.
pub(crate) async fn require_account(
    store: &dyn AccessStore,
    bank: &str,
    account: &str,
) -> Result<Account, Error> {
    match store.account(bank, account).await? {
        Some(a) => Ok(a),
        None if store.bank_exists(bank).await? => Err(Error::AccountNotFound),
        None => Err(Error::BankNotFound),
    }
}

#[derive(Deserialize)]
struct CreateAccountBody {
    #[serde(default)]
    label: String,
}

async fn create_account(
    call: &Call<'_>,
    store: &dyn AccessStore,
    bank: &str,
    account: &str,
    body: Payload,
    who: &Principal,
) -> Result<Response<Body>, Error> {
    let req: CreateAccountBody = body.json("CreateAccountRequestJsonV310")?;
    if req.label.len() > 255 || req.label.chars().any(char::is_control) {
        return Err(Error::InvalidJson {
            expected: "CreateAccountRequestJsonV310",
        });
    }
    let created = store
        .create_account(bank, account, &req.label, &who.user.user_id, call.now)
        .await
        .map_err(|e| match e {
            AccessError::AccountExists => Error::AccountExists,
            other => Error::from(other),
        })?;
    Ok(crate::http::render::json(
        StatusCode::CREATED,
        &json!({
            "account_id": created.account_id,
            "bank_id": created.bank_id,
            "user_id": created.created_by,
            "label": created.label,
            "product_code": "",
            "balance": {"currency": "", "amount": "0"},
            "branch_id": "",
            "account_routings": [],
            "account_attributes": [],
            "views": [OWNER],
        }),
    ))
}

async fn list_views(ctx: &access::Ctx<'_>) -> Result<Response<Body>, Error> {
    let held = ctx.caller_views().await?;
    let needed = "can_see_available_views_for_bank_account";
    if !Allowance::of(&held).permissions.has(needed) {
        return Err(Error::MissingPermission(needed.into()));
    }
    let mut list: Vec<serde_json::Value> = views::SYSTEM_VIEW_IDS
        .iter()
        .filter_map(|id| system_view(id))
        .map(View::to_json)
        .collect();
    list.extend(
        ctx.call
            .shared
            .store
            .access
            .custom_views(ctx.bank, ctx.account)
            .await?
            .iter()
            .map(View::to_json),
    );
    Ok(crate::http::render::json(
        StatusCode::OK,
        &json!({ "views": list }),
    ))
}

/// OBP's `CreateViewJson` (v3.0.0+), with v5's grant and revoke lists.
#[derive(Deserialize)]
struct CreateViewBody {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    metadata_view: String,
    #[serde(default)]
    is_public: bool,
    #[serde(default)]
    which_alias_to_use: String,
    #[serde(default)]
    hide_metadata_if_alias_used: bool,
    #[serde(default, alias = "allowed_permissions")]
    allowed_actions: Vec<String>,
    #[serde(default)]
    can_grant_access_to_views: Vec<String>,
    #[serde(default)]
    can_revoke_access_to_views: Vec<String>,
}

async fn create_view(ctx: &access::Ctx<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let held = ctx.caller_views().await?;
    let Some(authorising) = held
        .iter()
        .find(|v| v.permissions.has("can_create_custom_view"))
    else {
        return Err(Error::CannotCreateView);
    };
    let req: CreateViewBody = body.json("CreateViewJson")?;
    let view = define_view(req)?;
    if !Allowance::of(&held).covers(&view) {
        return Err(Error::ViewExceedsCreator);
    }
    let by = Authority {
        user_id: ctx.who.user.user_id.clone(),
        view_id: authorising.id.clone(),
    };
    let stored = ctx
        .call
        .shared
        .store
        .access
        .create_custom_view(ctx.bank, ctx.account, view, by)
        .await
        .map_err(|e| match e {
            AccessError::ViewExists => Error::ViewExists,
            AccessError::AuthorityGone => Error::CannotCreateView,
            other => Error::from(other),
        })?;
    Ok(crate::http::render::json(
        StatusCode::CREATED,
        &stored.to_json(),
    ))
}

fn define_view(req: CreateViewBody) -> Result<View, Error> {
    let invalid = |why: &str| Error::InvalidView(why.to_owned());
    if !is_custom_id(&req.name) || !is_valid_id(&req.name) {
        return Err(invalid(
            "name must start with _ and be 2 to 128 of A-Z a-z 0-9 . _ -",
        ));
    }
    if req.name.len() < 2 {
        return Err(invalid(
            "name must start with _ and be 2 to 128 of A-Z a-z 0-9 . _ -",
        ));
    }
    if req.description.len() > 2000 || req.metadata_view.len() > 128 {
        return Err(invalid(
            "description is at most 2000 bytes, metadata_view at most 128",
        ));
    }
    if !["", "public", "private"].contains(&req.which_alias_to_use.as_str()) {
        return Err(invalid(
            "which_alias_to_use is \"\", \"public\" or \"private\"",
        ));
    }
    let permissions = Permissions::from_names(&req.allowed_actions)
        .map_err(|bad| Error::InvalidView(format!("unknown permission {bad}")))?;
    for v in req
        .can_grant_access_to_views
        .iter()
        .chain(&req.can_revoke_access_to_views)
    {
        if system_view(v).is_none() {
            return Err(Error::InvalidView(format!("{v} is not a system view")));
        }
    }
    let metadata_view = if req.metadata_view.is_empty() {
        req.name.clone()
    } else {
        req.metadata_view
    };
    Ok(View {
        short_name: req.name.clone(),
        id: req.name,
        is_system: false,
        description: req.description,
        metadata_view,
        is_public: req.is_public,
        alias: req.which_alias_to_use,
        hide_metadata_if_alias_used: req.hide_metadata_if_alias_used,
        permissions,
        can_grant_access_to_views: req.can_grant_access_to_views,
        can_revoke_access_to_views: req.can_revoke_access_to_views,
    })
}
