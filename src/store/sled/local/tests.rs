use super::*;
use crate::store::model::StoredCode;

fn now_unix() -> i64 {
    crate::clock::now()
}

fn profile(email: &str) -> Profile {
    Profile {
        email: email.into(),
        language: "en".into(),
        ..Profile::default()
    }
}

#[tokio::test]
async fn emails_and_usernames_are_unique_and_case_insensitive_for_email() {
    let store = SledStore::temporary().unwrap();
    let (u, _) = store
        .create_local_user(profile("a@example.com"), None, now_unix())
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_local_user(profile("a@example.com"), None, now_unix())
            .await,
        Err(LocalError::EmailTaken)
    ));
    let (found, _) = store
        .local_user_by_login("A@Example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, u);
    let named = Profile {
        username: Some("cersei".into()),
        ..profile("c@example.com")
    };
    store
        .create_local_user(named.clone(), None, now_unix())
        .await
        .unwrap();
    let clash = Profile {
        username: Some("cersei".into()),
        ..profile("d@example.com")
    };
    assert!(matches!(
        store.create_local_user(clash, None, now_unix()).await,
        Err(LocalError::UsernameTaken)
    ));
    assert_eq!(
        store
            .local_user_by_login("cersei")
            .await
            .unwrap()
            .unwrap()
            .1
            .email,
        "c@example.com"
    );
}

#[tokio::test]
async fn profile_updates_reindex_login_names() {
    let store = SledStore::temporary().unwrap();
    let (u, _) = store
        .create_local_user(profile("a@example.com"), None, now_unix())
        .await
        .unwrap();
    store
        .update_profile(
            &u.user_id,
            true,
            Box::new(|p| {
                p.email = "b@example.com".into();
                p.username = Some("bee".into());
                Ok(())
            }),
            now_unix(),
        )
        .await
        .unwrap();
    assert!(
        store
            .local_user_by_login("a@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.local_user_by_login("bee").await.unwrap().unwrap().0,
        u
    );
    let refused = store
        .update_profile(
            &u.user_id,
            true,
            Box::new(|_| Err(LocalError::Refused("no"))),
            now_unix(),
        )
        .await;
    assert!(matches!(refused, Err(LocalError::Refused("no"))));
}

#[tokio::test]
async fn confirmation_codes_work_once_and_expire() {
    let store = SledStore::temporary().unwrap();
    let code = |digest: &str, expires_at| {
        Some(StoredCode {
            digest: digest.into(),
            expires_at,
        })
    };
    let p = Profile {
        confirm_code: code("d1", now_unix() + 60),
        ..profile("a@example.com")
    };
    store.create_local_user(p, None, now_unix()).await.unwrap();
    let (_, confirmed) = store.confirm("d1", now_unix()).await.unwrap();
    assert!(confirmed.confirmed);
    assert!(matches!(
        store.confirm("d1", now_unix()).await,
        Err(LocalError::NotFound)
    ));
    let p = Profile {
        confirm_code: code("d2", now_unix() - 1),
        ..profile("b@example.com")
    };
    store.create_local_user(p, None, now_unix()).await.unwrap();
    assert!(matches!(
        store.confirm("d2", now_unix()).await,
        Err(LocalError::NotFound)
    ));
}

#[tokio::test]
async fn refresh_families_rotate_and_die_on_reuse() {
    let store = SledStore::temporary().unwrap();
    let far = now_unix() + 3600;
    let fam = store.start_refresh_family("u1", "j1", far).await.unwrap();
    assert_eq!(
        store
            .rotate_refresh(&fam, "j1", "j2", far, now_unix())
            .await
            .unwrap(),
        "u1"
    );
    // j1 again: reuse; the family ends, so even the current j2 is dead now.
    assert!(matches!(
        store
            .rotate_refresh(&fam, "j1", "j3", far, now_unix())
            .await,
        Err(LocalError::RefreshReused)
    ));
    assert!(matches!(
        store
            .rotate_refresh(&fam, "j2", "j3", far, now_unix())
            .await,
        Err(LocalError::NotFound)
    ));
}

#[tokio::test]
async fn revoking_a_users_families_ends_them_all() {
    let store = SledStore::temporary().unwrap();
    let far = now_unix() + 3600;
    let a = store.start_refresh_family("u1", "a", far).await.unwrap();
    let b = store.start_refresh_family("u1", "b", far).await.unwrap();
    let other = store.start_refresh_family("u2", "c", far).await.unwrap();
    store.revoke_refresh_families("u1").await.unwrap();
    assert!(
        store
            .rotate_refresh(&a, "a", "x", far, now_unix())
            .await
            .is_err()
    );
    assert!(
        store
            .rotate_refresh(&b, "b", "x", far, now_unix())
            .await
            .is_err()
    );
    store
        .rotate_refresh(&other, "c", "x", far, now_unix())
        .await
        .unwrap();
}
