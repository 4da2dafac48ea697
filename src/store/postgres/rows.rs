//! Decoding `users` rows, shared by every table module that reads users (kept apart from
//! `users.rs` so that the modules it uses can decode rows too without an import cycle).

use tokio_postgres::Row;

use crate::store::error::StoreError;
use crate::store::model::{User, UserKind};

/// The column spelling of a user kind.
pub(super) fn kind_name(kind: UserKind) -> &'static str {
    match kind {
        UserKind::Dauth => "dauth",
        UserKind::Local => "local",
        UserKind::External => "external",
    }
}

/// A `users` row (`user_id, kind, provider, username, created_at`).
pub(super) fn user_of(row: &Row) -> Result<User, StoreError> {
    let kind: String = row.try_get(1)?;
    let kind = match kind.as_str() {
        "dauth" => UserKind::Dauth,
        "local" => UserKind::Local,
        _ => UserKind::External,
    };
    Ok(User {
        user_id: row.try_get(0)?,
        kind,
        provider: row.try_get(2)?,
        username: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}
