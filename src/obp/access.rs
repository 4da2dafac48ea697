//! OBP account-access endpoints: create a DAuth user with access, grant, revoke, and replace the
//! caller's own views (v4.0.0); the v5.1.0 forms that act through one source view are
//! [`super::source`].
//!
//! OBP's rules and codes, with its bugs corrected: a caller who lacks the permission on every
//! view gets 403 (OBP answers 400 for OBP-20047), revoke failures say OBP-20048 (OBP reuses the
//! grant text), `user-account-access` creates no user when the request is refused (OBP creates
//! it first), an unknown view in `PUT .../account-access` is OBP-30252/30005 (not OBP-50005),
//! and the `owner` view cannot be revoked from an account's last holder.

use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::auth::address::{canonical_network, is_valid_network, normalize_address};
use crate::error::{AddressClaim, Error};
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::obp::views::{is_custom_id, system_view};
use crate::state::call::Call;
use crate::store::error::AccessError;
use crate::store::model::{Authority, Grantee};
use crate::store::model::{View, is_valid_id};

/// The account a request acts on, and who asks.
pub(crate) struct Ctx<'a> {
    /// Shared state.
    pub call: &'a Call<'a>,
    /// `BANK_ID`.
    pub bank: &'a str,
    /// `ACCOUNT_ID`.
    pub account: &'a str,
    /// The caller.
    pub who: &'a Principal,
}

