//! OBP views: what a view permits, the system views, and who may grant or revoke which view.
//!
//! Pure domain logic, no I/O: the store keeps custom views and access rows (the [`View`] record
//! and its [`Permissions`] are [`crate::store::model`]'s), the handlers decide which rule to
//! apply. A view is a set of `can_*` permissions plus two lists naming the system views its
//! holder may grant and revoke.
//!
//! System views follow OBP's definitions (`SYSTEM_VIEW_PERMISSION_COMMON` and
//! `SYSTEM_OWNER_VIEW_PERMISSION_ADMIN`): `accountant` and `auditor` have the common set;
//! `standard` adds the admin set and may grant and revoke every system view, as in OBP; `owner`
//! has all of that and also manages custom views (create, grant, revoke).

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::permissions::{ADMIN, COMMON, MANAGE_CUSTOM_VIEWS};
use crate::store::model::permissions::ALL;
use crate::store::model::{Permissions, View};

/// The system views this gateway defines, in the order they are preferred when several grant a
/// permission.
pub(crate) const SYSTEM_VIEW_IDS: [&str; 4] = ["owner", "accountant", "auditor", "standard"];

static SYSTEM_VIEWS: LazyLock<Vec<View>> = LazyLock::new(|| {
    let all_system: Vec<String> = SYSTEM_VIEW_IDS.iter().map(|s| (*s).to_owned()).collect();
    SYSTEM_VIEW_IDS
        .iter()
        .map(|&id| {
            let (perms, lists) = match id {
                "owner" => (Permissions::of(&[COMMON, ADMIN, MANAGE_CUSTOM_VIEWS]), true),
                "standard" => (Permissions::of(&[COMMON, ADMIN]), true),
                _ => (Permissions::of(&[COMMON]), false),
            };
            let list = if lists {
                all_system.clone()
            } else {
                Vec::new()
            };
            View {
                id: id.to_owned(),
                is_system: true,
                short_name: capitalise(id),
                description: id.to_owned(),
                metadata_view: id.to_owned(),
                is_public: false,
                alias: String::new(),
                hide_metadata_if_alias_used: false,
                permissions: perms,
                can_grant_access_to_views: list.clone(),
                can_revoke_access_to_views: list,
            }
        })
        .collect()
});

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The system view `id`, if there is one.
pub(crate) fn system_view(id: &str) -> Option<&'static View> {
    SYSTEM_VIEWS.iter().find(|v| v.id == id)
}

/// Whether `id` names a custom view (OBP: custom view ids start with `_`).
pub(crate) fn is_custom_id(id: &str) -> bool {
    id.starts_with('_')
}

impl View {
    /// May a holder of this view grant `target`?
    pub fn may_grant(&self, target: &View) -> bool {
        self.may_grant_id(&target.id, target.is_system)
    }

    /// May a holder of this view revoke `target`?
    pub fn may_revoke(&self, target: &View) -> bool {
        self.may_revoke_id(&target.id, target.is_system)
    }

    /// May a holder grant the view `id` (a system view when `is_system`)? Only the id and the
    /// kind matter, so this can be asked before the target is looked up, as OBP does.
    pub fn may_grant_id(&self, id: &str, is_system: bool) -> bool {
        if is_system {
            self.can_grant_access_to_views.iter().any(|v| v == id)
        } else {
            self.permissions.has("can_grant_access_to_custom_views")
        }
    }

    /// May a holder revoke the view `id` (a system view when `is_system`)?
    pub fn may_revoke_id(&self, id: &str, is_system: bool) -> bool {
        if is_system {
            self.can_revoke_access_to_views.iter().any(|v| v == id)
        } else {
            self.permissions.has("can_revoke_access_to_custom_views")
        }
    }

    /// OBP's `ViewJsonV300`, with every `can_*` flag, plus the grant and revoke lists.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), self.id.clone().into());
        m.insert("short_name".into(), self.short_name.clone().into());
        m.insert("description".into(), self.description.clone().into());
        m.insert("metadata_view".into(), self.metadata_view.clone().into());
        m.insert("is_public".into(), self.is_public.into());
        m.insert("is_system".into(), self.is_system.into());
        m.insert("is_firehose".into(), false.into());
        m.insert("alias".into(), self.alias.clone().into());
        m.insert(
            "hide_metadata_if_alias_used".into(),
            self.hide_metadata_if_alias_used.into(),
        );
        for name in ALL {
            m.insert(name.into(), self.permissions.has(name).into());
        }
        m.insert(
            "can_grant_access_to_views".into(),
            self.can_grant_access_to_views.clone().into(),
        );
        m.insert(
            "can_revoke_access_to_views".into(),
            self.can_revoke_access_to_views.clone().into(),
        );
        Value::Object(m)
    }
}

/// What a set of views allows together: the union of permissions and of the two lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Allowance {
    /// Union of permissions.
    pub permissions: Permissions,
    /// Union of grantable system views.
    pub grant: Vec<String>,
    /// Union of revocable system views.
    pub revoke: Vec<String>,
}

impl Allowance {
    /// The combined allowance of `views`.
    pub(crate) fn of<'a>(views: impl IntoIterator<Item = &'a View>) -> Self {
        let mut a = Self::default();
        for v in views {
            a.permissions = a.permissions.union(v.permissions);
            a.grant.extend(v.can_grant_access_to_views.iter().cloned());
            a.revoke
                .extend(v.can_revoke_access_to_views.iter().cloned());
        }
        a
    }

    /// Whether a view defined as `view` gives nothing beyond this allowance.
    pub(crate) fn covers(&self, view: &View) -> bool {
        view.permissions.is_subset_of(self.permissions)
            && view
                .can_grant_access_to_views
                .iter()
                .all(|v| self.grant.contains(v))
            && view
                .can_revoke_access_to_views
                .iter()
                .all(|v| self.revoke.contains(v))
    }
}

#[cfg(test)]
mod tests;
