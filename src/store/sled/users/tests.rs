use super::*;
use crate::store::UserStore;

#[tokio::test]
async fn same_identity_gives_same_user() {
    let store = SledStore::temporary().unwrap();
    let a = store
        .get_or_create_dauth_user("ETHEREUM", "0xabc", 0)
        .await
        .unwrap();
    let b = store
        .get_or_create_dauth_user("ETHEREUM", "0xabc", 0)
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(store.user_count(), 1);
    assert_eq!(store.user_by_id(&a.user_id).await.unwrap(), Some(a));
}

#[tokio::test]
async fn network_and_address_both_distinguish_users() {
    let store = SledStore::temporary().unwrap();
    let a = store
        .get_or_create_dauth_user("ETHEREUM", "0xabc", 0)
        .await
        .unwrap();
    let b = store
        .get_or_create_dauth_user("GOERLI", "0xabc", 0)
        .await
        .unwrap();
    let c = store
        .get_or_create_dauth_user("ETHEREUM", "0xabd", 0)
        .await
        .unwrap();
    assert_ne!(a.user_id, b.user_id);
    assert_ne!(a.user_id, c.user_id);
    assert_eq!(store.user_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_create_one_user() {
    let store = SledStore::temporary().unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { store.get_or_create_dauth_user("N", "0x1", 0).await.unwrap() },
            )
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().user_id);
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(store.user_count(), 1);
}

#[tokio::test]
async fn opening_a_store_folds_network_names_into_their_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let (older, newer) = {
        // A store written before network names were canonical: the key holds them as given.
        let store = SledStore::open(dir.path(), 1 << 20).unwrap();
        let older = store
            .get_or_create_dauth_user("ethereum", "0xabc", 0)
            .await
            .unwrap();
        let newer = store
            .get_or_create_dauth_user("Ethereum", "0xabc", 0)
            .await
            .unwrap();
        let only = store
            .get_or_create_dauth_user("goerli", "0xdef", 0)
            .await
            .unwrap();
        store.flush().await.unwrap();
        assert_eq!(only.provider, "goerli");
        (older, newer)
    };
    let store = SledStore::open(dir.path(), 1 << 20).unwrap();
    let folded = store
        .get_or_create_dauth_user("ETHEREUM", "0xabc", 0)
        .await
        .unwrap();
    // One of the two keeps the identity (the earlier-created; these two may share a second);
    // the other stays readable by id.
    assert!(
        [&older.user_id, &newer.user_id].contains(&&folded.user_id),
        "{folded:?}"
    );
    assert_eq!(folded.provider, "ETHEREUM");
    for id in [&older.user_id, &newer.user_id] {
        assert!(store.user_by_id(id).await.unwrap().is_some());
    }
    // No identity is left under the old spellings.
    for spelling in ["ethereum", "Ethereum"] {
        assert_eq!(store.dauth_user_id(spelling, "0xabc").unwrap(), None);
    }
    let goerli = store
        .get_or_create_dauth_user("GOERLI", "0xdef", 0)
        .await
        .unwrap();
    assert_eq!(goerli.provider, "GOERLI");
    assert_eq!(store.user_count(), 3);
    assert_eq!(store.dauth_user_id("goerli", "0xdef").unwrap(), None);
}

/// What a crash between `claim_dauth_user`'s two writes leaves: the identity claimed for `id`,
/// no record under `id`.
fn claimed_without_record(store: &SledStore, network: &str, address: &str, id: &str) {
    let key = identity_key(UserKind::Dauth, network, address);
    store.inner.identities.insert(key, id.as_bytes()).unwrap();
    assert!(store.inner.users.get(id.as_bytes()).unwrap().is_none());
}

#[tokio::test]
async fn an_identity_left_without_its_record_gets_it_under_the_claimed_id() {
    let store = SledStore::temporary().unwrap();
    claimed_without_record(&store, "ETHEREUM", "0xabc", "claimed-id");
    let user = store
        .get_or_create_dauth_user("ETHEREUM", "0xabc", 7)
        .await
        .unwrap();
    assert_eq!(user.user_id, "claimed-id");
    assert_eq!(
        (user.provider.as_str(), user.username.as_str()),
        ("ETHEREUM", "0xabc")
    );
    assert_eq!(
        store.user_by_id("claimed-id").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.user_count(), 1);
    let again = store
        .get_or_create_dauth_user("ETHEREUM", "0xabc", 9)
        .await
        .unwrap();
    assert_eq!(again, user, "the repaired record is the one kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_callers_on_an_identity_without_its_record_agree_on_one_user() {
    let store = SledStore::temporary().unwrap();
    for round in 0..100 {
        let address = format!("0x{round}");
        let id = format!("claimed-{round}");
        claimed_without_record(&store, "N", &address, &id);
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (store, address, barrier) = (store.clone(), address.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .get_or_create_dauth_user("N", &address, i)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        for t in tasks {
            let user = t.await.unwrap();
            assert_eq!(user.user_id, id);
            seen.insert(user.created_at);
        }
        let stored = store.user_by_id(&id).await.unwrap().unwrap();
        assert_eq!(
            seen.len(),
            1,
            "round {round}: every caller sees the one record written"
        );
        assert!(
            seen.contains(&stored.created_at),
            "round {round}: and it is the stored one"
        );
    }
    assert_eq!(store.user_count(), 100);
}

#[tokio::test]
async fn an_identity_holding_an_id_that_is_not_text_is_a_store_error_not_a_user() {
    let store = SledStore::temporary().unwrap();
    let key = identity_key(UserKind::Dauth, "N", "0x1");
    store
        .inner
        .identities
        .insert(key, &[0xff, 0xfe][..])
        .unwrap();
    let refused = store.get_or_create_dauth_user("N", "0x1", 0).await;
    assert!(
        matches!(&refused, Err(StoreError::Backend(e)) if e.to_string().contains("not UTF-8")),
        "{refused:?}"
    );
    assert_eq!(store.user_count(), 0);
}