impl Ctx<'_> {
    /// The views the caller holds on the account, resolved.
    pub(crate) async fn caller_views(&self) -> Result<Vec<View>, Error> {
        let ids = self
            .call
            .shared
            .store
            .access
            .views_held(&self.who.user.user_id, self.bank, self.account)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Ok(v) = self.view(&id, !is_custom_id(&id)).await {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// A view of this account: a system view, or one of its custom views.
    pub(super) async fn view(&self, id: &str, is_system: bool) -> Result<View, Error> {
        if is_system {
            return system_view(id)
                .cloned()
                .ok_or_else(|| Error::SystemViewNotFound(id.to_owned()));
        }
        if !is_valid_id(id) {
            return Err(Error::ViewNotFound(id.to_owned()));
        }
        self.call
            .shared
            .store
            .access
            .custom_view(self.bank, self.account, id)
            .await?
            .ok_or_else(|| Error::ViewNotFound(id.to_owned()))
    }

    pub(super) fn caller(&self) -> String {
        self.who.user.user_id.clone()
    }

    pub(super) fn limit(&self) -> u64 {
        self.call.policy.config.obp.max_access_rows
    }

    /// The DAuth grantee for a (username, provider) pair, normalised as the DAuth core does.
    pub(super) fn dauth_grantee(&self, username: &str, provider: &str) -> Result<Grantee, Error> {
        let network = match provider.get(..6) {
            Some(tag) if tag.eq_ignore_ascii_case("dauth.") => &provider[6..],
            _ => provider,
        };
        if !is_valid_network(network) {
            return Err(Error::InvalidProvider);
        }
        let network = canonical_network(network);
        let allowed = &self.call.policy.config.dauth.networks;
        if !allowed.is_empty() && !allowed.contains(&network) {
            return Err(Error::InvalidProvider);
        }
        let strict = self.call.policy.config.dauth.strict_addresses;
        let address = normalize_address(username, strict, AddressClaim::Contract)
            // Nothing to keep: the client's username, answered with its own code.
            .map_err(|_| Error::InvalidUsername)?;
        Ok(Grantee::Dauth { network, address })
    }
}

/// How an access refusal answers, unless an endpoint says otherwise (OBP's codes).
impl From<AccessError> for Error {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Store(s) => Error::Store(s),
            AccessError::AccountMissing => Error::AccountNotFound,
            AccessError::AccountExists => Error::AccountExists,
            AccessError::ViewExists => Error::ViewExists,
            AccessError::UserMissing => Error::UserNotFoundById(String::new()),
            AccessError::NoSuchAccess(view) => Error::CannotRevoke {
                view,
                missing: true,
            },
            AccessError::LastOwner => Error::CannotRevoke {
                view: crate::store::model::OWNER.into(),
                missing: false,
            },
            AccessError::RowLimit(view) => Error::CannotGrant(view),
            AccessError::AuthorityGone => Error::AccessChanged,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ViewRef {
    pub(super) view_id: String,
    #[serde(default = "yes")]
    pub(super) is_system: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct CreateUserAccess {
    username: String,
    provider: String,
    views: Vec<ViewRef>,
}

/// Which of the caller's views grants the first target, if the caller's views together may
/// grant every target (OBP checks across all of the caller's views).
fn grant_authority(held: &[View], targets: &[ViewRef], caller: &str) -> Result<String, Error> {
    targets.iter().try_for_each(known_system_view)?;
    let may = |v: &View, t: &ViewRef| v.may_grant_id(&t.view_id, t.is_system);
    let all = targets.iter().all(|t| held.iter().any(|v| may(v, t)));
    match (
        all,
        targets
            .first()
            .and_then(|t| held.iter().find(|v| may(v, t))),
    ) {
        (true, Some(v)) => Ok(v.id.clone()),
        _ => Err(Error::LacksGrant {
            views: targets.iter().map(|t| t.view_id.as_str()).collect(),
            user_id: caller.to_owned(),
        }),
    }
}

fn revoke_authority(held: &[View], target: &ViewRef, caller: &str) -> Result<String, Error> {
    known_system_view(target)?;
    held.iter()
        .find(|v| v.may_revoke_id(&target.view_id, target.is_system))
        .map(|v| v.id.clone())
        .ok_or_else(|| Error::LacksRevoke {
            views: target.view_id.clone(),
            user_id: caller.to_owned(),
        })
}

pub(super) fn created(value: &Value) -> Response<Body> {
    crate::http::render::json(StatusCode::CREATED, value)
}

/// v4 `POST .../user-account-access`: get-or-create a DAuth user and grant it views.
pub(crate) async fn user_account_access(
    ctx: &Ctx<'_>,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let req: CreateUserAccess = body.json("PostCreateUserAccountAccessJsonV400")?;
    let grantee = ctx.dauth_grantee(&req.username, &req.provider)?;
    let caller = ctx.caller();
    let authority = grant_authority(&ctx.caller_views().await?, &req.views, &caller)?;
    let mut targets = Vec::with_capacity(req.views.len());
    for t in &req.views {
        targets.push(ctx.view(&t.view_id, t.is_system).await?);
    }
    let ids = targets.iter().map(|v| v.id.clone()).collect();
    let by = Authority {
        user_id: caller.clone(),
        view_id: authority,
    };
    ctx.call
        .shared
        .store
        .access
        .grant(
            ctx.bank,
            ctx.account,
            grantee,
            ids,
            Some(by),
            ctx.limit(),
            ctx.call.now,
        )
        .await?;
    Ok(created(&Value::Array(
        targets.iter().map(View::to_json).collect(),
    )))
}

#[derive(Deserialize)]
struct AccountAccess {
    user_id: String,
    view: ViewRef,
}

/// v4 `POST .../account-access/grant`.
pub(crate) async fn grant(ctx: &Ctx<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let req: AccountAccess = body.json("PostAccountAccessJsonV400")?;
    let caller = ctx.caller();
    let authority = grant_authority(
        &ctx.caller_views().await?,
        std::slice::from_ref(&req.view),
        &caller,
    )?;
    require_user(ctx, &req.user_id).await?;
    let target = ctx.view(&req.view.view_id, req.view.is_system).await?;
    let by = Authority {
        user_id: caller.clone(),
        view_id: authority,
    };
    let to = Grantee::User(req.user_id.clone());
    ctx.call
        .shared
        .store
        .access
        .grant(
            ctx.bank,
            ctx.account,
            to,
            vec![target.id.clone()],
            Some(by),
            ctx.limit(),
            ctx.call.now,
        )
        .await?;
    Ok(created(&target.to_json()))
}

/// v4 `POST .../account-access/revoke`.
pub(crate) async fn revoke(ctx: &Ctx<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let req: AccountAccess = body.json("PostAccountAccessJsonV400")?;
    let caller = ctx.caller();
    let authority = revoke_authority(&ctx.caller_views().await?, &req.view, &caller)?;
    require_user(ctx, &req.user_id).await?;
    let target = ctx.view(&req.view.view_id, req.view.is_system).await?;
    let by = Authority {
        user_id: caller.clone(),
        view_id: authority,
    };
    ctx.call
        .shared
        .store
        .access
        .revoke(ctx.bank, ctx.account, &req.user_id, &target.id, Some(by))
        .await?;
    Ok(created(&json!({"revoked": true})))
}

#[derive(Deserialize)]
struct ReplaceViews {
    views: Vec<String>,
}

/// v4 `PUT .../account-access`: the caller's views on the account become exactly `views`.
pub(crate) async fn replace_own_views(
    ctx: &Ctx<'_>,
    body: Payload,
) -> Result<Response<Body>, Error> {
    let req: ReplaceViews = body.json("PostRevokeGrantAccountAccessJsonV400")?;
    let caller = ctx.caller();
    let held = ctx.caller_views().await?;
    if let Some(v) = held.iter().find(|v| !held.iter().any(|h| h.may_revoke(v))) {
        return Err(Error::LacksRevoke {
            views: v.id.clone(),
            user_id: caller,
        });
    }
    let refs: Vec<ViewRef> = req
        .views
        .iter()
        .map(|id| ViewRef {
            view_id: id.clone(),
            is_system: !is_custom_id(id),
        })
        .collect();
    grant_authority(&held, &refs, &caller)?;
    let mut targets = Vec::with_capacity(refs.len());
    for t in &refs {
        targets.push(ctx.view(&t.view_id, t.is_system).await?);
    }
    let ids = targets.into_iter().map(|v| v.id).collect();
    ctx.call
        .shared
        .store
        .access
        .replace_views(ctx.bank, ctx.account, &caller, ids, ctx.limit())
        .await?;
    Ok(created(&json!({"revoked": true})))
}

/// System view ids are public, so an unknown one is reported before permissions are weighed
/// (OBP-30252); custom view ids are the account's business and are looked up only after.
pub(super) fn known_system_view(target: &ViewRef) -> Result<(), Error> {
    if target.is_system && system_view(&target.view_id).is_none() {
        return Err(Error::SystemViewNotFound(target.view_id.clone()));
    }
    Ok(())
}

pub(super) async fn require_user(ctx: &Ctx<'_>, user_id: &str) -> Result<(), Error> {
    match ctx.call.shared.store.users.user_by_id(user_id).await? {
        Some(_) => Ok(()),
        None => Err(Error::UserNotFoundById(user_id.to_owned())),
    }
}
