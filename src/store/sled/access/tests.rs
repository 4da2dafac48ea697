use super::*;
use crate::store::UserStore;

async fn store_with_account() -> (SledStore, User) {
    let store = SledStore::temporary().unwrap();
    let holder = store
        .get_or_create_dauth_user("N", "0xholder", 0)
        .await
        .unwrap();
    store
        .create_account("bank", "acc", "label", &holder.user_id, 0)
        .await
        .unwrap();
    (store, holder)
}

fn owner_by(u: &User) -> Option<Authority> {
    Some(Authority {
        user_id: u.user_id.clone(),
        view_id: OWNER.into(),
    })
}

#[tokio::test]
async fn creating_an_account_makes_its_creator_owner_once() {
    let (store, holder) = store_with_account().await;
    assert_eq!(
        store
            .views_held(&holder.user_id, "bank", "acc")
            .await
            .unwrap(),
        vec!["owner".to_owned()]
    );
    assert!(store.bank_exists("bank").await.unwrap());
    assert!(!store.bank_exists("ban").await.unwrap());
    let again = store
        .create_account("bank", "acc", "x", &holder.user_id, 0)
        .await;
    assert!(matches!(again, Err(AccessError::AccountExists)));
    let nobody = store
        .create_account("bank", "acc2", "x", "no-such-user", 0)
        .await;
    assert!(matches!(nobody, Err(AccessError::UserMissing)));
}

