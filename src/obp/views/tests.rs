use super::*;
use crate::store::model::is_valid_id;

#[test]
fn system_views_follow_obp() {
    let owner = system_view("owner").unwrap();
    let standard = system_view("standard").unwrap();
    let accountant = system_view("accountant").unwrap();
    let auditor = system_view("auditor").unwrap();
    for v in [owner, standard, accountant, auditor] {
        assert!(v.permissions.has("can_see_transaction_amount"), "{}", v.id);
        assert!(v.is_system);
    }
    assert!(
        !accountant
            .permissions
            .has("can_see_transaction_description")
    );
    assert!(standard.permissions.has("can_see_transaction_description"));
    assert_eq!(accountant.permissions, auditor.permissions);
    assert!(accountant.can_grant_access_to_views.is_empty());
    assert!(!standard.permissions.has("can_create_custom_view"));
    assert!(owner.permissions.has("can_create_custom_view"));
    for id in SYSTEM_VIEW_IDS {
        let target = system_view(id).unwrap();
        assert!(owner.may_grant(target) && owner.may_revoke(target), "{id}");
        assert!(!auditor.may_grant(target), "{id}");
    }
}

#[test]
fn custom_view_grants_need_the_custom_permission() {
    let owner = system_view("owner").unwrap();
    let standard = system_view("standard").unwrap();
    let custom = View {
        id: "_x".into(),
        is_system: false,
        ..owner.clone()
    };
    assert!(owner.may_grant(&custom) && owner.may_revoke(&custom));
    assert!(!standard.may_grant(&custom) && !standard.may_revoke(&custom));
}

#[test]
fn permissions_round_trip_by_name() {
    let p = Permissions::from_names(&["can_see_url", "can_add_tag"]).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Permissions>(&json).unwrap(), p);
    assert_eq!(
        Permissions::from_names(&["can_fly"]).unwrap_err(),
        "can_fly"
    );
}

#[test]
fn allowance_covers_only_what_it_has() {
    let auditor = system_view("auditor").unwrap();
    let a = Allowance::of([auditor]);
    assert!(a.covers(auditor));
    assert!(!a.covers(system_view("owner").unwrap()));
}

#[test]
fn view_json_has_every_seed_field() {
    let json = system_view("owner").unwrap().to_json();
    let seed_fields = [
        "id",
        "short_name",
        "description",
        "metadata_view",
        "is_public",
        "is_system",
        "is_firehose",
        "alias",
        "hide_metadata_if_alias_used",
        "can_add_comment",
        "can_add_counterparty",
        "can_create_standing_order",
        "can_see_bank_account_credit_limit",
        "can_see_where_tag",
        "can_query_available_funds",
        "can_see_transaction_this_bank_account",
    ];
    for f in seed_fields {
        assert!(json.get(f).is_some(), "{f}");
    }
}

#[test]
fn ids_are_checked() {
    for ok in [
        "gh.29.uk",
        "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0",
        "_work",
        "owner",
    ] {
        assert!(is_valid_id(ok), "{ok}");
    }
    for bad in ["", "a/b", "a b", "ü", &"x".repeat(129)] {
        assert!(!is_valid_id(bad), "{bad}");
    }
}
