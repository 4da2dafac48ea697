//! The rules on their own: which refusal, in which order. Both backends' own tests
//! (`sled/*/tests.rs`, the integration suite on PostgreSQL) show the rules in place.

use super::access::{check_revoke, may_write, rows_to_grant, views_dropped};
use super::local::{LoginName, NameKind, claim, confirmation, login_names, names_dropped};
use crate::store::error::{AccessError, LocalError};
use crate::store::model::{LoginAttempt, Profile, StoredCode};

fn v(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_write_needs_the_account_before_the_authority() {
    assert!(matches!(
        may_write(false, Some(false)),
        Err(AccessError::AccountMissing)
    ));
    assert!(matches!(
        may_write(true, Some(false)),
        Err(AccessError::AuthorityGone)
    ));
    assert!(may_write(true, Some(true)).is_ok());
    assert!(may_write(true, None).is_ok());
}

#[test]
fn a_grant_adds_each_new_view_once_and_names_the_first_over_the_limit() {
    let views = v(&["a", "held", "a", "b"]);
    let added = rows_to_grant(&views, &v(&["held"]), 1, 3).unwrap();
    assert_eq!(added, vec!["a", "b"]);
    match rows_to_grant(&views, &v(&["held"]), 2, 3) {
        Err(AccessError::RowLimit(view)) => assert_eq!(view, "b"),
        other => panic!("{other:?}"),
    }
    // Views already held cost nothing, even at the limit.
    assert!(
        rows_to_grant(&v(&["held"]), &v(&["held"]), 9, 3)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_revoke_needs_every_row_then_keeps_an_owner() {
    let held = v(&["owner", "auditor"]);
    match check_revoke(&v(&["auditor", "x", "owner"]), &held, 1) {
        Err(AccessError::NoSuchAccess(view)) => assert_eq!(view, "x"),
        other => panic!("{other:?}"),
    }
    match check_revoke(&v(&["auditor", "auditor"]), &held, 1) {
        Err(AccessError::NoSuchAccess(view)) => assert_eq!(view, "auditor"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check_revoke(&v(&["owner"]), &held, 1),
        Err(AccessError::LastOwner)
    ));
    assert!(check_revoke(&v(&["owner", "auditor"]), &held, 2).is_ok());
    assert!(check_revoke(&v(&["auditor"]), &held, 1).is_ok());
    assert_eq!(views_dropped(&held, &v(&["owner"])), v(&["auditor"]));
}

#[test]
fn login_names_are_claimed_email_first_and_dropped_only_when_unused() {
    let old = Profile {
        email: "A@Example.com".into(),
        username: Some("Ann".into()),
        ..Profile::default()
    };
    let names = login_names(&old);
    assert_eq!(names[0], LoginName::email("a@example.com"));
    assert_eq!(names[1].kind, NameKind::Username);
    assert_eq!(names[1].name, "Ann");
    // A change of case only is the same email; the username is dropped.
    let new = Profile {
        email: "a@example.COM".into(),
        username: None,
        ..old.clone()
    };
    assert_eq!(names_dropped(&old, &new), vec![LoginName::username("Ann")]);
    assert!(matches!(
        claim(&names[0], Some("other"), "me"),
        Err(LocalError::EmailTaken)
    ));
    assert!(matches!(
        claim(&names[1], Some("other"), "me"),
        Err(LocalError::UsernameTaken)
    ));
    assert!(claim(&names[1], Some("me"), "me").is_ok());
    assert!(claim(&names[1], None, "me").is_ok());
}

#[test]
fn a_confirmation_needs_the_same_unexpired_code() {
    let pending = Profile {
        confirm_code: Some(StoredCode {
            digest: "d".into(),
            expires_at: 100,
        }),
        ..Profile::default()
    };
    for (digest, now) in [("other", 10), ("d", 100)] {
        let mut p = pending.clone();
        assert!(matches!(
            confirmation(digest, now)(&mut p),
            Err(LocalError::NotFound)
        ));
    }
    let mut p = pending;
    confirmation("d", 99)(&mut p).unwrap();
    assert!(p.confirmed && p.mailbox_verified && p.confirm_code.is_none());
}

#[test]
fn an_attempt_answers_the_lock_left() {
    use super::local::{attempt, lock_left};
    assert_eq!(attempt(None, 10), LoginAttempt::Counted);
    assert_eq!(attempt(Some(10), 10), LoginAttempt::Counted);
    assert_eq!(attempt(Some(70), 10), LoginAttempt::Locked(60));
    assert_eq!(lock_left(None, 10), LoginAttempt::Locked(0));
    assert_eq!(lock_left(Some(5), 10), LoginAttempt::Locked(0));
}

#[test]
fn listings_are_in_byte_order_not_length_first() {
    use super::access::{ids_in_order, rows_in_order};
    use crate::store::model::AccessRow;
    assert_eq!(
        ids_in_order(v(&["_zz", "_B", "_aaa"])),
        v(&["_B", "_aaa", "_zz"])
    );
    let row = |b: &str, a: &str, view: &str| AccessRow {
        bank_id: b.into(),
        account_id: a.into(),
        view_id: view.into(),
    };
    let rows = rows_in_order(vec![
        row("zz", "a", "x"),
        row("aaa", "b", "y"),
        row("aaa", "aa", "z"),
    ]);
    let banks: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}/{}", r.bank_id, r.account_id, r.view_id))
        .collect();
    assert_eq!(banks, v(&["aaa/aa/z", "aaa/b/y", "zz/a/x"]));
}
