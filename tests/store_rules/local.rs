//! Password users through a gateway's stores: login names, the confirmation, refresh families
//! and the lockout's count, alike on sled and PostgreSQL.

use dauth_proxy::store::Stores;
use dauth_proxy::store::error::LocalError;
use dauth_proxy::store::model::{Profile, StoredCode};

use super::stores;
use crate::support::Gateway;

fn profile(email: &str, username: Option<&str>) -> Profile {
    Profile {
        email: email.into(),
        username: username.map(Into::into),
        ..Profile::default()
    }
}

async fn create(s: &Stores, email: &str, username: Option<&str>) -> Result<String, LocalError> {
    s.passwords
        .create_local_user(profile(email, username), None, 0)
        .await
        .map(|(u, _)| u.user_id)
}

/// The user id whose email, or else username, is `login`.
async fn login(s: &Stores, login: &str) -> Option<String> {
    s.passwords
        .local_user_by_login(login)
        .await
        .unwrap()
        .map(|(u, _)| u.user_id)
}

/// Sets a user's email and username.
async fn rename(
    s: &Stores,
    id: &str,
    email: &str,
    username: Option<&str>,
) -> Result<(), LocalError> {
    let (email, username) = (email.to_owned(), username.map(str::to_owned));
    s.passwords
        .update_profile(
            id,
            true,
            Box::new(move |p| {
                p.email = email.clone();
                p.username = username.clone();
                Ok(())
            }),
            5,
        )
        .await
        .map(|_| ())
}

#[tokio::test]
async fn login_names_are_claimed_email_first_and_released_when_unused() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let ann = create(&s, "Ann@Example.com", Some("ann")).await.unwrap();
    // The email is one name whatever its case; the email is checked before the username.
    let taken = create(&s, "ANN@example.com", Some("ann")).await;
    assert!(matches!(taken, Err(LocalError::EmailTaken)), "{taken:?}");
    let taken = create(&s, "bob@example.com", Some("ann")).await;
    assert!(matches!(taken, Err(LocalError::UsernameTaken)), "{taken:?}");
    let bob = create(&s, "bob@example.com", Some("bob")).await.unwrap();
    assert_eq!(
        login(&s, "ann@EXAMPLE.com").await.as_deref(),
        Some(ann.as_str())
    );
    assert_eq!(login(&s, "ann").await.as_deref(), Some(ann.as_str()));
    // A change of case only keeps the email; dropping the username frees it.
    rename(&s, &ann, "ann@EXAMPLE.com", None).await.unwrap();
    assert_eq!(
        login(&s, "Ann@example.com").await.as_deref(),
        Some(ann.as_str())
    );
    assert_eq!(login(&s, "ann").await, None);
    // Taking another's name is refused and changes nothing.
    let taken = rename(&s, &ann, "BOB@example.com", Some("bob")).await;
    assert!(matches!(taken, Err(LocalError::EmailTaken)), "{taken:?}");
    let taken = rename(&s, &ann, "new@example.com", Some("bob")).await;
    assert!(matches!(taken, Err(LocalError::UsernameTaken)), "{taken:?}");
    assert_eq!(login(&s, "new@example.com").await, None);
    assert_eq!(
        s.passwords.profile(&ann).await.unwrap().unwrap().email,
        "ann@EXAMPLE.com"
    );
    // A new email frees the old one for someone else.
    rename(&s, &ann, "new@example.com", Some("ann2"))
        .await
        .unwrap();
    let carl = create(&s, "ann@example.com", Some("ann")).await.unwrap();
    assert_eq!(
        login(&s, "ANN@example.com").await.as_deref(),
        Some(carl.as_str())
    );
    assert_eq!(
        login(&s, "new@example.com").await.as_deref(),
        Some(ann.as_str())
    );
    assert_eq!(login(&s, "ann2").await.as_deref(), Some(ann.as_str()));
    assert_eq!(login(&s, "bob").await.as_deref(), Some(bob.as_str()));
    let gone = rename(&s, "no-such-user", "x@example.com", None).await;
    assert!(matches!(gone, Err(LocalError::NotFound)), "{gone:?}");
}

