//! The route view check: a forwarded route with `account_path` and `require_permission` lets
//! a caller through only with a view, on the account the path names, that has the permission.

use crate::auth::Principal;
use crate::error::Error;
use crate::obp::views::{is_custom_id, system_view};
use crate::store::model::is_valid_id;

/// The route view check: the caller's view, on the account the path names, that has the
/// route's permission (system views in [`crate::obp::views::SYSTEM_VIEW_IDS`] order first, then
/// custom views by id).
pub(crate) async fn view_for_route(
    store: &dyn crate::store::AccessStore,
    check: &crate::config::ViewCheck,
    path: &str,
    who: &Principal,
) -> Result<String, Error> {
    let (bank, account) = check
        .account_of(path)
        .filter(|(b, a)| is_valid_id(b) && is_valid_id(a))
        .ok_or(Error::NotFound)?;
    let mut held = store.views_held(&who.user.user_id, bank, account).await?;
    held.sort_by_key(|id| {
        (
            crate::obp::views::SYSTEM_VIEW_IDS
                .iter()
                .position(|s| s == id)
                .unwrap_or(usize::MAX),
            id.clone(),
        )
    });
    for id in held {
        let view = if is_custom_id(&id) {
            store.custom_view(bank, account, &id).await?
        } else {
            system_view(&id).cloned()
        };
        if view.is_some_and(|v| v.permissions.has(&check.permission)) {
            return Ok(id);
        }
    }
    Err(Error::MissingPermission(check.permission.clone()))
}