#[tokio::test]
async fn grant_and_revoke_round_trip() {
    let (store, holder) = store_with_account().await;
    let other = store
        .get_or_create_dauth_user("N", "0xother", 0)
        .await
        .unwrap();
    let views = vec!["auditor".to_owned(), "accountant".to_owned()];
    store
        .grant(
            "bank",
            "acc",
            Grantee::User(other.user_id.clone()),
            views,
            owner_by(&holder),
            100,
            0,
        )
        .await
        .unwrap();
    let mut held = store
        .views_held(&other.user_id, "bank", "acc")
        .await
        .unwrap();
    held.sort();
    assert_eq!(held, vec!["accountant", "auditor"]);
    store
        .revoke("bank", "acc", &other.user_id, "auditor", owner_by(&holder))
        .await
        .unwrap();
    assert!(matches!(
        store
            .revoke("bank", "acc", &other.user_id, "auditor", owner_by(&holder))
            .await,
        Err(AccessError::NoSuchAccess(_))
    ));
    assert_eq!(store.access_of(&other.user_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_last_owner_keeps_the_owner_view() {
    let (store, holder) = store_with_account().await;
    let r = store
        .revoke("bank", "acc", &holder.user_id, OWNER, None)
        .await;
    assert!(matches!(r, Err(AccessError::LastOwner)));
    let r = store
        .replace_views("bank", "acc", &holder.user_id, vec!["auditor".into()], 100)
        .await;
    assert!(matches!(r, Err(AccessError::LastOwner)));
    assert_eq!(
        store
            .views_held(&holder.user_id, "bank", "acc")
            .await
            .unwrap(),
        vec!["owner".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revokes_cannot_remove_both_owners() {
    let (store, holder) = store_with_account().await;
    let other = store
        .get_or_create_dauth_user("N", "0xother", 0)
        .await
        .unwrap();
    store
        .grant(
            "bank",
            "acc",
            Grantee::User(other.user_id.clone()),
            vec![OWNER.into()],
            None,
            100,
            0,
        )
        .await
        .unwrap();
    let a = {
        let s = store.clone();
        let u = holder.user_id.clone();
        tokio::spawn(async move { s.revoke("bank", "acc", &u, OWNER, None).await })
    };
    let b = {
        let s = store.clone();
        let u = other.user_id.clone();
        tokio::spawn(async move { s.revoke("bank", "acc", &u, OWNER, None).await })
    };
    let outcomes = [a.await.unwrap(), b.await.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let mut owners = 0;
    for u in [&holder, &other] {
        owners += store
            .views_held(&u.user_id, "bank", "acc")
            .await
            .unwrap()
            .len();
    }
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn a_revoked_authority_cannot_grant() {
    let (store, holder) = store_with_account().await;
    let other = store
        .get_or_create_dauth_user("N", "0xother", 0)
        .await
        .unwrap();
    let by = Some(Authority {
        user_id: other.user_id.clone(),
        view_id: OWNER.into(),
    });
    let r = store
        .grant(
            "bank",
            "acc",
            Grantee::User(holder.user_id.clone()),
            vec!["auditor".into()],
            by,
            100,
            0,
        )
        .await;
    assert!(matches!(r, Err(AccessError::AuthorityGone)));
}

#[tokio::test]
async fn dauth_grantee_is_created_with_the_grant_or_not_at_all() {
    let (store, holder) = store_with_account().await;
    let users = store.user_count();
    let to = || Grantee::Dauth {
        network: "N".into(),
        address: "0xnew".into(),
    };
    let r = store
        .grant(
            "bank",
            "missing",
            to(),
            vec!["auditor".into()],
            owner_by(&holder),
            100,
            0,
        )
        .await;
    assert!(matches!(r, Err(AccessError::AccountMissing)));
    assert_eq!(store.user_count(), users, "a refused grant creates no user");
    let u = store
        .grant(
            "bank",
            "acc",
            to(),
            vec!["auditor".into()],
            owner_by(&holder),
            100,
            0,
        )
        .await
        .unwrap();
    assert_eq!(store.user_count(), users + 1);
    assert_eq!(
        store
            .get_or_create_dauth_user("N", "0xnew", 0)
            .await
            .unwrap(),
        u
    );
}

/// An account held by `holder`, the identity of ("N", "0xnew") holding the user id `raw_id`
/// with no record (what a crash between get-or-create's two writes leaves, or a corrupt id),
/// the user count then, and the answer to granting "auditor" to that identity.
async fn grant_to_an_identity_holding(
    raw_id: &[u8],
) -> (SledStore, User, usize, Result<User, AccessError>) {
    let (store, holder) = store_with_account().await;
    let key = identity_key(UserKind::Dauth, "N", "0xnew");
    store.inner.identities.insert(key, raw_id).unwrap();
    let users = store.user_count();
    let to = Grantee::Dauth {
        network: "N".into(),
        address: "0xnew".into(),
    };
    let granted = store
        .grant(
            "bank",
            "acc",
            to,
            vec!["auditor".into()],
            owner_by(&holder),
            100,
            0,
        )
        .await;
    (store, holder, users, granted)
}

#[tokio::test]
async fn a_grant_to_an_identity_left_without_its_record_writes_it_under_the_claimed_id() {
    let (store, _holder, users, granted) = grant_to_an_identity_holding(b"claimed-id").await;
    let u = granted.unwrap();
    assert_eq!(u.user_id, "claimed-id");
    assert_eq!(store.user_count(), users + 1);
    assert_eq!(store.user_by_id("claimed-id").await.unwrap(), Some(u));
}

#[tokio::test]
async fn a_grant_to_an_identity_holding_an_id_that_is_not_text_is_a_store_error_and_writes_nothing()
{
    let (store, holder, users, refused) = grant_to_an_identity_holding(&[0xff, 0xfe]).await;
    assert!(
        matches!(&refused, Err(AccessError::Store(StoreError::Backend(e))) if e.to_string().contains("not UTF-8")),
        "{refused:?}"
    );
    assert_eq!(store.user_count(), users, "no user written");
    let rows = store.access_of(&holder.user_id).await.unwrap();
    assert_eq!(rows.len(), 1, "only the holder's own owner row: {rows:?}");
}

#[tokio::test]
async fn row_limit_is_enforced_atomically() {
    let (store, _holder) = store_with_account().await;
    let other = store
        .get_or_create_dauth_user("N", "0xother", 0)
        .await
        .unwrap();
    let views = vec!["auditor".to_owned(), "accountant".to_owned()];
    // One row (the holder's owner) exists; a limit of 2 leaves room for one more, not two.
    let r = store
        .grant(
            "bank",
            "acc",
            Grantee::User(other.user_id.clone()),
            views,
            None,
            2,
            0,
        )
        .await;
    assert!(matches!(r, Err(AccessError::RowLimit(_))));
    assert!(
        store
            .views_held(&other.user_id, "bank", "acc")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn custom_views_are_per_account_and_unique() {
    let (store, holder) = store_with_account().await;
    let mut v = crate::obp::views::system_view("auditor").unwrap().clone();
    v.id = "_family".into();
    v.is_system = false;
    let by = Authority {
        user_id: holder.user_id.clone(),
        view_id: OWNER.into(),
    };
    store
        .create_custom_view("bank", "acc", v.clone(), by.clone())
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_custom_view("bank", "acc", v.clone(), by.clone())
            .await,
        Err(AccessError::ViewExists)
    ));
    assert_eq!(
        store.custom_view("bank", "acc", "_family").await.unwrap(),
        Some(v)
    );
    assert_eq!(store.custom_views("bank", "acc").await.unwrap().len(), 1);
    assert!(
        store
            .custom_view("bank", "acc2", "_family")
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn keys_round_trip_and_do_not_collide() {
    assert_ne!(key(b'u', &["ab", "c"]), key(b'u', &["a", "bc"]));
    assert_eq!(
        parts(&key(b'u', &["a", "", "ccc"])[1..]),
        vec!["a", "", "ccc"]
    );
}
