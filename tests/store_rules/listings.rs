//! The order of the store's listings: custom views, view ids, access rows and clients come in
//! the ids' byte order on sled (whose keys are length-prefixed) and on PostgreSQL (whatever the
//! database's collation).

use dauth_proxy::store::Stores;
use dauth_proxy::store::model::{Grantee, OWNER, View};

use super::{account, by, grant, stores, user, v};
use crate::support::{self, Gateway};

/// The ids of an account's custom views, as listed.
async fn custom_view_ids(s: &Stores, bank: &str, account: &str) -> Vec<String> {
    let views = s.access.custom_views(bank, account).await.unwrap();
    views.into_iter().map(|view| view.id).collect()
}

/// A user's access rows, as listed: `bank/account/view`.
async fn access_rows(s: &Stores, user: &str) -> Vec<String> {
    let rows = s.access.access_of(user).await.unwrap();
    rows.into_iter()
        .map(|r| format!("{}/{}/{}", r.bank_id, r.account_id, r.view_id))
        .collect()
}

fn custom_view(id: &str) -> View {
    View {
        id: id.into(),
        is_system: false,
        short_name: id.into(),
        description: String::new(),
        metadata_view: String::new(),
        is_public: false,
        alias: String::new(),
        hide_metadata_if_alias_used: false,
        permissions: Default::default(),
        can_grant_access_to_views: Vec::new(),
        can_revoke_access_to_views: Vec::new(),
    }
}

#[tokio::test]
async fn listings_come_in_id_order_whatever_the_ids_lengths() {
    let gw = Gateway::start("", "").await;
    let s = stores(&gw);
    let owner = user(&s, "0xowner").await;
    for (bank, acc) in [("zz", "zz"), ("aaa", "b"), ("aaa", "aa")] {
        s.access
            .create_account(bank, acc, "label", &owner, 0)
            .await
            .unwrap();
    }
    for id in ["_zz", "_aaa", "_b"] {
        s.access
            .create_custom_view("zz", "zz", custom_view(id), by(&owner, OWNER).unwrap())
            .await
            .unwrap();
    }
    s.access
        .grant(
            "zz",
            "zz",
            Grantee::User(owner.clone()),
            v(&["auditor", "_zz", "_aaa"]),
            None,
            9,
            0,
        )
        .await
        .unwrap();
    let ids = custom_view_ids(&s, "zz", "zz").await;
    assert_eq!(ids, v(&["_aaa", "_b", "_zz"]));
    assert_eq!(
        s.access.views_held(&owner, "zz", "zz").await.unwrap(),
        v(&["_aaa", "_zz", "auditor", OWNER])
    );
    let rows = access_rows(&s, &owner).await;
    assert_eq!(
        rows,
        v(&[
            "aaa/aa/owner",
            "aaa/b/owner",
            "zz/zz/_aaa",
            "zz/zz/_zz",
            "zz/zz/auditor",
            "zz/zz/owner"
        ])
    );
}

/// A gateway on a new PostgreSQL database (whatever `DAUTH_TEST_STORE` says) whose text sorts
/// by ICU's `en-US` collation, where `_a` comes before `_B`.
async fn gateway_on_a_natural_language_collation() -> (Gateway, tempfile::TempDir) {
    let pg = support::postgres::Postgres::shared();
    let db = format!("icu_{}", uuid::Uuid::new_v4().simple());
    pg.sql(
        "postgres",
        &format!(
            "CREATE DATABASE \"{db}\" TEMPLATE template0 LOCALE 'C' \
             LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        ),
    );
    assert_eq!(
        pg.sql(
            &db,
            "SELECT string_agg(x, ',' ORDER BY x) FROM (VALUES ('_B'), ('_a')) v(x)"
        ),
        "_a,_B"
    );
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [store]\npath = {path:?}\nbackend = \"postgres\"\nurl = {url:?}\n\
         [dauth]\npublic_keys = [{key:?}]\n",
        path = dir.path().join("store").display().to_string(),
        url = pg.database_url(&db),
        key = support::keys()
            .dir
            .join("trusted_public.pem")
            .display()
            .to_string(),
    );
    (Gateway::start_text(&text).await, dir)
}

#[tokio::test]
async fn listings_come_in_byte_order_whatever_the_database_collation() {
    let (gw, _dir) = gateway_on_a_natural_language_collation().await;
    let s = stores(&gw);
    let owner = account(&s).await;
    for id in ["_a", "_B"] {
        s.access
            .create_custom_view("bank", "acc", custom_view(id), by(&owner, OWNER).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(grant(&s, &owner, &["_a", "_B"], None, 9).await, "ok");
    let ids = custom_view_ids(&s, "bank", "acc").await;
    assert_eq!(ids, v(&["_B", "_a"]));
    let held = v(&["_B", "_a", OWNER]);
    assert_eq!(
        s.access.views_held(&owner, "bank", "acc").await.unwrap(),
        held
    );
    let rows = access_rows(&s, &owner).await;
    let held_rows: Vec<String> = held.iter().map(|h| format!("bank/acc/{h}")).collect();
    assert_eq!(rows, held_rows);
}

#[tokio::test]
async fn stored_clients_come_in_byte_order_whatever_the_database_collation() {
    use dauth_proxy::store::model::StoredClient;
    let (gw, _dir) = gateway_on_a_natural_language_collation().await;
    let s = stores(&gw);
    for id in ["a-client", "B-client"] {
        let client = StoredClient {
            client_id: id.into(),
            name: id.into(),
            scopes: Vec::new(),
            public_keys_pem: Vec::new(),
            jwks: None,
            created_at: 0,
        };
        s.clients.add_client(client).await.unwrap();
    }
    let ids: Vec<String> = s
        .clients
        .stored_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, v(&["B-client", "a-client"]));
}
