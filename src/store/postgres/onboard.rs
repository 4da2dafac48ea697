//! The DAuth get-or-create of users that arrive together, as one group
//! ([`crate::store::batch`]): the measured rule of `users`, `SELECT` -> `INSERT ... ON
//! CONFLICT DO NOTHING RETURNING` -> `SELECT` of what the insert did not return, each step one
//! statement over arrays (`unnest`) for the whole group, so a burst of new contracts costs one
//! commit, not one per user.
//!
//! Each step is its own statement (and, outside a transaction, its own snapshot), as in the
//! single call: the last `SELECT` sees a row another writer committed while this group's
//! insert waited for it. A (network, address) given twice in a group is one row, answered to
//! both; rows are inserted in key order, so two groups never wait on each other's rows in
//! opposite orders. A user still missing after the three steps (removed between them) is
//! `None`, which the caller answers as [`StoreError::Dangling`].

use deadpool_postgres::Pool;

use super::rows::user_of;
use crate::store::error::StoreError;
use crate::store::model::User;

/// Groups running at once, at most (each holds one pooled connection while it runs). Two, not
/// more: on the benchmark's two cores, 4 lanes made smaller groups and cost the database more
/// per id (GP: 6,400 new users/s with 4 lanes, 8,300 with 2).
pub(super) const LANES: usize = 2;
/// Users in one group, at most.
pub(super) const GROUP: usize = 256;

/// One index lookup per key: the `LIMIT` keeps the lateral subquery from being flattened into
/// a join, whose plan, made once per connection while the table was still small, scanned
/// every DAuth user for each group (measured: the database's CPU doubled on a growing table).
const SELECT_MANY: &str = "SELECT u.user_id, u.kind, u.provider, u.username, u.created_at \
     FROM unnest($1::text[], $2::text[]) AS k(p, n) CROSS JOIN LATERAL \
     (SELECT user_id, kind, provider, username, created_at FROM users \
      WHERE kind = 'dauth' AND provider = k.p AND username = k.n LIMIT 1) u";
const INSERT_MANY: &str = "INSERT INTO users (user_id, kind, provider, username, created_at) \
     SELECT u, 'dauth', p, n, c FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) \
     AS t(u, p, n, c) \
     ON CONFLICT (provider, username) WHERE kind = 'dauth' DO NOTHING \
     RETURNING user_id, kind, provider, username, created_at";

/// One wanted user: (network, address), and the creation date if it is new.
pub(super) struct Wanted {
    pub(super) network: String,
    pub(super) address: String,
    pub(super) now: i64,
}

/// Gets or creates every wanted user of one group; one answer per wanted, in order.
pub(super) async fn group(
    pool: &Pool,
    wanted: Vec<Wanted>,
) -> Result<Vec<Option<User>>, StoreError> {
    // Each distinct key once, in key order, with the earliest `now` that wants it (sorted by
    // key, then date, the first of each key is kept); `users` holds the answer of each key
    // (same index) as the steps find it.
    let mut keys: Vec<(Key<'_>, i64)> = wanted
        .iter()
        .map(|w| ((w.network.as_str(), w.address.as_str()), w.now))
        .collect();
    keys.sort_unstable();
    keys.dedup_by(|later, first| later.0 == first.0);
    let slot = |key: Key<'_>| keys.binary_search_by(|(k, _)| k.cmp(&key)).ok();
    let mut users: Vec<Option<User>> = vec![None; keys.len()];
    let c = pool.get().await?;
    let select = c.prepare_cached(SELECT_MANY).await?;
    let [networks, addresses] = split(keys.iter().map(|(k, _)| *k));
    fill(
        slot,
        &mut users,
        c.query(&select, &[&networks, &addresses]).await?,
    )?;
    let missing: Vec<(Key<'_>, i64)> = unanswered(&keys, &users);
    if !missing.is_empty() {
        let ids: Vec<String> = missing
            .iter()
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        let dated: Vec<i64> = missing.iter().map(|(_, now)| *now).collect();
        let [networks, addresses] = split(missing.iter().map(|(k, _)| *k));
        let insert = c.prepare_cached(INSERT_MANY).await?;
        let rows = c
            .query(&insert, &[&ids, &networks, &addresses, &dated])
            .await?;
        fill(slot, &mut users, rows)?;
        let lost = unanswered(&keys, &users);
        if !lost.is_empty() {
            let [networks, addresses] = split(lost.iter().map(|(k, _)| *k));
            fill(
                slot,
                &mut users,
                c.query(&select, &[&networks, &addresses]).await?,
            )?;
        }
    }
    Ok(wanted
        .iter()
        .map(|w| {
            slot((w.network.as_str(), w.address.as_str()))
                .and_then(|i| users.get(i).cloned().flatten())
        })
        .collect())
}

/// A wanted user's key: (network, address).
type Key<'a> = (&'a str, &'a str);

/// The keys (with their dates) not answered yet.
fn unanswered<'a>(keys: &[(Key<'a>, i64)], users: &[Option<User>]) -> Vec<(Key<'a>, i64)> {
    keys.iter()
        .zip(users)
        .filter(|(_, user)| user.is_none())
        .map(|(key, _)| *key)
        .collect()
}

/// The keys as the two arrays of the statements.
fn split<'a>(keys: impl Iterator<Item = Key<'a>> + Clone) -> [Vec<&'a str>; 2] {
    [
        keys.clone().map(|k| k.0).collect(),
        keys.map(|k| k.1).collect(),
    ]
}

/// Puts the users of `rows` in their keys' places.
fn fill(
    slot: impl Fn(Key<'_>) -> Option<usize>,
    users: &mut [Option<User>],
    rows: Vec<tokio_postgres::Row>,
) -> Result<(), StoreError> {
    for row in &rows {
        let user = user_of(row)?;
        let place =
            slot((user.provider.as_str(), user.username.as_str())).and_then(|i| users.get_mut(i));
        if let Some(place) = place {
            *place = Some(user);
        }
    }
    Ok(())
}
