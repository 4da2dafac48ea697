//! Writing a [`Dump`] into the PostgreSQL store, for `dauth-proxy admin copy-store`: one
//! transaction (all or nothing), each row `ON CONFLICT DO NOTHING`, so a copy interrupted or
//! run twice leaves every record once.

use tokio_postgres::Transaction;

use super::db::{PgStore, to_doc};
use super::rows::kind_name;
use crate::store::ReplayScope;
use crate::store::dump::Dump;
use crate::store::error::StoreError;
use crate::store::replay::scope_key;

async fn users_and_profiles(tx: &Transaction<'_>, d: &Dump) -> Result<(), StoreError> {
    for u in &d.users {
        tx.execute(
            "INSERT INTO users (user_id, kind, provider, username, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &u.user_id,
                &kind_name(u.kind),
                &u.provider,
                &u.username,
                &u.created_at,
            ],
        )
        .await?;
    }
    for (id, p) in &d.profiles {
        let failed = i32::try_from(p.failed_logins).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO profiles (user_id, doc, failed_logins, locked_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[id, &to_doc(p)?, &failed, &p.locked_until],
        )
        .await?;
        let mut names = vec![("email", p.email.to_lowercase())];
        names.extend(p.username.clone().map(|n| ("username", n)));
        for (kind, name) in names {
            tx.execute(
                "INSERT INTO login_names (name_kind, name, user_id) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&kind, &name, id],
            )
            .await?;
        }
    }
    for (digest, user) in &d.codes {
        tx.execute(
            "INSERT INTO codes (digest, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[digest, user],
        )
        .await?;
    }
    for f in &d.refresh {
        tx.execute(
            "INSERT INTO refresh_families (family, user_id, jti, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&f.family, &f.user_id, &f.jti, &f.expires_at],
        )
        .await?;
    }
    Ok(())
}

async fn access(tx: &Transaction<'_>, d: &Dump) -> Result<(), StoreError> {
    for a in &d.accounts {
        tx.execute(
            "INSERT INTO accounts (bank_id, account_id, label, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &a.bank_id,
                &a.account_id,
                &a.label,
                &a.created_by,
                &a.created_at,
            ],
        )
        .await?;
    }
    for (bank, account, v) in &d.views {
        tx.execute(
            "INSERT INTO custom_views (bank_id, account_id, view_id, doc) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[bank, account, &v.id, &to_doc(v)?],
        )
        .await?;
    }
    for (user, bank, account, view) in &d.access {
        tx.execute(
            "INSERT INTO access (bank_id, account_id, user_id, view_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[bank, account, user, view],
        )
        .await?;
    }
    Ok(())
}

async fn clients_and_replay(tx: &Transaction<'_>, d: &Dump) -> Result<(), StoreError> {
    for c in &d.clients {
        tx.execute(
            "INSERT INTO clients (client_id, doc) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&c.client_id, &to_doc(c)?],
        )
        .await?;
    }
    for u in &d.client_users {
        tx.execute(
            "INSERT INTO client_users (client_id, user_id, client_user_id, created_at, doc) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &u.client_id,
                &u.user_id,
                &u.client_user_id,
                &u.created_at,
                &to_doc(u)?,
            ],
        )
        .await?;
    }
    for (scope, id, until) in &d.replay {
        let Some(scope) = window_scope(scope) else {
            continue;
        };
        tx.execute(
            "INSERT INTO dauth_replay (scope, id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[&scope, id, until],
        )
        .await?;
    }
    Ok(())
}

/// A dumped sled scope (`j:<client_id>`, `d:<consumer_key>`, `e:<keyid>`) in the window's
/// spelling ([`scope_key`]); `None` for a tag sled never writes.
fn window_scope(dumped: &str) -> Option<String> {
    let (tag, name) = dumped.split_once(':')?;
    Some(scope_key(match tag {
        "j" => ReplayScope::Assertion { client_id: name },
        "d" => ReplayScope::Dauth { consumer_key: name },
        "e" => ReplayScope::Erc8128 { keyid: name },
        _ => return None,
    }))
}

impl PgStore {
    /// Writes every record of `dump` in one transaction (records already there are kept).
    pub async fn copy_dump(&self, dump: &Dump) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        users_and_profiles(&tx, dump).await?;
        access(&tx, dump).await?;
        clients_and_replay(&tx, dump).await?;
        tx.commit().await?;
        Ok(())
    }
}
