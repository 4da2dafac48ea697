//! The v5.1.0 account-access endpoints, `POST .../views/{VIEW_ID}/...`: the caller acts
//! through one source view it holds, and only that view's permission counts (OBP-20084..20087).

use http::Response;
use serde::Deserialize;
use serde_json::json;

use super::access::{Ctx, ViewRef, created, known_system_view, require_user};
use super::paths::SourceAction;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::obp::views::is_custom_id;
use crate::store::model::{Authority, Grantee, View, is_valid_id};

#[derive(Deserialize)]
struct SourceUserAccess {
    username: String,
    provider: String,
    view_id: String,
}

#[derive(Deserialize)]
struct SourceAccess {
    user_id: String,
    view_id: String,
}

/// v5.1.0 `POST .../views/{VIEW_ID}/...`: the permission is the source view's alone.
pub(crate) async fn through_source(
    ctx: &Ctx<'_>,
    source_id: &str,
    action: SourceAction,
    body: Payload,
) -> Result<Response<Body>, Error> {
    if !is_valid_id(source_id) {
        return Err(Error::InvalidId);
    }
    let caller = ctx.caller();
    let held = ctx.caller_views().await?;
    let source = held
        .into_iter()
        .find(|v| v.id == source_id)
        .ok_or_else(|| Error::NoViewAccess(source_id.to_owned()))?;
    let by = Authority {
        user_id: caller.clone(),
        view_id: source.id.clone(),
    };
    let store = &ctx.call.shared.store.access;
    match action {
        SourceAction::UserAccountAccess => {
            let req: SourceUserAccess = body.json("PostCreateUserAccountAccessJsonV510")?;
            check_source(&source, &req.view_id, true)?;
            let grantee = ctx.dauth_grantee(&req.username, &req.provider)?;
            let target = ctx.view(&req.view_id, !is_custom_id(&req.view_id)).await?;
            store
                .grant(
                    ctx.bank,
                    ctx.account,
                    grantee,
                    vec![target.id.clone()],
                    Some(by),
                    ctx.limit(),
                    ctx.call.now,
                )
                .await?;
            Ok(created(&target.to_json()))
        }
        SourceAction::Grant => {
            let req: SourceAccess = body.json("PostAccountAccessJsonV510")?;
            check_source(&source, &req.view_id, true)?;
            require_user(ctx, &req.user_id).await?;
            let target = ctx.view(&req.view_id, !is_custom_id(&req.view_id)).await?;
            store
                .grant(
                    ctx.bank,
                    ctx.account,
                    Grantee::User(req.user_id),
                    vec![target.id.clone()],
                    Some(by),
                    ctx.limit(),
                    ctx.call.now,
                )
                .await?;
            Ok(created(&target.to_json()))
        }
        SourceAction::Revoke => {
            let req: SourceAccess = body.json("PostAccountAccessJsonV510")?;
            check_source(&source, &req.view_id, false)?;
            require_user(ctx, &req.user_id).await?;
            let target = ctx.view(&req.view_id, !is_custom_id(&req.view_id)).await?;
            store
                .revoke(ctx.bank, ctx.account, &req.user_id, &target.id, Some(by))
                .await?;
            Ok(created(&json!({"revoked": true})))
        }
    }
}

/// OBP-20084..20087: may the source view grant (or revoke) the target?
fn check_source(source: &View, target: &str, granting: bool) -> Result<(), Error> {
    let custom = is_custom_id(target);
    known_system_view(&ViewRef {
        view_id: target.to_owned(),
        is_system: !custom,
    })?;
    let allowed = if granting {
        source.may_grant_id(target, !custom)
    } else {
        source.may_revoke_id(target, !custom)
    };
    if allowed {
        return Ok(());
    }
    let (source_view, target) = (source.id.clone(), target.to_owned());
    Err(match (granting, custom) {
        (true, false) => Error::SourceCannotGrant {
            source_view,
            target,
        },
        (true, true) => Error::SourceCannotGrantCustom {
            source_view,
            target,
        },
        (false, false) => Error::SourceCannotRevoke {
            source_view,
            target,
        },
        (false, true) => Error::SourceCannotRevokeCustom {
            source_view,
            target,
        },
    })
}