#[tokio::test]
async fn a_confirmation_needs_the_pending_unexpired_code_once() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    for (email, digest) in [("a@example.com", "da"), ("b@example.com", "db")] {
        let p = Profile {
            confirm_code: Some(StoredCode {
                digest: digest.into(),
                expires_at: 100,
            }),
            ..profile(email, None)
        };
        s.passwords.create_local_user(p, None, 0).await.unwrap();
    }
    let wrong = s.passwords.confirm("nope", 10).await;
    assert!(matches!(wrong, Err(LocalError::NotFound)), "{wrong:?}");
    let expired = s.passwords.confirm("da", 100).await;
    assert!(matches!(expired, Err(LocalError::NotFound)), "{expired:?}");
    let (_, p) = s.passwords.confirm("db", 99).await.unwrap();
    assert!(p.confirmed && p.mailbox_verified && p.confirm_code.is_none());
    let again = s.passwords.confirm("db", 99).await;
    assert!(matches!(again, Err(LocalError::NotFound)), "{again:?}");
}

#[tokio::test]
async fn a_refresh_family_ends_on_a_stale_or_expired_token() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let id = create(&s, "r@example.com", None).await.unwrap();
    let p = &s.passwords;
    let unknown = p.rotate_refresh("no-family", "j1", "j2", 50, 10).await;
    assert!(matches!(unknown, Err(LocalError::NotFound)), "{unknown:?}");
    let fam = p.start_refresh_family(&id, "j1", 50).await.unwrap();
    assert_eq!(
        p.rotate_refresh(&fam, "j1", "j2", 60, 10).await.unwrap(),
        id
    );
    let stale = p.rotate_refresh(&fam, "j1", "j3", 60, 11).await;
    assert!(matches!(stale, Err(LocalError::RefreshReused)), "{stale:?}");
    let ended = p.rotate_refresh(&fam, "j2", "j3", 60, 11).await;
    assert!(matches!(ended, Err(LocalError::NotFound)), "{ended:?}");
    let fam = p.start_refresh_family(&id, "k1", 50).await.unwrap();
    let expired = p.rotate_refresh(&fam, "k1", "k2", 60, 50).await;
    assert!(
        matches!(expired, Err(LocalError::RefreshReused)),
        "{expired:?}"
    );
}

#[tokio::test]
async fn the_lockout_counts_attempts_and_answers_the_lock_left() {
    use dauth_proxy::store::model::LoginAttempt::{Counted, Locked};
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let id = create(&s, "l@example.com", None).await.unwrap();
    let p = &s.passwords;
    assert_eq!(p.begin_login(&id, 2, 60, 100).await.unwrap(), Counted);
    assert_eq!(p.begin_login(&id, 2, 60, 100).await.unwrap(), Counted);
    assert_eq!(p.begin_login(&id, 2, 60, 100).await.unwrap(), Locked(60));
    assert_eq!(p.fail_login(&id, 2, 60, 110).await.unwrap(), Locked(50));
    assert_eq!(
        p.succeed_login(&id, None, 130).await.unwrap(),
        Err(Locked(30))
    );
    // The lock ends at its second; the count started again.
    assert_eq!(p.begin_login(&id, 2, 60, 160).await.unwrap(), Counted);
    assert_eq!(p.fail_login(&id, 2, 60, 160).await.unwrap(), Counted);
    let done = p
        .succeed_login(&id, Some("new-hash".into()), 161)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.failed_logins, done.password_hash.as_deref()),
        (0, Some("new-hash"))
    );
    // No attempt allowed at all, and a lock of no time.
    assert_eq!(p.begin_login(&id, 0, 60, 200).await.unwrap(), Locked(60));
    assert_eq!(p.begin_login(&id, 0, 0, 300).await.unwrap(), Counted);
    let nobody = p.begin_login("nobody", 2, 60, 0).await;
    assert!(matches!(nobody, Err(LocalError::NotFound)), "{nobody:?}");
    let nobody = p.succeed_login("nobody", None, 0).await;
    assert!(matches!(nobody, Err(LocalError::NotFound)), "{nobody:?}");
}
