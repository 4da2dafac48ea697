//! The store's write rules through the stores a running gateway opened: which refusal answers
//! and in which order the checks run, for account access rows and password users. The same
//! assertions run on sled and, with `DAUTH_TEST_STORE=postgres` (tests/on_postgres.rs), on
//! PostgreSQL, so the two backends cannot drift apart. Password users in
//! tests/store_rules/local.rs, the order of listings in tests/store_rules/listings.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "store_rules/listings.rs"]
mod listings;
#[path = "store_rules/local.rs"]
mod local;
mod support;

use dauth_proxy::store::Stores;
use dauth_proxy::store::error::AccessError;
use dauth_proxy::store::model::{Authority, Grantee, OWNER};
use support::Gateway;

fn stores(gw: &Gateway) -> Stores {
    gw.state.shared().store.clone()
}

fn v(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn by(user: &str, view: &str) -> Option<Authority> {
    Some(Authority {
        user_id: user.to_owned(),
        view_id: view.to_owned(),
    })
}

/// A DAuth user's id.
async fn user(s: &Stores, address: &str) -> String {
    s.users
        .get_or_create_dauth_user("ETHEREUM", address, 0)
        .await
        .unwrap()
        .user_id
}

/// An account `bank`/`acc` owned by a new user; returns the owner's id.
async fn account(s: &Stores) -> String {
    let owner = user(s, "0xowner").await;
    s.access
        .create_account("bank", "acc", "label", &owner, 0)
        .await
        .unwrap();
    owner
}

async fn grant(s: &Stores, to: &str, views: &[&str], by: Option<Authority>, limit: u64) -> String {
    match s
        .access
        .grant(
            "bank",
            "acc",
            Grantee::User(to.to_owned()),
            v(views),
            by,
            limit,
            0,
        )
        .await
    {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

async fn revoke(s: &Stores, from: &str, view: &str, by: Option<Authority>) -> String {
    match s.access.revoke("bank", "acc", from, view, by).await {
        Ok(()) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

async fn replace(s: &Stores, of: &str, views: &[&str], limit: u64) -> String {
    match s
        .access
        .replace_views("bank", "acc", of, v(views), limit)
        .await
    {
        Ok(()) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

#[tokio::test]
async fn account_writes_check_the_account_then_the_authority() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let owner = account(&s).await;
    let other = user(&s, "0xother").await;
    let gone = by(&other, OWNER);
    // No account: refused as such, whatever else is wrong.
    let nobody = Grantee::User("nobody".into());
    let a = &s.access;
    let missing = [
        (a.grant("bank", "none", nobody, v(&["a"]), gone.clone(), 0, 0)
            .await)
            .map(|_| ()),
        a.revoke("bank", "none", &owner, "zzz", gone.clone()).await,
        a.replace_views("bank", "none", &owner, v(&["a"]), 0).await,
    ];
    for r in missing {
        assert!(matches!(r, Err(AccessError::AccountMissing)), "{r:?}");
    }
    // An authority not held: refused before the grantee, the rows or the limit are looked at.
    assert_eq!(
        grant(&s, "nobody", &["a"], gone.clone(), 0).await,
        "AuthorityGone"
    );
    assert_eq!(
        revoke(&s, &owner, "zzz", gone.clone()).await,
        "AuthorityGone"
    );
    assert_eq!(
        revoke(&s, &owner, OWNER, by(&owner, "auditor")).await,
        "AuthorityGone"
    );
    // A held authority, then the grantee.
    assert_eq!(
        grant(&s, "nobody", &["a"], by(&owner, OWNER), 9).await,
        "UserMissing"
    );
    assert_eq!(grant(&s, &other, &["a"], by(&owner, OWNER), 9).await, "ok");
    // The holder is checked before the account's existence on creation.
    let again = s
        .access
        .create_account("bank", "acc", "x", "nobody", 0)
        .await;
    assert!(matches!(again, Err(AccessError::UserMissing)), "{again:?}");
    let again = s.access.create_account("bank", "acc", "x", &other, 0).await;
    assert!(
        matches!(again, Err(AccessError::AccountExists)),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_grant_counts_only_new_rows_against_the_limit() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let owner = account(&s).await;
    let (b, c) = (user(&s, "0xb").await, user(&s, "0xc").await);
    // One row (the owner's); a view listed twice is one row.
    assert_eq!(grant(&s, &b, &["a", "a", "b"], None, 3).await, "ok");
    assert_eq!(
        s.access.views_held(&b, "bank", "acc").await.unwrap(),
        v(&["a", "b"])
    );
    // At the limit, views already held cost nothing; the first new one is named.
    assert_eq!(grant(&s, &b, &["b", "a"], None, 3).await, "ok");
    assert_eq!(
        grant(&s, &b, &["b", "c", "d"], None, 3).await,
        "RowLimit(\"c\")"
    );
    // A refused grant adds nothing, not even the rows before the one over the limit.
    assert_eq!(grant(&s, &c, &["x", "y"], None, 4).await, "RowLimit(\"y\")");
    assert!(
        s.access
            .views_held(&c, "bank", "acc")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(grant(&s, &c, &["x"], None, 4).await, "ok");
    // replace_views keeps to the same limit, counting the rows it keeps.
    assert_eq!(replace(&s, &c, &["x", "y"], 4).await, "RowLimit(\"y\")");
    assert_eq!(replace(&s, &owner, &[OWNER, "z"], 5).await, "ok");
}

#[tokio::test]
async fn a_revoke_needs_its_row_and_leaves_an_owner() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let owner = account(&s).await;
    let b = user(&s, "0xb").await;
    assert_eq!(revoke(&s, &b, "a", None).await, "NoSuchAccess(\"a\")");
    assert_eq!(revoke(&s, &owner, OWNER, None).await, "LastOwner");
    assert_eq!(replace(&s, &owner, &["a"], 9).await, "LastOwner");
    assert_eq!(
        s.access.views_held(&owner, "bank", "acc").await.unwrap(),
        v(&[OWNER])
    );
    // With a second owner, either may go, not both.
    assert_eq!(grant(&s, &b, &[OWNER, "a"], None, 9).await, "ok");
    assert_eq!(replace(&s, &owner, &["a"], 9).await, "ok");
    assert_eq!(revoke(&s, &b, OWNER, None).await, "LastOwner");
    assert_eq!(replace(&s, &b, &["a"], 9).await, "LastOwner");
    // Keeping `owner` in the list is not losing it.
    assert_eq!(replace(&s, &b, &[OWNER], 9).await, "ok");
    assert_eq!(revoke(&s, &b, "a", None).await, "NoSuchAccess(\"a\")");
    assert_eq!(revoke(&s, &owner, "a", None).await, "ok");
    assert_eq!(revoke(&s, &owner, "a", None).await, "NoSuchAccess(\"a\")");
}
